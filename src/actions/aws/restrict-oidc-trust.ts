import { GetRoleCommand, UpdateAssumeRolePolicyCommand } from '@aws-sdk/client-iam';
import { z } from 'zod';
import { defineAction, type ApplyResult } from '../define.js';
import type { ActionContext } from '../../engine/context.js';
import { CicdIrError } from '../../engine/errors.js';
import { lineDiff } from '../../aws/diff.js';
import { parseDuration } from '../../aws/duration.js';
import { parsePolicyDocument, policySize, prettyPolicy, samePolicy, serializePolicy, type PolicyDocument } from '../../aws/policy.js';
import {
  addSubjectDeny,
  evaluateTrust,
  overBroadTrustFindings,
  removeSubjectAllows,
  TRUST_POLICY_DEFAULT_LIMIT,
  TRUST_POLICY_MAX_LIMIT,
  type TrustRewrite,
} from '../../aws/trust-policy.js';
import { checkTargetFields, durationField, principalField, roleRef, targetFields, toAwsTarget } from '../../aws/target.js';
import { repoSubjectPrefix } from '../../aws/github-oidc.js';
import { DEFAULT_VERIFY_TIMEOUT_MS, ensureAccount, explainIamError, pollUntil, stepError } from './shared/step.js';

const schema = z
  .object({
    /** Role name or ARN. */
    role: principalField('role'),
    /**
     * Compromised OIDC subjects (`sub` claims or StringLike patterns), in either format:
     * `repo:acme/app:ref:refs/heads/main`, `repo:acme/app:*`, `repo:acme@12/app@34:environment:prod`.
     */
    subjects: z.array(z.string().min(1).max(1024)).min(1).optional(),
    /**
     * Compromised repositories (`owner/name`): every subject of each (`repo:owner/name:*`) is
     * denied. The safe choice in containment: whoever controls a workflow can usually push
     * another branch or tag and present another subject of the same repository.
     */
    repos: z.array(z.string().regex(/^[A-Za-z0-9_.-]+(@\d+)?\/[A-Za-z0-9_.-]+(@\d+)?$/, 'owner/repo')).min(1).optional(),
    /** `deny` (default): add an explicit Deny, keep the rest. `remove`: drop the Allow values that admit them. */
    mode: z.enum(['deny', 'remove']).default('deny'),
    /** The account's trust-policy size quota, if raised from the default 2,048 (at most 4,096). */
    trust_policy_quota: z.number().int().min(TRUST_POLICY_DEFAULT_LIMIT).max(TRUST_POLICY_MAX_LIMIT).optional(),
    verify_timeout: durationField.optional(),
    ...targetFields,
  })
  .strict()
  .superRefine((input, issues) => {
    if (!input.subjects && !input.repos) issues.addIssue({ code: 'custom', path: ['subjects'], message: 'give subjects, repos, or both' });
    checkTargetFields(input, issues);
  });

type Input = z.infer<typeof schema>;

/**
 * The subjects to shut out: those given, plus every subject of each compromised repository.
 * Given the role's trust document, a repository the trust admits no subject of is left out:
 * denying it would only spend the 2,048-character trust quota (an incident naming 50
 * repositories would otherwise overflow every role's trust policy).
 */
function subjectsOf(input: Input, document?: PolicyDocument): string[] {
  const repos = (input.repos ?? []).filter(
    (repo) => !document || evaluateTrust(document, [{ kind: 'prefix', value: repoSubjectPrefix(repo) }]).allowedBy.length > 0,
  );
  return [...new Set([...(input.subjects ?? []), ...repos.map((repo) => `repo:${repo}:*`)])];
}

/** What plan read: the role and its trust policy as it was. */
interface TrustState {
  roleName: string;
  roleArn: string;
  before: string;
  after: string;
  diff: string[];
  notes: string[];
}

/** What `undo` keeps (journalled): the old document, for `restore`. */
interface TrustUndo {
  roleName: string;
  previousDocument: string;
  appliedDocument: string;
}

async function readTrust(ctx: ActionContext, input: Input): Promise<{ name: string; arn: string; document: PolicyDocument }> {
  const name = roleRef(input.role).name;
  try {
    const { Role } = await ctx.clients.iam(toAwsTarget(input)).send(new GetRoleCommand({ RoleName: name }), { abortSignal: ctx.signal });
    if (!Role?.AssumeRolePolicyDocument) throw stepError(ctx, `role ${name} has no trust policy`);
    return { name, arn: Role.Arn ?? name, document: parsePolicyDocument(Role.AssumeRolePolicyDocument) };
  } catch (error) {
    if (error instanceof CicdIrError) throw error;
    throw explainIamError(ctx, error, `role ${name}`);
  }
}

