import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { deactivateAccessKey } from '../../../src/actions/aws/deactivate-access-key.js';
import { discoverAccounts, type AccountTarget } from '../../../src/actions/aws/discover-accounts.js';
import { findRoles } from '../../../src/actions/aws/find-roles.js';
import { restrictOidcTrust } from '../../../src/actions/aws/restrict-oidc-trust.js';
import { revokeRoleSessions } from '../../../src/actions/aws/revoke-role-sessions.js';
import { rotateAccessKey } from '../../../src/actions/aws/rotate-access-key.js';
import { planAndApply, startAwsLab, type AwsLabHarness } from '../../helpers/aws-context.js';

let harness: AwsLabHarness;

beforeEach(async () => {
  harness = await startAwsLab(parse(readFileSync(new URL('../../../scenarios/tj-actions-log-leak.yaml', import.meta.url), 'utf8')));
});

afterEach(async () => {
  await harness.close();
});

describe('drill: the shipped tj-actions scenario contained with the AWS actions alone', () => {
  it('every after-containment move of the attacker is denied', async () => {
    // Given the lab after the attacker's history (a stolen deploy session that minted a key)
    const history = await harness.lab.playAttacker('history');
    const minted = history.find((outcome) => outcome.call === 'iam:CreateAccessKey')!.produced!;
    const { ctx } = harness.context();

    // When the responder finds the organization's accounts and, in each, the repository's roles,
    // closes their trust, revokes their sessions, switches off the minted key (as the hunt names
    // it), and rotates the leaked key
    const discovered = await planAndApply(discoverAccounts, ctx, {});
    const accounts = discovered.result.outputs.accounts as AccountTarget[];
    expect(accounts.map((account) => account.account)).toEqual(['123456789012', '210987654321']);
    const found = await Promise.all(accounts.map(({ account, assume_role }) => planAndApply(findRoles, ctx, { repo: 'acme-robotics/fleet-api', account, ...(assume_role ? { assume_role } : {}) })));
    const targets = found.flatMap((run) => run.result.outputs.targets as Array<{ role: string; account: string; assume_role?: string }>);
    expect(targets.map((target) => target.role)).toEqual([
      'arn:aws:iam::123456789012:role/deploy',
      'arn:aws:iam::123456789012:role/fleet-readonly',
      'arn:aws:iam::210987654321:role/deploy',
    ]);
    for (const target of targets) await planAndApply(restrictOidcTrust, ctx, { ...target, subjects: ['repo:acme-robotics/fleet-api:*'] });
    await Promise.all(targets.map((target) => planAndApply(revokeRoleSessions, ctx, target)));
    const deactivated = await planAndApply(deactivateAccessKey, ctx, { access_key_id: minted });
    expect(deactivated.result.outputs.user_name).toBe('svc-telemetry');
    const rotated = await planAndApply(rotateAccessKey, ctx, { user: 'fleet-ci', access_key_id: 'AKIAHBRPOIGF3EXAMPLE', mode: 'leaked' });
    expect(rotated.result.outputs.new_key_verified).toBe(true);

    // Then the lab's evaluator denies each of the attacker's moves
    const outcomes = await harness.lab.playAttacker('after-containment');
    expect(outcomes.map((outcome) => [outcome.call, outcome.outcome])).toEqual([
      ['s3:ListBuckets', 'denied'],
      ['sts:AssumeRoleWithWebIdentity', 'denied'],
      ['sts:AssumeRoleWithWebIdentity', 'denied'],
      ['secretsmanager:GetSecretValue', 'denied'],
      ['sts:GetCallerIdentity', 'denied'],
    ]);
  });
});
