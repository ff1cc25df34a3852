import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { ActionContext, AwsTarget } from '../../../engine/context.js';
import { CicdIrError, StepFailedError } from '../../../engine/errors.js';
import { outsideSlot } from '../../../engine/slots.js';
import { awsErrorCode, awsRequestId } from '../../../aws/errors.js';

/** Fails the step with a message a responder can act on, keeping the SDK error as the cause. */
export function stepError(ctx: ActionContext, message: string, options: { cause?: unknown; suggestions?: string[] } = {}): StepFailedError {
  const requestId = awsRequestId(options.cause);
  return new StepFailedError(ctx.stepKey, requestId ? `${message} (request id ${requestId})` : message, options);
}

/** What an IAM error means for the thing being changed, in words. */
export function explainIamError(ctx: ActionContext, error: unknown, what: string): CicdIrError {
  // Our own errors (a dry-run violation, a refusal) already say what happened.
  if (error instanceof CicdIrError) return error;
  const code = awsErrorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  switch (code) {
    case 'NoSuchEntity':
      return stepError(ctx, `${what}: not found (${message})`, { cause: error, suggestions: ['check the name and the account (account / assume_role)'] });
    case 'UnmodifiableEntity':
      return stepError(ctx, `${what}: AWS refuses changes to this entity (UnmodifiableEntity): it is a service-linked or AWS-managed principal`, {
        cause: error,
        suggestions: ['contain it at the owning service, or revoke the principal that can use it'],
      });
    case 'LimitExceeded':
      return stepError(ctx, `${what}: an IAM quota is reached (LimitExceeded): ${message}. Retrying cannot help, so cicd-ir did not retry.`, {
        cause: error,
        suggestions: ['remove or shrink an inline policy of the principal, then run again'],
      });
    case 'MalformedPolicyDocument':
      return stepError(ctx, `${what}: IAM rejected the policy document: ${message}`, { cause: error });
    case 'AccessDenied':
      return stepError(ctx, `${what}: access denied: ${message}`, { cause: error, suggestions: ['grant the responder docs/iam-policy.json'] });
    default:
      return stepError(ctx, `${what}: ${code ?? 'error'}: ${message}`, { cause: error });
  }
}

/**
 * With `account` but no `assume_role`, the default credentials must already be in that
 * account: checked once before anything is planned, so a step never acts on the wrong account.
 */
export async function ensureAccount(ctx: ActionContext, target: AwsTarget | undefined): Promise<void> {
  if (!target?.accountId || target.roleArn) return;
  const identity = await ctx.clients.sts(target).send(new GetCallerIdentityCommand({}), { abortSignal: ctx.signal });
  if (identity.Account !== target.accountId) {
    throw stepError(ctx, `account ${target.accountId} was asked for, but the credentials are in account ${identity.Account}`, {
      suggestions: ['add assume_role (a role in that account the responder can assume), or use credentials of that account'],
    });
  }
}

/** Sleeps, waking early (with an error) when the run is aborted; holds no engine slot meanwhile. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return outsideSlot(() => sleepHere(ms, signal));
}

function sleepHere(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Polls `check` with exponential backoff (250 ms doubling, at most 5 s between tries) until it
 * returns true or the timeout passes. IAM is eventually consistent: a change "may take a few
 * minutes" to be visible, so verify reads back instead of assuming.
 */
export async function pollUntil(ctx: ActionContext, timeoutMs: number, check: () => Promise<boolean>): Promise<{ ok: boolean; attempts: number; elapsedMs: number }> {
  const started = Date.now();
  let delay = 250;
  let attempts = 0;
  for (;;) {
    attempts++;
    if (await check()) return { ok: true, attempts, elapsedMs: Date.now() - started };
    const left = timeoutMs - (Date.now() - started);
    if (left <= 0) return { ok: false, attempts, elapsedMs: Date.now() - started };
    await sleep(Math.min(delay, left), ctx.signal);
    delay = Math.min(delay * 2, 5_000);
  }
}

/** Default time verify keeps reading back before it reports "unverified" (exit 3 upstream). */
export const DEFAULT_VERIFY_TIMEOUT_MS = 120_000;
