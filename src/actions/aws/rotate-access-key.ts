import { CreateAccessKeyCommand, DeleteAccessKeyCommand, UpdateAccessKeyCommand, type IAMClient } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { z } from 'zod';
import { defineAction, type ActionPlan, type ApiCall, type ApplyResult, type PlannedChange } from '../define.js';
import type { ActionContext, AwsTarget } from '../../engine/context.js';
import { Secret } from '../../engine/secret.js';
import { createAwsClients } from '../../providers/aws.js';
import { parseDuration } from '../../aws/duration.js';
import { checkTargetFields, durationField, principalField, targetFields, toAwsTarget, userRef } from '../../aws/target.js';
import { ACCESS_KEY_ID, listAccessKeys, type AccessKeyInfo } from './shared/access-keys.js';
import { DEFAULT_VERIFY_TIMEOUT_MS, ensureAccount, explainIamError, pollUntil, sleep, stepError } from './shared/step.js';

const schema = z
  .object({
    /** IAM user name or ARN. */
    user: principalField('user'),
    /** The key to replace. Default: the user's only active key. */
    access_key_id: z.string().regex(ACCESS_KEY_ID, 'an access key id (AKIA...)').optional(),
    /** `rotate`: make before break. `leaked`: the old key is deactivated first, before anything else. */
    mode: z.enum(['rotate', 'leaked']).default('rotate'),
    /** Wait this long after deactivating before deleting (only with delete_old). */
    grace: durationField.optional(),
    /** Delete the old key in this run (after grace). Default: leave it Inactive for aws.delete-access-key later. */
    delete_old: z.boolean().default(false),
    /** How long to keep trying the new key (IAM takes seconds to make it usable). */
    verify_timeout: durationField.optional(),
    ...targetFields,
  })
  .strict()
  .superRefine(checkTargetFields);

type Input = z.infer<typeof schema>;

/** At most grace this long inside one step: longer waits belong in a later `aws.delete-access-key` run. */
const MAX_GRACE_MS = 60 * 60_000;

interface RotateState {
  user: string;
  oldKeyId: string;
  /** An inactive second key deleted first to make room (the two-key limit). */
  spareToDelete?: string;
  /** Set when the old key is already inactive and a newer active key exists (a previous rotation). */
  rotatedTo?: string;
}

interface RotateUndo {
  user: string;
  mode: Input['mode'];
  oldKeyId: string;
  newKeyId: string;
  oldDeleted: boolean;
}

function isNewer(a: AccessKeyInfo, b: AccessKeyInfo): boolean {
  return a.created !== undefined && b.created !== undefined && a.created > b.created;
}

