import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  DeleteRolePolicyCommand,
  DeleteUserPolicyCommand,
  GetAccessKeyLastUsedCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  IAMClient,
  LimitExceededException,
  ListAccessKeysCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  ListUserPoliciesCommand,
  MalformedPolicyDocumentException,
  NoSuchEntityException,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  SimulatePrincipalPolicyCommand,
  UnmodifiableEntityException,
  UpdateAccessKeyCommand,
  UpdateAssumeRolePolicyCommand,
  paginateListRoles,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand, GetSessionTokenCommand, STSClient } from '@aws-sdk/client-sts';
import { afterEach, describe, expect, it } from 'vitest';
import { createLabContext } from '../../src/lab/context.js';
import { serveService, type ServedService } from '../../src/lab/http.js';
import { createAwsLab, mintLabOidcToken, type AwsLab } from '../../src/lab/aws/index.js';
import { Scenario } from '../../src/lab/scenario.js';
import type { LabContext, LabRequest } from '../../src/lab/types.js';

const ACCOUNT = '210987654321';
const trust = (sub: string) => ({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com` },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com', 'token.actions.githubusercontent.com:sub': sub } },
    },
  ],
});

/** A small world: 3 roles (one service-linked), a user with one key. */
function world(): Scenario {
  return Scenario.parse({
    name: 'sdk',
    description: 'sdk fidelity',
    aws: {
      accounts: [
        {
          id: ACCOUNT,
          roles: [
            { name: 'deploy', trust_policy: trust('repo:acme/web:ref:refs/heads/main'), inline_policies: { s3: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:*', 'iam:GetRole'], Resource: '*' }] } } },
            { name: 'audit', trust_policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sts:AssumeRole' }] }, inline_policies: { read: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iam:Get*', Resource: '*' }] } } },
            { name: 'AWSServiceRoleForSupport', service_linked: true, trust_policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'support.amazonaws.com' }, Action: 'sts:AssumeRole' }] } },
          ],
          users: [
            {
              name: 'ci-bot',
              access_keys: [{ id: 'AKIAEXAMPLECIBOT0001', secret: 'ciBotSecretKeyFakeFakeFakeFakeFake000001', created: '-200d' }],
              inline_policies: { assume: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['sts:AssumeRole', 'iam:ListAccessKeys'], Resource: '*' }] } },
            },
          ],
        },
      ],
    },
  });
}

interface Harness {
  lab: AwsLab;
  ctx: LabContext;
  iam: IAMClient;
  sts: STSClient;
  requests: LabRequest[];
  served: ServedService[];
}

let harness: Harness | undefined;

/**
 * Starts IAM and STS on loopback ports. Clients make one attempt by default: the SDK
 * classifies LimitExceeded as throttling and would retry it with backoff (FACTS.md).
 */
async function start(options: { faults?: NonNullable<Parameters<typeof serveService>[1]>['faults']; faultRandom?: () => number; maxAttempts?: number } = {}): Promise<Harness> {
  const scenario = world();
  const ctx = createLabContext({ seed: 7 });
  const lab = createAwsLab(scenario.aws, scenario.attacker, ctx);
  const requests: LabRequest[] = [];
  const iamServed = await serveService(lab.iam, { faults: options.faults ?? [], random: options.faultRandom ?? ctx.random, log: (entry) => requests.push(entry) });
  const stsServed = await serveService(lab.sts, { log: (entry) => requests.push(entry) });
  const config = { region: 'us-east-1', credentials: lab.responderCredentials, maxAttempts: options.maxAttempts ?? 1 };
  harness = {
    lab,
    ctx,
    iam: new IAMClient({ ...config, endpoint: iamServed.url }),
    sts: new STSClient({ ...config, endpoint: stsServed.url }),
    requests,
    served: [iamServed, stsServed],
  };
  return harness;
}

afterEach(async () => {
  if (!harness) return;
  harness.iam.destroy();
  harness.sts.destroy();
  await Promise.all(harness.served.map((s) => s.close()));
  harness = undefined;
});

const revokeDoc = (cutoff: string) =>
  JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: ['*'], Resource: ['*'], Condition: { DateLessThan: { 'aws:TokenIssueTime': cutoff } } }] });

describe('lab IAM through the real SDK', () => {
  it('serves roles, trust and inline policies with URL-encoded documents', async () => {
    // Given the lab's IAM and the responder's credentials
    const { iam } = await start();
    // When the SDK reads the role and its policies
    const role = await iam.send(new GetRoleCommand({ RoleName: 'deploy' }));
    const names = await iam.send(new ListRolePoliciesCommand({ RoleName: 'deploy' }));
    const policy = await iam.send(new GetRolePolicyCommand({ RoleName: 'deploy', PolicyName: 's3' }));
    // Then the SDK's deserializers parse them and the documents are URL-encoded as IAM returns them
    expect(role.Role?.Arn).toBe(`arn:aws:iam::${ACCOUNT}:role/deploy`);
    expect(role.Role?.RoleId).toMatch(/^AROA[A-Z0-9]{16}$/);
    expect(role.Role?.CreateDate).toBeInstanceOf(Date);
    expect(role.Role?.AssumeRolePolicyDocument).toMatch(/^%7B/);
    expect(JSON.parse(decodeURIComponent(role.Role!.AssumeRolePolicyDocument!))).toEqual(trust('repo:acme/web:ref:refs/heads/main'));
    expect(names.PolicyNames).toEqual(['s3']);
    expect(names.IsTruncated).toBe(false);
    expect(JSON.parse(decodeURIComponent(policy.PolicyDocument!)).Statement[0].Action).toEqual(['s3:*', 'iam:GetRole']);
  });

  it('paginates ListRoles with Marker and MaxItems', async () => {
    const { iam } = await start();
    // When the roles are listed two at a time
    const first = await iam.send(new ListRolesCommand({ MaxItems: 2 }));
    const second = await iam.send(new ListRolesCommand({ MaxItems: 2, Marker: first.Marker }));
    // Then the pages join to every role, and the SDK paginator walks them too
    expect(first.IsTruncated).toBe(true);
    expect(first.Roles?.map((r) => r.RoleName)).toEqual(['audit', 'AWSServiceRoleForSupport']);
    expect(second.IsTruncated).toBe(false);
    expect(second.Roles?.map((r) => r.RoleName)).toEqual(['deploy']);
    const all: string[] = [];
    for await (const page of paginateListRoles({ client: iam, pageSize: 1 }, {})) all.push(...(page.Roles ?? []).map((r) => r.RoleName!));
    expect(all).toEqual(['audit', 'AWSServiceRoleForSupport', 'deploy']);
  });

  it('puts, replaces and deletes inline role policies; errors are typed SDK exceptions', async () => {
    const { iam, lab } = await start();
    // When the revocation policy is put twice (moving the cutoff) then deleted
    await iam.send(new PutRolePolicyCommand({ RoleName: 'deploy', PolicyName: 'AWSRevokeOlderSessions', PolicyDocument: revokeDoc('2026-01-01T00:00:00Z') }));
    await iam.send(new PutRolePolicyCommand({ RoleName: 'deploy', PolicyName: 'AWSRevokeOlderSessions', PolicyDocument: revokeDoc('2026-02-01T00:00:00Z') }));
    // Then the state holds one policy with the later cutoff
    expect(lab.state.role(ACCOUNT, 'deploy')!.inlinePolicies.get('AWSRevokeOlderSessions')).toContain('2026-02-01');
    expect((await iam.send(new ListRolePoliciesCommand({ RoleName: 'deploy' }))).PolicyNames).toEqual(['AWSRevokeOlderSessions', 's3']);
    await iam.send(new DeleteRolePolicyCommand({ RoleName: 'deploy', PolicyName: 'AWSRevokeOlderSessions' }));
    expect(lab.state.role(ACCOUNT, 'deploy')!.inlinePolicies.has('AWSRevokeOlderSessions')).toBe(false);
    // And the documented errors surface as the SDK's exception classes with IAM's status codes
    await expect(iam.send(new GetRoleCommand({ RoleName: 'nope' }))).rejects.toSatisfy((e: unknown) => e instanceof NoSuchEntityException && e.$metadata.httpStatusCode === 404);
    await expect(iam.send(new DeleteRolePolicyCommand({ RoleName: 'deploy', PolicyName: 'AWSRevokeOlderSessions' }))).rejects.toBeInstanceOf(NoSuchEntityException);
    await expect(iam.send(new PutRolePolicyCommand({ RoleName: 'AWSServiceRoleForSupport', PolicyName: 'x', PolicyDocument: revokeDoc('2026-01-01T00:00:00Z') }))).rejects.toSatisfy(
      (e: unknown) => e instanceof UnmodifiableEntityException && e.$metadata.httpStatusCode === 400,
    );
    await expect(iam.send(new PutRolePolicyCommand({ RoleName: 'deploy', PolicyName: 'x', PolicyDocument: '{"Statement": [' }))).rejects.toBeInstanceOf(MalformedPolicyDocumentException);
  });

  it('enforces the 10,240-character inline budget per role, whitespace not counted', async () => {
    const { iam } = await start();
    const filler = (n: number) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'x'.repeat(n), Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] });
    const existing = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:*', 'iam:GetRole'], Resource: '*' }] }).length;
    const overhead = filler(0).length;
    // Given a policy that fills the budget exactly (pretty-printed: whitespace is free)
    const exact = filler(10_240 - existing - overhead);
    const pretty = JSON.stringify(JSON.parse(exact), null, 8);
    await iam.send(new PutRolePolicyCommand({ RoleName: 'deploy', PolicyName: 'big', PolicyDocument: pretty }));
    // When one more character is added
    const error = await iam.send(new PutRolePolicyCommand({ RoleName: 'deploy', PolicyName: 'big', PolicyDocument: filler(10_240 - existing - overhead + 1) })).catch((e: unknown) => e);
    // Then IAM answers LimitExceeded (409)
    expect(error).toBeInstanceOf(LimitExceededException);
    expect((error as LimitExceededException).$metadata.httpStatusCode).toBe(409);
  });

  it('updates trust policies within the 2,048-character limit', async () => {
    const { iam, lab } = await start();
    const narrowed = JSON.stringify(trust('repo:acme/web:environment:prod'));
    await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'deploy', PolicyDocument: narrowed }));
    expect(lab.state.role(ACCOUNT, 'deploy')!.trustPolicy).toBe(narrowed);
    const huge = JSON.stringify({ ...trust('x'), Statement: [{ ...trust('x').Statement[0], Sid: 'a'.repeat(2100) }] });
    await expect(iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'deploy', PolicyDocument: huge }))).rejects.toBeInstanceOf(LimitExceededException);
    await expect(iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'deploy', PolicyDocument: 'not json' }))).rejects.toBeInstanceOf(MalformedPolicyDocumentException);
    // A trust policy without a Principal is malformed too
    await expect(iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'deploy', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole' }] }) }))).rejects.toBeInstanceOf(MalformedPolicyDocumentException);
  });

  it('manages access keys: two-key limit, secret returned once, status, last used, delete', async () => {
    const { iam, lab, sts, ctx } = await start();
    // When a second key is created
    const created = await iam.send(new CreateAccessKeyCommand({ UserName: 'ci-bot' }));
    expect(created.AccessKey?.AccessKeyId).toMatch(/^AKIA[A-Z0-9]{16}$/);
    expect(created.AccessKey?.SecretAccessKey).toHaveLength(40);
    // Then a third is refused, and listing never shows secrets
    await expect(iam.send(new CreateAccessKeyCommand({ UserName: 'ci-bot' }))).rejects.toBeInstanceOf(LimitExceededException);
    const listed = await iam.send(new ListAccessKeysCommand({ UserName: 'ci-bot' }));
    expect(listed.AccessKeyMetadata?.map((k) => k.Status)).toEqual(['Active', 'Active']);
    expect(JSON.stringify(listed)).not.toContain(created.AccessKey!.SecretAccessKey!);
    // And the CloudTrail record of CreateAccessKey carries the key id but not the secret
    const event = ctx.trail.all().find((r) => r.eventName === 'CreateAccessKey' && !r.errorCode)!;
    expect(JSON.stringify(event)).toContain(created.AccessKey!.AccessKeyId!);
    expect(JSON.stringify(event)).not.toContain(created.AccessKey!.SecretAccessKey!);

    // When the new key is used, GetAccessKeyLastUsed shows it
    const asKey = new STSClient({ region: 'us-east-1', endpoint: harness!.served[1]!.url, credentials: { accessKeyId: created.AccessKey!.AccessKeyId!, secretAccessKey: created.AccessKey!.SecretAccessKey! } });
    const me = await asKey.send(new GetCallerIdentityCommand({}));
    expect(me.Arn).toBe(`arn:aws:iam::${ACCOUNT}:user/ci-bot`);
    const used = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: created.AccessKey!.AccessKeyId! }));
    expect(used.UserName).toBe('ci-bot');
    expect(used.AccessKeyLastUsed?.ServiceName).toBe('sts');
    expect(used.AccessKeyLastUsed?.LastUsedDate).toBeInstanceOf(Date);
    const unused = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: 'AKIAEXAMPLECIBOT0001' }));
    expect(unused.AccessKeyLastUsed?.ServiceName).toBe('N/A');

    // When the key is deactivated, it can no longer call AWS; deleted, it is gone
    await iam.send(new UpdateAccessKeyCommand({ UserName: 'ci-bot', AccessKeyId: created.AccessKey!.AccessKeyId!, Status: 'Inactive' }));
    await expect(asKey.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({ name: 'InvalidClientTokenId', $metadata: { httpStatusCode: 403 } });
    await iam.send(new DeleteAccessKeyCommand({ UserName: 'ci-bot', AccessKeyId: created.AccessKey!.AccessKeyId! }));
    expect(lab.state.user(ACCOUNT, 'ci-bot')!.accessKeys.map((k) => k.id)).toEqual(['AKIAEXAMPLECIBOT0001']);
    await expect(iam.send(new DeleteAccessKeyCommand({ UserName: 'ci-bot', AccessKeyId: created.AccessKey!.AccessKeyId! }))).rejects.toBeInstanceOf(NoSuchEntityException);
    asKey.destroy();
    void sts;
  });

  it('serves user policies and GetUser, with the 2,048-character user budget', async () => {
    const { iam } = await start();
    const deny = revokeDoc('2026-03-01T00:00:00Z');
    await iam.send(new PutUserPolicyCommand({ UserName: 'ci-bot', PolicyName: 'AWSRevokeOlderSessions', PolicyDocument: deny }));
    expect((await iam.send(new ListUserPoliciesCommand({ UserName: 'ci-bot' }))).PolicyNames).toEqual(['AWSRevokeOlderSessions', 'assume']);
    expect(decodeURIComponent((await iam.send(new GetUserPolicyCommand({ UserName: 'ci-bot', PolicyName: 'AWSRevokeOlderSessions' }))).PolicyDocument!)).toBe(deny);
    const big = JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'x'.repeat(2000), Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] });
    await expect(iam.send(new PutUserPolicyCommand({ UserName: 'ci-bot', PolicyName: 'big', PolicyDocument: big }))).rejects.toBeInstanceOf(LimitExceededException);
    await iam.send(new DeleteUserPolicyCommand({ UserName: 'ci-bot', PolicyName: 'AWSRevokeOlderSessions' }));
    expect((await iam.send(new GetUserCommand({ UserName: 'ci-bot' }))).User?.Arn).toBe(`arn:aws:iam::${ACCOUNT}:user/ci-bot`);
    expect((await iam.send(new GetUserCommand({}))).User?.UserName).toBe('cicd-ir-responder');
  });

  it('simulates a principal policy with the evaluator', async () => {
    const { iam } = await start();
    await iam.send(new PutRolePolicyCommand({ RoleName: 'deploy', PolicyName: 'AWSRevokeOlderSessions', PolicyDocument: revokeDoc('2026-06-01T00:00:00Z') }));
    const result = await iam.send(
      new SimulatePrincipalPolicyCommand({
        PolicySourceArn: `arn:aws:iam::${ACCOUNT}:role/deploy`,
        ActionNames: ['s3:GetObject', 'iam:DeleteRole'],
        ContextEntries: [{ ContextKeyName: 'aws:TokenIssueTime', ContextKeyValues: ['2026-07-01T00:00:00Z'], ContextKeyType: 'date' }],
      }),
    );
    expect(result.EvaluationResults?.map((r) => [r.EvalActionName, r.EvalDecision])).toEqual([
      ['s3:GetObject', 'allowed'],
      ['iam:DeleteRole', 'implicitDeny'],
    ]);
    const old = await iam.send(
      new SimulatePrincipalPolicyCommand({
        PolicySourceArn: `arn:aws:iam::${ACCOUNT}:role/deploy`,
        ActionNames: ['s3:GetObject'],
        ContextEntries: [{ ContextKeyName: 'aws:TokenIssueTime', ContextKeyValues: ['2026-05-01T00:00:00Z'], ContextKeyType: 'date' }],
      }),
    );
    expect(old.EvaluationResults?.[0]?.EvalDecision).toBe('explicitDeny');
  });

  it('retries an injected Throttling fault (400) as the SDK does', async () => {
    // Given every other GetRole answer is a Throttling fault (fault draws alternate 0, 0.99)
    let draw = 0;
    const { iam, requests } = await start({
      faults: [{ service: 'iam', operation: 'GetRole', errorRate: 0.5, error: 'throttle' }],
      faultRandom: () => (draw++ % 2 === 0 ? 0 : 0.99),
      maxAttempts: 3,
    });
    // When the SDK calls GetRole twice
    for (let i = 0; i < 2; i++) await iam.send(new GetRoleCommand({ RoleName: 'deploy' }));
    // Then throttled answers were retried (more requests than calls) and every call succeeded
    const getRoles = requests.filter((r) => r.operation === 'GetRole');
    expect(getRoles.filter((r) => r.fault === 'throttle' && r.status === 400)).toHaveLength(2);
    expect(getRoles.filter((r) => r.status === 200)).toHaveLength(2);
  });

  it('pins FACTS.md: the SDK retries IAM LimitExceeded as if it were throttling (unverified upstream)', async () => {
    // Given a client allowed two attempts
    const { iam, requests } = await start({ maxAttempts: 2 });
    const big = JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'x'.repeat(2100), Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] });
    // When a quota error comes back
    await expect(iam.send(new PutUserPolicyCommand({ UserName: 'ci-bot', PolicyName: 'big', PolicyDocument: big }))).rejects.toBeInstanceOf(LimitExceededException);
    // Then the SDK sent it twice: product code must fail fast on it (issue 5), not rely on SDK retries
    expect(requests.filter((r) => r.operation === 'PutUserPolicy').map((r) => r.status)).toEqual([409, 409]);
  });

  it('answers malformed requests with Query-protocol errors', async () => {
    const { iam } = await start();
    // A missing required parameter (the SDK does not check it client-side)
    await expect(iam.send(new GetRoleCommand({} as never))).rejects.toMatchObject({ name: 'ValidationError', $metadata: { httpStatusCode: 400 } });
    // An operation IAM does not have, and an unknown access key
    const auth = (key: string) => `AWS4-HMAC-SHA256 Credential=${key}/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=00`;
    const post = (key: string, body: string) => fetch(harness!.served[0]!.url, { method: 'POST', headers: { authorization: auth(key), 'content-type': 'application/x-www-form-urlencoded' }, body });
    const invalid = await post('AKIALABRESPONDER0001', 'Action=GetRoles&Version=2010-05-08');
    expect(invalid.status).toBe(400);
    expect(await invalid.text()).toContain('<Code>InvalidAction</Code>');
    const unknown = await post('AKIANOTAKEYNOTAKEY00', 'Action=GetRole&Version=2010-05-08&RoleName=deploy');
    expect(unknown.status).toBe(403);
    expect(await unknown.text()).toContain('<Code>InvalidClientTokenId</Code>');
  });

  it('logs the request with operation and mutating flag', async () => {
    const { iam, requests } = await start();
    await iam.send(new GetRoleCommand({ RoleName: 'deploy' }));
    await iam.send(new PutRolePolicyCommand({ RoleName: 'deploy', PolicyName: 'p', PolicyDocument: revokeDoc('2026-01-01T00:00:00Z') }));
    expect(requests.map((r) => [r.service, r.operation, r.mutating])).toEqual([
      ['iam', 'GetRole', false],
      ['iam', 'PutRolePolicy', true],
    ]);
  });
});

describe('lab STS through the real SDK', () => {
  it('answers GetCallerIdentity for the responder', async () => {
    const { sts } = await start();
    const me = await sts.send(new GetCallerIdentityCommand({}));
    expect(me).toMatchObject({ Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/cicd-ir-responder`, UserId: 'AIDALABRESPONDER0001' });
  });

  it('assumes a role by OIDC when the trust policy admits the subject, and refuses another subject', async () => {
    const { sts, ctx, requests } = await start();
    const ok = await sts.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: `arn:aws:iam::${ACCOUNT}:role/deploy`, RoleSessionName: 'GitHubActions', WebIdentityToken: mintLabOidcToken({ sub: 'repo:acme/web:ref:refs/heads/main' }) }));
    expect(ok.Credentials?.AccessKeyId).toMatch(/^ASIA[A-Z0-9]{16}$/);
    expect(ok.Credentials?.Expiration).toBeInstanceOf(Date);
    expect(ok.AssumedRoleUser?.Arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/deploy/GitHubActions`);
    expect(ok.SubjectFromWebIdentityToken).toBe('repo:acme/web:ref:refs/heads/main');
    const denied = await sts
      .send(new AssumeRoleWithWebIdentityCommand({ RoleArn: `arn:aws:iam::${ACCOUNT}:role/deploy`, RoleSessionName: 'GitHubActions', WebIdentityToken: mintLabOidcToken({ sub: 'repo:acme/web:ref:refs/heads/evil' }) }))
      .catch((e: unknown) => e);
    expect(denied).toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    // CloudTrail: WebIdentityUser identity, the key id (never the secret) in responseElements, the failure logged too
    const events = ctx.trail.all().filter((r) => r.eventName === 'AssumeRoleWithWebIdentity');
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({ eventSource: 'sts.amazonaws.com', userIdentity: { type: 'WebIdentityUser', userName: 'repo:acme/web:ref:refs/heads/main' }, responseElements: { credentials: { accessKeyId: ok.Credentials!.AccessKeyId } } });
    expect(JSON.stringify(events[0])).not.toContain(ok.Credentials!.SecretAccessKey!);
    expect(JSON.stringify(events[0])).not.toContain(ok.Credentials!.SessionToken!);
    expect(events[1]).toMatchObject({ errorCode: 'AccessDenied', responseElements: null });
    // STS credential calls are read-only in CloudTrail and in the request log (a dry run may assume roles)
    expect(events[0]!.readOnly).toBe(true);
    expect(requests.filter((r) => r.service === 'sts').map((r) => r.mutating)).toEqual([false, false]);
  });

  it('lets a session act within its role policies and logs it as AssumedRole', async () => {
    const { ctx } = await start();
    const base = { region: 'us-east-1', endpoint: harness!.served[1]!.url };
    const anonymous = new STSClient({ ...base, credentials: { accessKeyId: 'AKIAUNUSEDUNUSED0000', secretAccessKey: 'x'.repeat(40) } });
    const assumed = await anonymous.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: `arn:aws:iam::${ACCOUNT}:role/deploy`, RoleSessionName: 'run-42', WebIdentityToken: mintLabOidcToken({ sub: 'repo:acme/web:ref:refs/heads/main' }) }));
    const credentials = { accessKeyId: assumed.Credentials!.AccessKeyId!, secretAccessKey: assumed.Credentials!.SecretAccessKey!, sessionToken: assumed.Credentials!.SessionToken! };
    const iam = new IAMClient({ region: 'us-east-1', endpoint: harness!.served[0]!.url, credentials });
    // When the session reads a role (allowed) and lists roles (not allowed)
    await iam.send(new GetRoleCommand({ RoleName: 'audit' }));
    const denied = await iam.send(new ListRolesCommand({})).catch((e: unknown) => e);
    expect(denied).toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    expect((denied as Error).message).toContain('because no identity-based policy allows the iam:ListRoles action');
    const event = ctx.trail.all().find((r) => r.eventName === 'ListRoles')!;
    expect(event).toMatchObject({
      errorCode: 'AccessDenied',
      userIdentity: { type: 'AssumedRole', accessKeyId: credentials.accessKeyId, arn: `arn:aws:sts::${ACCOUNT}:assumed-role/deploy/run-42`, sessionContext: { sessionIssuer: { arn: `arn:aws:iam::${ACCOUNT}:role/deploy` } } },
    });
    anonymous.destroy();
    iam.destroy();
  });

  it('AssumeRole for a user allowed by trust and identity policy; GetSessionToken for user keys only', async () => {
    await start();
    const userSts = new STSClient({ region: 'us-east-1', endpoint: harness!.served[1]!.url, credentials: { accessKeyId: 'AKIAEXAMPLECIBOT0001', secretAccessKey: 'ciBotSecretKeyFakeFakeFakeFakeFake000001' } });
    const assumed = await userSts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ACCOUNT}:role/audit`, RoleSessionName: 'audit-1' }));
    expect(assumed.AssumedRoleUser?.Arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/audit/audit-1`);
    // deploy's trust admits only the OIDC provider
    await expect(userSts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ACCOUNT}:role/deploy`, RoleSessionName: 'x1' }))).rejects.toMatchObject({ name: 'AccessDenied' });
    const token = await userSts.send(new GetSessionTokenCommand({}));
    expect(token.Credentials?.AccessKeyId).toMatch(/^ASIA/);
    const sessionSts = new STSClient({ region: 'us-east-1', endpoint: harness!.served[1]!.url, credentials: { accessKeyId: token.Credentials!.AccessKeyId!, secretAccessKey: token.Credentials!.SecretAccessKey!, sessionToken: token.Credentials!.SessionToken! } });
    await expect(sessionSts.send(new GetSessionTokenCommand({}))).rejects.toMatchObject({ name: 'AccessDenied' });
    expect((await sessionSts.send(new GetCallerIdentityCommand({}))).Arn).toBe(`arn:aws:iam::${ACCOUNT}:user/ci-bot`);
    userSts.destroy();
    sessionSts.destroy();
  });
});