function rewrite(document: PolicyDocument, input: Input): TrustRewrite {
  const subjects = subjectsOf(input, document);
  if (subjects.length === 0) return { changed: false, document, notes: [`the trust policy admits no subject of ${(input.repos ?? []).join(', ')}`] };
  return input.mode === 'remove' ? removeSubjectAllows(document, subjects) : addSubjectDeny(document, subjects);
}

function checkRewrite(ctx: ActionContext, input: Input, roleName: string, result: TrustRewrite): void {
  if (!result.changed) return;
  const statements = Array.isArray(result.document.Statement) ? result.document.Statement : [result.document.Statement];
  if (statements.length === 0) {
    throw stepError(ctx, `role ${roleName}: removing the allows that admit the compromised subjects would leave the trust policy empty (IAM rejects that)`, {
      suggestions: ['use mode: deny, or delete the role if nothing else should assume it'],
    });
  }
  const limit = input.trust_policy_quota ?? TRUST_POLICY_DEFAULT_LIMIT;
  const size = policySize(result.document);
  if (size > limit) {
    throw stepError(
      ctx,
      `role ${roleName}: the restricted trust policy would be ${size} characters (whitespace not counted), over the ${limit}-character trust policy quota; IAM would answer LimitExceeded`,
      {
        suggestions: [
          'use mode: remove to drop the admitting patterns instead of adding a deny',
          'or give fewer / wider subjects (a StringLike pattern such as repo:org/repo:*)',
          `or raise the "Role trust policy length" quota (up to ${TRUST_POLICY_MAX_LIMIT}) and set trust_policy_quota`,
        ],
      },
    );
  }
}

/**
 * Closes the OIDC door: adds an explicit Deny on `sts:AssumeRoleWithWebIdentity` for the
 * compromised GitHub subjects (both subject formats), or narrows the Allow that admits them.
 * New sessions from the compromised repository stop; the old document is journalled as
 * `undo` so restore can put it back. Over-broad trust is reported as findings.
 */
