import { CicdIrError, DryRunViolation, UsageError, ValidationError } from './errors.js';

/**
 * Which errors a step's `retry` must not retry: the same request would get the same answer, so
 * each attempt only delays the clear error (and, in a fan-out, the items waiting behind it).
 *
 * Deterministic: input that fails validation; an HTTP 4xx other than throttling (429, GitHub's
 * 403 rate-limit answers); IAM's `LimitExceeded` (a quota; the 2,048-character trust-policy quota
 * among them), `UnmodifiableEntity`, `MalformedPolicyDocument`. Transient, so retried: network
 * errors, 5xx, throttling, timeouts, anything unknown.
 */

/** AWS error codes that say "throttled": retried whatever the status. */
const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestThrottled',
  'RequestThrottledException',
  'RequestLimitExceeded',
  'SlowDown',
  'ProvisionedThroughputExceededException',
  'TransactionInProgressException',
  'PriorRequestNotComplete',
  'EC2ThrottledException',
  'BandwidthLimitExceeded',
]);

/** AWS error codes that no retry can change (some come back as 409 or 500-ish statuses). */
const PERMANENT_CODES = ['LimitExceeded', 'LimitExceededException', 'UnmodifiableEntity', 'UnmodifiableEntityException', 'MalformedPolicyDocument', 'MalformedPolicyDocumentException'];
const PERMANENT = new Set(PERMANENT_CODES);
/** The same codes named in one of cicd-ir's own messages (explainIamError, the trust-quota refusal). */
const PERMANENT_IN_MESSAGE = /\b(?:LimitExceeded|UnmodifiableEntity|MalformedPolicyDocument)\b/;

interface ErrorShape {
  name?: unknown;
  code?: unknown;
  status?: unknown;
  message?: unknown;
  cause?: unknown;
  issues?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  response?: { headers?: Record<string, unknown>; data?: unknown };
}

function classifyOne(error: ErrorShape): string | undefined {
  if (error instanceof ValidationError || error instanceof UsageError) return 'invalid input';
  if (error instanceof DryRunViolation) return 'dry-run refusal';
  if (error.name === 'ZodError' || (Array.isArray(error.issues) && error.name === 'ZodError')) return 'invalid input';
  const name = typeof error.name === 'string' ? error.name : undefined;
  const code = typeof error.code === 'string' ? error.code : undefined;
  for (const id of [name, code]) {
    if (id && THROTTLING.has(id)) return undefined;
    if (id && PERMANENT.has(id)) return id.replace(/Exception$/, '');
  }
  if (error instanceof CicdIrError && typeof error.message === 'string') {
    const match = PERMANENT_IN_MESSAGE.exec(error.message);
    if (match) return match[0];
  }
  const status = typeof error.$metadata?.httpStatusCode === 'number' ? error.$metadata.httpStatusCode : typeof error.status === 'number' ? error.status : undefined;
  if (status === undefined || status < 400 || status >= 500) return undefined;
  if (status === 429 || status === 408) return undefined;
  if (status === 403 && githubRateLimited(error)) return undefined;
  return `HTTP ${status}`;
}

/** GitHub answers a primary or secondary rate limit with 403 (or 429): not deterministic. */
function githubRateLimited(error: ErrorShape): boolean {
  const headers = error.response?.headers ?? {};
  if (String(headers['x-ratelimit-remaining'] ?? '') === '0' || headers['retry-after'] !== undefined) return true;
  const text = `${typeof error.message === 'string' ? error.message : ''}`.toLowerCase();
  return text.includes('rate limit');
}

/**
 * Why retrying `error` cannot help (a short label for the journal and the message), or
 * undefined when it may be transient. Looks through `cause` chains: actions wrap SDK errors.
 */
export function deterministicError(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  let current: unknown = error;
  let transientCause = false;
  while (current !== null && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const shape = current as ErrorShape;
    const name = typeof shape.name === 'string' ? shape.name : typeof shape.code === 'string' ? shape.code : '';
    if (THROTTLING.has(name)) transientCause = true;
    const verdict = classifyOne(shape);
    if (verdict) return transientCause ? undefined : verdict;
    current = shape.cause;
  }
  return undefined;
}
