import { asList, POLICY_VERSION, policySize, statementsOf, type PolicyDocument } from './policy.js';

/** The inline policy name the IAM console's "Revoke active sessions" uses (IAM User Guide, id_roles_use_revoke-sessions). */
export const REVOKE_POLICY_NAME = 'AWSRevokeOlderSessions';

/** Aggregate inline-policy budgets IAM enforces, whitespace not counted (FACTS.md). */
export const INLINE_POLICY_BUDGET = { role: 10_240, user: 2_048 } as const;

/**
 * The console's revocation document: deny everything to sessions whose token was issued
 * before the cutoff. Sessions issued after the cutoff are untouched, which is why the
 * trust policy must be tightened in the same containment.
 */
export function revokeOlderSessionsPolicy(cutoff: Date): PolicyDocument {
  return {
    Version: POLICY_VERSION,
    Statement: [
      {
        Effect: 'Deny',
        Action: '*',
        Resource: '*',
        Condition: { DateLessThan: { 'aws:TokenIssueTime': cutoff.toISOString() } },
      },
    ],
  };
}

/**
 * The latest cutoff a revocation document enforces: the `aws:TokenIssueTime` bound of a
 * Deny on every action and resource. Undefined when the document revokes nothing (someone
 * reused the name for something else, or scoped it down).
 */
export function revocationCutoff(document: PolicyDocument): Date | undefined {
  let latest: Date | undefined;
  for (const statement of statementsOf(document)) {
    if (statement.Effect !== 'Deny') continue;
    if (!asList(statement.Action).includes('*') || !asList(statement.Resource).includes('*')) continue;
    const conditions = statement.Condition ?? {};
    const operators = Object.keys(conditions);
    // Any other condition would narrow the deny: then it is not a plain revocation.
    if (operators.length !== 1 || operators[0] !== 'DateLessThan') continue;
    const bound = conditions.DateLessThan;
    const keys = Object.keys(bound ?? {});
    if (keys.length !== 1 || keys[0]?.toLowerCase() !== 'aws:tokenissuetime') continue;
    for (const value of asList(bound![keys[0]!] as string | string[])) {
      const date = new Date(String(value));
      if (!Number.isNaN(date.getTime()) && (!latest || date > latest)) latest = date;
    }
  }
  return latest;
}

/** The existing inline policies of a principal with their IAM-counted sizes. */
export interface InlinePolicySize {
  name: string;
  size: number;
}

/** How the budget looks if the revocation policy is put (replacing one of the same name). */
export interface BudgetCheck {
  limit: number;
  /** Characters used by the other inline policies. */
  others: number;
  /** Characters of the revocation document. */
  revocation: number;
  total: number;
  fits: boolean;
  /** The largest other policies, for the error message. */
  largest: InlinePolicySize[];
}

/** Checks the aggregate inline-policy budget before any PutRolePolicy/PutUserPolicy. */
export function checkInlineBudget(existing: InlinePolicySize[], revocation: PolicyDocument, limit: number): BudgetCheck {
  const others = existing.filter((policy) => policy.name !== REVOKE_POLICY_NAME);
  const othersSize = others.reduce((sum, policy) => sum + policy.size, 0);
  const revocationSize = policySize(revocation);
  const total = othersSize + revocationSize;
  return {
    limit,
    others: othersSize,
    revocation: revocationSize,
    total,
    fits: total <= limit,
    largest: [...others].sort((a, b) => b.size - a.size).slice(0, 3),
  };
}
