import { afterEach, describe, expect, it } from 'vitest';
import { discoverAccounts } from '../../../src/actions/aws/discover-accounts.js';
import { restrictOidcTrust } from '../../../src/actions/aws/restrict-oidc-trust.js';
import { revokeRoleSessions } from '../../../src/actions/aws/revoke-role-sessions.js';
import { findRoles } from '../../../src/actions/aws/find-roles.js';
import huntCloudtrail from '../../../src/actions/aws/hunt-cloudtrail.js';
import { planAndApply, startAwsLab, type AwsLabHarness } from '../../helpers/aws-context.js';

const MANAGEMENT = '123456789012';
const STAGING = '210987654321';
const LEGACY = '333344445555';

const githubTrust = (account: string, sub: string) => ({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { Federated: `arn:aws:iam::${account}:oidc-provider/token.actions.githubusercontent.com` },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com' }, StringLike: { 'token.actions.githubusercontent.com:sub': sub } },
    },
  ],
});

/** A responder who may assume roles and describe regions, and nothing of Organizations or the Account API. */
const LIMITED_KEY = { accessKeyId: 'AKIALIMITEDRESPONDR1', secretAccessKey: 'limitedResponderSecretKey000000000000000' };

/** The tj-actions shape: `deploy` in the management account and a same-named, wider `deploy` in staging; legacy was invited (no access role). */
function scenario(options: { organization?: boolean } = {}) {
  return {
    name: 'accounts',
    description: 'multi-account discovery',
    aws: {
      accounts: [
        {
          id: MANAGEMENT,
          roles: [{ name: 'deploy', trust_policy: githubTrust(MANAGEMENT, 'repo:acme/app:ref:refs/heads/main') }],
          users: [
            {
              name: 'limited-responder',
              access_keys: [{ id: LIMITED_KEY.accessKeyId, secret: LIMITED_KEY.secretAccessKey, created: '-30d' }],
              inline_policies: { limited: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['sts:AssumeRole', 'ec2:DescribeRegions', 'iam:ListRoles'], Resource: '*' }] } },
            },
          ],
        },
        { id: STAGING, regions: ['us-east-1', 'eu-west-1'], roles: [{ name: 'deploy', trust_policy: githubTrust(STAGING, 'repo:acme/*') }] },
        { id: LEGACY },
      ],
      ...(options.organization === false
        ? {}
        : { organization: { management_account: MANAGEMENT, members: [{ id: STAGING, name: 'acme-staging' }, { id: LEGACY, name: 'acme-legacy', access_role: null }] } }),
    },
  };
}