export const restrictOidcTrust = defineAction({
  id: 'aws.restrict-oidc-trust',
  summary: 'Deny compromised GitHub OIDC subjects in an IAM role trust policy (or narrow the Allow that admits them).',
  schema,
  permissions: ['iam:GetRole', 'iam:UpdateAssumeRolePolicy'],
  mutating: true,
  closesCredential: true,
  outputs: {
    role_arn: 'ARN of the role',
    role_name: 'name of the role',
    admits_subjects: 'whether the trust policy still admits any of the subjects after the change (should be false)',
  },
  example: { role: 'deploy-prod', subjects: ['repo:acme/app:ref:refs/heads/main'], mode: 'deny' },

  async plan(ctx, input) {
    const target = toAwsTarget(input);
    await ensureAccount(ctx, target);
    const role = await readTrust(ctx, input);
    const findings = overBroadTrustFindings(role.document, role.arn);
    const result = rewrite(role.document, input);
    checkRewrite(ctx, input, role.name, result);
    const before = prettyPolicy(role.document);
    const after = prettyPolicy(result.document);
    const state: TrustState = {
      roleName: role.name,
      roleArn: role.arn,
      before: serializePolicy(role.document),
      after: serializePolicy(result.document),
      diff: result.changed ? lineDiff(before, after) : [],
      notes: result.notes,
    };
    const read = { service: 'iam', operation: 'GetRole', params: { RoleName: role.name }, mutating: false, target: target?.accountId };
    if (!result.changed) {
      for (const note of result.notes) ctx.log(`role ${role.name}: ${note}`, 'info');
      return { changes: [], calls: [read], findings, state };
    }
    return {
      changes: [
        {
          resource: role.arn,
          action: 'update-trust-policy',
          summary: `${input.mode === 'remove' ? 'narrow' : 'deny'} GitHub OIDC subjects ${subjectsOf(input, role.document).join(', ')} in the trust policy of ${role.name}: ${result.notes.join('; ')}`,
          before: role.document,
          after: result.document,
          diff: state.diff,
        },
      ],
      calls: [
        read,
        { service: 'iam', operation: 'UpdateAssumeRolePolicy', params: { RoleName: role.name, PolicyDocument: result.document }, mutating: true, target: target?.accountId },
      ],
      findings,
      state,
    };
  },

  async apply(ctx, input) {
    // Re-read: the rewrite is computed on the document as it is now, so a re-run adds nothing twice.
    const role = await readTrust(ctx, input);
    const result = rewrite(role.document, input);
    const outputs = { role_arn: role.arn, role_name: role.name };
    if (!result.changed) {
      const still = evaluateTrust(role.document, subjectsOf(input, role.document).map((value) => ({ kind: 'subject' as const, value }))).admits;
      return { changed: false, outputs: { ...outputs, admits_subjects: still } };
    }
    checkRewrite(ctx, input, role.name, result);
    const document = serializePolicy(result.document);
    let requestId: string | undefined;
    try {
      const response = await ctx.clients
        .iam(toAwsTarget(input))
        .send(new UpdateAssumeRolePolicyCommand({ RoleName: role.name, PolicyDocument: document }), { abortSignal: ctx.signal });
      requestId = response.$metadata.requestId;
    } catch (error) {
      throw explainIamError(ctx, error, `role ${role.name}: UpdateAssumeRolePolicy`);
    }
    ctx.evidence('credential', {
      credential: role.arn,
      kind: 'oidc-trust',
      event: 'restricted',
      at: ctx.now().toISOString(),
      detail: `${input.mode === 'remove' ? 'removed allows for' : 'denied'} ${subjectsOf(input, role.document).join(', ')}: ${result.notes.join('; ')}`,
      subjects: subjectsOf(input, role.document),
    });
    const still = evaluateTrust(result.document, subjectsOf(input, role.document).map((value) => ({ kind: 'subject' as const, value }))).admits;
    const undo: TrustUndo = { roleName: role.name, previousDocument: serializePolicy(role.document), appliedDocument: document };
    return { changed: true, outputs: { ...outputs, admits_subjects: still }, undo, requestIds: requestId ? [requestId] : [] };
  },

  async verify(ctx, input, result) {
    const timeout = input.verify_timeout !== undefined ? parseDuration(input.verify_timeout) : DEFAULT_VERIFY_TIMEOUT_MS;
    let admits = true;
    let subjects = subjectsOf(input);
    const outcome = await pollUntil(ctx, timeout, async () => {
      const role = await readTrust(ctx, input);
      // The subjects this role had to shut out (a repository it never admitted is not checked).
      subjects = subjectsOf(input, role.document);
      admits = evaluateTrust(role.document, subjects.map((value) => ({ kind: 'subject' as const, value }))).admits;
      // Done when the document is what the step wants: rewriting it again changes nothing.
      return !rewrite(role.document, input).changed && !admits;
    });
    const roleName = String(result.outputs.role_name ?? roleRef(input.role).name);
    if (outcome.ok) return { verified: true, detail: `trust policy of ${roleName} no longer admits ${subjects.join(', ') || 'any subject of the compromised repositories'}` };
    return {
      verified: false,
      detail: admits
        ? `trust policy of ${roleName} still admits ${subjects.join(', ')} after ${Math.round(timeout / 1000)} s (IAM is eventually consistent, or another statement admits them): check it by hand`
        : `trust policy of ${roleName} was not read back as written within ${Math.round(timeout / 1000)} s (IAM is eventually consistent): check again`,
    };
  },

  async compensate(ctx, input, result): Promise<ApplyResult> {
    const undo = result.undo as TrustUndo | undefined;
    if (!undo) return { changed: false, outputs: result.outputs };
    const current = await readTrust(ctx, input);
    if (!samePolicy(current.document, parsePolicyDocument(undo.appliedDocument))) {
      ctx.log(`trust policy of ${undo.roleName} changed since cicd-ir restricted it; restoring the pre-incident document anyway`, 'warn');
    }
    try {
      const response = await ctx.clients
        .iam(toAwsTarget(input))
        .send(new UpdateAssumeRolePolicyCommand({ RoleName: undo.roleName, PolicyDocument: undo.previousDocument }), { abortSignal: ctx.signal });
      return { changed: true, outputs: result.outputs, requestIds: response.$metadata.requestId ? [response.$metadata.requestId] : [] };
    } catch (error) {
      throw explainIamError(ctx, error, `role ${undo.roleName}: restoring the trust policy`);
    }
  },
});
