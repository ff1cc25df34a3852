/**
 * AWS SDK errors as actions need them: the IAM error code, whatever form the SDK gave it
 * (`NoSuchEntityException` for modelled errors, the bare code otherwise).
 */
export function awsErrorCode(error: unknown): string | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const named = error as { name?: unknown; Code?: unknown; code?: unknown };
  const raw = typeof named.Code === 'string' ? named.Code : typeof named.name === 'string' ? named.name : typeof named.code === 'string' ? named.code : undefined;
  return raw?.replace(/Exception$/, '');
}

/** Whether the error is the IAM code given (`NoSuchEntity`, `LimitExceeded`, `UnmodifiableEntity`, ...). */
export function isAwsError(error: unknown, code: string): boolean {
  return awsErrorCode(error) === code.replace(/Exception$/, '');
}

/** The request id of a failed call, for the journal and a support case. */
export function awsRequestId(error: unknown): string | undefined {
  return (error as { $metadata?: { requestId?: string } } | undefined)?.$metadata?.requestId;
}
