import type { LabContext, LabHttpResponse, LabService } from '../types.js';
import type { AwsCore, OperationDef } from './core.js';
import { AwsError, callInput } from './protocol.js';
import { regionStatuses } from './regions.js';

/**
 * Organizations and the Account Management API, as the SDK's clients speak them:
 * - Organizations: AWS JSON 1.1, `POST /` with `X-Amz-Target: AWSOrganizationsV20161128.ListAccounts`,
 *   errors as `{"__type": "AccessDeniedException", "Message": ...}` (@aws-sdk/client-organizations).
 * - Account: REST-JSON, `POST /listRegions` with a JSON body, errors named in `x-amzn-errortype`
 *   (@aws-sdk/client-account).
 * Both authenticate and authorise through {@link AwsCore.call}, so each call is in CloudTrail.
 */

const ORGANIZATIONS_TARGET = /^AWSOrganizationsV20161128\.(\w+)$/;
const JSON_11 = 'application/x-amz-json-1.1';

const orgErrors = {
  notInUse: () => new AwsError('AWSOrganizationsNotInUseException', 'Your account is not a member of an organization.', 400),
  // Only the management account (or a delegated administrator) may list the organization's accounts.
  notManagement: () => new AwsError('AccessDeniedException', "You don't have permissions to access this resource.", 400),
  invalidInput: (message: string) => new AwsError('InvalidInputException', message, 400),
};

/** Reads a JSON body into the flat form parameters {@link AwsCore.call} takes (lists as `Name.member.N`). */
function jsonParams(body: Buffer): URLSearchParams | AwsError {
  let parsed: unknown;
  try {
    parsed = body.length ? JSON.parse(body.toString('utf8')) : {};
  } catch {
    return new AwsError('SerializationException', 'The request body is not valid JSON.', 400);
  }
  const params = new URLSearchParams();
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return params;
  for (const [key, value] of Object.entries(parsed)) {
    if (Array.isArray(value)) value.forEach((item, index) => params.set(`${key}.member.${index + 1}`, String(item)));
    else if (value !== null && typeof value !== 'object') params.set(key, String(value));
  }
  return params;
}

function listOf(params: URLSearchParams, name: string): string[] {
  return [...params.entries()].filter(([key]) => key.startsWith(`${name}.member.`)).map(([, value]) => value);
}

/** An opaque page token: the next index, base64url. */
function page<T>(items: T[], params: URLSearchParams, maxAllowed: number): { items: T[]; next?: string } {
  const max = params.has('MaxResults') ? Number(params.get('MaxResults')) : maxAllowed;
  if (!Number.isInteger(max) || max < 1 || max > maxAllowed) throw orgErrors.invalidInput(`MaxResults must be between 1 and ${maxAllowed}.`);
  const token = params.get('NextToken');
  const start = token ? Number(Buffer.from(token, 'base64url').toString('utf8').replace(/^lab:/, '')) : 0;
  if (!Number.isInteger(start) || start < 0) throw orgErrors.invalidInput('The NextToken is not valid.');
  const slice = items.slice(start, start + max);
  return start + max < items.length ? { items: slice, next: Buffer.from(`lab:${start + max}`).toString('base64url') } : { items: slice };
}

function organizationsOperations(): Record<string, OperationDef> {
  return {
    ListAccounts: {
      readOnly: true,
      resource: () => '*',
      run: (input) => {
        const org = input.state.organization;
        if (!org) throw orgErrors.notInUse();
        const members = new Set([org.management_account, ...org.members.map((member) => member.id)]);
        if (!members.has(input.account)) throw orgErrors.notInUse();
        if (input.account !== org.management_account) throw orgErrors.notManagement();
        const joined = input.core.ctx.at('-400d').getTime() / 1000;
        const accounts = [
          { Id: org.management_account, Name: input.state.account(org.management_account)?.alias ?? 'management', Status: 'ACTIVE' },
          ...org.members.map((member) => ({ Id: member.id, Name: member.name ?? input.state.account(member.id)?.alias ?? member.id, Status: member.status })),
        ].map((account) => ({
          ...account,
          Arn: `arn:aws:organizations::${org.management_account}:account/o-lab0000001/${account.Id}`,
          Email: `aws+${account.Id}@example.com`,
          State: account.Status === 'ACTIVE' ? 'ACTIVE' : account.Status,
          JoinedMethod: account.Id === org.management_account ? 'CREATED' : 'INVITED',
          JoinedTimestamp: joined,
        }));
        const { items, next } = page(accounts, input.params, 20);
        return { result: { Accounts: items, ...(next ? { NextToken: next } : {}) } as never, responseElements: null };
      },
    },
  };
}

