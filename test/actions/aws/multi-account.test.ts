import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { revokeRoleSessions } from '../../../src/actions/aws/revoke-role-sessions.js';
import { findRoles } from '../../../src/actions/aws/find-roles.js';
import { planAndApply, startAwsLab, type AwsLabHarness } from '../../helpers/aws-context.js';
import { ACCOUNT, OTHER_ACCOUNT, scenario } from './fixtures.js';

let harness: AwsLabHarness;

beforeEach(async () => {
  harness = await startAwsLab(scenario());
});

afterEach(async () => {
  await harness.close();
});

describe('AWS actions across accounts', () => {
  it('fans one step out over accounts by assuming the responder role there, naming the incident', async () => {
    // Given the same role name in two accounts, the second reached through IncidentResponder
    const { ctx, recorded } = harness.context();
    // When the step runs once per account, concurrently (as a for_each does)
    const results = await Promise.all(
      [{}, { account: OTHER_ACCOUNT, assume_role: 'IncidentResponder' }].map((target) => planAndApply(revokeRoleSessions, ctx, { role: 'deploy', ...target })),
    );
    // Then each account's role got the revocation
    expect(results.map((run) => run.result.outputs.role_arn)).toEqual([`arn:aws:iam::${ACCOUNT}:role/deploy`, `arn:aws:iam::${OTHER_ACCOUNT}:role/deploy`]);
    for (const account of [ACCOUNT, OTHER_ACCOUNT]) {
      expect(harness.lab.state.role(account, 'deploy')!.inlinePolicies.has('AWSRevokeOlderSessions')).toBe(true);
    }
    // And the second account was reached with a session named after the incident, journalled with its account
    const assume = harness.labCtx.trail.all().find((event) => event.eventName === 'AssumeRole');
    expect(assume?.requestParameters).toMatchObject({ roleArn: `arn:aws:iam::${OTHER_ACCOUNT}:role/IncidentResponder`, roleSessionName: 'cicd-ir-IR-test' });
    expect(recorded.calls.filter((call) => call.target === OTHER_ACCOUNT).map((call) => call.operation)).toContain('PutRolePolicy');
  });

  it('refuses an account the credentials are not in when no role to assume is given', async () => {
    const { ctx } = harness.context();
    await expect(findRoles.plan(ctx, findRoles.schema.parse({ repo: 'acme/app', account: OTHER_ACCOUNT }))).rejects.toThrow(
      new RegExp(`account ${OTHER_ACCOUNT} was asked for, but the credentials are in account ${ACCOUNT}`),
    );
    // With the right account it goes ahead
    await expect(findRoles.plan(ctx, findRoles.schema.parse({ repo: 'acme/app', account: ACCOUNT }))).resolves.toBeDefined();
  });
});
