import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IAMClient, ListRolesCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { isThrottlingError } from '@smithy/core/retry';
import { createAwsClients, isMutatingOperation, roleSessionName } from '../../src/providers/aws.js';
import type { ApiCallRecord, ProviderConfig } from '../../src/providers/config.js';
import { DryRunViolation } from '../../src/engine/errors.js';

/** One request the scripted endpoint received. */
interface Seen {
  action: string;
  params: URLSearchParams;
  authorization: string;
}

type Script = (seen: Seen, count: number) => { status: number; body: string };

const IAM_NS = 'https://iam.amazonaws.com/doc/2010-05-08/';
const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/';

const xmlError = (code: string, message: string) =>
  `<ErrorResponse xmlns="${IAM_NS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>req-${code}</RequestId></ErrorResponse>`;
const listRolesOk = `<ListRolesResponse xmlns="${IAM_NS}"><ListRolesResult><IsTruncated>false</IsTruncated><Roles/></ListRolesResult><ResponseMetadata><RequestId>req-list</RequestId></ResponseMetadata></ListRolesResponse>`;
const callerIdentity = (account: string) =>
  `<GetCallerIdentityResponse xmlns="${STS_NS}"><GetCallerIdentityResult><Arn>arn:aws:iam::${account}:user/responder</Arn><UserId>AIDAEXAMPLE</UserId><Account>${account}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>req-gci</RequestId></ResponseMetadata></GetCallerIdentityResponse>`;
const assumeRoleOk = `<AssumeRoleResponse xmlns="${STS_NS}"><AssumeRoleResult><Credentials><AccessKeyId>ASIAASSUMEDKEY000001</AccessKeyId><SecretAccessKey>assumedsecretassumedsecretassumed00001</SecretAccessKey><SessionToken>assumed-session-token</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts::222233334444:assumed-role/Responder/s</Arn><AssumedRoleId>AROAEXAMPLE:s</AssumedRoleId></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>req-assume</RequestId></ResponseMetadata></AssumeRoleResponse>`;

let server: Server;
let url: string;
let seen: Seen[] = [];
let script: Script = () => ({ status: 200, body: listRolesOk });

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const params = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const entry: Seen = { action: params.get('Action') ?? '', params, authorization: String(req.headers.authorization ?? '') };
      seen.push(entry);
      const { status, body } = script(entry, seen.length);
      res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': `rid-${seen.length}` });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  seen = [];
  script = () => ({ status: 200, body: listRolesOk });
});

function config(overrides: Partial<ProviderConfig> = {}, calls: ApiCallRecord[] = []): ProviderConfig {
  return {
    dryRun: false,
    incident: 'IR-42',
    github: {},
    aws: {
      region: 'us-east-1',
      endpoints: { iam: url, sts: url, cloudtrail: url },
      credentials: { accessKeyId: 'AKIARESPONDER0000001', secretAccessKey: 'respondersecretrespondersecret000001' },
      maxAttempts: 3,
    },
    onApiCall: (call) => calls.push(call),
    ...overrides,
  };
}

describe('isMutatingOperation', () => {
  it('treats reads as read-only and everything else (including unknown names) as mutating', () => {
    // Given operation names of reads and writes / When classified / Then only reads pass
    // (AssumeRole mints a session and changes nothing: a dry run reads other accounts through it)
    for (const read of ['GetRole', 'ListRoles', 'DescribeTrails', 'LookupEvents', 'SimulatePrincipalPolicy', 'GetCallerIdentity', 'AssumeRole']) {
      expect(isMutatingOperation(read)).toBe(false);
    }
    for (const write of ['PutRolePolicy', 'UpdateAssumeRolePolicy', 'CreateAccessKey', 'DeleteRolePolicy', 'AssumeRoleWithWebIdentity', 'Getaway', 'Unknown']) {
      expect(isMutatingOperation(write)).toBe(true);
    }
  });
});

