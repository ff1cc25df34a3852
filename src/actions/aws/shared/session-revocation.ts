import {
  DeleteRolePolicyCommand,
  DeleteUserPolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  ListRolePoliciesCommand,
  ListUserPoliciesCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import type { ActionPlan, ApiCall, ApplyResult, VerifyResult } from '../../define.js';
import type { ActionContext } from '../../../engine/context.js';
import { isAwsError } from '../../../aws/errors.js';
import { parseDuration } from '../../../aws/duration.js';
import { parsePolicyDocument, policySize, serializePolicy, type PolicyDocument } from '../../../aws/policy.js';
import {
  checkInlineBudget,
  INLINE_POLICY_BUDGET,
  REVOKE_POLICY_NAME,
  revocationCutoff,
  revokeOlderSessionsPolicy,
  type InlinePolicySize,
} from '../../../aws/revoke-sessions.js';
import { roleRef, toAwsTarget, userRef } from '../../../aws/target.js';
import { DEFAULT_VERIFY_TIMEOUT_MS, ensureAccount, explainIamError, pollUntil, stepError } from './step.js';

/** The `with:` of both revoke actions (the principal field is `role` or `user`). */
export interface RevokeInput {
  cutoff?: string;
  verify_timeout?: number | string;
  account?: string;
  assume_role?: string;
  region?: string;
}

export type PrincipalKind = 'role' | 'user';

/** What plan read and apply needs: serialisable, no secrets. */
export interface RevokeState {
  kind: PrincipalKind;
  name: string;
  arn: string;
  cutoff: string;
  /** The revocation policy already in place, if any. */
  existing?: { cutoff?: string; document: string };
  budget: { limit: number; total: number };
}

/** What `undo` holds: enough to put the principal's revocation policy back as it was. */
export interface RevokeUndo {
  kind: PrincipalKind;
  name: string;
  policyName: string;
  /** The previous document (compact JSON), or null when there was none: restore deletes. */
  previous: string | null;
}

/** IAM's role and user inline-policy APIs behind one shape. */
interface InlinePolicyApi {
  kind: PrincipalKind;
  describe(name: string): Promise<{ arn: string; path: string }>;
  listNames(name: string): Promise<string[]>;
  get(name: string, policy: string): Promise<string | undefined>;
  put(name: string, policy: string, document: string): Promise<string | undefined>;
  remove(name: string, policy: string): Promise<string | undefined>;
}

function inlinePolicyApi(client: IAMClient, kind: PrincipalKind, signal: AbortSignal): InlinePolicyApi {
  const options = { abortSignal: signal };
  const getDocument = async (call: () => Promise<{ PolicyDocument?: string }>): Promise<string | undefined> => {
    try {
      return (await call()).PolicyDocument;
    } catch (error) {
      if (isAwsError(error, 'NoSuchEntity')) return undefined;
      throw error;
    }
  };
  if (kind === 'role') {
    return {
      kind,
      describe: async (name) => {
        const { Role } = await client.send(new GetRoleCommand({ RoleName: name }), options);
        return { arn: Role?.Arn ?? name, path: Role?.Path ?? '/' };
      },
      listNames: async (name) => {
        const names: string[] = [];
        let marker: string | undefined;
        do {
          const page = await client.send(new ListRolePoliciesCommand({ RoleName: name, Marker: marker }), options);
          names.push(...(page.PolicyNames ?? []));
          marker = page.IsTruncated ? page.Marker : undefined;
        } while (marker);
        return names;
      },
      get: (name, policy) => getDocument(() => client.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: policy }), options)),
      put: async (name, policy, document) =>
        (await client.send(new PutRolePolicyCommand({ RoleName: name, PolicyName: policy, PolicyDocument: document }), options)).$metadata.requestId,
      remove: async (name, policy) => (await client.send(new DeleteRolePolicyCommand({ RoleName: name, PolicyName: policy }), options)).$metadata.requestId,
    };
  }
  return {
    kind,
    describe: async (name) => {
      const { User } = await client.send(new GetUserCommand({ UserName: name }), options);
      return { arn: User?.Arn ?? name, path: User?.Path ?? '/' };
    },
    listNames: async (name) => {
      const names: string[] = [];
      let marker: string | undefined;
      do {
        const page = await client.send(new ListUserPoliciesCommand({ UserName: name, Marker: marker }), options);
        names.push(...(page.PolicyNames ?? []));
        marker = page.IsTruncated ? page.Marker : undefined;
      } while (marker);
      return names;
    },
    get: (name, policy) => getDocument(() => client.send(new GetUserPolicyCommand({ UserName: name, PolicyName: policy }), options)),
    put: async (name, policy, document) =>
      (await client.send(new PutUserPolicyCommand({ UserName: name, PolicyName: policy, PolicyDocument: document }), options)).$metadata.requestId,
    remove: async (name, policy) => (await client.send(new DeleteUserPolicyCommand({ UserName: name, PolicyName: policy }), options)).$metadata.requestId,
  };
}

