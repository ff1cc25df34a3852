import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { revokeRoleSessions } from '../../../src/actions/aws/revoke-role-sessions.js';
import { DryRunViolation, StepFailedError } from '../../../src/engine/errors.js';
import { mintLabOidcToken } from '../../../src/lab/aws/index.js';
import { credentialEvents, planAndApply, startAwsLab, type AwsLabHarness } from '../../helpers/aws-context.js';
import { ACCOUNT, scenario } from './fixtures.js';

let harness: AwsLabHarness;
const clients: Array<IAMClient | STSClient> = [];

beforeEach(async () => {
  harness = await startAwsLab(scenario());
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await harness.close();
});

/** An IAM client that signs as some session (the attacker's, or a fresh one). */
function iamAs(credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }): IAMClient {
  const client = new IAMClient({ region: 'us-east-1', endpoint: harness.endpoints.iam, credentials, maxAttempts: 1 });
  clients.push(client);
  return client;
}

function stolenSession() {
  const session = harness.lab.state.sessions.get('ASIASTOLENSESSION001')!;
  return { accessKeyId: session.accessKeyId, secretAccessKey: session.secret, sessionToken: session.sessionToken };
}

function revocationPolicy(role = 'deploy'): string | undefined {
  return harness.lab.state.role(ACCOUNT, role)!.inlinePolicies.get('AWSRevokeOlderSessions');
}

const mutatingRequests = () => harness.requests.filter((request) => request.mutating);

