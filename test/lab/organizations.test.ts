import { AccessDeniedException, AWSOrganizationsNotInUseException, ListAccountsCommand, OrganizationsClient, paginateListAccounts } from '@aws-sdk/client-organizations';
import { AccountClient, ListRegionsCommand } from '@aws-sdk/client-account';
import { DescribeRegionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterEach, describe, expect, it } from 'vitest';
import { startAwsLab, type AwsLabHarness } from '../helpers/aws-context.js';

const MANAGEMENT = '123456789012';
const CREATED = '210987654321';
const INVITED = '333344445555';

/** A management account, a member created through Organizations (it has the access role) and an invited one (it has none). */
function orgScenario(organization = true) {
  return {
    name: 'org',
    description: 'an organization',
    aws: {
      accounts: [
        { id: MANAGEMENT, alias: 'acme-prod', regions: ['us-east-1'] },
        { id: CREATED, alias: 'acme-staging', regions: ['us-east-1', 'eu-west-1', 'af-south-1'] },
        { id: INVITED, alias: 'acme-legacy' },
      ],
      ...(organization
        ? { organization: { management_account: MANAGEMENT, members: [{ id: CREATED, name: 'acme-staging' }, { id: INVITED, name: 'acme-legacy', access_role: null }] } }
        : {}),
    },
  };
}

let harness: AwsLabHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** The SDK clients a responder would build, pointed at the lab (only endpoints differ). */
function clients(h: AwsLabHarness, credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) {
  const config = h.config();
  const base = { region: 'us-east-1', credentials: credentials ?? config.aws.credentials!, maxAttempts: 1 };
  return {
    organizations: new OrganizationsClient({ ...base, endpoint: config.aws.endpoints!.organizations! }),
    account: new AccountClient({ ...base, endpoint: config.aws.endpoints!.account! }),
    ec2: new EC2Client({ ...base, endpoint: config.aws.endpoints!.ec2! }),
    sts: new STSClient({ ...base, endpoint: config.aws.endpoints!.sts! }),
    cloudtrail: (region: string) => new CloudTrailClient({ ...base, region, endpoint: config.aws.endpoints!.cloudtrail! }),
  };
}

async function assume(h: AwsLabHarness, account: string) {
  const { Credentials } = await clients(h).sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/OrganizationAccountAccessRole`, RoleSessionName: 'cicd-ir-IR-test' }));
  return { accessKeyId: Credentials!.AccessKeyId!, secretAccessKey: Credentials!.SecretAccessKey!, sessionToken: Credentials!.SessionToken! };
}

describe('the lab organization through the real SDK clients', () => {
  it('lists the organization’s accounts to the management account, page by page (AWS JSON 1.1)', async () => {
    harness = await startAwsLab(orgScenario());
    // When the management account lists its organization one account a page
    const pages = [];
    for await (const page of paginateListAccounts({ client: clients(harness).organizations, pageSize: 1 }, {})) pages.push(page);
    // Then every account comes back, with the fields the SDK deserialises
    expect(pages).toHaveLength(3);
    const accounts = pages.flatMap((page) => page.Accounts ?? []);
    expect(accounts.map((account) => [account.Id, account.Name, account.Status])).toEqual([
      [MANAGEMENT, 'acme-prod', 'ACTIVE'],
      [CREATED, 'acme-staging', 'ACTIVE'],
      [INVITED, 'acme-legacy', 'ACTIVE'],
    ]);
    expect(accounts[1]!.JoinedTimestamp).toBeInstanceOf(Date);
    // And the call is in the management account's trail
    expect(harness.labCtx.trail.all().some((event) => event.eventSource === 'organizations.amazonaws.com' && event.eventName === 'ListAccounts')).toBe(true);
  });

  it('refuses ListAccounts to a member account and answers NotInUse without an organization', async () => {
    harness = await startAwsLab(orgScenario());
    const member = await assume(harness, CREATED);
    // A member's administrator may not list the organization
    await expect(clients(harness, member).organizations.send(new ListAccountsCommand({}))).rejects.toBeInstanceOf(AccessDeniedException);
    await harness.close();
    // An account in no organization
    harness = await startAwsLab(orgScenario(false));
    await expect(clients(harness).organizations.send(new ListAccountsCommand({}))).rejects.toBeInstanceOf(AWSOrganizationsNotInUseException);
  });

  it('lets the management account assume OrganizationAccountAccessRole in a created member, not in an invited one', async () => {
    harness = await startAwsLab(orgScenario());
    const member = await assume(harness, CREATED);
    const identity = await clients(harness, member).sts.send(new GetCallerIdentityCommand({}));
    expect(identity.Account).toBe(CREATED);
    expect(identity.Arn).toBe(`arn:aws:sts::${CREATED}:assumed-role/OrganizationAccountAccessRole/cicd-ir-IR-test`);
    // The invited account has no such role: AccessDenied, as AWS says for a missing role
    await expect(assume(harness, INVITED)).rejects.toMatchObject({ name: 'AccessDenied' });
  });

  it('lists each account’s enabled regions (account:ListRegions, ec2:DescribeRegions) and refuses a disabled opt-in region', async () => {
    harness = await startAwsLab(orgScenario());
    const member = clients(harness, await assume(harness, CREATED));
    // account:ListRegions with the enabled statuses
    const listed = await member.account.send(new ListRegionsCommand({ RegionOptStatusContains: ['ENABLED', 'ENABLED_BY_DEFAULT'] }));
    expect(listed.Regions?.map((region) => [region.RegionName, region.RegionOptStatus])).toEqual([
      ['af-south-1', 'ENABLED'],
      ['eu-west-1', 'ENABLED_BY_DEFAULT'],
      ['us-east-1', 'ENABLED_BY_DEFAULT'],
    ]);
    // Unfiltered, the disabled opt-in regions are there too
    const all = await member.account.send(new ListRegionsCommand({}));
    expect(all.Regions?.find((region) => region.RegionName === 'me-south-1')?.RegionOptStatus).toBe('DISABLED');
    // ec2:DescribeRegions lists the enabled ones (query protocol, <item> lists)
    const described = await member.ec2.send(new DescribeRegionsCommand({}));
    expect(described.Regions?.map((region) => region.RegionName)).toEqual(['af-south-1', 'eu-west-1', 'us-east-1']);
    expect(described.Regions?.[0]?.OptInStatus).toBe('opted-in');
    // CloudTrail in an opt-in region the account has not enabled does not know the credential
    await expect(member.cloudtrail('me-south-1').send(new LookupEventsCommand({ MaxResults: 1 }))).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
  });

  it('shows each account only its own CloudTrail events', async () => {
    harness = await startAwsLab(orgScenario());
    const member = clients(harness, await assume(harness, CREATED));
    // Given the member's GetCallerIdentity and the management account's AssumeRole
    await member.sts.send(new GetCallerIdentityCommand({}));
    const theirs = await member.cloudtrail('us-east-1').send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'GetCallerIdentity' }] }));
    const ours = await clients(harness).cloudtrail('us-east-1').send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'GetCallerIdentity' }] }));
    // Then the member sees its call and the management account does not
    expect(theirs.Events?.length).toBe(1);
    expect(JSON.parse(theirs.Events![0]!.CloudTrailEvent!).recipientAccountId).toBe(CREATED);
    expect(ours.Events ?? []).toEqual([]);
  });
});
