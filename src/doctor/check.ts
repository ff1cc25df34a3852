/** `ok`: proven to work. `missing`: proven not to. `unknown`: could not be told (a human must check). */
export type CheckStatus = 'ok' | 'missing' | 'unknown';

/** One row of the doctor's table. */
export interface Check {
  /** What was checked: `github identity`, `aws iam:PutRolePolicy`, `cloudtrail us-east-1`. */
  check: string;
  status: CheckStatus;
  /** What was found (never a credential). */
  detail: string;
  /** What to do about it, when not ok. */
  fix?: string;
}

/** An error's short description: AWS error name or GitHub HTTP status, and its message. */
export function describeError(error: unknown): { code: string; message: string; status?: number } {
  const e = error as { name?: string; Code?: string; status?: number; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.status ?? e.$metadata?.httpStatusCode;
  const code = e.Code ?? (e.name && e.name !== 'Error' && e.name !== 'HttpError' ? e.name : status !== undefined ? `HTTP ${status}` : 'Error');
  return { code, message: String(e.message ?? error).split('\n')[0]!.slice(0, 300), ...(status !== undefined ? { status } : {}) };
}

/** True for errors that say "you may not" (as opposed to "could not reach"). */
export function isDenied(error: unknown): boolean {
  const { code, status } = describeError(error);
  return status === 401 || status === 403 || /AccessDenied|UnauthorizedOperation|NotAuthorized|InvalidClientTokenId|SignatureDoesNotMatch|ExpiredToken/i.test(code);
}