let harness: AwsLabHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('aws.discover-accounts in the lab', () => {
  it('finds the organization’s accounts, assumes the access role in each and lists their enabled regions', async () => {
    harness = await startAwsLab(scenario());
    const { ctx, recorded } = harness.context();
    // When the accounts are discovered with the default role name
    const { input, result } = await planAndApply(discoverAccounts, ctx, {});
    // Then the management account is searched with its own credentials, staging through its access role
    expect(result.outputs.accounts).toEqual([
      { account: MANAGEMENT, regions: ['us-east-1'] },
      { account: STAGING, assume_role: `arn:aws:iam::${STAGING}:role/OrganizationAccountAccessRole`, regions: ['eu-west-1', 'us-east-1'] },
    ]);
    // And the invited account without that role is a coverage gap, never silently skipped
    expect(result.outputs.unreachable).toEqual([LEGACY]);
    expect(result.findings).toEqual([expect.objectContaining({ kind: 'coverage-gap', severity: 'high', resource: `aws:account/${LEGACY}` })]);
    expect(result.findings![0]!.summary).toMatch(/not searched: assuming arn:aws:iam::333344445555:role\/OrganizationAccountAccessRole failed/);
    // And the step does not call that success
    const verdict = await discoverAccounts.verify(ctx, input, result);
    expect(verdict).toMatchObject({ verified: false });
    expect(verdict.detail).toContain(LEGACY);
    // And the session in staging names the incident
    const assume = harness.labCtx.trail.all().find((event) => event.eventName === 'AssumeRole' && (event.requestParameters as Record<string, string>).roleArn.includes(STAGING));
    expect(assume?.requestParameters).toMatchObject({ roleSessionName: 'cicd-ir-IR-test' });
    expect(recorded.calls.filter((call) => call.service === 'organizations').map((call) => call.operation)).toEqual(['ListAccounts']);
  });

  it('outside an organization falls back to the given accounts and says so, with no gap', async () => {
    harness = await startAwsLab(scenario({ organization: false }));
    const { ctx, recorded } = harness.context();
    const { result } = await planAndApply(discoverAccounts, ctx, { accounts: [], regions: ['us-east-1'] });
    expect(result.outputs.accounts).toEqual([{ account: MANAGEMENT, regions: ['us-east-1'] }]);
    expect(result.findings).toEqual([]);
    expect(recorded.logs.some((line) => /in no organization/.test(line.message))).toBe(true);
  });

  it('with ListAccounts and ListRegions denied: a gap for the unlisted organization, DescribeRegions for the regions', async () => {
    harness = await startAwsLab(scenario());
    const { ctx } = harness.context({ credentials: LIMITED_KEY });
    const { result } = await planAndApply(discoverAccounts, ctx, {});
    // The organization could not be listed: the other accounts are unknown, which is OPEN
    expect(result.findings).toEqual([expect.objectContaining({ kind: 'coverage-gap', resource: `aws:organization/${MANAGEMENT}` })]);
    expect(result.findings![0]!.summary).toMatch(/AccessDenied/);
    // The regions came from ec2:DescribeRegions after account:ListRegions was denied
    expect(result.outputs.accounts).toEqual([{ account: MANAGEMENT, regions: ['us-east-1'] }]);
    // Naming the accounts is the responder's way out: then no organization gap
    const named = await planAndApply(discoverAccounts, ctx, { accounts: [STAGING] });
    expect(named.result.findings).toEqual([]);
    expect(named.result.outputs.account_ids).toEqual([MANAGEMENT, STAGING]);
  });

  it('routes a role ARN of another account to that account (and searches it) with the role assumed there', async () => {
    harness = await startAwsLab(scenario());
    const { ctx } = harness.context();
    // Organizations not asked: only the ARN can bring STAGING in
    const { result } = await planAndApply(discoverAccounts, ctx, { organization: false, roles: [`arn:aws:iam::${STAGING}:role/deploy`, 'deploy'], regions: ['us-east-1'] });
    expect(result.outputs.role_targets).toEqual([
      { role: `arn:aws:iam::${STAGING}:role/deploy`, account: STAGING, assume_role: `arn:aws:iam::${STAGING}:role/OrganizationAccountAccessRole` },
      { role: `arn:aws:iam::${MANAGEMENT}:role/deploy`, account: MANAGEMENT },
    ]);
    // STAGING is searched because the ARN names it (no organization listing, no --account)
    expect(result.outputs.account_ids).toEqual([MANAGEMENT, STAGING]);
  });
});

