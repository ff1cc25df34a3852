import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rotateAccessKey } from '../../src/actions/aws/rotate-access-key.js';
import { planAndApply, startAwsLab, type AwsLabHarness } from '../helpers/aws-context.js';
import { ACCOUNT, scenario } from '../actions/aws/fixtures.js';

// Found by the crash matrix (kill right after the leaked key's UpdateAccessKey): the resume
// failed with "no active access key to rotate" and the containment could never finish.
let harness: AwsLabHarness;
beforeEach(async () => {
  harness = await startAwsLab(scenario());
});
afterEach(async () => {
  await harness.close();
});
const keysOf = (user: string) => harness.lab.state.user(ACCOUNT, user)!.accessKeys.map((key) => ({ id: key.id, status: key.status }));

describe('a leaked-mode rotation cut between deactivate and create', () => {
  it('is finished by running the step again: the only (inactive) key is the one replaced', async () => {
    // Given ci-deployer whose only key was deactivated by a rotation that died before CreateAccessKey
    harness.lab.state.user(ACCOUNT, 'ci-deployer')!.accessKeys[0]!.status = 'Inactive';
    const { ctx } = harness.context();
    // When the step runs again
    const { plan, result } = await planAndApply(rotateAccessKey, ctx, { user: 'ci-deployer', mode: 'leaked' });
    // Then it does not deactivate again, creates one key, and the old one stays inactive
    expect(plan.changes.map((change) => change.action)).toEqual(['create-access-key']);
    const newId = result.outputs.access_key_id as string;
    expect(keysOf('ci-deployer')).toEqual([
      { id: 'AKIAOLDKEY0000000001', status: 'Inactive' },
      { id: newId, status: 'Active' },
    ]);
    expect(harness.requests.filter((r) => r.mutating).map((r) => r.operation)).toEqual(['CreateAccessKey']);
  });

  it('still refuses in rotate mode, where an inactive only key means someone else switched it off', async () => {
    // Given the same user in rotate mode
    harness.lab.state.user(ACCOUNT, 'ci-deployer')!.accessKeys[0]!.status = 'Inactive';
    const { ctx } = harness.context();
    // Then the plan stops with the existing message, and nothing is created
    await expect(planAndApply(rotateAccessKey, ctx, { user: 'ci-deployer' })).rejects.toThrow(/no active access key to rotate/);
    expect(harness.requests.filter((r) => r.mutating)).toEqual([]);
  });
});