const OP = {
  role: { describe: 'GetRole', list: 'ListRolePolicies', get: 'GetRolePolicy', put: 'PutRolePolicy', remove: 'DeleteRolePolicy', nameParam: 'RoleName' },
  user: { describe: 'GetUser', list: 'ListUserPolicies', get: 'GetUserPolicy', put: 'PutUserPolicy', remove: 'DeleteUserPolicy', nameParam: 'UserName' },
} as const;

/**
 * Why a role cannot carry the revocation policy, or undefined. Service-linked roles are
 * AWS's (IAM answers UnmodifiableEntity); Identity Center's `AWSReservedSSO_*` roles are
 * reprovisioned by Identity Center, which is where their sessions are revoked.
 */
export function refusalFor(kind: PrincipalKind, name: string, path: string): { message: string; suggestions: string[] } | undefined {
  if (kind !== 'role') return undefined;
  if (path.startsWith('/aws-service-role/')) {
    return {
      message: `role ${name} is a service-linked role (path ${path}): AWS owns it and IAM refuses inline policies on it (UnmodifiableEntity), so its sessions cannot be revoked this way`,
      suggestions: [
        'contain the AWS service that uses it (disable the feature or delete the resource that assumes it)',
        'revoke the sessions of the principals that could configure that service instead',
      ],
    };
  }
  if (name.startsWith('AWSReservedSSO_') || path.startsWith('/aws-reserved/sso.amazonaws.com/')) {
    return {
      message: `role ${name} is an IAM Identity Center role: Identity Center provisions it and would overwrite an inline policy; revoke its sessions in Identity Center`,
      suggestions: [
        'in IAM Identity Center, remove the user or group assignment of the permission set, then end the user’s active sessions',
        'or put the same aws:TokenIssueTime deny into the permission set’s inline policy',
      ],
    };
  }
  return undefined;
}

function principalName(kind: PrincipalKind, value: string): string {
  return kind === 'role' ? roleRef(value).name : userRef(value).name;
}

function readCalls(kind: PrincipalKind, name: string, target: string | undefined, policies: string[]): ApiCall[] {
  const op = OP[kind];
  return [
    { service: 'iam', operation: op.describe, params: { [op.nameParam]: name }, mutating: false, target },
    { service: 'iam', operation: op.list, params: { [op.nameParam]: name }, mutating: false, target },
    ...policies.map((policy) => ({ service: 'iam', operation: op.get, params: { [op.nameParam]: name, PolicyName: policy }, mutating: false, target })),
  ];
}