describe('roleSessionName', () => {
  it('names the incident within IAM’s character set and 64-character limit', () => {
    // Given incident ids with spaces, slashes and great length / When sanitised / Then IAM accepts them
    expect(roleSessionName('IR-42')).toBe('cicd-ir-IR-42');
    expect(roleSessionName('tj actions/2025 #1')).toBe('cicd-ir-tj-actions-2025--1');
    const long = roleSessionName('x'.repeat(100));
    expect(long).toHaveLength(64);
    expect(long).toMatch(/^[\w+=,.@-]{2,64}$/);
  });
});

describe('LimitExceeded classification (FACTS.md, unverified there: pinned here)', () => {
  it('the installed @smithy/core classifies IAM LimitExceeded as throttling', () => {
    // Given the error the IAM client builds from `<Code>LimitExceeded</Code>` (HTTP 409)
    const error = Object.assign(new Error('quota'), { name: 'LimitExceededException', $metadata: { httpStatusCode: 409 } });
    // When the SDK's own classifier looks at it / Then it says throttling: it would be retried
    expect(isThrottlingError(error)).toBe(true);
  });

  it('a stock IAM client really retries it (so the fail-fast below is needed)', async () => {
    // Given an endpoint that always answers LimitExceeded
    script = () => ({ status: 409, body: xmlError('LimitExceeded', 'Cannot exceed quota for PoliciesPerRole') });
    const stock = new IAMClient({
      region: 'us-east-1',
      endpoint: url,
      credentials: { accessKeyId: 'AKIASTOCK00000000001', secretAccessKey: 'stocksecretstocksecretstock0000001' },
      maxAttempts: 2,
    });
    // When a plain SDK client calls it
    await expect(stock.send(new PutRolePolicyCommand({ RoleName: 'r', PolicyName: 'p', PolicyDocument: '{}' }))).rejects.toMatchObject({
      name: 'LimitExceededException',
    });
    // Then it tried twice (maxAttempts), as throttling
    expect(seen).toHaveLength(2);
    stock.destroy();
  });

  it('cicd-ir clients fail fast: exactly one attempt, the original error, one journal record', async () => {
    // Given the same endpoint and our client with 3 attempts allowed
    script = () => ({ status: 409, body: xmlError('LimitExceeded', 'Cannot exceed quota for PoliciesPerRole') });
    const calls: ApiCallRecord[] = [];
    const clients = createAwsClients(config({}, calls));
    // When PutRolePolicy hits LimitExceeded
    const error = await clients
      .iam()
      .send(new PutRolePolicyCommand({ RoleName: 'r', PolicyName: 'p', PolicyDocument: '{}' }))
      .catch((caught: unknown) => caught);
    // Then one request was made and the caller gets the SDK's own error class
    expect(seen).toHaveLength(1);
    expect(error).toMatchObject({ name: 'LimitExceededException', $metadata: { attempts: 1, httpStatusCode: 409 } });
    expect(calls).toEqual([
      expect.objectContaining({ service: 'iam', operation: 'PutRolePolicy', mutating: true, status: 409, error: 'LimitExceededException' }),
    ]);
    clients.destroy();
  });
  it('fails fast in adaptive mode too', async () => {
    // Given adaptive retries (client-side rate limiting) and an endpoint answering LimitExceeded
    script = () => ({ status: 409, body: xmlError('LimitExceeded', 'Cannot exceed quota for RolesPerAccount') });
    const base = config();
    const clients = createAwsClients({ ...base, aws: { ...base.aws, retryMode: 'adaptive' } });
    // When called / Then one attempt only
    await expect(clients.iam().send(new PutRolePolicyCommand({ RoleName: 'r', PolicyName: 'p', PolicyDocument: '{}' }))).rejects.toMatchObject({
      name: 'LimitExceededException',
    });
    expect(seen).toHaveLength(1);
    clients.destroy();
  });
});

