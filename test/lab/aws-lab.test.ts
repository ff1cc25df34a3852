import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetRoleCommand, GetRolePolicyCommand, IAMClient, ListAccessKeysCommand, PutRolePolicyCommand, UpdateAccessKeyCommand, UpdateAssumeRolePolicyCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { createAwsLab, mintLabOidcToken, type AwsLab } from '../../src/lab/aws/index.js';
import { createLabContext } from '../../src/lab/context.js';
import { serveService, type ServedService } from '../../src/lab/http.js';
import { Scenario } from '../../src/lab/scenario.js';
import type { LabContext } from '../../src/lab/types.js';
import { sharedData } from '../helpers/shared-data.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ACCOUNT = '123456789012';
const DEPLOY = `arn:aws:iam::${ACCOUNT}:role/deploy`;
const STAGING = '210987654321';
const SUBJECT = 'repo:acme-robotics/fleet-api:ref:refs/heads/main';

interface Running {
  lab: AwsLab;
  ctx: LabContext;
  iam: IAMClient;
  sts: STSClient;
  urls: { iam: string; sts: string };
  served: ServedService[];
  clients: Array<{ destroy(): void }>;
}
let running: Running | undefined;

async function startScenario(file: string): Promise<Running> {
  const scenario = Scenario.parse(parse(readFileSync(join(root, file), 'utf8')));
  const ctx = createLabContext({ seed: scenario.seed });
  const lab = createAwsLab(scenario.aws, scenario.attacker, ctx);
  const served = [await serveService(lab.iam), await serveService(lab.sts)];
  const urls = { iam: served[0]!.url, sts: served[1]!.url };
  const config = { region: 'us-east-1', credentials: lab.responderCredentials, maxAttempts: 1 };
  const iam = new IAMClient({ ...config, endpoint: urls.iam });
  const sts = new STSClient({ ...config, endpoint: urls.sts });
  running = { lab, ctx, iam, sts, urls, served, clients: [iam, sts] };
  return running;
}

/** Clients acting with some other credential (the attacker's, or a fresh workload's). */
function clientsFor(r: Running, credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) {
  const iam = new IAMClient({ region: 'us-east-1', endpoint: r.urls.iam, credentials, maxAttempts: 1 });
  const sts = new STSClient({ region: 'us-east-1', endpoint: r.urls.sts, credentials, maxAttempts: 1 });
  r.clients.push(iam, sts);
  return { iam, sts };
}

afterEach(async () => {
  if (!running) return;
  for (const client of running.clients) client.destroy();
  await Promise.all(running.served.map((s) => s.close()));
  running = undefined;
});

const revokeOlderSessions = (cutoff: Date) =>
  JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: ['*'], Resource: ['*'], Condition: { DateLessThan: { 'aws:TokenIssueTime': cutoff.toISOString() } } }] });

