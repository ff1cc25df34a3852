import { ListRolesCommand, type Role } from '@aws-sdk/client-iam';
import { z } from 'zod';
import { defineAction, type ActionPlan, type Finding } from '../define.js';
import type { ActionContext } from '../../engine/context.js';
import { parsePolicyDocument } from '../../aws/policy.js';
import { githubTrustStatements, evaluateTrust, overBroadTrustFindings } from '../../aws/trust-policy.js';
import { repoSubjectPrefix, subjectFor } from '../../aws/github-oidc.js';
import { accountOfArn, checkTargetFields, targetFields, toAwsTarget } from '../../aws/target.js';
import { ensureAccount, explainIamError } from './shared/step.js';

const RepoField = z.string().regex(/^[A-Za-z0-9_.-]+(@\d+)?\/[A-Za-z0-9_.-]+(@\d+)?$/, 'owner/repo');

const schema = z
  .object({
    /** The compromised repository: `org/repo`, or with immutable ids `org@123/repo@456`. */
    repo: RepoField.optional(),
    /** Several compromised repositories at once (one ListRoles per account, however many repositories). */
    repos: z.array(RepoField).min(1).optional(),
    /** Exact `sub` claims to test instead of "any subject of the repo". */
    subjects: z.array(z.string().min(1)).optional(),
    /** Refs or contexts to test (`main`, `refs/tags/v1`, `environment:prod`, `pull_request`). */
    refs: z.array(z.string().min(1)).optional(),
    /**
     * Only count roles whose `aud` condition admits this audience. Unset by default: the
     * workflow chooses its audience, so a compromised one can ask for any, and `aud` is no barrier.
     */
    audience: z.string().min(1).optional(),
    /** Only roles under this IAM path prefix (`/ci/`). */
    path_prefix: z.string().regex(/^\/([\w+=,.@-]+\/)*$/).optional(),
    ...targetFields,
  })
  .strict()
  .superRefine((value, ctx) => {
    checkTargetFields(value, ctx);
    if (value.repo === undefined && value.repos === undefined) ctx.addIssue({ code: 'custom', path: ['repo'], message: 'give repo or repos' });
    if (value.subjects && value.refs) ctx.addIssue({ code: 'custom', path: ['refs'], message: 'give subjects or refs, not both' });
  });

type Input = z.infer<typeof schema>;

/** One role the repository can reach. */
interface RoleMatch {
  role_arn: string;
  role_name: string;
  /** The trust-policy `sub` values that admit it. */
  patterns: string[];
  /** True when an explicit Deny already blocks the subjects (new sessions); live sessions still need revoking. */
  denied: boolean;
}

interface FindState {
  roles: RoleMatch[];
  scanned: number;
  githubTrusting: number;
}