/** Plans the `AWSRevokeOlderSessions` deny for one role or user. Reads only. */
export async function planRevocation(ctx: ActionContext, kind: PrincipalKind, principal: string, input: RevokeInput): Promise<ActionPlan> {
  const target = toAwsTarget(input);
  await ensureAccount(ctx, target);
  const name = principalName(kind, principal);
  const api = inlinePolicyApi(ctx.clients.iam(target), kind, ctx.signal);
  const what = `${kind} ${name}`;

  let described: { arn: string; path: string };
  try {
    described = await api.describe(name);
  } catch (error) {
    throw explainIamError(ctx, error, what);
  }
  const refusal = refusalFor(kind, name, described.path);
  if (refusal) throw stepError(ctx, refusal.message, { suggestions: refusal.suggestions });

  const now = ctx.now();
  const cutoff = input.cutoff ? new Date(input.cutoff) : now;
  // A cutoff in the future would also deny the fresh, legitimate sessions minted until then.
  if (cutoff.getTime() > now.getTime() + 5 * 60_000) {
    throw stepError(ctx, `cutoff ${cutoff.toISOString()} is in the future: it would deny every session issued until then, including legitimate ones`, {
      suggestions: ['leave cutoff out (now) or give a past time'],
    });
  }

  const names = await api.listNames(name);
  const sizes: InlinePolicySize[] = [];
  let existing: RevokeState['existing'];
  for (const policy of names) {
    const text = await api.get(name, policy);
    if (text === undefined) continue;
    const document = parsePolicyDocument(text);
    sizes.push({ name: policy, size: policySize(document) });
    if (policy === REVOKE_POLICY_NAME) existing = { cutoff: revocationCutoff(document)?.toISOString(), document: serializePolicy(document) };
  }

  const wanted = revokeOlderSessionsPolicy(cutoff);
  const limit = INLINE_POLICY_BUDGET[kind];
  const budget = checkInlineBudget(sizes, wanted, limit);
  const targetLabel = target?.accountId;
  const calls = readCalls(kind, name, targetLabel, names);
  const state: RevokeState = { kind, name, arn: described.arn, cutoff: cutoff.toISOString(), existing, budget: { limit, total: budget.total } };

  const alreadyCovered = existing?.cutoff !== undefined && new Date(existing.cutoff) >= cutoff;
  if (alreadyCovered) return { changes: [], calls, state };

  if (!budget.fits) {
    const largest = budget.largest.map((policy) => `${policy.name} (${policy.size})`).join(', ');
    throw stepError(
      ctx,
      `${what}: its inline policies would total ${budget.total} characters with ${REVOKE_POLICY_NAME} (${budget.revocation}), over IAM's ${limit}-character ${kind} limit (whitespace not counted); IAM would answer LimitExceeded. Largest: ${largest || 'none'}`,
      {
        suggestions: [
          `shrink or remove one of ${kind === 'role' ? 'the role' : 'the user'}'s inline policies (or move it to a managed policy), then run again`,
          kind === 'role' ? 'or attach a managed policy with the same aws:TokenIssueTime deny' : 'or attach a managed policy with the same deny to the user',
        ],
      },
    );
  }

  return {
    changes: [
      {
        resource: described.arn,
        action: 'put-inline-policy',
        summary: `deny every session of ${what} issued before ${cutoff.toISOString()} (${REVOKE_POLICY_NAME}${existing?.cutoff ? `, moving the cutoff from ${existing.cutoff}` : ''})`,
        before: existing ? JSON.parse(existing.document) : null,
        after: wanted,
      },
    ],
    calls: [
      ...calls,
      { service: 'iam', operation: OP[kind].put, params: { [OP[kind].nameParam]: name, PolicyName: REVOKE_POLICY_NAME, PolicyDocument: wanted }, mutating: true, target: targetLabel },
    ],
    state,
  };
}

function outputsOf(state: Pick<RevokeState, 'kind' | 'name' | 'arn' | 'cutoff'>): Record<string, unknown> {
  return {
    [`${state.kind}_arn`]: state.arn,
    [`${state.kind}_name`]: state.name,
    cutoff: state.cutoff,
    policy_name: REVOKE_POLICY_NAME,
  };
}

