import { createHash, randomUUID } from 'node:crypto';
import type { CloudTrailRecord, LabContext, LabHttpRequest, LabHttpResponse, LabService } from '../types.js';

/**
 * The SDK sends `X-Amz-Target: CloudTrail_20131101.LookupEvents`; the service's full shape id
 * is `com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101`. Both forms are accepted.
 */
const TARGET = /^(?:com\.amazonaws\.cloudtrail\.v20131101\.)?CloudTrail_20131101\.(\w+)$/;
const JSON_11 = 'application/x-amz-json-1.1';

/** FACTS.md: LookupEvents allows 2 requests/s per account per region; 50 events a page; 90 days. */
export const LOOKUP_RATE_PER_SECOND = 2;
export const LOOKUP_MAX_RESULTS = 50;
export const LOOKUP_RETENTION_DAYS = 90;

const ATTRIBUTE_KEYS = ['EventId', 'EventName', 'ReadOnly', 'Username', 'ResourceType', 'ResourceName', 'EventSource', 'AccessKeyId'] as const;
type AttributeKey = (typeof ATTRIBUTE_KEYS)[number];

function jsonResponse(status: number, body: unknown): LabHttpResponse {
  return { status, headers: { 'content-type': JSON_11, 'x-amzn-requestid': randomUUID() }, body: JSON.stringify(body) };
}

/** An error as the JSON 1.1 protocol carries it: the SDK reads the name from `__type`. */
function jsonError(status: number, type: string, message: string): LabHttpResponse {
  return jsonResponse(status, { __type: type, message });
}

/** The region of a SigV4-signed request, from the credential scope `AKID/DATE/REGION/SERVICE/aws4_request`. */
export function regionOf(request: LabHttpRequest): string | undefined {
  return /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(request.headers.authorization ?? '')?.[1];
}

/**
 * The `Username` LookupEvents shows: the IAM user's name, the session name of an assumed role,
 * the subject of a web identity, `root` for the root user.
 */
export function usernameOf(record: CloudTrailRecord): string | undefined {
  const identity = (record.userIdentity ?? {}) as Record<string, any>;
  if (identity.userName) return identity.userName;
  if (identity.type === 'AssumedRole' && typeof identity.arn === 'string') return identity.arn.split('/').pop();
  if (identity.type === 'Root') return 'root';
  return undefined;
}

/** The resources LookupEvents lists: the record's own, or those the call obviously names. */
export function resourcesOf(record: CloudTrailRecord): Array<{ ResourceType: string; ResourceName: string }> {
  const listed = record.resources as Array<{ ARN?: string; type?: string }> | undefined;
  if (Array.isArray(listed) && listed.length) return listed.filter((r) => r.ARN).map((r) => ({ ResourceType: r.type ?? 'AWS::Unknown', ResourceName: r.ARN! }));
  const request = (record.requestParameters ?? {}) as Record<string, any>;
  const out: Array<{ ResourceType: string; ResourceName: string }> = [];
  if (typeof request.roleArn === 'string') out.push({ ResourceType: 'AWS::IAM::Role', ResourceName: request.roleArn });
  if (typeof request.roleName === 'string') out.push({ ResourceType: 'AWS::IAM::Role', ResourceName: request.roleName });
  if (typeof request.userName === 'string') out.push({ ResourceType: 'AWS::IAM::User', ResourceName: request.userName });
  const key = (record.responseElements as Record<string, any> | null | undefined)?.accessKey?.accessKeyId ?? request.accessKeyId;
  if (typeof key === 'string') out.push({ ResourceType: 'AWS::IAM::AccessKey', ResourceName: key });
  return out;
}

function attributeValue(record: CloudTrailRecord, key: AttributeKey): string[] {
  switch (key) {
    case 'EventId':
      return [record.eventID];
    case 'EventName':
      return [record.eventName];
    case 'ReadOnly':
      return [String(record.readOnly ?? false)];
    case 'Username':
      return [usernameOf(record) ?? ''];
    case 'EventSource':
      return [record.eventSource];
    case 'AccessKeyId':
      return [String((record.userIdentity as Record<string, unknown> | undefined)?.accessKeyId ?? '')];
    case 'ResourceType':
      return resourcesOf(record).map((r) => r.ResourceType);
    case 'ResourceName':
      return resourcesOf(record).map((r) => r.ResourceName);
  }
}