describe('attacker after containment, decided by policy evaluation', () => {
  it('denies the old session after AWSRevokeOlderSessions while a fresh legitimate session is allowed', async () => {
    // Given the tj-actions lab and the stolen session (its keys are in the scenario)
    const r = await startScenario('scenarios/tj-actions-log-leak.yaml');
    const stolen = r.lab.state.sessionById('deploy-run-9123456701')!;
    const attacker = clientsFor(r, { accessKeyId: stolen.accessKeyId, secretAccessKey: stolen.secret });
    // The stolen session works before containment
    await attacker.iam.send(new ListAccessKeysCommand({ UserName: 'svc-telemetry' }));

    // When the responder puts the console's revocation policy with cutoff = now
    await r.iam.send(new PutRolePolicyCommand({ RoleName: 'deploy', PolicyName: 'AWSRevokeOlderSessions', PolicyDocument: revokeOlderSessions(new Date()) }));

    // Then the old session is denied with an explicit deny, logged as AccessDenied
    const denied = await attacker.iam.send(new ListAccessKeysCommand({ UserName: 'svc-telemetry' })).catch((e: unknown) => e);
    expect(denied).toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    expect((denied as Error).message).toContain('with an explicit deny in an identity-based policy');
    const record = r.ctx.trail.all().filter((e) => e.eventName === 'ListAccessKeys').at(-1)!;
    expect(record).toMatchObject({ errorCode: 'AccessDenied', userIdentity: { type: 'AssumedRole', accessKeyId: stolen.accessKeyId } });
    expect(record.errorMessage).toContain('with an explicit deny');

    // And a session minted after the cutoff (the next legitimate job) is allowed
    await new Promise((resolve) => setTimeout(resolve, 5));
    const anonymous = clientsFor(r, { accessKeyId: 'AKIAUNUSEDUNUSEDXXXX', secretAccessKey: 'x'.repeat(40) });
    const fresh = await anonymous.sts.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: DEPLOY, RoleSessionName: 'GitHubActions', WebIdentityToken: mintLabOidcToken({ sub: SUBJECT }) }));
    const workload = clientsFor(r, { accessKeyId: fresh.Credentials!.AccessKeyId!, secretAccessKey: fresh.Credentials!.SecretAccessKey!, sessionToken: fresh.Credentials!.SessionToken! });
    const keys = await workload.iam.send(new ListAccessKeysCommand({ UserName: 'svc-telemetry' }));
    expect(keys.AccessKeyMetadata?.length).toBeGreaterThan(0);
    // GetCallerIdentity cannot be denied, even for the revoked session (STS API Reference)
    expect((await attacker.sts.send(new GetCallerIdentityCommand({}))).Arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/deploy/GitHubActions`);
  });

  it('plays after-containment as denied only once every door is closed', async () => {
    // Given the tj-actions lab with its history played
    const r = await startScenario('scenarios/tj-actions-log-leak.yaml');
    const history = await r.lab.playAttacker('history');
    const minted = history.find((o) => o.call === 'iam:CreateAccessKey')!.produced!;

    // When only the sessions are revoked
    await r.iam.send(new PutRolePolicyCommand({ RoleName: 'deploy', PolicyName: 'AWSRevokeOlderSessions', PolicyDocument: revokeOlderSessions(new Date()) }));
    const partial = await r.lab.playAttacker('after-containment');
    // Then the old session is denied, but re-assuming via OIDC and the two access keys still work
    expect(partial.map((o) => [o.call, o.outcome])).toEqual([
      ['s3:ListBuckets', 'denied'],
      ['sts:AssumeRoleWithWebIdentity', 'success'],
      ['sts:AssumeRoleWithWebIdentity', 'success'],
      ['secretsmanager:GetSecretValue', 'success'],
      ['sts:GetCallerIdentity', 'success'],
    ]);
    // And the session the attacker re-assumed is new, so the revocation does not touch it:
    // why the trust policy has to be tightened in the same containment (FACTS.md)
    expect(partial[1]!.produced).toMatch(/^ASIA/);

    // When the trust policy denies the compromised subject and both keys are deactivated
    const trust = JSON.parse(decodeURIComponent((await r.iam.send(new GetRoleCommand({ RoleName: 'deploy' }))).Role!.AssumeRolePolicyDocument!));
    trust.Statement.push({
      Sid: 'CicdIrDenyCompromisedSubject',
      Effect: 'Deny',
      Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com` },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { StringLike: { 'token.actions.githubusercontent.com:sub': 'repo:acme-robotics/fleet-api:*' } },
    });
    await r.iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'deploy', PolicyDocument: JSON.stringify(trust) }));
    await r.iam.send(new UpdateAccessKeyCommand({ UserName: 'svc-telemetry', AccessKeyId: minted, Status: 'Inactive' }));

    // Then the staging account's deploy (it trusts repo:acme-robotics/*) still admits the subject
    const stillOpen = await r.lab.playAttacker('after-containment');
    expect(stillOpen.filter((o) => o.outcome !== o.expected).map((o) => [o.call, o.outcome])).toEqual([
      ['sts:AssumeRoleWithWebIdentity', 'success'],
      ['sts:GetCallerIdentity', 'success'],
    ]);
    // When its trust denies the subject too, through the organization's access role there
    const member = await r.sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${STAGING}:role/OrganizationAccountAccessRole`, RoleSessionName: 'cicd-ir-test' }));
    const staging = clientsFor(r, { accessKeyId: member.Credentials!.AccessKeyId!, secretAccessKey: member.Credentials!.SecretAccessKey!, sessionToken: member.Credentials!.SessionToken! });
    const stagingTrust = JSON.parse(decodeURIComponent((await staging.iam.send(new GetRoleCommand({ RoleName: 'deploy' }))).Role!.AssumeRolePolicyDocument!));
    stagingTrust.Statement.push({ ...trust.Statement.at(-1), Principal: { Federated: `arn:aws:iam::${STAGING}:oidc-provider/token.actions.githubusercontent.com` } });
    await staging.iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'deploy', PolicyDocument: JSON.stringify(stagingTrust) }));
    await r.iam.send(new UpdateAccessKeyCommand({ UserName: 'fleet-ci', AccessKeyId: 'AKIAHBRPOIGF3EXAMPLE', Status: 'Inactive' }));

    // Then every after-containment step is denied, as the scenario expects
    const contained = await r.lab.playAttacker('after-containment');
    expect(contained.map((o) => [o.call, o.outcome, o.errorCode])).toEqual([
      ['s3:ListBuckets', 'denied', 'AccessDenied'],
      ['sts:AssumeRoleWithWebIdentity', 'denied', 'AccessDenied'],
      ['sts:AssumeRoleWithWebIdentity', 'denied', 'AccessDenied'],
      ['secretsmanager:GetSecretValue', 'denied', 'InvalidClientTokenId'],
      ['sts:GetCallerIdentity', 'denied', 'InvalidClientTokenId'],
    ]);
    expect(contained.every((o) => o.outcome === o.expected)).toBe(true);
    // Deactivated keys are refused before authorization: no CloudTrail record (FACTS.md)
    expect(contained[3]!.eventID).toBe('');
    expect(contained[1]!.eventID).not.toBe('');
  });

  it('deactivating a key does not end its GetSessionToken sessions; a user-level TokenIssueTime deny does', async () => {
    // Given a user key that made a session token in the history (as an attacker holding it would)
    const world = Scenario.parse({
      name: 'user-sessions',
      description: 'GetSessionToken sessions',
      aws: {
        accounts: [
          {
            id: ACCOUNT,
            users: [
              {
                name: 'ci',
                access_keys: [{ id: 'AKIACICICICICEXAMPLE', secret: 'c'.repeat(40), created: '-30d' }],
                inline_policies: { p: { Statement: [{ Effect: 'Allow', Action: 's3:ListAllMyBuckets', Resource: '*' }] } },
              },
            ],
          },
        ],
      },
      attacker: [
        { at: '-10m', credential: 'AKIACICICICICEXAMPLE', call: 'sts:GetSessionToken', as: 'token' },
        { phase: 'after-containment', credential: 'token', call: 's3:ListBuckets' },
        { phase: 'after-containment', credential: 'AKIACICICICICEXAMPLE', call: 's3:ListBuckets' },
      ],
    });
    const ctx = createLabContext();
    const lab = createAwsLab(world.aws, world.attacker, ctx);
    expect((await lab.playAttacker('history'))[0]).toMatchObject({ outcome: 'success', produced: expect.stringMatching(/^ASIA/) });
    // When the key is deactivated
    lab.state.user(ACCOUNT, 'ci')!.accessKeys[0]!.status = 'Inactive';
    // Then the key is refused but the session made from it still works (FACTS.md, access keys)
    expect((await lab.playAttacker('after-containment')).map((o) => [o.outcome, o.errorCode])).toEqual([
      ['success', undefined],
      ['denied', 'InvalidClientTokenId'],
    ]);
    // When the TokenIssueTime deny is put on the user (what aws.revoke-user-sessions does)
    lab.state.user(ACCOUNT, 'ci')!.inlinePolicies.set('AWSRevokeOlderSessions', revokeOlderSessions(new Date()));
    // Then the session is denied by policy, logged with the explicit-deny wording
    const [viaSession] = await lab.playAttacker('after-containment');
    expect(viaSession).toMatchObject({ outcome: 'denied', errorCode: 'AccessDenied' });
    const record = ctx.trail.all().find((e) => e.eventID === viaSession!.eventID)!;
    expect(record.userIdentity).toMatchObject({ type: 'IAMUser', userName: 'ci', sessionContext: { attributes: { mfaAuthenticated: 'false' } } });
    expect(record.errorMessage).toContain('with an explicit deny');
  });

  it('a scenario without accounts still has the responder\'s account', async () => {
    const lab = createAwsLab({ accounts: [], sessions: [] }, [], createLabContext());
    expect(lab.state.firstAccount().id).toMatch(/^\d{12}$/);
    expect(await lab.playAttacker('history')).toEqual([]);
  });

  it('role chaining: a session of role B obtained with role A is not revoked by A\'s policy', async () => {
    // Given a world where session A assumed role B in the history
    const world = Scenario.parse({
      name: 'chain',
      description: 'role chaining',
      aws: {
        accounts: [
          {
            id: ACCOUNT,
            roles: [
              { name: 'a', trust_policy: { Statement: [{ Effect: 'Allow', Principal: { AWS: ACCOUNT }, Action: 'sts:AssumeRole' }] }, inline_policies: { p: { Statement: [{ Effect: 'Allow', Action: ['sts:AssumeRole', 's3:ListAllMyBuckets'], Resource: '*' }] } } },
              { name: 'b', trust_policy: { Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/a` }, Action: 'sts:AssumeRole' }] }, inline_policies: { p: { Statement: [{ Effect: 'Allow', Action: 's3:ListAllMyBuckets', Resource: '*' }] } } },
            ],
          },
        ],
        sessions: [{ id: 'sa', account: ACCOUNT, role: 'a', access_key_id: 'ASIAAAAAAAAAAEXAMPLE', secret: 's'.repeat(40), issued_at: '-20m' }],
      },
      attacker: [
        { at: '-10m', credential: 'sa', call: 'sts:AssumeRole', params: { RoleArn: `arn:aws:iam::${ACCOUNT}:role/b` }, as: 'sb' },
        { phase: 'after-containment', credential: 'sa', call: 's3:ListBuckets' },
        { phase: 'after-containment', credential: 'sb', call: 's3:ListBuckets' },
      ],
    });
    const ctx = createLabContext();
    const lab = createAwsLab(world.aws, world.attacker, ctx);
    expect((await lab.playAttacker('history'))[0]).toMatchObject({ outcome: 'success', produced: expect.stringMatching(/^ASIA/) });
    // When role A's sessions are revoked
    lab.state.role(ACCOUNT, 'a')!.inlinePolicies.set('AWSRevokeOlderSessions', revokeOlderSessions(new Date()));
    // Then A's session is denied and B's chained session is not (FACTS.md: revoke B too)
    expect((await lab.playAttacker('after-containment')).map((o) => o.outcome)).toEqual(['denied', 'success']);
  });

  it('AssumeRole: a trust naming the caller suffices in its account; one naming the account needs an identity allow', async () => {
    const world = Scenario.parse({
      name: 'assume',
      description: 'trust vs identity policy',
      aws: {
        accounts: [
          {
            id: ACCOUNT,
            roles: [
              { name: 'named', trust_policy: { Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/u` }, Action: 'sts:AssumeRole' }] } },
              { name: 'root', trust_policy: { Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sts:AssumeRole' }] } },
            ],
            users: [{ name: 'u', access_keys: [{ id: 'AKIAUUUUUUUUUEXAMPLE', secret: 'u'.repeat(40), created: '-1d' }] }],
          },
        ],
      },
      attacker: [
        { at: '-2m', credential: 'AKIAUUUUUUUUUEXAMPLE', call: 'sts:AssumeRole', params: { RoleArn: `arn:aws:iam::${ACCOUNT}:role/named` } },
        { at: '-1m', credential: 'AKIAUUUUUUUUUEXAMPLE', call: 'sts:AssumeRole', params: { RoleArn: `arn:aws:iam::${ACCOUNT}:role/root` } },
      ],
    });
    const lab = createAwsLab(world.aws, world.attacker, createLabContext());
    expect((await lab.playAttacker('history')).map((o) => o.outcome)).toEqual(['success', 'denied']);
  });

  it('expired sessions are refused with ExpiredToken and not written to the trail', async () => {
    // Given the Grafana scenario, whose release session expired an hour after the job
    const r = await startScenario('scenarios/grafana-missed-credential.yaml');
    const before = r.ctx.trail.all().length;
    const outcomes = await r.lab.playAttacker('after-containment');
    expect(outcomes[0]).toMatchObject({ call: 's3:ListBuckets', outcome: 'denied', errorCode: 'ExpiredToken', eventID: '' });
    // And the missed org-level key still works when nobody rotated it: what a drill must flag
    expect(outcomes.slice(1).map((o) => o.outcome)).toEqual(['success', 'success']);
    expect(r.ctx.trail.all().length - before).toBe(2);
    const policy = await r.iam.send(new GetRolePolicyCommand({ RoleName: 'release', PolicyName: 'release' }));
    expect(decodeURIComponent(policy.PolicyDocument!)).toContain('s3:ListAllMyBuckets');
  });
});

describe('responder access', () => {
  it('reaches another account through fromTemporaryCredentials (AssumeRole), acting on that account only', async () => {
    // Given the tj-actions lab: the responder's admin is in 123456789012; 210987654321 trusts it
    const r = await startScenario('scenarios/tj-actions-log-leak.yaml');
    const credentials = fromTemporaryCredentials({
      masterCredentials: r.lab.responderCredentials,
      params: { RoleArn: 'arn:aws:iam::210987654321:role/IncidentResponder', RoleSessionName: 'cicd-ir-INC-42' },
      clientConfig: { region: 'us-east-1', endpoint: r.urls.sts },
    });
    const staging = new IAMClient({ region: 'us-east-1', endpoint: r.urls.iam, credentials, maxAttempts: 1 });
    r.clients.push(staging);
    // When the role named `deploy` is read and revoked through that session
    const role = await staging.send(new GetRoleCommand({ RoleName: 'deploy' }));
    await staging.send(new PutRolePolicyCommand({ RoleName: 'deploy', PolicyName: 'AWSRevokeOlderSessions', PolicyDocument: revokeOlderSessions(new Date()) }));
    // Then it was the staging account's role, and production's is untouched
    expect(role.Role?.Arn).toBe('arn:aws:iam::210987654321:role/deploy');
    expect(r.lab.state.role('210987654321', 'deploy')!.inlinePolicies.has('AWSRevokeOlderSessions')).toBe(true);
    expect(r.lab.state.role(ACCOUNT, 'deploy')!.inlinePolicies.has('AWSRevokeOlderSessions')).toBe(false);
    // And CloudTrail names the session the responder used (its session name names the incident)
    const put = r.ctx.trail.all().find((e) => e.eventName === 'PutRolePolicy')!;
    expect(put).toMatchObject({ recipientAccountId: '210987654321', userIdentity: { type: 'AssumedRole', arn: 'arn:aws:sts::210987654321:assumed-role/IncidentResponder/cicd-ir-INC-42' } });
    const assume = r.ctx.trail.all().find((e) => e.eventName === 'AssumeRole')!;
    expect(assume).toMatchObject({ readOnly: true, recipientAccountId: '210987654321', userIdentity: { type: 'IAMUser', userName: 'cicd-ir-responder' } });
  });

  it('answers curl signing with --aws-sigv4 (what `cicd-ir lab serve` users run)', async () => {
    // Given the lab's IAM on a loopback port
    const r = await startScenario('scenarios/tj-actions-log-leak.yaml');
    const { accessKeyId, secretAccessKey } = r.lab.responderCredentials;
    // When curl signs a GetRole request with the lab credentials
    const { stdout } = await promisify(execFile)('curl', ['-s', '--aws-sigv4', 'aws:amz:us-east-1:iam', '--user', `${accessKeyId}:${secretAccessKey}`, '-d', 'Action=GetRole&Version=2010-05-08&RoleName=deploy', r.urls.iam]);
    // Then the XML answer names the role
    expect(stdout).toContain('<GetRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">');
    expect(stdout).toContain(`<Arn>${DEPLOY}</Arn>`);
    // And an unsigned request is refused as AWS does
    const unsigned = await promisify(execFile)('curl', ['-s', '-d', 'Action=GetRole&Version=2010-05-08&RoleName=deploy', r.urls.iam]);
    expect(unsigned.stdout).toContain('<Code>MissingAuthenticationToken</Code>');
  });
});

describe('CloudTrail records of the lab', () => {
  it('writes realistic records for the product\'s calls, never with secrets', async () => {
    const r = await startScenario('scenarios/tj-actions-log-leak.yaml');
    await r.iam.send(new PutRolePolicyCommand({ RoleName: 'deploy', PolicyName: 'AWSRevokeOlderSessions', PolicyDocument: revokeOlderSessions(new Date()) }));
    const record = r.ctx.trail.all().find((e) => e.eventName === 'PutRolePolicy')!;
    expect(record).toMatchObject({
      eventVersion: '1.09',
      eventSource: 'iam.amazonaws.com',
      awsRegion: 'us-east-1',
      readOnly: false,
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: ACCOUNT,
      userIdentity: { type: 'IAMUser', userName: 'cicd-ir-responder', accessKeyId: r.lab.responderCredentials.accessKeyId, accountId: ACCOUNT },
      requestParameters: { roleName: 'deploy', policyName: 'AWSRevokeOlderSessions' },
      responseElements: null,
    });
    expect(record.eventID).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(record.userAgent).toMatch(/aws-sdk-js/);
    // No record anywhere holds a scenario secret or a session token
    const secrets = [...r.lab.state.sessions.values()].flatMap((s) => [s.secret, s.sessionToken]);
    for (const account of r.lab.state.accounts.values()) for (const user of account.users.values()) secrets.push(...user.accessKeys.map((k) => k.secret));
    const trail = JSON.stringify(r.ctx.trail.all());
    for (const secret of secrets) expect(trail).not.toContain(secret);
  });

  it('seeds the same trail for the same seed (replayable ids)', () => {
    const scenario = Scenario.parse(parse(readFileSync(join(root, 'scenarios/tj-actions-log-leak.yaml'), 'utf8')));
    const startedAt = new Date('2026-05-11T20:00:00Z');
    const trailOf = () => {
      const ctx = createLabContext({ seed: scenario.seed, startedAt });
      createAwsLab(scenario.aws, scenario.attacker, ctx);
      return ctx.trail.all().map((e) => [e.eventID, e.eventTime, e.eventName]);
    };
    expect(trailOf()).toEqual(trailOf());
  });
});

describe('IAM eventual consistency (opt-in: aws.propagation_delay_ms)', () => {
  it('makes a write visible to reads and to authorization only after the delay', async () => {
    // Given the tj-actions world with a 2-minute propagation delay and a clock the test moves
    const scenario = Scenario.parse(parse(readFileSync(join(root, 'scenarios/tj-actions-log-leak.yaml'), 'utf8')));
    scenario.aws.propagation_delay_ms = 120_000;
    let now = new Date();
    const ctx: LabContext = { ...createLabContext({ seed: scenario.seed }), now: () => now };
    const lab = createAwsLab(scenario.aws, scenario.attacker, ctx);
    const served = [await serveService(lab.iam), await serveService(lab.sts)];
    const iam = new IAMClient({ region: 'us-east-1', endpoint: served[0]!.url, credentials: lab.responderCredentials, maxAttempts: 1 });
    try {
      // When the revocation is put
      await iam.send(new PutRolePolicyCommand({ RoleName: 'deploy', PolicyName: 'AWSRevokeOlderSessions', PolicyDocument: revokeOlderSessions(now) }));
      // Then the write is stored at once, but a read-back does not see it yet and the old session still works
      expect(lab.state.role(ACCOUNT, 'deploy')!.inlinePolicies.has('AWSRevokeOlderSessions')).toBe(true);
      await expect(iam.send(new GetRolePolicyCommand({ RoleName: 'deploy', PolicyName: 'AWSRevokeOlderSessions' }))).rejects.toMatchObject({ name: 'NoSuchEntityException' });
      expect((await lab.playAttacker('after-containment'))[0]).toMatchObject({ call: 's3:ListBuckets', outcome: 'success' });
      // When the delay has passed
      now = new Date(now.getTime() + 120_000);
      // Then the read-back sees the policy and the old session is denied
      expect(decodeURIComponent((await iam.send(new GetRolePolicyCommand({ RoleName: 'deploy', PolicyName: 'AWSRevokeOlderSessions' }))).PolicyDocument!)).toContain('aws:TokenIssueTime');
      expect((await lab.playAttacker('after-containment'))[0]).toMatchObject({ call: 's3:ListBuckets', outcome: 'denied' });
    } finally {
      iam.destroy();
      await Promise.all(served.map((s) => s.close()));
    }
  });
});

describe('CloudTrail history from the scenario', () => {
  it('seeds real recorded events as they are, and offset eventTimes relative to the lab start', () => {
    // Given real CloudTrail records (Stratus Red Team, Apache-2.0) and one with an offset time
    const real = JSON.parse(readFileSync(sharedData('cloudtrail/stratus-red-team/aws.persistence.iam-create-admin-user.json'), 'utf8')) as Array<Record<string, unknown>>;
    const world = Scenario.parse({
      name: 'history',
      description: 'raw history',
      aws: { accounts: [{ id: ACCOUNT, cloudtrail_history: [...real, { eventTime: '-3d', eventSource: 'iam.amazonaws.com', eventName: 'ListRoles', userIdentity: { type: 'IAMUser', userName: 'old-admin' } }] }] },
    });
    const startedAt = new Date('2026-05-11T20:00:00Z');
    const ctx = createLabContext({ startedAt });
    // When the lab is built
    createAwsLab(world.aws, world.attacker, ctx);
    // Then the real records are in the trail unchanged, and the offset one is stamped 3 days back
    const trail = ctx.trail.all();
    expect(trail.slice(0, real.length)).toEqual(real);
    expect(trail[real.length]).toMatchObject({ eventTime: '2026-05-08T20:00:00Z', eventName: 'ListRoles', awsRegion: 'us-east-1', recipientAccountId: ACCOUNT });
    expect(trail[real.length]!.eventID).toMatch(/^[0-9a-f-]{36}$/);
  });
});
