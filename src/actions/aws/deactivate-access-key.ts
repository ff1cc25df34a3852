import { GetAccessKeyLastUsedCommand, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import { z } from 'zod';
import { defineAction, type ActionPlan, type ApplyResult } from '../define.js';
import type { ActionContext } from '../../engine/context.js';
import { isAwsError } from '../../aws/errors.js';
import { checkTargetFields, principalField, targetFields, toAwsTarget, userRef } from '../../aws/target.js';
import { ACCESS_KEY_ID, listAccessKeys } from './shared/access-keys.js';
import { ensureAccount, explainIamError, stepError } from './shared/step.js';

const schema = z
  .object({
    /** The key to switch off: one the attacker minted, or a leaked one nothing legitimate needs. */
    access_key_id: z.string().regex(ACCESS_KEY_ID, 'an access key id (AKIA...)'),
    /** Its user. Optional: IAM names the owner of a key (GetAccessKeyLastUsed), which is all a hunt finding has. */
    user: principalField('user').optional(),
    ...targetFields,
  })
  .strict()
  .superRefine(checkTargetFields);

type Input = z.infer<typeof schema>;

interface DeactivateState {
  user: string;
  status?: 'Active' | 'Inactive';
  lastUsed?: string;
}

async function ownerOf(ctx: ActionContext, input: Input): Promise<{ user: string; lastUsed?: string }> {
  try {
    const used = await ctx.clients.iam(toAwsTarget(input)).send(new GetAccessKeyLastUsedCommand({ AccessKeyId: input.access_key_id }), { abortSignal: ctx.signal });
    const user = input.user ? userRef(input.user).name : used.UserName;
    if (!user) throw stepError(ctx, `access key ${input.access_key_id}: IAM did not name its user; give user`);
    return { user, lastUsed: used.AccessKeyLastUsed?.LastUsedDate?.toISOString() };
  } catch (error) {
    // Without permission to read last-use, a given user is enough.
    if (input.user && (isAwsError(error, 'AccessDenied') || isAwsError(error, 'NoSuchEntity'))) return { user: userRef(input.user).name };
    throw explainIamError(ctx, error, `access key ${input.access_key_id}: GetAccessKeyLastUsed`);
  }
}

/**
 * Switches an access key off without a replacement: for keys the attacker minted with a
 * stolen session (the hunt names them by id) or a leaked key nothing legitimate needs.
 * Sessions revocation does not touch long-term keys (no aws:TokenIssueTime), so this is the
 * step that closes them. Delete them later with aws.delete-access-key. Compensate turns the
 * key back on, for a key deactivated by mistake.
 */
export const deactivateAccessKey = defineAction({
  id: 'aws.deactivate-access-key',
  summary: 'Set an IAM access key Inactive (no replacement), e.g. a key minted by a stolen session.',
  schema,
  permissions: ['iam:GetAccessKeyLastUsed', 'iam:ListAccessKeys', 'iam:UpdateAccessKey'],
  mutating: true,
  closesCredential: true,
  outputs: {
    access_key_id: 'the key',
    user_name: 'its user',
    last_used: 'when it was last used (ISO), if ever',
  },
  example: { access_key_id: 'AKIAIOSFODNN7EXAMPLE' },

  async plan(ctx, input): Promise<ActionPlan> {
    const target = toAwsTarget(input);
    await ensureAccount(ctx, target);
    const owner = await ownerOf(ctx, input);
    const key = (await listAccessKeys(ctx, ctx.clients.iam(target), owner.user)).find((candidate) => candidate.id === input.access_key_id);
    if (!key) {
      throw stepError(ctx, `access key ${input.access_key_id} is not a key of user ${owner.user}`, { suggestions: ['check the key id and the user; a deleted key needs nothing'] });
    }
    const state: DeactivateState = { user: owner.user, status: key.status, lastUsed: owner.lastUsed };
    const calls = [
      { service: 'iam', operation: 'GetAccessKeyLastUsed', params: { AccessKeyId: key.id }, mutating: false, target: target?.accountId },
      { service: 'iam', operation: 'ListAccessKeys', params: { UserName: owner.user }, mutating: false, target: target?.accountId },
    ];
    if (key.status === 'Inactive') return { changes: [], calls, state };
    return {
      changes: [
        {
          resource: `aws:iam:user/${owner.user}/access-key/${key.id}`,
          action: 'deactivate-access-key',
          summary: `deactivate ${key.id} of ${owner.user} (last used ${owner.lastUsed ?? 'never'})`,
          before: 'Active',
          after: 'Inactive',
        },
      ],
      calls: [...calls, { service: 'iam', operation: 'UpdateAccessKey', params: { UserName: owner.user, AccessKeyId: key.id, Status: 'Inactive' }, mutating: true, target: target?.accountId }],
      state,
    };
  },

  async apply(ctx, input, plan): Promise<ApplyResult> {
    const state = plan.state as DeactivateState;
    const client = ctx.clients.iam(toAwsTarget(input));
    const outputs = { access_key_id: input.access_key_id, user_name: state.user, ...(state.lastUsed ? { last_used: state.lastUsed } : {}) };
    const key = (await listAccessKeys(ctx, client, state.user)).find((candidate) => candidate.id === input.access_key_id);
    if (!key || key.status === 'Inactive') {
      // Already off (an earlier step, a crashed run whose record was lost, a human): say so in the
      // evidence, so the report can tell the key is dead instead of listing its leak as open.
      ctx.evidence('credential', {
        credential: input.access_key_id,
        kind: 'aws-access-key',
        event: key ? 'deactivated' : 'deleted',
        at: ctx.now().toISOString(),
        detail: `found ${key ? 'Inactive' : 'deleted'} on ${state.user} when checked: switched off before this step`,
      });
      return { changed: false, outputs };
    }
    try {
      const response = await client.send(new UpdateAccessKeyCommand({ UserName: state.user, AccessKeyId: key.id, Status: 'Inactive' }), { abortSignal: ctx.signal });
      ctx.evidence('credential', { credential: key.id, kind: 'aws-access-key', event: 'deactivated', at: ctx.now().toISOString(), detail: `deactivated on ${state.user}` });
      return { changed: true, outputs, undo: { user: state.user, accessKeyId: key.id }, requestIds: response.$metadata.requestId ? [response.$metadata.requestId] : [] };
    } catch (error) {
      throw explainIamError(ctx, error, `user ${state.user}: deactivate ${key.id}`);
    }
  },

  async verify(ctx, input, result) {
    const user = String(result.outputs.user_name);
    const key = (await listAccessKeys(ctx, ctx.clients.iam(toAwsTarget(input)), user)).find((candidate) => candidate.id === input.access_key_id);
    if (key?.status === 'Active') return { verified: false, detail: `access key ${input.access_key_id} of ${user} is still Active` };
    return { verified: true, detail: `access key ${input.access_key_id} of ${user} is ${key ? 'Inactive' : 'deleted'}` };
  },

  async compensate(ctx, input, result): Promise<ApplyResult> {
    const undo = result.undo as { user: string; accessKeyId: string } | undefined;
    if (!undo) return { changed: false, outputs: result.outputs };
    try {
      await ctx.clients.iam(toAwsTarget(input)).send(new UpdateAccessKeyCommand({ UserName: undo.user, AccessKeyId: undo.accessKeyId, Status: 'Active' }), { abortSignal: ctx.signal });
    } catch (error) {
      throw explainIamError(ctx, error, `user ${undo.user}: reactivate ${undo.accessKeyId}`);
    }
    return { changed: true, outputs: result.outputs };
  },
});
