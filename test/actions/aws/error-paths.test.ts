import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  CreateAccessKeyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  LimitExceededException,
  ListAccessKeysCommand,
  ListRolePoliciesCommand,
  MalformedPolicyDocumentException,
  NoSuchEntityException,
  PutRolePolicyCommand,
  UnmodifiableEntityException,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { revokeRoleSessions } from '../../../src/actions/aws/revoke-role-sessions.js';
import { restrictOidcTrust } from '../../../src/actions/aws/restrict-oidc-trust.js';
import { rotateAccessKey } from '../../../src/actions/aws/rotate-access-key.js';
import { StepFailedError } from '../../../src/engine/errors.js';
import type { ProviderConfig } from '../../../src/providers/config.js';
import { actionContext, planAndApply } from '../../helpers/aws-context.js';
import { githubTrust } from './fixtures.js';

const iam = mockClient(IAMClient);
const meta = { $metadata: { httpStatusCode: 400, requestId: 'req-mock' } };

const config: ProviderConfig = {
  dryRun: false,
  incident: 'IR-mock',
  github: {},
  aws: { region: 'us-east-1', credentials: { accessKeyId: 'AKIAMOCK000000000001', secretAccessKey: 'mockmockmockmockmockmockmockmock000001' } },
};

beforeEach(() => {
  iam.reset();
});

afterEach(() => {
  iam.reset();
});

function roleExists(path = '/') {
  iam.on(GetRoleCommand).resolves({
    Role: {
      RoleName: 'deploy',
      Path: path,
      Arn: 'arn:aws:iam::111122223333:role/deploy',
      RoleId: 'AROAMOCK',
      CreateDate: new Date(),
      AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify(githubTrust('repo:acme/app:ref:refs/heads/main'))),
    },
  });
  iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: [], IsTruncated: false });
  iam.on(GetRolePolicyCommand).rejects(new NoSuchEntityException({ message: 'The role policy with name AWSRevokeOlderSessions cannot be found.', ...meta }));
}

describe('AWS action error paths (aws-sdk-client-mock)', () => {
  it('NoSuchEntity on the role: a clear "not found", no write', async () => {
    // Given IAM answers NoSuchEntity for the role
    iam.on(GetRoleCommand).rejects(new NoSuchEntityException({ message: 'The role with name ghost cannot be found.', ...meta }));
    const { ctx } = actionContext({ config });
    // When planned / Then the step fails naming the role, with the request id
    const error = await revokeRoleSessions.plan(ctx, revokeRoleSessions.schema.parse({ role: 'ghost' })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StepFailedError);
    expect((error as Error).message).toMatch(/role ghost: not found .*request id req-mock/);
    expect(iam.commandCalls(PutRolePolicyCommand)).toHaveLength(0);
  });

  it('UnmodifiableEntity on PutRolePolicy (a service-linked role not recognised by path): explained', async () => {
    roleExists('/');
    iam.on(PutRolePolicyCommand).rejects(new UnmodifiableEntityException({ message: 'Cannot perform the operation on the protected role', ...meta }));
    const { ctx } = actionContext({ config });
    await expect(planAndApply(revokeRoleSessions, ctx, { role: 'deploy' })).rejects.toThrow(/service-linked role/);
  });

  it('LimitExceeded on PutRolePolicy: one call, a clear error, no retry', async () => {
    roleExists('/');
    iam.on(PutRolePolicyCommand).rejects(new LimitExceededException({ message: 'Cannot exceed quota for PolicySize: 10240', ...{ $metadata: { httpStatusCode: 409 } } }));
    const { ctx } = actionContext({ config });
    const error = await planAndApply(revokeRoleSessions, ctx, { role: 'deploy' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StepFailedError);
    expect((error as Error).message).toContain('LimitExceeded');
    expect((error as Error).message).toContain('did not retry');
    expect(iam.commandCalls(PutRolePolicyCommand)).toHaveLength(1);
  });

  it('MalformedPolicyDocument on UpdateAssumeRolePolicy: IAM’s reason is shown', async () => {
    roleExists('/');
    iam.on(UpdateAssumeRolePolicyCommand).rejects(new MalformedPolicyDocumentException({ message: 'Invalid principal in policy', ...meta }));
    const { ctx } = actionContext({ config });
    await expect(planAndApply(restrictOidcTrust, ctx, { role: 'deploy', subjects: ['repo:acme/app:*'] })).rejects.toThrow(/rejected the policy document: Invalid principal/);
  });

  it('LimitExceeded on CreateAccessKey (a key appeared since the plan): nothing is deactivated', async () => {
    iam.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [{ AccessKeyId: 'AKIAOLDKEY0000000001', Status: 'Active', UserName: 'u', CreateDate: new Date() }] });
    iam.on(CreateAccessKeyCommand).rejects(new LimitExceededException({ message: 'Cannot exceed quota for AccessKeysPerUser: 2', $metadata: { httpStatusCode: 409 } }));
    const { ctx } = actionContext({ config });
    await expect(planAndApply(rotateAccessKey, ctx, { user: 'u' })).rejects.toThrow(/AccessKeysPerUser/);
    expect(iam.commandCalls(CreateAccessKeyCommand)).toHaveLength(1);
    expect(iam.calls().map((call) => (call.args[0] as object).constructor.name)).not.toContain('UpdateAccessKeyCommand');
  });
});
