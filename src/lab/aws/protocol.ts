import type { LabContext, LabHttpRequest, LabHttpResponse } from '../types.js';
import type { CallInput } from './core.js';

/**
 * The AWS Query protocol as IAM and STS speak it: a form-encoded POST
 * (`Action=GetRole&Version=2010-05-08&RoleName=...`), an XML answer
 * `<GetRoleResponse><GetRoleResult>...</GetRoleResult><ResponseMetadata>...`, and XML errors
 * `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`.
 */

/** An error as an AWS Query service returns it. */
export class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly type: 'Sender' | 'Receiver' = status >= 500 ? 'Receiver' : 'Sender',
  ) {
    super(message);
  }
}

/** IAM's documented status codes for its errors (IAM API Reference, CommonErrors and each action's Errors). */
export const iamErrors = {
  noSuchEntity: (message: string) => new AwsError('NoSuchEntity', message, 404),
  entityAlreadyExists: (message: string) => new AwsError('EntityAlreadyExists', message, 409),
  limitExceeded: (message: string) => new AwsError('LimitExceeded', message, 409),
  unmodifiable: (message: string) => new AwsError('UnmodifiableEntity', message, 400),
  malformed: (message: string) => new AwsError('MalformedPolicyDocument', message, 400),
  invalidInput: (message: string) => new AwsError('InvalidInput', message, 400),
  validation: (message: string) => new AwsError('ValidationError', message, 400),
  accessDenied: (message: string) => new AwsError('AccessDenied', message, 403),
  invalidClientTokenId: () => new AwsError('InvalidClientTokenId', 'The security token included in the request is invalid.', 403),
  expiredToken: () => new AwsError('ExpiredToken', 'The security token included in the request is expired', 403),
  missingAuthentication: () => new AwsError('MissingAuthenticationToken', 'Request is missing Authentication Token', 403),
  invalidAction: (action: string) => new AwsError('InvalidAction', `Could not find operation ${action} for version`, 400),
};

/** Form parameters of a Query request (body for POST, query string for GET). */
export function readParams(request: LabHttpRequest): URLSearchParams {
  if (request.method === 'POST' && request.body.length > 0) return new URLSearchParams(request.body.toString('utf8'));
  return request.query;
}

/** A list parameter `Name.member.1`, `Name.member.2`, ... in order. */
export function listParam(params: URLSearchParams, name: string): string[] {
  const values: Array<[number, string]> = [];
  for (const [key, value] of params) {
    const match = new RegExp(`^${name}\\.member\\.(\\d+)$`).exec(key);
    if (match) values.push([Number(match[1]), value]);
  }
  return values.sort((a, b) => a[0] - b[0]).map(([, value]) => value);
}

/**
 * The access key id and region from SigV4's `Authorization` header
 * (`AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/iam/aws4_request, ...`).
 * The lab does NOT verify the signature: it only needs to know which (fake) credential the
 * caller claims, to decide and log the call as that identity.
 */
/**
 * What a lab AWS endpoint passes to the core for one HTTP request: the caller's key and region
 * from SigV4, its session token, and where the call came from (for CloudTrail).
 */
export function callInput(request: LabHttpRequest, service: CallInput['service'], action: string, params: URLSearchParams, ctx: LabContext): CallInput {
  const auth = parseAuthorization(request.headers.authorization);
  return {
    service,
    action,
    params,
    ...(auth ? { accessKeyId: auth.accessKeyId } : {}),
    ...(request.headers['x-amz-security-token'] ? { sessionToken: request.headers['x-amz-security-token'] } : {}),
    region: auth?.region ?? 'us-east-1',
    at: ctx.now(),
    sourceIp: request.headers['x-forwarded-for'] ?? '127.0.0.1',
    userAgent: request.headers['user-agent'] ?? 'unknown',
  };
}