describe('createAwsClients', () => {
  it('retries throttling (standard mode) and reports each attempt', async () => {
    // Given an endpoint that throttles the first request only
    script = (_, count) => (count === 1 ? { status: 400, body: xmlError('Throttling', 'Rate exceeded') } : { status: 200, body: listRolesOk });
    const calls: ApiCallRecord[] = [];
    const clients = createAwsClients(config({}, calls));
    // When ListRoles is called
    const output = await clients.iam().send(new ListRolesCommand({}));
    // Then the SDK retried once and succeeded; the journal sees both attempts
    expect(seen).toHaveLength(2);
    expect(output.$metadata.attempts).toBe(2);
    expect(calls.map((call) => [call.operation, call.status, call.error])).toEqual([
      ['ListRoles', 400, 'Throttling'],
      ['ListRoles', 200, undefined],
    ]);
    expect(calls[1]).toMatchObject({ service: 'iam', mutating: false, requestId: 'rid-2' });
    clients.destroy();
  });

  it('refuses mutating calls during a dry run before any request, and lets reads through', async () => {
    // Given a dry-run configuration
    const calls: ApiCallRecord[] = [];
    const clients = createAwsClients(config({ dryRun: true }, calls));
    // When a write and a read are attempted
    await expect(clients.iam().send(new PutRolePolicyCommand({ RoleName: 'r', PolicyName: 'p', PolicyDocument: '{}' }))).rejects.toBeInstanceOf(
      DryRunViolation,
    );
    await clients.iam().send(new ListRolesCommand({}));
    // Then only the read reached the endpoint
    expect(seen.map((request) => request.action)).toEqual(['ListRoles']);
    expect(calls.map((call) => call.operation)).toEqual(['ListRoles']);
    clients.destroy();
  });

  it('signs with the configured credentials and caches clients per service, account and region', async () => {
    // Given explicit credentials
    const clients = createAwsClients(config());
    // When clients are asked for twice and one is used
    expect(clients.iam()).toBe(clients.iam());
    expect(clients.iam({ region: 'eu-west-1' })).not.toBe(clients.iam());
    await clients.iam().send(new ListRolesCommand({}));
    // Then the request carries the configured key and region
    expect(seen[0]!.authorization).toContain('Credential=AKIARESPONDER0000001/');
    expect(seen[0]!.authorization).toContain('/us-east-1/iam/aws4_request');
    clients.destroy();
  });

  it('reaches another account by assuming target.roleArn with a session name naming the incident', async () => {
    // Given an endpoint that answers STS AssumeRole and IAM ListRoles
    script = (request) => (request.action === 'AssumeRole' ? { status: 200, body: assumeRoleOk } : { status: 200, body: listRolesOk });
    const calls: ApiCallRecord[] = [];
    const clients = createAwsClients(config({ incident: 'IR 42/tj' }, calls));
    // When IAM is used in the other account
    await clients.iam({ roleArn: 'arn:aws:iam::222233334444:role/Responder' }).send(new ListRolesCommand({}));
    // Then the role was assumed with the incident's session name, and IAM was called with the assumed key
    expect(seen.map((request) => request.action)).toEqual(['AssumeRole', 'ListRoles']);
    expect(seen[0]!.params.get('RoleArn')).toBe('arn:aws:iam::222233334444:role/Responder');
    expect(seen[0]!.params.get('RoleSessionName')).toBe('cicd-ir-IR-42-tj');
    expect(seen[0]!.authorization).toContain('Credential=AKIARESPONDER0000001/');
    expect(seen[1]!.authorization).toContain('Credential=ASIAASSUMEDKEY000001/');
    expect(calls.map((call) => [call.service, call.operation, call.target])).toEqual([
      ['sts', 'AssumeRole', '222233334444'],
      ['iam', 'ListRoles', '222233334444'],
    ]);
    clients.destroy();
  });

  it('stsWithCredentials signs with the given key against the same endpoint', async () => {
    // Given a new access key
    script = () => ({ status: 200, body: callerIdentity('111122223333') });
    const clients = createAwsClients(config());
    // When its identity is checked
    const identity = await clients
      .stsWithCredentials({ accessKeyId: 'AKIANEWKEY0000000001', secretAccessKey: 'newsecretnewsecretnewsecretnew000001' })
      .send(new GetCallerIdentityCommand({}));
    // Then STS saw that key
    expect(identity.Account).toBe('111122223333');
    expect(seen[0]!.authorization).toContain('Credential=AKIANEWKEY0000000001/');
    clients.destroy();
  });
});