/** Puts the revocation policy if the one in place (re-read now) does not already cover the planned cutoff. */
export async function applyRevocation(ctx: ActionContext, input: RevokeInput, plan: ActionPlan): Promise<ApplyResult> {
  const state = plan.state as RevokeState;
  const target = toAwsTarget(input);
  const api = inlinePolicyApi(ctx.clients.iam(target), state.kind, ctx.signal);
  const what = `${state.kind} ${state.name}`;
  let current: string | undefined;
  try {
    current = await api.get(state.name, REVOKE_POLICY_NAME);
  } catch (error) {
    throw explainIamError(ctx, error, what);
  }
  const currentDocument = current === undefined ? undefined : parsePolicyDocument(current);
  const currentCutoff = currentDocument ? revocationCutoff(currentDocument) : undefined;
  if (currentCutoff && currentCutoff >= new Date(state.cutoff)) {
    return { changed: false, outputs: { ...outputsOf(state), cutoff: currentCutoff.toISOString() } };
  }
  const document: PolicyDocument = revokeOlderSessionsPolicy(new Date(state.cutoff));
  let requestId: string | undefined;
  try {
    requestId = await api.put(state.name, REVOKE_POLICY_NAME, serializePolicy(document));
  } catch (error) {
    if (state.kind === 'role' && isAwsError(error, 'UnmodifiableEntity')) {
      const refusal = refusalFor('role', state.name, '/aws-service-role/');
      throw stepError(ctx, refusal!.message, { cause: error, suggestions: refusal!.suggestions });
    }
    throw explainIamError(ctx, error, `${what}: ${OP[state.kind].put}`);
  }
  ctx.evidence('credential', {
    credential: state.arn,
    kind: state.kind === 'role' ? 'aws-role-sessions' : 'aws-user-sessions',
    event: 'revoked',
    at: ctx.now().toISOString(),
    detail: `${REVOKE_POLICY_NAME}: sessions issued before ${state.cutoff} are denied`,
  });
  const undo: RevokeUndo = {
    kind: state.kind,
    name: state.name,
    policyName: REVOKE_POLICY_NAME,
    previous: currentDocument ? serializePolicy(currentDocument) : null,
  };
  return { changed: true, outputs: outputsOf(state), undo, requestIds: requestId ? [requestId] : [] };
}

/** Reads the policy back until it enforces the cutoff, or the timeout passes (then unverified). */
export async function verifyRevocation(ctx: ActionContext, kind: PrincipalKind, input: RevokeInput, result: ApplyResult): Promise<VerifyResult> {
  const name = String(result.outputs[`${kind}_name`]);
  const cutoff = new Date(String(result.outputs.cutoff));
  const timeout = input.verify_timeout !== undefined ? parseDuration(input.verify_timeout) : DEFAULT_VERIFY_TIMEOUT_MS;
  const api = inlinePolicyApi(ctx.clients.iam(toAwsTarget(input)), kind, ctx.signal);
  let seen: Date | undefined;
  const outcome = await pollUntil(ctx, timeout, async () => {
    const text = await api.get(name, REVOKE_POLICY_NAME);
    seen = text === undefined ? undefined : revocationCutoff(parsePolicyDocument(text));
    return seen !== undefined && seen >= cutoff;
  });
  if (outcome.ok) {
    return { verified: true, detail: `${REVOKE_POLICY_NAME} on ${kind} ${name} denies sessions issued before ${seen!.toISOString()} (read back after ${outcome.attempts} attempt(s))` };
  }
  return {
    verified: false,
    detail: `${REVOKE_POLICY_NAME} on ${kind} ${name} was not read back with cutoff ${cutoff.toISOString()} within ${Math.round(timeout / 1000)} s (last seen: ${seen?.toISOString() ?? 'no policy'}). IAM is eventually consistent: check again before trusting the containment.`,
  };
}

/** Restores the principal's revocation policy as it was before apply (deletes it when there was none). */
export async function compensateRevocation(ctx: ActionContext, input: RevokeInput, result: ApplyResult): Promise<ApplyResult> {
  const undo = result.undo as RevokeUndo | undefined;
  if (!undo) return { changed: false, outputs: result.outputs };
  const api = inlinePolicyApi(ctx.clients.iam(toAwsTarget(input)), undo.kind, ctx.signal);
  const what = `${undo.kind} ${undo.name}`;
  try {
    if (undo.previous === null) {
      const requestId = await api.remove(undo.name, undo.policyName);
      return { changed: true, outputs: result.outputs, requestIds: requestId ? [requestId] : [] };
    }
    const requestId = await api.put(undo.name, undo.policyName, undo.previous);
    return { changed: true, outputs: result.outputs, requestIds: requestId ? [requestId] : [] };
  } catch (error) {
    if (undo.previous === null && isAwsError(error, 'NoSuchEntity')) return { changed: false, outputs: result.outputs };
    throw explainIamError(ctx, error, `${what}: restoring ${undo.policyName}`);
  }
}