/** Picks the key to replace and checks the two-key limit; throws with the choices when it cannot. */
function choose(ctx: ActionContext, input: Input, user: string, keys: AccessKeyInfo[]): RotateState {
  let old: AccessKeyInfo | undefined;
  if (input.access_key_id) {
    old = keys.find((key) => key.id === input.access_key_id);
    if (!old) {
      throw stepError(ctx, `access key ${input.access_key_id} is not a key of user ${user} (its keys: ${keys.map((key) => `${key.id} ${key.status}`).join(', ') || 'none'})`, {
        suggestions: ['check the key id and the user (GetAccessKeyLastUsed names the owner of a key)', 'if the key was already deleted, this step has nothing to do: remove it'],
      });
    }
  } else {
    const active = keys.filter((key) => key.status === 'Active');
    // Leaked mode deactivates first: when the try that did so failed later (CreateAccessKey
    // throttled), the retry finds no active key. The leaked key is the newest inactive one, and
    // replacing it is still what was asked, so a retry is as safe as the first try.
    const deactivated = keys.filter((key) => key.status === 'Inactive').sort((a, b) => (isNewer(a, b) ? -1 : isNewer(b, a) ? 1 : 0));
    if (active.length === 0 && input.mode === 'leaked' && deactivated.length > 0) return choose(ctx, { ...input, access_key_id: deactivated[0]!.id }, user, keys);
    if (active.length === 0) throw stepError(ctx, `user ${user} has no active access key to rotate`, { suggestions: ['give access_key_id'] });
    if (active.length > 1) {
      throw stepError(ctx, `user ${user} has two active access keys (${active.map((key) => key.id).join(', ')}): say which one to replace`, {
        suggestions: ['set access_key_id to the key to replace; the other one must then be deactivated or deleted first (IAM allows two keys per user)'],
      });
    }
    old = active[0]!;
  }
  const other = keys.find((key) => key.id !== old!.id);
  if (old.status === 'Inactive' && other?.status === 'Active' && isNewer(other, old)) {
    return { user, oldKeyId: old.id, rotatedTo: other.id };
  }
  if (other?.status === 'Active') {
    throw stepError(
      ctx,
      `user ${user} already has two access keys, both in use (${old.id} to replace, ${other.id} active): IAM allows two per user, so a new key cannot be created`,
      {
        suggestions: [
          `if ${other.id} is also exposed or unused: set it Inactive (aws iam update-access-key --user-name ${user} --access-key-id ${other.id} --status Inactive), then run this step again (the inactive spare is deleted first)`,
          `if ${other.id} is the key consumers already use: the user is mid-rotation; deactivate ${old.id} and delete it with aws.delete-access-key instead of rotating`,
          input.mode === 'leaked' ? `the leaked key ${old.id} can be deactivated right now; deleting it makes room for a new key` : 'or rotate with mode: leaked if the old key is known to be exposed',
        ],
      },
    );
  }
  return { user, oldKeyId: old.id, ...(other?.status === 'Inactive' ? { spareToDelete: other.id } : {}) };
}

function call(operation: string, params: Record<string, unknown>, mutating: boolean, target: AwsTarget | undefined): ApiCall {
  return { service: operation === 'GetCallerIdentity' ? 'sts' : 'iam', operation, params, mutating, target: target?.accountId };
}

/** The STS client that signs with the new key: the provider's, so endpoints and middleware are the same as every other call. */
function stsFor(ctx: ActionContext, credentials: { accessKeyId: string; secretAccessKey: string }, target: AwsTarget | undefined) {
  const factory = ctx.clients.stsWithCredentials?.bind(ctx.clients) ?? createAwsClients(ctx.clients.config).stsWithCredentials;
  return factory(credentials, target);
}

async function setStatus(ctx: ActionContext, client: IAMClient, user: string, id: string, status: 'Active' | 'Inactive'): Promise<string | undefined> {
  try {
    const response = await client.send(new UpdateAccessKeyCommand({ UserName: user, AccessKeyId: id, Status: status }), { abortSignal: ctx.signal });
    return response.$metadata.requestId;
  } catch (error) {
    throw explainIamError(ctx, error, `user ${user}: set ${id} ${status}`);
  }
}

async function deleteKey(ctx: ActionContext, client: IAMClient, user: string, id: string): Promise<string | undefined> {
  try {
    const response = await client.send(new DeleteAccessKeyCommand({ UserName: user, AccessKeyId: id }), { abortSignal: ctx.signal });
    return response.$metadata.requestId;
  } catch (error) {
    throw explainIamError(ctx, error, `user ${user}: delete ${id}`);
  }
}

function keyEvent(ctx: ActionContext, id: string, event: 'issued' | 'deactivated' | 'deleted' | 'rotated', detail: string, fingerprint?: string): void {
  ctx.evidence('credential', { credential: id, kind: 'aws-access-key', event, at: ctx.now().toISOString(), detail, ...(fingerprint ? { fingerprint } : {}) });
}

/**
 * Rotates an IAM user's access key make-before-break (FACTS.md): make room under the two-key
 * limit (delete an inactive spare), create the new key, prove it with STS GetCallerIdentity
 * signed by it, then set the old key Inactive (and delete it after `grace` when
 * `delete_old`). With `mode: leaked` the old key is deactivated before anything else. The new
 * secret is a Secret output for the consumer step (e.g. github.rotate-secret), never printed.
 */