describe('a role ARN is honoured exactly', () => {
  it('restricts the named role in its own account, never the same-named role of the credentials’ account', async () => {
    harness = await startAwsLab(scenario());
    const { ctx } = harness.context();
    const before = harness.lab.state.role(MANAGEMENT, 'deploy')!.trustPolicy;
    // When the staging role is given by ARN, through the access role there
    const { result } = await planAndApply(restrictOidcTrust, ctx, {
      role: `arn:aws:iam::${STAGING}:role/deploy`,
      assume_role: 'OrganizationAccountAccessRole',
      repos: ['acme/app'],
    });
    // Then staging's deploy denies the repository and the management account's deploy is untouched
    expect(result.outputs.role_arn).toBe(`arn:aws:iam::${STAGING}:role/deploy`);
    expect(harness.lab.state.role(STAGING, 'deploy')!.trustPolicy).toContain('"Deny"');
    expect(harness.lab.state.role(MANAGEMENT, 'deploy')!.trustPolicy).toBe(before);
  });

  it('refuses an ARN of another account it has no role to reach, before any change anywhere', async () => {
    harness = await startAwsLab(scenario());
    const { ctx } = harness.context();
    const before = [harness.lab.state.role(MANAGEMENT, 'deploy')!.trustPolicy, harness.lab.state.role(STAGING, 'deploy')!.trustPolicy];
    // Given only the ARN (the bug: this used to act on MANAGEMENT's deploy)
    for (const action of [restrictOidcTrust, revokeRoleSessions] as const) {
      const input = action.schema.parse({ role: `arn:aws:iam::${STAGING}:role/deploy`, ...(action === restrictOidcTrust ? { repos: ['acme/app'] } : {}) });
      await expect(action.plan(ctx, input as never)).rejects.toThrow(new RegExp(`account ${STAGING} was asked for, but the credentials are in account ${MANAGEMENT}`));
    }
    expect([harness.lab.state.role(MANAGEMENT, 'deploy')!.trustPolicy, harness.lab.state.role(STAGING, 'deploy')!.trustPolicy]).toEqual(before);
    expect(harness.lab.state.role(MANAGEMENT, 'deploy')!.inlinePolicies.has('AWSRevokeOlderSessions')).toBe(false);
    // And an ARN that disagrees with the step's account is invalid input
    const invalid = restrictOidcTrust.schema.safeParse({ role: `arn:aws:iam::${STAGING}:role/deploy`, account: MANAGEMENT, repos: ['acme/app'] });
    expect(invalid.success).toBe(false);
    expect(JSON.stringify(invalid.error?.issues)).toMatch(/role is in account 210987654321 but the step acts in account 123456789012/);
  });

  it('finds roles in each account and hands out targets that act in that account', async () => {
    harness = await startAwsLab(scenario());
    const { ctx } = harness.context();
    const staging = await planAndApply(findRoles, ctx, { repos: ['acme/app'], account: STAGING, assume_role: `arn:aws:iam::${STAGING}:role/OrganizationAccountAccessRole` });
    expect(staging.result.outputs.targets).toEqual([{ role: `arn:aws:iam::${STAGING}:role/deploy`, account: STAGING, assume_role: `arn:aws:iam::${STAGING}:role/OrganizationAccountAccessRole` }]);
    const own = await planAndApply(findRoles, ctx, { repos: ['acme/app'] });
    expect(own.result.outputs.targets).toEqual([{ role: `arn:aws:iam::${MANAGEMENT}:role/deploy`, account: MANAGEMENT }]);
  });
});

describe('aws.hunt-cloudtrail per account and region', () => {
  it('hunts in the assumed account; a region it cannot read is a coverage gap and the step is unverified', async () => {
    harness = await startAwsLab(scenario());
    const { ctx, recorded } = harness.context();
    // me-south-1 is an opt-in region staging never enabled: CloudTrail there does not know the session
    const { input, result } = await planAndApply(huntCloudtrail, ctx, {
      account: STAGING,
      assume_role: 'OrganizationAccountAccessRole',
      regions: ['us-east-1', 'me-south-1'],
      oidc_subjects: ['repo:acme/app:ref:refs/heads/main'],
    });
    expect(result.outputs.regions).toEqual(['us-east-1']);
    expect(result.outputs.regions_not_hunted).toEqual(['me-south-1']);
    expect(result.findings).toContainEqual(expect.objectContaining({ kind: 'coverage-gap', severity: 'high', resource: `aws:region/${STAGING}/me-south-1` }));
    expect(recorded.calls.filter((call) => call.operation === 'LookupEvents').every((call) => call.target === STAGING)).toBe(true);
    const verdict = await huntCloudtrail.verify(ctx, input, result);
    expect(verdict).toMatchObject({ verified: false });
    expect(verdict.detail).toMatch(/me-south-1 in account 210987654321 could not be read/);
  });
});
