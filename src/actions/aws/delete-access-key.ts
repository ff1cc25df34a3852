import { DeleteAccessKeyCommand, GetAccessKeyLastUsedCommand } from '@aws-sdk/client-iam';
import { z } from 'zod';
import { defineAction, type ActionPlan } from '../define.js';
import type { ActionContext } from '../../engine/context.js';
import { checkTargetFields, principalField, targetFields, toAwsTarget, userRef } from '../../aws/target.js';
import { ACCESS_KEY_ID, listAccessKeys, type AccessKeyInfo } from './shared/access-keys.js';
import { ensureAccount, explainIamError, stepError } from './shared/step.js';

const schema = z
  .object({
    user: principalField('user'),
    /** The key to delete. It must already be Inactive. */
    access_key_id: z.string().regex(ACCESS_KEY_ID, 'an access key id (AKIA...)'),
    ...targetFields,
  })
  .strict()
  .superRefine(checkTargetFields);

type Input = z.infer<typeof schema>;

function refuseActive(ctx: ActionContext, input: Input, user: string): never {
  throw stepError(ctx, `access key ${input.access_key_id} of user ${user} is Active: cicd-ir deletes only keys that were deactivated first`, {
    suggestions: [
      'rotate it first (aws.rotate-access-key sets the old key Inactive), watch GetAccessKeyLastUsed / CloudTrail for a while, then delete',
    ],
  });
}

/**
 * The break of make-before-break, usually in a later `finalize` run: deletes an access key
 * that is already Inactive, refusing an Active one. Deletion cannot be undone, so there is
 * no compensate. An absent key counts as done.
 */
export const deleteAccessKey = defineAction({
  id: 'aws.delete-access-key',
  summary: 'Delete an IAM user access key that was already deactivated (refuses an active key).',
  schema,
  permissions: ['iam:ListAccessKeys', 'iam:GetAccessKeyLastUsed', 'iam:DeleteAccessKey'],
  mutating: true,
  outputs: {
    access_key_id: 'the deleted key',
    last_used: 'when the key was last used (ISO), if ever',
  },
  example: { user: 'ci-deployer', access_key_id: 'AKIAIOSFODNN7EXAMPLE' },

  async plan(ctx, input): Promise<ActionPlan> {
    const target = toAwsTarget(input);
    await ensureAccount(ctx, target);
    const user = userRef(input.user).name;
    const client = ctx.clients.iam(target);
    const key: AccessKeyInfo | undefined = (await listAccessKeys(ctx, client, user)).find((candidate) => candidate.id === input.access_key_id);
    const calls = [{ service: 'iam', operation: 'ListAccessKeys', params: { UserName: user }, mutating: false, target: target?.accountId }];
    if (!key) return { changes: [], calls, state: { lastUsed: undefined } };
    if (key.status === 'Active') refuseActive(ctx, input, user);
    let lastUsed: string | undefined;
    try {
      const used = await client.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: key.id }), { abortSignal: ctx.signal });
      lastUsed = used.AccessKeyLastUsed?.LastUsedDate?.toISOString();
    } catch (error) {
      throw explainIamError(ctx, error, `access key ${key.id}: GetAccessKeyLastUsed`);
    }
    return {
      changes: [
        {
          resource: `aws:iam:user/${user}/access-key/${key.id}`,
          action: 'delete-access-key',
          summary: `delete inactive key ${key.id} of ${user} (last used ${lastUsed ?? 'never'})`,
          before: 'Inactive',
          after: 'Deleted',
        },
      ],
      calls: [
        ...calls,
        { service: 'iam', operation: 'GetAccessKeyLastUsed', params: { AccessKeyId: key.id }, mutating: false, target: target?.accountId },
        { service: 'iam', operation: 'DeleteAccessKey', params: { UserName: user, AccessKeyId: key.id }, mutating: true, target: target?.accountId },
      ],
      state: { lastUsed },
    };
  },

  async apply(ctx, input, plan) {
    const user = userRef(input.user).name;
    const client = ctx.clients.iam(toAwsTarget(input));
    const lastUsed = (plan.state as { lastUsed?: string } | undefined)?.lastUsed;
    const outputs = { access_key_id: input.access_key_id, ...(lastUsed ? { last_used: lastUsed } : {}) };
    const key = (await listAccessKeys(ctx, client, user)).find((candidate) => candidate.id === input.access_key_id);
    if (!key) return { changed: false, outputs };
    if (key.status === 'Active') refuseActive(ctx, input, user);
    try {
      const response = await client.send(new DeleteAccessKeyCommand({ UserName: user, AccessKeyId: key.id }), { abortSignal: ctx.signal });
      ctx.evidence('credential', { credential: key.id, kind: 'aws-access-key', event: 'deleted', at: ctx.now().toISOString(), detail: `deleted from ${user}` });
      return { changed: true, outputs, requestIds: response.$metadata.requestId ? [response.$metadata.requestId] : [] };
    } catch (error) {
      throw explainIamError(ctx, error, `user ${user}: delete ${key.id}`);
    }
  },

  async verify(ctx, input) {
    const user = userRef(input.user).name;
    const key = (await listAccessKeys(ctx, ctx.clients.iam(toAwsTarget(input)), user)).find((candidate) => candidate.id === input.access_key_id);
    return key
      ? { verified: false, detail: `access key ${input.access_key_id} of ${user} still exists (${key.status})` }
      : { verified: true, detail: `access key ${input.access_key_id} of ${user} is deleted` };
  },
});