async function listRoles(ctx: ActionContext, input: Input): Promise<Role[]> {
  const client = ctx.clients.iam(toAwsTarget(input));
  const roles: Role[] = [];
  let marker: string | undefined;
  try {
    do {
      const page = await client.send(new ListRolesCommand({ Marker: marker, PathPrefix: input.path_prefix }), { abortSignal: ctx.signal });
      roles.push(...(page.Roles ?? []));
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
  } catch (error) {
    // An account whose roles cannot be read is not searched: a gap, never "no role found".
    const account = toAwsTarget(input)?.accountId;
    const explained = explainIamError(ctx, error, `ListRoles${account ? ` in account ${account}` : ''}`);
    ctx.finding({
      kind: 'coverage-gap',
      severity: 'high',
      resource: `aws:account/${account ?? 'default'}`,
      summary: `roles of account ${account ?? '(the credentials’ own)'} were not searched for trust in ${reposOf(input).join(', ')}: ${explained.message}`,
    });
    throw explained;
  }
  return roles;
}

/** Every repository the step names. */
function reposOf(input: Input): string[] {
  return [...new Set([...(input.repo !== undefined ? [input.repo] : []), ...(input.repos ?? [])])];
}

function probesOf(input: Input): Array<{ kind: 'subject' | 'prefix'; value: string }> {
  if (input.subjects) return input.subjects.map((value) => ({ kind: 'subject', value }));
  if (input.refs) return reposOf(input).flatMap((repo) => input.refs!.map((ref) => ({ kind: 'subject' as const, value: subjectFor(repo, ref) })));
  return reposOf(input).map((repo) => ({ kind: 'prefix' as const, value: repoSubjectPrefix(repo) }));
}

function accountOfRole(arn: string): { account?: string } {
  const account = accountOfArn(arn);
  return account ? { account } : {};
}

/** Where the step searched: the account, and the role it assumed there (as an ARN). */
function whereOf(input: Input): { account?: string; assume_role?: string } {
  const target = toAwsTarget(input);
  return { ...(target?.accountId ? { account: target.accountId } : {}), ...(target?.roleArn ? { assume_role: target.roleArn } : {}) };
}

async function scan(ctx: ActionContext, input: Input): Promise<{ state: FindState; findings: Finding[] }> {
  const roles = await listRoles(ctx, input);
  const probes = probesOf(input);
  const matches: RoleMatch[] = [];
  const findings: Finding[] = [];
  let githubTrusting = 0;
  for (const role of roles) {
    if (!role.AssumeRolePolicyDocument || !role.RoleName) continue;
    let document;
    try {
      document = parsePolicyDocument(role.AssumeRolePolicyDocument);
    } catch {
      ctx.log(`role ${role.RoleName}: trust policy is not readable JSON; skipped`, 'warn');
      continue;
    }
    if (githubTrustStatements(document).length === 0) continue;
    githubTrusting++;
    const arn = role.Arn ?? role.RoleName;
    findings.push(...overBroadTrustFindings(document, arn));
    const evaluation = evaluateTrust(document, probes, input.audience);
    if (evaluation.allowedBy.length === 0) continue;
    matches.push({ role_arn: arn, role_name: role.RoleName, patterns: evaluation.admittingPatterns, denied: evaluation.deniedBy.length > 0 });
  }
  matches.sort((a, b) => a.role_arn.localeCompare(b.role_arn));
  return { state: { roles: matches, scanned: roles.length, githubTrusting }, findings };
}

/**
 * Finds the IAM roles a GitHub repository's OIDC tokens can assume, by evaluating every
 * role's trust policy (StringEquals / StringLike on `sub`, both subject formats), so
 * containment can revoke them without being told ARNs. Read-only: runs in dry runs too.
 * Roles already denied by an explicit Deny are still listed (their live sessions need
 * revoking) with `denied: true`.
 */
export const findRoles = defineAction({
  id: 'aws.find-roles',
  summary: 'List the IAM roles whose trust policy admits a GitHub repository’s OIDC tokens.',
  schema,
  permissions: ['iam:ListRoles'],
  mutating: false,
  outputs: {
    roles: 'ARNs of the roles the repository can assume',
    role_names: 'names of those roles (for for_each over revoke steps)',
    matches: 'per role: role_arn, role_name, the admitting sub patterns, and whether a Deny already blocks new sessions',
    targets: 'per role: {role (its ARN), account, assume_role}: what a fanned-out step needs to act on it in its own account',
    scanned: 'how many roles were read',
  },
  example: { repo: 'acme/app' },

  async plan(ctx, input): Promise<ActionPlan> {
    await ensureAccount(ctx, toAwsTarget(input));
    const { state, findings } = await scan(ctx, input);
    return {
      changes: [],
      calls: [{ service: 'iam', operation: 'ListRoles', params: input.path_prefix ? { PathPrefix: input.path_prefix } : {}, mutating: false, target: toAwsTarget(input)?.accountId }],
      findings,
      state,
    };
  },

  async apply(ctx, input, plan) {
    // Read-only: the plan's scan is the result (a plan made in this run, seconds ago).
    const state = (plan.state as FindState | undefined) ?? (await scan(ctx, input)).state;
    return {
      changed: false,
      outputs: {
        roles: state.roles.map((role) => role.role_arn),
        role_names: state.roles.map((role) => role.role_name),
        matches: state.roles,
        targets: state.roles.map((role) => ({ role: role.role_arn, ...whereOf(input), ...(whereOf(input).account ? {} : accountOfRole(role.role_arn)) })),
        scanned: state.scanned,
      },
    };
  },

  async verify(_ctx, input, result) {
    const roles = (result.outputs.roles as string[] | undefined) ?? [];
    const where = whereOf(input).account ? ` in account ${whereOf(input).account}` : '';
    return { verified: true, detail: `${roles.length} role(s)${where} admit ${reposOf(input).join(', ')}'s OIDC tokens (read-only inventory)` };
  },
});
