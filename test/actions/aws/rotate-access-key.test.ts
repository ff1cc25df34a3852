import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deactivateAccessKey } from '../../../src/actions/aws/deactivate-access-key.js';
import { deleteAccessKey } from '../../../src/actions/aws/delete-access-key.js';
import { rotateAccessKey } from '../../../src/actions/aws/rotate-access-key.js';
import { isSecret, type Secret } from '../../../src/engine/secret.js';
import { StepFailedError } from '../../../src/engine/errors.js';
import { credentialEvents, planAndApply, startAwsLab, type AwsLabHarness } from '../../helpers/aws-context.js';
import { ACCOUNT, scenario } from './fixtures.js';

let harness: AwsLabHarness;

beforeEach(async () => {
  harness = await startAwsLab(scenario());
});

afterEach(async () => {
  await harness.close();
});

const keysOf = (user: string) => harness.lab.state.user(ACCOUNT, user)!.accessKeys.map((key) => ({ id: key.id, status: key.status }));
const mutations = () => harness.requests.filter((request) => request.mutating).map((request) => request.operation);

describe('aws.rotate-access-key in the lab', () => {
  it('rotates make-before-break, hands the secret over only as a Secret, and is safe to re-run', async () => {
    // Given ci-deployer with one active key
    const { ctx, recorded } = harness.context();
    // When rotated
    const { plan, result, input } = await planAndApply(rotateAccessKey, ctx, { user: 'ci-deployer' });
    expect(plan.changes.map((change) => change.action)).toEqual(['create-access-key', 'deactivate-access-key']);

    // Then a new key exists, proven by STS, and the old one is inactive
    const newId = result.outputs.access_key_id as string;
    expect(newId).toMatch(/^AKIA/);
    expect(result.outputs).toMatchObject({ previous_access_key_id: 'AKIAOLDKEY0000000001', previous_status: 'Inactive', new_key_verified: true });
    expect(keysOf('ci-deployer')).toEqual([
      { id: 'AKIAOLDKEY0000000001', status: 'Inactive' },
      { id: newId, status: 'Active' },
    ]);
    expect(mutations()).toEqual(['CreateAccessKey', 'UpdateAccessKey']);
    const proof = harness.labCtx.trail.all().find((event) => event.eventName === 'GetCallerIdentity');
    expect((proof?.userIdentity as { accessKeyId?: string }).accessKeyId).toBe(newId);

    // And the secret is the real one, wrapped: it serialises as a fingerprint only
    const secret = result.outputs.secret_access_key as Secret;
    expect(isSecret(secret)).toBe(true);
    const labSecret = harness.lab.state.user(ACCOUNT, 'ci-deployer')!.accessKeys.find((key) => key.id === newId)!.secret;
    expect(secret.reveal()).toBe(labSecret);
    const everythingRecorded = JSON.stringify({ result, plan, recorded });
    expect(everythingRecorded).not.toContain(labSecret);
    expect(everythingRecorded).toContain(secret.fingerprint);
    expect(credentialEvents(recorded).map((event) => [event.credential, event.event])).toEqual([
      [newId, 'issued'],
      ['AKIAOLDKEY0000000001', 'deactivated'],
    ]);
    await expect(rotateAccessKey.verify(ctx, input, result)).resolves.toMatchObject({ verified: true });

    // When the same rotation runs again
    const again = await planAndApply(rotateAccessKey, ctx, { user: 'ci-deployer', access_key_id: 'AKIAOLDKEY0000000001' });
    // Then nothing changes and it says the secret cannot be recovered
    expect(again.plan.changes).toEqual([]);
    expect(again.result.changed).toBe(false);
    expect(again.result.outputs.access_key_id).toBe(newId);
    expect(again.result.outputs.secret_access_key).toBeUndefined();
    expect(String(again.result.outputs.detail)).toContain('cannot be recovered');
    expect(mutations()).toEqual(['CreateAccessKey', 'UpdateAccessKey']);

    // When compensated (the consumer step failed): the old key is back, the new one parked
    await rotateAccessKey.compensate!(ctx, input, result);
    expect(keysOf('ci-deployer')).toEqual([
      { id: 'AKIAOLDKEY0000000001', status: 'Active' },
      { id: newId, status: 'Inactive' },
    ]);
  });

  it('leaked mode run again after its first try deactivated the key and then failed still creates the replacement', async () => {
    // Given the leaked key already deactivated by a first try that failed before CreateAccessKey
    const { ctx } = harness.context();
    await planAndApply(deactivateAccessKey, ctx, { user: 'ci-deployer', access_key_id: 'AKIAOLDKEY0000000001' });
    // When the step is retried without naming the key
    const { result } = await planAndApply(rotateAccessKey, ctx, { user: 'ci-deployer', mode: 'leaked' });
    // Then the replacement exists and its secret is handed over; the leaked key stays inactive
    const newId = result.outputs.access_key_id as string;
    expect(isSecret(result.outputs.secret_access_key)).toBe(true);
    expect(result.outputs.previous_access_key_id).toBe('AKIAOLDKEY0000000001');
    expect(keysOf('ci-deployer')).toEqual([
      { id: 'AKIAOLDKEY0000000001', status: 'Inactive' },
      { id: newId, status: 'Active' },
    ]);
  });

  it('leaked mode deactivates the old key before anything else, and deletes it with delete_old', async () => {
    const { ctx } = harness.context();
    const { result } = await planAndApply(rotateAccessKey, ctx, { user: 'ci-deployer', access_key_id: 'AKIAOLDKEY0000000001', mode: 'leaked', delete_old: true });
    expect(mutations()).toEqual(['UpdateAccessKey', 'CreateAccessKey', 'DeleteAccessKey']);
    expect(keysOf('ci-deployer')).toEqual([{ id: result.outputs.access_key_id, status: 'Active' }]);
    expect(result.outputs.previous_status).toBe('Deleted');
    expect(result.outputs.deleted_access_key_ids).toEqual(['AKIAOLDKEY0000000001']);
    // A leaked key is never switched back on by compensate
    const undone = await rotateAccessKey.compensate!(ctx, rotateAccessKey.schema.parse({ user: 'ci-deployer', mode: 'leaked' }), result);
    expect(undone.changed).toBe(false);
  });

  it('deletes an inactive spare first to stay within two keys', async () => {
    const { ctx, recorded } = harness.context();
    const { plan, result } = await planAndApply(rotateAccessKey, ctx, { user: 'spare' });
    expect(plan.changes[0]).toMatchObject({ action: 'delete-access-key', summary: expect.stringContaining('AKIASPAREKEY00000002') });
    expect(mutations()).toEqual(['DeleteAccessKey', 'CreateAccessKey', 'UpdateAccessKey']);
    expect(keysOf('spare')).toEqual([
      { id: 'AKIASPAREKEY00000001', status: 'Inactive' },
      { id: result.outputs.access_key_id, status: 'Active' },
    ]);
    expect(credentialEvents(recorded)[0]).toMatchObject({ credential: 'AKIASPAREKEY00000002', event: 'deleted' });
    // And it says which key it deleted (a later step must not look for it)
    expect(result.outputs.deleted_access_key_ids).toEqual(['AKIASPAREKEY00000002']);
  });

  it('stops with a clear choice when a second key is active', async () => {
    const { ctx } = harness.context();
    const error = await rotateAccessKey
      .plan(ctx, rotateAccessKey.schema.parse({ user: 'two-keys', access_key_id: 'AKIATWOKEYS000000001' }))
      .catch((caught: unknown) => caught as StepFailedError);
    expect(error).toBeInstanceOf(StepFailedError);
    expect(error.message).toContain('IAM allows two per user');
    expect(error.suggestions.join('\n')).toContain('AKIATWOKEYS000000002');
    // Without a key id it asks which one
    await expect(rotateAccessKey.plan(ctx, rotateAccessKey.schema.parse({ user: 'two-keys' }))).rejects.toThrow(/say which one/);
    expect(mutations()).toEqual([]);
  });

  it('refuses a key id that is not the user’s', async () => {
    const { ctx } = harness.context();
    await expect(rotateAccessKey.plan(ctx, rotateAccessKey.schema.parse({ user: 'ci-deployer', access_key_id: 'AKIATWOKEYS000000001' }))).rejects.toThrow(
      /not a key of user ci-deployer/,
    );
  });
});