export function parseAuthorization(header: string | undefined): { accessKeyId: string; region: string; service: string } | undefined {
  if (!header) return undefined;
  const match = /Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request/.exec(header);
  if (!match) return undefined;
  return { accessKeyId: match[1]!, region: match[3]!, service: match[4]! };
}

export function xmlEscape(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** An XML value tree: strings are escaped text, arrays become `<member>` lists, undefined is omitted. */
export type XmlValue = string | number | boolean | Date | undefined | XmlValue[] | { [key: string]: XmlValue };

export function toXml(value: XmlValue): string {
  if (value === undefined) return '';
  if (value instanceof Date) return isoSeconds(value);
  if (Array.isArray(value)) return value.map((item) => `<member>${toXml(item)}</member>`).join('');
  if (typeof value === 'object') {
    return Object.entries(value)
      .filter(([, child]) => child !== undefined)
      .map(([key, child]) => `<${key}>${toXml(child)}</${key}>`)
      .join('');
  }
  return xmlEscape(String(value));
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * The odd human date CloudTrail writes inside IAM/STS responseElements, in UTC:
 * `createDate: "Aug 1, 2024 1:33:28 PM"`, `expiration: "Aug 1, 2024, 11:45:22 AM"` (as in the
 * real records of the shared data, stratus-red-team CreateAccessKey / AssumeRole).
 */
export function cloudTrailDate(date: Date, commaAfterYear: boolean): string {
  const hours = date.getUTCHours() % 12 === 0 ? 12 : date.getUTCHours() % 12;
  const pad = (n: number) => String(n).padStart(2, '0');
  const time = `${hours}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} ${date.getUTCHours() < 12 ? 'AM' : 'PM'}`;
  return `${MONTHS[date.getUTCMonth()]} ${date.getUTCDate()}, ${date.getUTCFullYear()}${commaAfterYear ? ',' : ''} ${time}`;
}

/** AWS's XML timestamps: ISO 8601 UTC, whole seconds. */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function xmlResponse(action: string, namespace: string, result: XmlValue | null, requestId: string): LabHttpResponse {
  const resultXml = result === null ? '' : `<${action}Result>${toXml(result)}</${action}Result>`;
  return {
    status: 200,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body: `<${action}Response xmlns="${namespace}">${resultXml}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>\n`,
  };
}

export function xmlError(error: AwsError, requestId: string): LabHttpResponse {
  return {
    status: error.status,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body: `<ErrorResponse><Error><Type>${error.type}</Type><Code>${xmlEscape(error.code)}</Code><Message>${xmlEscape(error.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>\n`,
  };
}

/**
 * IAM returns policy documents URL-encoded (RFC 3986) inside the XML; the SDK hands that text
 * through untouched, so callers must `decodeURIComponent` it, as with the real service.
 */
export function urlEncodePolicy(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** IAM list pagination: an opaque `Marker` (the next index) and `MaxItems` (default 100, 1..1000). */
export function paginate<T>(items: T[], params: URLSearchParams): { page: T[]; isTruncated: boolean; marker?: string } {
  const maxRaw = params.get('MaxItems');
  const max = maxRaw === null ? 100 : Number(maxRaw);
  if (!Number.isInteger(max) || max < 1 || max > 1000) throw iamErrors.validation('1 validation error detected: Value at \'maxItems\' failed to satisfy constraint: Member must have value between 1 and 1000');
  const markerRaw = params.get('Marker');
  let start = 0;
  if (markerRaw !== null) {
    const decoded = Number(Buffer.from(markerRaw, 'base64url').toString('utf8').replace(/^lab:/, ''));
    if (!Number.isInteger(decoded) || decoded < 0) throw iamErrors.invalidInput('Invalid Marker.');
    start = decoded;
  }
  const page = items.slice(start, start + max);
  const next = start + max;
  if (next < items.length) return { page, isTruncated: true, marker: Buffer.from(`lab:${next}`).toString('base64url') };
  return { page, isTruncated: false };
}