function accountOperations(): Record<string, OperationDef> {
  return {
    ListRegions: {
      readOnly: true,
      resource: () => '*',
      run: (input) => {
        const target = input.params.get('AccountId') ?? input.account;
        const account = input.state.account(target);
        if (!account) throw new AwsError('AccessDeniedException', `User is not authorized to access account ${target}.`, 403);
        const wanted = listOf(input.params, 'RegionOptStatusContains');
        const regions = regionStatuses(account.regions)
          .filter((region) => wanted.length === 0 || wanted.includes(region.status))
          .map((region) => ({ RegionName: region.region, RegionOptStatus: region.status }));
        const { items, next } = page(regions, input.params, 50);
        return { result: { Regions: items, ...(next ? { NextToken: next } : {}) } as never, responseElements: null };
      },
    },
  };
}

/** The lab's Organizations (AWS JSON 1.1): ListAccounts. */
export function createOrganizationsService(core: AwsCore, ctx: LabContext): LabService {
  const operations = organizationsOperations();
  const json = (status: number, body: unknown, requestId: string): LabHttpResponse => ({
    status,
    headers: { 'content-type': JSON_11, 'x-amzn-requestid': requestId },
    body: JSON.stringify(body),
  });
  const error = (e: AwsError, requestId: string) => json(e.status, { __type: e.code, Message: e.message }, requestId);
  return {
    name: 'organizations',
    operation: (request) => ORGANIZATIONS_TARGET.exec(request.headers['x-amz-target'] ?? '')?.[1] ?? `${request.method} ${request.path}`,
    mutating: (request) => !/^(List|Describe)/.test(ORGANIZATIONS_TARGET.exec(request.headers['x-amz-target'] ?? '')?.[1] ?? ''),
    async handle(request) {
      const action = ORGANIZATIONS_TARGET.exec(request.headers['x-amz-target'] ?? '')?.[1];
      if (request.method !== 'POST' || !action) return error(new AwsError('UnknownOperationException', 'Unknown operation', 400), core.state.ids.uuid());
      const params = jsonParams(request.body);
      if (params instanceof AwsError) return error(params, core.state.ids.uuid());
      const outcome = core.call(callInput(request, 'organizations', action, params, ctx), operations);
      if (outcome.error) return error(outcome.error.code === 'AccessDenied' ? new AwsError('AccessDeniedException', outcome.error.message, 400) : outcome.error, outcome.requestId);
      return json(200, outcome.result, outcome.requestId);
    },
    faultResponse: (kind) =>
      kind === 'throttle'
        ? json(400, { __type: 'TooManyRequestsException', Message: 'Rate exceeded' }, core.state.ids.uuid())
        : json(500, { __type: 'ServiceException', Message: 'AWS Organizations can\'t complete your request because of an internal service error.' }, core.state.ids.uuid()),
  };
}

/** The lab's Account Management API (REST-JSON): ListRegions. */
export function createAccountService(core: AwsCore, ctx: LabContext): LabService {
  const operations = accountOperations();
  const routes: Record<string, string> = { '/listRegions': 'ListRegions' };
  const json = (status: number, body: unknown, requestId: string, errorType?: string): LabHttpResponse => ({
    status,
    headers: { 'content-type': 'application/json', 'x-amzn-requestid': requestId, ...(errorType ? { 'x-amzn-errortype': errorType } : {}) },
    body: JSON.stringify(body),
  });
  const error = (e: AwsError, requestId: string) => json(e.status, { message: e.message }, requestId, e.code);
  return {
    name: 'account',
    operation: (request) => routes[request.path] ?? `${request.method} ${request.path}`,
    mutating: (request) => !/^(List|Get)/.test(routes[request.path] ?? ''),
    async handle(request) {
      const action = routes[request.path];
      if (request.method !== 'POST' || !action) return error(new AwsError('ResourceNotFoundException', `No route for ${request.method} ${request.path}`, 404), core.state.ids.uuid());
      const params = jsonParams(request.body);
      if (params instanceof AwsError) return error(params, core.state.ids.uuid());
      const outcome = core.call(callInput(request, 'account', action, params, ctx), operations);
      if (outcome.error) return error(outcome.error.code === 'AccessDenied' ? new AwsError('AccessDeniedException', outcome.error.message, 403) : outcome.error, outcome.requestId);
      return json(200, outcome.result, outcome.requestId);
    },
    faultResponse: (kind) =>
      kind === 'throttle' ? json(429, { message: 'Rate exceeded' }, core.state.ids.uuid(), 'TooManyRequestsException') : json(500, { message: 'internal error' }, core.state.ids.uuid(), 'InternalServerException'),
  };
}