describe('aws.delete-access-key in the lab', () => {
  it('refuses an active key, deletes an inactive one, then has nothing to do', async () => {
    const { ctx, recorded } = harness.context();
    // Given an active key / Then it is refused
    await expect(deleteAccessKey.plan(ctx, deleteAccessKey.schema.parse({ user: 'spare', access_key_id: 'AKIASPAREKEY00000001' }))).rejects.toThrow(/is Active/);
    // Given an inactive key / When deleted / Then it is gone and verified
    const { plan, result, input } = await planAndApply(deleteAccessKey, ctx, { user: 'spare', access_key_id: 'AKIASPAREKEY00000002' });
    expect(plan.changes[0]!.summary).toContain('last used never');
    expect(result.changed).toBe(true);
    expect(keysOf('spare').map((key) => key.id)).toEqual(['AKIASPAREKEY00000001']);
    await expect(deleteAccessKey.verify(ctx, input, result)).resolves.toMatchObject({ verified: true });
    expect(credentialEvents(recorded)).toEqual([expect.objectContaining({ credential: 'AKIASPAREKEY00000002', event: 'deleted' })]);
    // When run again / Then no change
    const again = await planAndApply(deleteAccessKey, ctx, { user: 'spare', access_key_id: 'AKIASPAREKEY00000002' });
    expect(again.plan.changes).toEqual([]);
    expect(again.result.changed).toBe(false);
  });
});