/** A record as LookupEvents returns it (EventTime in epoch seconds, as JSON 1.1 serialises timestamps). */
function toEvent(record: CloudTrailRecord) {
  const key = (record.userIdentity as Record<string, unknown> | undefined)?.accessKeyId;
  return {
    EventId: record.eventID,
    EventName: record.eventName,
    ReadOnly: String(record.readOnly ?? false),
    ...(typeof key === 'string' ? { AccessKeyId: key } : {}),
    EventTime: Date.parse(record.eventTime) / 1000,
    EventSource: record.eventSource,
    ...(usernameOf(record) ? { Username: usernameOf(record) } : {}),
    Resources: resourcesOf(record),
    CloudTrailEvent: JSON.stringify(record),
  };
}

/** A token bucket per region: a burst of `rate`, refilled at `rate` per second, as AWS meters API rates. */
class RegionBuckets {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  constructor(private readonly rate: number) {}

  take(region: string, now: number): boolean {
    const bucket = this.#buckets.get(region) ?? { tokens: this.rate, at: now };
    bucket.tokens = Math.min(this.rate, bucket.tokens + ((now - bucket.at) / 1000) * this.rate);
    bucket.at = now;
    this.#buckets.set(region, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}

interface LookupRequest {
  LookupAttributes?: Array<{ AttributeKey?: string; AttributeValue?: string }>;
  StartTime?: number;
  EndTime?: number;
  EventCategory?: string;
  MaxResults?: number;
  NextToken?: string;
}

/**
 * The lab's CloudTrail: LookupEvents over the lab trail (`ctx.trail`), with the real limits:
 * exactly one lookup attribute, pages of at most 50, NextToken bound to the query, newest
 * first, 90 days, the awsRegion the request is signed for, and 2 requests/s per region
 * answered with `ThrottlingException` beyond.
 */
export interface CloudTrailServiceOptions {
  ratePerSecond?: number;
  /**
   * Who a request's credential is (the AWS lab's IAM): each account sees only its own events
   * (`recipientAccountId`), and a region the account has not enabled does not know the
   * credential. Without it (unit tests of the service alone) every caller sees the whole trail.
   */
  callerAccount?: (accessKeyId: string, sessionToken: string | undefined) => { account: string; regionUsable(region: string): boolean } | undefined;
  /** The account of records without a `recipientAccountId` (raw scenario history). */
  firstAccount?: string;
}

export function createCloudTrailService(ctx: LabContext, options: CloudTrailServiceOptions = {}): LabService {
  const buckets = new RegionBuckets(options.ratePerSecond ?? LOOKUP_RATE_PER_SECOND);

  const lookupEvents = (request: LookupRequest, region: string, account: string | undefined): LabHttpResponse => {
    const attributes = request.LookupAttributes ?? [];
    if (attributes.length > 1) return jsonError(400, 'InvalidLookupAttributesException', 'You cannot specify more than one lookup attribute.');
    const [attribute] = attributes;
    if (attribute && !(ATTRIBUTE_KEYS as readonly string[]).includes(attribute.AttributeKey ?? '')) {
      return jsonError(400, 'InvalidLookupAttributesException', `Lookup attribute key ${attribute.AttributeKey} is not valid.`);
    }
    if (attribute && !attribute.AttributeValue) return jsonError(400, 'InvalidLookupAttributesException', 'The lookup attribute value cannot be empty.');
    const maxResults = request.MaxResults ?? LOOKUP_MAX_RESULTS;
    if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > LOOKUP_MAX_RESULTS) {
      return jsonError(400, 'InvalidMaxResultsException', `MaxResults must be between 1 and ${LOOKUP_MAX_RESULTS}.`);
    }
    if (request.EventCategory && request.EventCategory !== 'insight') return jsonError(400, 'InvalidEventCategoryException', 'EventCategory is not valid.');
    const now = ctx.now().getTime();
    const oldest = now - LOOKUP_RETENTION_DAYS * 86_400_000;
    const start = Math.max(request.StartTime !== undefined ? request.StartTime * 1000 : oldest, oldest);
    const end = request.EndTime !== undefined ? request.EndTime * 1000 : now;
    if (request.StartTime !== undefined && request.EndTime !== undefined && request.StartTime > request.EndTime) {
      return jsonError(400, 'InvalidTimeRangeException', 'Start time must be before end time.');
    }

    // The token binds the page offset to the query, as CloudTrail rejects a token reused with other parameters.
    const { NextToken: token, MaxResults: _max, ...query } = request;
    const fingerprint = createHash('sha256').update(JSON.stringify({ query, region })).digest('hex').slice(0, 16);
    let offset = 0;
    if (token) {
      const [tokenPrint, tokenOffset] = Buffer.from(token, 'base64url').toString('utf8').split(':');
      if (tokenPrint !== fingerprint || !/^\d+$/.test(tokenOffset ?? '')) return jsonError(400, 'InvalidNextTokenException', 'Invalid NextToken.');
      offset = Number(tokenOffset);
    }

    // Insights events are not in the lab: an insight query finds nothing, as on an account without Insights.
    const matching =
      request.EventCategory === 'insight'
        ? []
        : ctx.trail
            .all()
            .filter((record) => record.awsRegion === region && record.managementEvent !== false)
            .filter((record) => account === undefined || String(record.recipientAccountId ?? options.firstAccount ?? '') === account)
            .filter((record) => {
              const at = Date.parse(record.eventTime);
              return at >= start && at <= end;
            })
            .filter((record) => !attribute || attributeValue(record, attribute.AttributeKey as AttributeKey).includes(attribute.AttributeValue!))
            .sort((a, b) => Date.parse(b.eventTime) - Date.parse(a.eventTime) || (a.eventID < b.eventID ? -1 : 1));
    const page = matching.slice(offset, offset + maxResults);
    const next = offset + maxResults < matching.length ? Buffer.from(`${fingerprint}:${offset + maxResults}`).toString('base64url') : undefined;
    return jsonResponse(200, { Events: page.map(toEvent), ...(next ? { NextToken: next } : {}) });
  };

  return {
    name: 'cloudtrail',
    operation: (request) => TARGET.exec(request.headers['x-amz-target'] ?? '')?.[1] ?? `${request.method} ${request.path}`,
    // Every operation the lab serves only reads the trail.
    mutating: () => false,
    async handle(request) {
      const target = request.headers['x-amz-target'] ?? '';
      const operation = TARGET.exec(target)?.[1];
      if (request.method !== 'POST' || request.path !== '/' || !operation) {
        return jsonError(400, 'UnknownOperationException', `Unknown operation ${target || `${request.method} ${request.path}`}`);
      }
      const region = regionOf(request);
      if (!region) return jsonError(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
      if (operation !== 'LookupEvents') return jsonError(400, 'UnknownOperationException', `The lab's CloudTrail serves LookupEvents only, not ${operation}.`);
      let account: string | undefined;
      if (options.callerAccount) {
        const accessKeyId = /Credential=([^/,\s]+)\//.exec(request.headers.authorization ?? '')?.[1] ?? '';
        const caller = options.callerAccount(accessKeyId, request.headers['x-amz-security-token']);
        // A disabled opt-in region has never heard of the account's credentials.
        if (!caller || !caller.regionUsable(region)) return jsonError(400, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
        account = caller.account;
      }
      if (!buckets.take(`${account ?? ''}|${region}`, ctx.now().getTime())) return jsonError(400, 'ThrottlingException', 'Rate exceeded');
      let body: LookupRequest;
      try {
        body = request.body.length ? (JSON.parse(request.body.toString('utf8')) as LookupRequest) : {};
      } catch {
        return jsonError(400, 'SerializationException', 'The request body is not valid JSON.');
      }
      return lookupEvents(body, region, account);
    },
    faultResponse(kind) {
      return kind === 'throttle' ? jsonError(400, 'ThrottlingException', 'Rate exceeded') : jsonError(503, 'ServiceUnavailableException', 'Service unavailable');
    },
  };
}
