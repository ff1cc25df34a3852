import { z } from 'zod';
import type { AwsTarget } from '../engine/context.js';
import { isDuration } from './duration.js';

/**
 * The `with:` fields every AWS action accepts to work in another account: `account` (12
 * digits) and `assume_role` (a role ARN, or a role name in `account`). A playbook fans a step
 * out over accounts with `for_each`.
 */
export const targetFields = {
  account: z.string().regex(/^\d{12}$/, 'a 12-digit AWS account id').optional(),
  assume_role: z.string().min(1).optional(),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region like us-east-1').optional(),
};

/** A duration field: milliseconds, or text like `90s`, `5m`, `1h30m`. */
export const durationField = z.union([z.number().int().nonnegative(), z.string().refine(isDuration, 'a duration like 30s, 5m or 1h30m')]);

const ROLE_ARN = /^arn:aws[\w-]*:iam::(\d{12}):role\/(?:.*\/)?([\w+=,.@-]{1,64})$/;
const USER_ARN = /^arn:aws[\w-]*:iam::(\d{12}):user\/(?:.*\/)?([\w+=,.@-]{1,64})$/;

/** The account a step's `role:` or `user:` ARN names (a bare name names none). */
function principalAccount(value: { role?: unknown; user?: unknown }): string | undefined {
  const role = typeof value.role === 'string' ? ROLE_ARN.exec(value.role)?.[1] : undefined;
  return role ?? (typeof value.user === 'string' ? USER_ARN.exec(value.user)?.[1] : undefined);
}

/**
 * Checks the target fields together (zod superRefine): a role name needs an account; an ARN's
 * account must agree; and a `role:` / `user:` given as an ARN is in the account the step acts
 * in (a step never acts on a same-named principal of another account).
 */
export function checkTargetFields(value: { account?: string; assume_role?: string; role?: unknown; user?: unknown }, ctx: z.RefinementCtx): void {
  const named = principalAccount(value);
  if (named !== undefined) {
    const acting = value.account ?? (value.assume_role !== undefined ? ROLE_ARN.exec(value.assume_role)?.[1] : undefined);
    if (acting !== undefined && acting !== named) {
      const field = typeof value.role === 'string' && ROLE_ARN.test(value.role) ? 'role' : 'user';
      ctx.addIssue({ code: 'custom', path: [field], message: `${field} is in account ${named} but the step acts in account ${acting}` });
    }
  }
  if (value.assume_role === undefined) return;
  const arn = ROLE_ARN.exec(value.assume_role);
  if (arn) {
    if (value.account !== undefined && value.account !== arn[1]) {
      ctx.addIssue({ code: 'custom', path: ['assume_role'], message: `assume_role is in account ${arn[1]} but account is ${value.account}` });
    }
    return;
  }
  if (!/^[\w+=,.@-]{1,64}$/.test(value.assume_role)) {
    ctx.addIssue({ code: 'custom', path: ['assume_role'], message: 'assume_role: a role ARN or a role name' });
  } else if (value.account === undefined && named === undefined) {
    ctx.addIssue({ code: 'custom', path: ['assume_role'], message: 'assume_role is a role name: give account too (or the full role ARN)' });
  }
}

/**
 * The AwsTarget of a step's `with:` (undefined: the default credentials' account). A `role:` or
 * `user:` given as an ARN pins the account: without `assume_role`, `ensureAccount` then checks
 * the credentials are in it, so `arn:aws:iam::210987654321:role/deploy` is never read as the
 * role `deploy` of the credentials' own account.
 */
export function toAwsTarget(value: { account?: string; assume_role?: string; region?: string; role?: unknown; user?: unknown }): AwsTarget | undefined {
  const named = principalAccount(value);
  if (named !== undefined && value.account === undefined) return toAwsTarget({ ...value, role: undefined, user: undefined, account: named });
  if (value.account === undefined && value.assume_role === undefined && value.region === undefined) return undefined;
  const roleArn =
    value.assume_role === undefined
      ? undefined
      : ROLE_ARN.test(value.assume_role)
        ? value.assume_role
        : `arn:aws:iam::${value.account}:role/${value.assume_role}`;
  const accountId = value.account ?? (roleArn ? ROLE_ARN.exec(roleArn)?.[1] : undefined);
  return {
    ...(accountId ? { accountId } : {}),
    ...(roleArn ? { roleArn } : {}),
    ...(value.region ? { region: value.region } : {}),
  };
}

/** A role given as a name or an ARN: the name IAM's APIs want, and the account when an ARN said it. */
export function roleRef(role: string): { name: string; accountId?: string } {
  const arn = ROLE_ARN.exec(role);
  return arn ? { name: arn[2]!, accountId: arn[1] } : { name: role };
}

/** A user given as a name or an ARN. */
export function userRef(user: string): { name: string; accountId?: string } {
  const arn = USER_ARN.exec(user);
  return arn ? { name: arn[2]!, accountId: arn[1] } : { name: user };
}

/** A role or user field: a name (IAM's character set) or an ARN. */
export const principalField = (kind: 'role' | 'user') =>
  z
    .string()
    .min(1)
    .refine(
      (value) => (kind === 'role' ? ROLE_ARN : USER_ARN).test(value) || /^[\w+=,.@-]{1,64}$/.test(value),
      `a ${kind} name or ${kind} ARN`,
    );

/** The 12-digit account in an IAM ARN. */
export function accountOfArn(arn: string | undefined): string | undefined {
  return arn ? /^arn:aws[\w-]*:(?:iam|sts)::(\d{12}):/.exec(arn)?.[1] : undefined;
}
