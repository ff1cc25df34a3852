import type { LabContext, LabHttpResponse, LabService } from '../types.js';
import type { AwsCore, OperationDef } from './core.js';
import { AwsError, callInput, listParam, readParams, toXml, xmlEscape } from './protocol.js';
import { regionStatuses } from './regions.js';

/** EC2's XML namespace (API version 2016-11-15). */
const EC2_NAMESPACE = 'http://ec2.amazonaws.com/doc/2016-11-15/';

/**
 * EC2's query protocol as @aws-sdk/client-ec2 speaks it (only DescribeRegions, which the hunt
 * falls back to when account:ListRegions is not allowed): a form POST, an XML answer whose
 * lists are `<item>` elements, and errors as `<Response><Errors><Error>...`.
 */
function ec2Operations(): Record<string, OperationDef> {
  return {
    DescribeRegions: {
      readOnly: true,
      resource: () => '*',
      run: (input) => {
        const account = input.state.account(input.account);
        const all = input.params.get('AllRegions') === 'true';
        const named = listParam(input.params, 'RegionName').length ? listParam(input.params, 'RegionName') : [...input.params.entries()].filter(([key]) => /^RegionName\.\d+$/.test(key)).map(([, value]) => value);
        const regions = regionStatuses(account?.regions ?? ['us-east-1'])
          // Without AllRegions, DescribeRegions lists only the regions enabled for the account.
          .filter((region) => all || region.status !== 'DISABLED')
          .filter((region) => named.length === 0 || named.includes(region.region))
          .map((region) => ({
            regionName: region.region,
            regionEndpoint: `ec2.${region.region}.amazonaws.com`,
            optInStatus: region.status === 'ENABLED_BY_DEFAULT' ? 'opt-in-not-required' : region.status === 'ENABLED' ? 'opted-in' : 'not-opted-in',
          }));
        return { result: { regionInfo: regions } as never, responseElements: null };
      },
    },
  };
}

function errorXml(error: AwsError, requestId: string): LabHttpResponse {
  // EC2 names an authorization failure UnauthorizedOperation (FACTS: the spelling varies by service).
  const code = error.code === 'AccessDenied' ? 'UnauthorizedOperation' : error.code;
  return {
    status: error.status,
    headers: { 'content-type': 'text/xml;charset=UTF-8' },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(error.message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`,
  };
}

/** The EC2 `item` list form: `<regionInfo><item>...</item></regionInfo>`. */
function itemsXml(result: Record<string, unknown>): string {
  return Object.entries(result)
    .map(([key, value]) => `<${key}>${Array.isArray(value) ? value.map((item) => `<item>${toXml(item as never)}</item>`).join('') : toXml(value as never)}</${key}>`)
    .join('');
}

/** The lab's EC2 (query protocol, 2016-11-15): DescribeRegions. */
export function createEc2Service(core: AwsCore, ctx: LabContext): LabService {
  const operations = ec2Operations();
  return {
    name: 'ec2',
    operation: (request) => readParams(request).get('Action') ?? 'Unknown',
    mutating: (request) => !/^Describe/.test(readParams(request).get('Action') ?? ''),
    async handle(request) {
      const params = readParams(request);
      const action = params.get('Action') ?? '';
      const outcome = core.call(callInput(request, 'ec2', action, params, ctx), operations);
      if (outcome.error) return errorXml(outcome.error, outcome.requestId);
      return {
        status: 200,
        headers: { 'content-type': 'text/xml;charset=UTF-8' },
        body: `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${EC2_NAMESPACE}"><requestId>${outcome.requestId}</requestId>${itemsXml(outcome.result as Record<string, unknown>)}</${action}Response>`,
      };
    },
    faultResponse: (kind) =>
      errorXml(kind === 'throttle' ? new AwsError('RequestLimitExceeded', 'Request limit exceeded.', 503) : new AwsError('InternalError', 'An internal error has occurred', 500), core.state.ids.uuid()),
  };
}