describe('aws.deactivate-access-key in the lab', () => {
  it('finds the key’s user, deactivates it once, verifies, and compensates', async () => {
    // Given an active key known only by its id
    const { ctx, recorded } = harness.context();
    // When deactivated
    const { plan, result, input } = await planAndApply(deactivateAccessKey, ctx, { access_key_id: 'AKIAOLDKEY0000000001' });
    // Then IAM named the user and the key is off
    expect(plan.changes[0]).toMatchObject({ action: 'deactivate-access-key', resource: 'aws:iam:user/ci-deployer/access-key/AKIAOLDKEY0000000001' });
    expect(result).toMatchObject({ changed: true, outputs: { user_name: 'ci-deployer' } });
    expect(keysOf('ci-deployer')).toEqual([{ id: 'AKIAOLDKEY0000000001', status: 'Inactive' }]);
    expect(credentialEvents(recorded)).toEqual([expect.objectContaining({ credential: 'AKIAOLDKEY0000000001', event: 'deactivated' })]);
    await expect(deactivateAccessKey.verify(ctx, input, result)).resolves.toMatchObject({ verified: true });
    // When run again / Then nothing changes, and the evidence says the key was found off (a
    // crash can lose the first record: the report must still see the key is dead)
    const again = await planAndApply(deactivateAccessKey, ctx, { access_key_id: 'AKIAOLDKEY0000000001' });
    expect(again.plan.changes).toEqual([]);
    expect(again.result.changed).toBe(false);
    expect(credentialEvents(recorded).at(-1)).toMatchObject({ credential: 'AKIAOLDKEY0000000001', event: 'deactivated', detail: expect.stringContaining('found Inactive') });
    // When compensated / Then it is active again
    await deactivateAccessKey.compensate!(ctx, input, result);
    expect(keysOf('ci-deployer')).toEqual([{ id: 'AKIAOLDKEY0000000001', status: 'Active' }]);
  });

  it('refuses a key that is not the named user’s', async () => {
    const { ctx } = harness.context();
    await expect(deactivateAccessKey.plan(ctx, deactivateAccessKey.schema.parse({ access_key_id: 'AKIAOLDKEY0000000001', user: 'spare' }))).rejects.toThrow(
      /not a key of user spare/,
    );
  });
});