export const rotateAccessKey = defineAction({
  id: 'aws.rotate-access-key',
  summary: 'Rotate an IAM user access key make-before-break (or deactivate a leaked one first) and hand the new secret to the next step.',
  schema,
  permissions: ['iam:ListAccessKeys', 'iam:CreateAccessKey', 'iam:UpdateAccessKey', 'iam:DeleteAccessKey'],
  mutating: true,
  closesCredential: true,
  outputs: {
    access_key_id: 'the new access key id (or the key a previous rotation created)',
    secret_access_key: 'the new secret access key (a Secret: only consumer steps see the value)',
    previous_access_key_id: 'the replaced key',
    previous_status: 'Inactive, Deleted, or Active (when the new key could not be proven)',
    deleted_access_key_ids: 'keys this rotation deleted (the replaced key with delete_old, an inactive spare that made room)',
    new_key_verified: 'whether STS accepted the new key',
    detail: 'what happened, in words',
  },
  secretOutputs: ['secret_access_key'],
  example: { user: 'ci-deployer', access_key_id: 'AKIAIOSFODNN7EXAMPLE', mode: 'leaked' },

  async plan(ctx, input): Promise<ActionPlan> {
    const target = toAwsTarget(input);
    await ensureAccount(ctx, target);
    const user = userRef(input.user).name;
    const keys = await listAccessKeys(ctx, ctx.clients.iam(target), user);
    const state = choose(ctx, input, user, keys);
    const calls: ApiCall[] = [call('ListAccessKeys', { UserName: user }, false, target)];
    const changes: PlannedChange[] = [];
    const resource = (id: string): string => `aws:iam:user/${user}/access-key/${id}`;
    if (state.rotatedTo) {
      if (input.delete_old) {
        changes.push({ resource: resource(state.oldKeyId), action: 'delete-access-key', summary: `delete ${state.oldKeyId} (already replaced by ${state.rotatedTo} and inactive)` });
        calls.push(call('DeleteAccessKey', { UserName: user, AccessKeyId: state.oldKeyId }, true, target));
      }
      return { changes, calls, state };
    }
    const old = keys.find((key) => key.id === state.oldKeyId)!;
    if (state.spareToDelete) {
      changes.push({ resource: resource(state.spareToDelete), action: 'delete-access-key', summary: `delete the inactive spare ${state.spareToDelete} to make room (two keys per user)` });
      calls.push(call('DeleteAccessKey', { UserName: user, AccessKeyId: state.spareToDelete }, true, target));
    }
    if (input.mode === 'leaked' && old.status === 'Active') {
      changes.push({ resource: resource(old.id), action: 'deactivate-access-key', summary: `deactivate the leaked key ${old.id} first`, before: 'Active', after: 'Inactive' });
      calls.push(call('UpdateAccessKey', { UserName: user, AccessKeyId: old.id, Status: 'Inactive' }, true, target));
    }
    changes.push({ resource: `aws:iam:user/${user}`, action: 'create-access-key', summary: `create a new access key for ${user} (its secret goes only to the consumer step)` });
    calls.push(call('CreateAccessKey', { UserName: user }, true, target), call('GetCallerIdentity', { signedWith: 'the new key' }, false, target));
    if (input.mode === 'rotate' && old.status === 'Active') {
      changes.push({ resource: resource(old.id), action: 'deactivate-access-key', summary: `deactivate ${old.id} once the new key works`, before: 'Active', after: 'Inactive' });
      calls.push(call('UpdateAccessKey', { UserName: user, AccessKeyId: old.id, Status: 'Inactive' }, true, target));
    }
    if (input.delete_old) {
      const grace = input.grace !== undefined ? parseDuration(input.grace) : 0;
      changes.push({ resource: resource(old.id), action: 'delete-access-key', summary: `delete ${old.id}${grace ? ` after a ${Math.round(grace / 1000)} s grace` : ''}` });
      calls.push(call('DeleteAccessKey', { UserName: user, AccessKeyId: old.id }, true, target));
    }
    return { changes, calls, state };
  },

  async apply(ctx, input, plan): Promise<ApplyResult> {
    const target = toAwsTarget(input);
    const client = ctx.clients.iam(target);
    const user = userRef(input.user).name;
    const planned = plan.state as RotateState;
    // Re-read and re-decide: the world may have moved since the plan (or this is a re-run).
    const keys = await listAccessKeys(ctx, client, user);
    const state = choose(ctx, { ...input, access_key_id: input.access_key_id ?? planned.oldKeyId }, user, keys);
    const grace = input.grace !== undefined ? parseDuration(input.grace) : 0;
    if (grace > MAX_GRACE_MS) throw stepError(ctx, `grace ${grace} ms is longer than one step should wait (1 h)`, { suggestions: ['leave delete_old false and run aws.delete-access-key later'] });
    const requestIds: string[] = [];
    const track = (id: string | undefined): void => {
      if (id) requestIds.push(id);
    };

    if (state.rotatedTo) {
      const detail = `${state.oldKeyId} was already replaced by ${state.rotatedTo} (inactive since a previous run); the new key's secret was handed out then and cannot be recovered now`;
      ctx.log(detail, 'warn');
      let previousStatus = 'Inactive';
      const deleted: string[] = [];
      if (input.delete_old) {
        if (grace > 0) await sleep(grace, ctx.signal);
        track(await deleteKey(ctx, client, user, state.oldKeyId));
        keyEvent(ctx, state.oldKeyId, 'deleted', `replaced by ${state.rotatedTo}`);
        previousStatus = 'Deleted';
        deleted.push(state.oldKeyId);
      }
      return {
        changed: input.delete_old,
        outputs: { access_key_id: state.rotatedTo, previous_access_key_id: state.oldKeyId, previous_status: previousStatus, deleted_access_key_ids: deleted, new_key_verified: true, detail },
        requestIds,
      };
    }

    const old = keys.find((key) => key.id === state.oldKeyId)!;
    const deleted: string[] = [];
    if (state.spareToDelete) {
      track(await deleteKey(ctx, client, user, state.spareToDelete));
      keyEvent(ctx, state.spareToDelete, 'deleted', 'inactive spare deleted to make room for the new key');
      deleted.push(state.spareToDelete);
    }
    let oldStatus: string = old.status;
    if (input.mode === 'leaked' && old.status === 'Active') {
      track(await setStatus(ctx, client, user, old.id, 'Inactive'));
      keyEvent(ctx, old.id, 'deactivated', 'leaked key deactivated before rotation');
      oldStatus = 'Inactive';
    }

    let created;
    try {
      created = await client.send(new CreateAccessKeyCommand({ UserName: user }), { abortSignal: ctx.signal });
    } catch (error) {
      throw explainIamError(ctx, error, `user ${user}: CreateAccessKey`);
    }
    track(created.$metadata.requestId);
    const newKeyId = created.AccessKey?.AccessKeyId;
    const secretValue = created.AccessKey?.SecretAccessKey;
    if (!newKeyId || !secretValue) throw stepError(ctx, `user ${user}: CreateAccessKey returned no key`);
    const secret = new Secret(secretValue, `IAM access key ${newKeyId} secret`);
    keyEvent(ctx, newKeyId, 'issued', `new access key for ${user}, replacing ${old.id}`, secret.fingerprint);

    // A new key takes a few seconds to be accepted everywhere: keep trying until the timeout.
    const timeout = input.verify_timeout !== undefined ? parseDuration(input.verify_timeout) : DEFAULT_VERIFY_TIMEOUT_MS;
    const sts = stsFor(ctx, { accessKeyId: newKeyId, secretAccessKey: secret.reveal() }, target);
    let identityArn: string | undefined;
    const proof = await pollUntil(ctx, timeout, async () => {
      try {
        identityArn = (await sts.send(new GetCallerIdentityCommand({}), { abortSignal: ctx.signal })).Arn;
        return true;
      } catch {
        return false;
      }
    });
    sts.destroy();

    let detail: string;
    if (!proof.ok) {
      // Never break before make: the old key stays as it is when the new one is not proven.
      detail = `new key ${newKeyId} was not accepted by STS within ${Math.round(timeout / 1000)} s; ${old.id} left ${oldStatus}`;
      ctx.log(detail, 'warn');
    } else {
      detail = `new key ${newKeyId} works (STS: ${identityArn})`;
      if (input.mode === 'rotate' && oldStatus === 'Active') {
        track(await setStatus(ctx, client, user, old.id, 'Inactive'));
        keyEvent(ctx, old.id, 'deactivated', `replaced by ${newKeyId}`);
        oldStatus = 'Inactive';
      }
      if (input.delete_old && oldStatus === 'Inactive') {
        if (grace > 0) await sleep(grace, ctx.signal);
        track(await deleteKey(ctx, client, user, old.id));
        keyEvent(ctx, old.id, 'deleted', `replaced by ${newKeyId}`);
        oldStatus = 'Deleted';
        deleted.push(old.id);
      }
      detail += `; ${old.id} is ${oldStatus}`;
    }
    const undo: RotateUndo = { user, mode: input.mode, oldKeyId: old.id, newKeyId, oldDeleted: oldStatus === 'Deleted' };
    return {
      changed: true,
      outputs: {
        access_key_id: newKeyId,
        secret_access_key: secret,
        previous_access_key_id: old.id,
        previous_status: oldStatus,
        deleted_access_key_ids: deleted,
        new_key_verified: proof.ok,
        detail,
      },
      undo,
      requestIds,
    };
  },

  async verify(ctx, input, result) {
    const user = userRef(input.user).name;
    const keys = await listAccessKeys(ctx, ctx.clients.iam(toAwsTarget(input)), user);
    const newKey = keys.find((key) => key.id === result.outputs.access_key_id);
    const old = keys.find((key) => key.id === result.outputs.previous_access_key_id);
    const problems: string[] = [];
    if (!newKey || newKey.status !== 'Active') problems.push(`new key ${String(result.outputs.access_key_id)} is ${newKey?.status ?? 'missing'}`);
    if (old?.status === 'Active') problems.push(`old key ${old.id} is still Active`);
    if (input.delete_old && old) problems.push(`old key ${old.id} still exists`);
    if (result.outputs.new_key_verified === false) problems.push('STS did not accept the new key');
    if (problems.length > 0) return { verified: false, detail: problems.join('; ') };
    return { verified: true, detail: `user ${user}: ${String(result.outputs.access_key_id)} active, ${String(result.outputs.previous_access_key_id)} ${old ? old.status : 'deleted'}` };
  },

  async compensate(ctx, input, result): Promise<ApplyResult> {
    const undo = result.undo as RotateUndo | undefined;
    if (!undo) return { changed: false, outputs: result.outputs };
    const client = ctx.clients.iam(toAwsTarget(input));
    if (undo.mode === 'leaked' || undo.oldDeleted) {
      // A leaked key is never switched back on, and a deleted one cannot be: keep the new key.
      ctx.log(`not restoring ${undo.oldKeyId} (${undo.mode === 'leaked' ? 'leaked' : 'deleted'}); ${undo.newKeyId} stays active`, 'warn');
      return { changed: false, outputs: result.outputs };
    }
    const requestIds: string[] = [];
    const reactivated = await setStatus(ctx, client, undo.user, undo.oldKeyId, 'Active');
    if (reactivated) requestIds.push(reactivated);
    // Deactivated, not deleted: whether its secret already reached a consumer is for a human to check.
    const parked = await setStatus(ctx, client, undo.user, undo.newKeyId, 'Inactive');
    if (parked) requestIds.push(parked);
    keyEvent(ctx, undo.newKeyId, 'deactivated', `rotation undone: ${undo.oldKeyId} active again`);
    return { changed: true, outputs: result.outputs, requestIds };
  },
});
