import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AssumeRoleCommand, GetSessionTokenCommand, STSClient } from '@aws-sdk/client-sts';
import { revokeUserSessions } from '../../../src/actions/aws/revoke-user-sessions.js';
import { StepFailedError } from '../../../src/engine/errors.js';
import { credentialEvents, planAndApply, startAwsLab, type AwsLabHarness } from '../../helpers/aws-context.js';
import { ACCOUNT, scenario } from './fixtures.js';

let harness: AwsLabHarness;
const clients: STSClient[] = [];

beforeEach(async () => {
  harness = await startAwsLab(scenario());
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await harness.close();
});

function stsAs(credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }): STSClient {
  const client = new STSClient({ region: 'us-east-1', endpoint: harness.endpoints.sts, credentials, maxAttempts: 1 });
  clients.push(client);
  return client;
}

const userKey = { accessKeyId: 'AKIAOLDKEY0000000001', secretAccessKey: 'oldSecretOldSecretOldSecretOldSecret0001' };

async function sessionOfUser() {
  const token = await stsAs(userKey).send(new GetSessionTokenCommand({}));
  return stsAs({ accessKeyId: token.Credentials!.AccessKeyId!, secretAccessKey: token.Credentials!.SecretAccessKey!, sessionToken: token.Credentials!.SessionToken! });
}

const assumeAudit = new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ACCOUNT}:role/audit`, RoleSessionName: 'audit-check' });

describe('aws.revoke-user-sessions in the lab', () => {
  it('ends GetSessionToken sessions issued before the cutoff; a later one works; idempotent; verify; compensate', async () => {
    // Given a session the user made with GetSessionToken, which can assume role audit
    const early = await sessionOfUser();
    await expect(early.send(assumeAudit)).resolves.toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 5));

    // When the user's sessions are revoked
    const { ctx, recorded } = harness.context();
    const first = await planAndApply(revokeUserSessions, ctx, { user: 'ci-deployer' });
    expect(first.plan.changes[0]).toMatchObject({ resource: `arn:aws:iam::${ACCOUNT}:user/ci-deployer`, action: 'put-inline-policy' });
    expect(first.result.changed).toBe(true);
    expect(harness.lab.state.user(ACCOUNT, 'ci-deployer')!.inlinePolicies.get('AWSRevokeOlderSessions')).toContain('aws:TokenIssueTime');
    expect(credentialEvents(recorded)[0]).toMatchObject({ kind: 'aws-user-sessions', event: 'revoked' });

    // Then the early session is denied and a fresh one is allowed
    await expect(early.send(assumeAudit)).rejects.toMatchObject({ name: 'AccessDenied' });
    const late = await sessionOfUser();
    await expect(late.send(assumeAudit)).resolves.toBeDefined();

    // And a re-run with the applied cutoff changes nothing
    const again = await planAndApply(revokeUserSessions, ctx, { user: 'ci-deployer', cutoff: first.result.outputs.cutoff });
    expect(again.plan.changes).toEqual([]);
    expect(again.result.changed).toBe(false);
    await expect(revokeUserSessions.verify(ctx, first.input, first.result)).resolves.toMatchObject({ verified: true });

    // When compensated, the early session works again
    await revokeUserSessions.compensate!(ctx, first.input, first.result);
    expect(harness.lab.state.user(ACCOUNT, 'ci-deployer')!.inlinePolicies.has('AWSRevokeOlderSessions')).toBe(false);
    await expect(early.send(assumeAudit)).resolves.toBeDefined();
  });

  it('refuses a user whose inline policies would pass the 2,048-character user limit', async () => {
    const { ctx } = harness.context();
    const error = await revokeUserSessions.plan(ctx, revokeUserSessions.schema.parse({ user: 'heavy' })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StepFailedError);
    expect((error as Error).message).toContain('2048-character user limit');
    expect(harness.requests.filter((request) => request.mutating)).toEqual([]);
  });
});
