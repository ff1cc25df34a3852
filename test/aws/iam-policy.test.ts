import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { actions } from '../../src/actions/index.js';
import type { ActionDefinition } from '../../src/actions/define.js';
import { responderPolicy, responderPolicyText } from '../../src/aws/iam-policy.js';
import type { PolicyStatement } from '../../src/aws/policy.js';
import { deactivateAccessKey } from '../../src/actions/aws/deactivate-access-key.js';
import { deleteAccessKey } from '../../src/actions/aws/delete-access-key.js';
import { findRoles } from '../../src/actions/aws/find-roles.js';
import { restrictOidcTrust } from '../../src/actions/aws/restrict-oidc-trust.js';
import { revokeRoleSessions } from '../../src/actions/aws/revoke-role-sessions.js';
import { revokeUserSessions } from '../../src/actions/aws/revoke-user-sessions.js';
import { rotateAccessKey } from '../../src/actions/aws/rotate-access-key.js';
import { planAndApply, startAwsLab, type AwsLabHarness } from '../helpers/aws-context.js';
import { scenario } from '../actions/aws/fixtures.js';

describe('docs/iam-policy.json', () => {
  it('is what the registry generates (regenerate: npx tsx src/aws/iam-policy.ts > docs/iam-policy.json)', () => {
    // Given the committed file and the registry / Then they agree
    const committed = readFileSync(new URL('../../docs/iam-policy.json', import.meta.url), 'utf8');
    expect(committed).toBe(responderPolicyText(actions));
  });

  it('holds every AWS permission an action declares, and nothing of GitHub', () => {
    const statements = responderPolicy(actions).Statement as PolicyStatement[];
    const granted = new Set(statements.flatMap((statement) => statement.Action as string[]));
    for (const action of actions) {
      for (const permission of action.permissions.filter((p) => /^(iam|sts|cloudtrail|s3|athena):/.test(p))) expect(granted).toContain(permission);
    }
    expect([...granted].some((permission) => permission.startsWith('github:'))).toBe(false);
  });
});

describe('declared permissions cover the calls each action really makes (lab)', () => {
  let harness: AwsLabHarness;
  beforeEach(async () => {
    harness = await startAwsLab(scenario());
  });
  afterEach(async () => {
    await harness.close();
  });

  const runs: Array<[ActionDefinition, Record<string, unknown>, boolean]> = [
    [findRoles, { repo: 'acme/app' }, false],
    [restrictOidcTrust, { role: 'deploy', subjects: ['repo:acme/app:*'] }, true],
    [revokeRoleSessions, { role: 'deploy' }, true],
    [revokeUserSessions, { user: 'ci-deployer' }, true],
    [rotateAccessKey, { user: 'spare', delete_old: true }, true],
    [deactivateAccessKey, { access_key_id: 'AKIAOLDKEY0000000001' }, true],
    [deleteAccessKey, { user: 'two-keys', access_key_id: 'AKIATWOKEYS000000002' }, false],
  ];

  it.each(runs.map(([action, input, compensable]) => [action.id, action, input, compensable] as const))('%s', async (_id, action, input, compensable) => {
    // Given an action run through plan, apply, verify (and compensate when it has one)
    const { ctx, recorded } = harness.context();
    if (action === deleteAccessKey) harness.lab.state.user('111122223333', 'two-keys')!.accessKeys[1]!.status = 'Inactive';
    const { input: parsed, result } = await planAndApply(action, ctx, input);
    await action.verify(ctx, parsed, result);
    if (compensable && action.compensate) await action.compensate(ctx, parsed, result);
    // Then every IAM operation it called is declared (STS GetCallerIdentity needs no permission)
    const used = new Set(recorded.calls.filter((call) => call.service === 'iam').map((call) => `iam:${call.operation}`));
    expect(used.size).toBeGreaterThan(0);
    for (const permission of used) expect(action.permissions).toContain(permission);
  });
});