describe('aws.revoke-role-sessions in the lab', () => {
  it('denies the session issued before containment and allows one minted after (decided by policy evaluation)', async () => {
    // Given the attacker's stolen session of role deploy, issued 20 minutes ago, which works
    const attacker = iamAs(stolenSession());
    await expect(attacker.send(new GetRoleCommand({ RoleName: 'deploy' }))).resolves.toBeDefined();

    // When the responder revokes the role's sessions (cutoff: now)
    const { ctx } = harness.context();
    const { result } = await planAndApply(revokeRoleSessions, ctx, { role: 'deploy' });
    expect(result.changed).toBe(true);

    // Then the stolen session is denied by an explicit deny
    const denied = await attacker.send(new GetRoleCommand({ RoleName: 'deploy' })).catch((error: unknown) => error);
    expect(denied).toMatchObject({ name: 'AccessDenied' });
    expect(String((denied as Error).message)).toContain('explicit deny');
    // And a session minted now from the legitimate workflow's token works
    const sts = new STSClient({ region: 'us-east-1', endpoint: harness.endpoints.sts, credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' }, maxAttempts: 1 });
    clients.push(sts);
    const fresh = await sts.send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: `arn:aws:iam::${ACCOUNT}:role/deploy`,
        RoleSessionName: 'GitHubActions',
        WebIdentityToken: mintLabOidcToken({ sub: 'repo:acme/app:ref:refs/heads/main' }),
      }),
    );
    const legit = iamAs({ accessKeyId: fresh.Credentials!.AccessKeyId!, secretAccessKey: fresh.Credentials!.SecretAccessKey!, sessionToken: fresh.Credentials!.SessionToken! });
    await expect(legit.send(new GetRoleCommand({ RoleName: 'deploy' }))).resolves.toMatchObject({ Role: { RoleName: 'deploy' } });
    // And the lab's CloudTrail recorded the denied call of the stolen key
    const deniedEvents = harness.labCtx.trail
      .all()
      .filter((event) => (event.userIdentity as { accessKeyId?: string } | undefined)?.accessKeyId === 'ASIASTOLENSESSION001' && event.errorCode !== undefined);
    expect(deniedEvents.map((event) => event.eventName)).toEqual(['GetRole']);
  });

  it('plans a change, applies it, then plans none and applies nothing; verifies; compensates', async () => {
    // Given a fixed cutoff
    const cutoff = new Date(Date.now() - 1_000).toISOString();
    const { ctx, recorded } = harness.context();
    // When the step runs
    const first = await planAndApply(revokeRoleSessions, ctx, { role: `arn:aws:iam::${ACCOUNT}:role/deploy`, cutoff });
    // Then the plan showed one put-inline-policy and apply made it
    expect(first.plan.changes).toHaveLength(1);
    expect(first.plan.changes[0]).toMatchObject({ resource: `arn:aws:iam::${ACCOUNT}:role/deploy`, action: 'put-inline-policy', before: null });
    expect(first.plan.calls.filter((call) => call.mutating).map((call) => call.operation)).toEqual(['PutRolePolicy']);
    expect(first.result).toMatchObject({ changed: true, outputs: { role_name: 'deploy', cutoff, policy_name: 'AWSRevokeOlderSessions' }, undo: { previous: null } });
    expect(JSON.parse(revocationPolicy()!)).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', Action: '*', Resource: '*', Condition: { DateLessThan: { 'aws:TokenIssueTime': cutoff } } }],
    });
    expect(credentialEvents(recorded)).toEqual([expect.objectContaining({ credential: `arn:aws:iam::${ACCOUNT}:role/deploy`, kind: 'aws-role-sessions', event: 'revoked' })]);

    // When it runs again
    const before = mutatingRequests().length;
    const second = await planAndApply(revokeRoleSessions, ctx, { role: 'deploy', cutoff });
    // Then nothing is planned or changed
    expect(second.plan.changes).toEqual([]);
    expect(second.result.changed).toBe(false);
    expect(mutatingRequests()).toHaveLength(before);

    // And verify reads it back
    await expect(revokeRoleSessions.verify(ctx, first.input, first.result)).resolves.toMatchObject({ verified: true });

    // When compensated, the policy is gone again
    const undone = await revokeRoleSessions.compensate!(ctx, first.input, first.result);
    expect(undone.changed).toBe(true);
    expect(revocationPolicy()).toBeUndefined();
  });

  it('moves an older cutoff forward and restores the previous policy on compensate', async () => {
    // Given a revocation from an earlier incident
    const { ctx } = harness.context();
    const old = new Date(Date.now() - 3_600_000).toISOString();
    await planAndApply(revokeRoleSessions, ctx, { role: 'deploy', cutoff: old });
    const previous = revocationPolicy();
    // When revoked again with a later cutoff
    const now = new Date().toISOString();
    const { plan, result, input } = await planAndApply(revokeRoleSessions, ctx, { role: 'deploy', cutoff: now });
    // Then the plan shows before/after and the cutoff moved
    expect(plan.changes[0]!.summary).toContain(`moving the cutoff from ${old}`);
    expect(revocationPolicy()).toContain(now);
    // And compensate puts the earlier policy back, not nothing
    await revokeRoleSessions.compensate!(ctx, input, result);
    expect(revocationPolicy()).toBe(previous);
  });

  it('reports "unverified" when the policy does not read back within verify_timeout', async () => {
    // Given an applied revocation that someone removed right after
    const { ctx } = harness.context();
    const { input, result } = await planAndApply(revokeRoleSessions, ctx, { role: 'deploy', verify_timeout: '1ms' });
    harness.lab.state.role(ACCOUNT, 'deploy')!.inlinePolicies.delete('AWSRevokeOlderSessions');
    // When verified / Then it is not, and says why
    const verdict = await revokeRoleSessions.verify(ctx, input, result);
    expect(verdict.verified).toBe(false);
    expect(verdict.detail).toContain('eventually consistent');
  });

  it('refuses, before any write, a role whose inline policies would exceed 10,240 characters', async () => {
    // Given role full with ~10,150 characters of inline policies
    const { ctx } = harness.context();
    // When planned / Then a clear error names the budget, and nothing was written
    const error = await revokeRoleSessions.plan(ctx, revokeRoleSessions.schema.parse({ role: 'full' })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StepFailedError);
    expect((error as Error).message).toMatch(/10240-character role limit|10,240/);
    expect((error as Error).message).toContain('b (');
    expect(mutatingRequests()).toEqual([]);
  });

  it('refuses service-linked and Identity Center roles with an explanation', async () => {
    const { ctx } = harness.context();
    // When asked to revoke a service-linked role / Then it explains why not
    await expect(revokeRoleSessions.plan(ctx, revokeRoleSessions.schema.parse({ role: 'AWSServiceRoleForSupport' }))).rejects.toThrow(/service-linked role/);
    // And an Identity Center role is sent to Identity Center
    const sso = await revokeRoleSessions
      .plan(ctx, revokeRoleSessions.schema.parse({ role: 'AWSReservedSSO_Admin_0123456789abcdef' }))
      .catch((caught: unknown) => caught as StepFailedError);
    expect(sso).toBeInstanceOf(StepFailedError);
    expect(sso.message).toContain('Identity Center');
    expect(sso.suggestions.join(' ')).toContain('permission set');
    expect(mutatingRequests()).toEqual([]);
  });

  it('names a missing role clearly', async () => {
    const { ctx } = harness.context();
    await expect(revokeRoleSessions.plan(ctx, revokeRoleSessions.schema.parse({ role: 'nope' }))).rejects.toThrow(/role nope: not found/);
  });

  it('plans in a dry run with reads only, and the client refuses the write if apply were called', async () => {
    // Given a dry-run context
    const { ctx } = harness.context({ dryRun: true });
    const input = revokeRoleSessions.schema.parse({ role: 'deploy' });
    // When planned / Then a change is shown and only reads reached the lab
    const plan = await revokeRoleSessions.plan(ctx, input);
    expect(plan.changes).toHaveLength(1);
    // And apply trips the provider's second safety net
    await expect(revokeRoleSessions.apply(ctx, input, plan)).rejects.toBeInstanceOf(DryRunViolation);
    expect(mutatingRequests()).toEqual([]);
  });

  it('validates its input strictly', () => {
    expect(revokeRoleSessions.schema.safeParse({ role: 'deploy', extra: 1 }).success).toBe(false);
    expect(revokeRoleSessions.schema.safeParse({ role: 'deploy', cutoff: 'yesterday' }).success).toBe(false);
    expect(revokeRoleSessions.schema.safeParse({ role: 'deploy', assume_role: 'Responder' }).success).toBe(false);
    expect(revokeRoleSessions.schema.safeParse({ role: 'deploy', account: ACCOUNT, assume_role: 'Responder' }).success).toBe(true);
    expect(revokeRoleSessions.schema.safeParse(revokeRoleSessions.example).success).toBe(true);
  });
});

describe('aws.revoke-role-sessions under IAM eventual consistency (lab propagation delay)', () => {
  let slow: AwsLabHarness;
  beforeEach(async () => {
    const world = scenario();
    slow = await startAwsLab({ ...world, aws: { ...world.aws, propagation_delay_ms: 1_500 } });
  });
  afterEach(async () => {
    await slow.close();
  });

  it('verify keeps reading until the write is visible, or reports unverified when the timeout is shorter', async () => {
    // Given a revocation just written, not yet visible to reads
    const { ctx } = slow.context();
    const { input, result } = await planAndApply(revokeRoleSessions, ctx, { role: 'deploy', verify_timeout: '1ms' });
    // When verified with a timeout shorter than the propagation / Then unverified, saying why
    const early = await revokeRoleSessions.verify(ctx, input, result);
    expect(early.verified).toBe(false);
    expect(early.detail).toContain('eventually consistent');
    // When verified with time to settle / Then verified after more than one read
    const settled = await revokeRoleSessions.verify(ctx, { ...input, verify_timeout: '10s' }, result);
    expect(settled.verified).toBe(true);
    expect(settled.detail).toMatch(/after [2-9]\d* attempt/);
  });
});
