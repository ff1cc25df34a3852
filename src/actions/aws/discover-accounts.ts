import { ListAccountsCommand, type Account } from '@aws-sdk/client-organizations';
import { ListRegionsCommand } from '@aws-sdk/client-account';
import { DescribeRegionsCommand } from '@aws-sdk/client-ec2';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { z } from 'zod';
import { defineAction, type Finding } from '../define.js';
import type { ActionContext, AwsTarget } from '../../engine/context.js';
import { CicdIrError } from '../../engine/errors.js';
import { awsErrorCode } from '../../aws/errors.js';
import { principalField, roleRef } from '../../aws/target.js';
import { stepError } from './shared/step.js';

const AccountId = z.string().regex(/^\d{12}$/, 'a 12-digit AWS account id');
const Region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region like us-east-1');

const schema = z
  .object({
    /** Accounts to search besides the credentials' own and the organization's (contain --account). */
    accounts: z.array(AccountId).default([]),
    /** Ask Organizations for every account (ListAccounts); denied or not in an organization: say so and go on. */
    organization: z.boolean().default(true),
    /** The role assumed in each other account (contain --assume-role-name). */
    assume_role_name: z.string().regex(/^[\w+=,.@-]{1,64}$/, 'a role name').default('OrganizationAccountAccessRole'),
    /** Regions to hunt in every account (contain --region); empty: each account's enabled regions. */
    regions: z.array(Region).default([]),
    /** Roles named by the responder (contain --role): each routed to the account its ARN names. */
    roles: z.array(principalField('role')).default([]),
  })
  .strict();

type Input = z.infer<typeof schema>;

/** One account to work in: its id, the role assumed there (absent: the credentials' own), its regions. */
export interface AccountTarget {
  account: string;
  assume_role?: string;
  regions: string[];
}

interface Discovery {
  own: string;
  accounts: AccountTarget[];
  unreachable: Array<{ account: string; reason: string }>;
  /** How the list was made (for the log and verify). */
  sources: string[];
  findings: Finding[];
}

const ENABLED = ['ENABLED', 'ENABLED_BY_DEFAULT'] as const;

function messageOf(error: unknown): string {
  const code = awsErrorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

/**
 * Whether an error says the account or operation is closed to these credentials (a coverage gap)
 * rather than that the network or the service failed for now (thrown, so the step retries).
 */
function isRefusal(error: unknown): boolean {
  const code = awsErrorCode(error) ?? '';
  return /AccessDenied|Unauthorized|InvalidClientTokenId|UnrecognizedClient|NoSuchEntity|AWSOrganizationsNotInUse|OptInRequired|AuthFailure|ExpiredToken|landed in account/.test(`${code} ${error instanceof Error ? error.message : ''}`);
}

/** A transient failure: fail the step so its retry runs, instead of calling the account unreachable. */
function transient(ctx: ActionContext, what: string, error: unknown): never {
  throw stepError(ctx, `${what}: ${messageOf(error)}`, { cause: error });
}

/** Runs `fn` over `items`, at most `limit` at once, in order of results. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Organizations ListAccounts, every page; `undefined` with the reason when not available. */
async function listOrganization(ctx: ActionContext): Promise<{ accounts: Account[] } | { unavailable: 'not-in-organization' | 'denied'; reason: string }> {
  if (!ctx.clients.organizations) return { unavailable: 'denied', reason: 'no Organizations client' };
  const client = ctx.clients.organizations();
  const accounts: Account[] = [];
  let token: string | undefined;
  try {
    do {
      const page = await client.send(new ListAccountsCommand({ ...(token ? { NextToken: token } : {}) }), { abortSignal: ctx.signal });
      accounts.push(...(page.Accounts ?? []));
      token = page.NextToken;
    } while (token);
  } catch (error) {
    if (error instanceof CicdIrError) throw error;
    if (!isRefusal(error)) transient(ctx, 'organizations:ListAccounts', error);
    const code = awsErrorCode(error);
    if (code === 'AWSOrganizationsNotInUse') return { unavailable: 'not-in-organization', reason: messageOf(error) };
    return { unavailable: 'denied', reason: messageOf(error) };
  }
  return { accounts };
}

/** The regions to hunt in one account: given, else account:ListRegions, else ec2:DescribeRegions. */
async function regionsOf(ctx: ActionContext, input: Input, target: AwsTarget | undefined, account: string): Promise<{ regions: string[]; gap?: Finding }> {
  if (input.regions.length > 0) return { regions: [...input.regions] };
  const problems: string[] = [];
  if (ctx.clients.account) {
    try {
      const regions: string[] = [];
      let token: string | undefined;
      do {
        const page = await ctx.clients
          .account(target)
          .send(new ListRegionsCommand({ RegionOptStatusContains: [...ENABLED], ...(token ? { NextToken: token } : {}) }), { abortSignal: ctx.signal });
        for (const region of page.Regions ?? []) if (region.RegionName && ENABLED.includes(region.RegionOptStatus as (typeof ENABLED)[number])) regions.push(region.RegionName);
        token = page.NextToken;
      } while (token);
      if (regions.length > 0) return { regions: [...new Set(regions)].sort() };
      problems.push('account:ListRegions listed no enabled region');
    } catch (error) {
      if (error instanceof CicdIrError) throw error;
      if (!isRefusal(error)) transient(ctx, `account:ListRegions in ${account}`, error);
      problems.push(`account:ListRegions: ${messageOf(error)}`);
    }
  }
  if (ctx.clients.ec2) {
    try {
      // Without AllRegions, DescribeRegions lists the regions enabled for the account.
      const answer = await ctx.clients.ec2(ctx.clients.config.aws.region ?? 'us-east-1', target).send(new DescribeRegionsCommand({}), { abortSignal: ctx.signal });
      const regions = (answer.Regions ?? []).filter((region) => region.OptInStatus !== 'not-opted-in').flatMap((region) => (region.RegionName ? [region.RegionName] : []));
      if (regions.length > 0) return { regions: [...new Set(regions)].sort() };
      problems.push('ec2:DescribeRegions listed no region');
    } catch (error) {
      if (error instanceof CicdIrError) throw error;
      if (!isRefusal(error)) transient(ctx, `ec2:DescribeRegions in ${account}`, error);
      problems.push(`ec2:DescribeRegions: ${messageOf(error)}`);
    }
  }
  const fallback = ctx.clients.config.aws.region ?? 'us-east-1';
  return {
    regions: [fallback],
    gap: {
      kind: 'coverage-gap',
      severity: 'high',
      resource: `aws:account/${account}`,
      summary: `the enabled regions of account ${account} could not be listed (${problems.join('; ') || 'no client'}): only ${fallback} is hunted; hunt the others by hand or give --region`,
    },
  };
}

async function discover(ctx: ActionContext, input: Input): Promise<Discovery> {
  const findings: Finding[] = [];
  const sources: string[] = [];
  let own: string;
  try {
    const identity = await ctx.clients.sts().send(new GetCallerIdentityCommand({}), { abortSignal: ctx.signal });
    own = identity.Account ?? '';
  } catch (error) {
    if (error instanceof CicdIrError) throw error;
    throw stepError(ctx, `sts:GetCallerIdentity: the AWS credentials do not work: ${messageOf(error)}`, { cause: error, suggestions: ['check AWS_PROFILE / --profile, or run aws sts get-caller-identity'] });
  }
  if (!/^\d{12}$/.test(own)) throw stepError(ctx, 'sts:GetCallerIdentity did not say which account the credentials are in');

  const wanted = new Map<string, string>([[own, 'the credentials’ account']]);
  for (const account of input.accounts) if (!wanted.has(account)) wanted.set(account, '--account');
  for (const role of input.roles) {
    const account = roleRef(role).accountId;
    if (account && !wanted.has(account)) wanted.set(account, `the account of ${role}`);
  }
  if (input.organization) {
    const org = await listOrganization(ctx);
    if ('accounts' in org) {
      const active = org.accounts.filter((account) => account.Id && (account.Status === undefined || account.Status === 'ACTIVE'));
      for (const account of active) if (!wanted.has(account.Id!)) wanted.set(account.Id!, `organization${account.Name ? ` (${account.Name})` : ''}`);
      const inactive = org.accounts.filter((account) => account.Id && account.Status !== undefined && account.Status !== 'ACTIVE');
      for (const account of inactive) ctx.log(`organization account ${account.Id} is ${account.Status}: not searched`, 'info');
      sources.push(`Organizations: ${org.accounts.length} account(s), ${active.length} active`);
    } else if (org.unavailable === 'not-in-organization') {
      sources.push('not in an organization');
      ctx.log(`Organizations: the credentials' account ${own} is in no organization; searching ${[...wanted.keys()].join(', ')}`, 'info');
    } else {
      sources.push('Organizations ListAccounts denied');
      ctx.log(`Organizations ListAccounts failed (${org.reason}): only ${[...wanted.keys()].join(', ')} are searched; name the others with --account`, 'warn');
      // Not knowing the other accounts is a gap unless the responder named the accounts to search.
      if (input.accounts.length === 0) {
        findings.push({
          kind: 'coverage-gap',
          severity: 'high',
          resource: `aws:organization/${own}`,
          summary: `the organization's accounts could not be listed (${org.reason}): roles in other accounts that trust the repositories were not searched; give them with --account, or use credentials of the management account`,
        });
      }
    }
  }
  if (input.accounts.length) sources.push(`--account: ${input.accounts.length}`);

  const unreachable: Discovery['unreachable'] = [];
  const accounts = await mapLimit([...wanted.keys()], 8, async (account): Promise<AccountTarget | undefined> => {
    const assumeRole = account === own ? undefined : `arn:aws:iam::${account}:role/${input.assume_role_name}`;
    const target: AwsTarget | undefined = assumeRole ? { accountId: account, roleArn: assumeRole } : undefined;
    if (assumeRole) {
      // Proves the assumed role works (and where it lands) before anything is planned there.
      try {
        const identity = await ctx.clients.sts(target).send(new GetCallerIdentityCommand({}), { abortSignal: ctx.signal });
        if (identity.Account !== account) throw new Error(`assuming ${assumeRole} landed in account ${identity.Account}`);
      } catch (error) {
        if (error instanceof CicdIrError) throw error;
        if (!isRefusal(error)) transient(ctx, `assuming ${assumeRole}`, error);
        const reason = messageOf(error);
        unreachable.push({ account, reason });
        findings.push({
          kind: 'coverage-gap',
          severity: 'high',
          resource: `aws:account/${account}`,
          summary: `account ${account} (${wanted.get(account)}) was not searched: assuming ${assumeRole} failed (${reason}); its roles may still trust the compromised repositories`,
        });
        return undefined;
      }
    }
    const { regions, gap } = await regionsOf(ctx, input, target, account);
    if (gap) findings.push(gap);
    return { account, ...(assumeRole ? { assume_role: assumeRole } : {}), regions };
  });
  return { own, accounts: accounts.filter((account): account is AccountTarget => account !== undefined), unreachable, sources, findings };
}

/** Each role the responder named, with the account it is in and the role assumed there. */
function roleTargets(input: Input, discovery: Pick<Discovery, 'own'>): Array<{ role: string; account: string; assume_role?: string }> {
  return input.roles.map((role) => {
    const ref = roleRef(role);
    const account = ref.accountId ?? discovery.own;
    const arn = ref.accountId ? role : `arn:aws:iam::${account}:role/${ref.name}`;
    return { role: arn, account, ...(account === discovery.own ? {} : { assume_role: `arn:aws:iam::${account}:role/${input.assume_role_name}` }) };
  });
}

/**
 * Finds the AWS accounts a containment works in: the credentials' own, every active account of
 * the organization (Organizations ListAccounts, when allowed), the accounts given, and the
 * accounts of role ARNs given. It assumes the named role in each other account (the session
 * name names the incident), proves it works, and lists each account's enabled regions
 * (account:ListRegions, else ec2:DescribeRegions) unless regions are given. An account or region
 * list it could not reach is journalled as a `coverage-gap` finding and the step is unverified:
 * an account not searched is never reported as clean. Read-only: runs in dry runs too.
 */
export const discoverAccounts = defineAction({
  id: 'aws.discover-accounts',
  summary: 'Find the AWS accounts to contain (Organizations, given accounts), assume a role in each and list their enabled regions.',
  schema,
  permissions: ['sts:GetCallerIdentity', 'organizations:ListAccounts', 'sts:AssumeRole', 'account:ListRegions', 'ec2:DescribeRegions'],
  mutating: false,
  outputs: {
    accounts: 'per reachable account: {account, assume_role (absent for the credentials’ own), regions}: for_each over it',
    account_ids: 'ids of the reachable accounts',
    unreachable: 'ids of the accounts that could not be searched (coverage gaps)',
    role_targets: 'the roles given, each as {role (ARN), account, assume_role}: acted on in their own account',
    own_account: 'the account of the credentials',
    gaps: 'what could not be searched (each also a coverage-gap finding): accounts, organization listing, region lists',
  },
  example: { accounts: ['210987654321'], assume_role_name: 'OrganizationAccountAccessRole' },

  async plan(ctx, input) {
    const discovery = await discover(ctx, input);
    return {
      changes: [],
      calls: [
        { service: 'sts', operation: 'GetCallerIdentity', params: {}, mutating: false },
        ...(input.organization ? [{ service: 'organizations', operation: 'ListAccounts', params: {}, mutating: false }] : []),
        ...discovery.accounts.filter((account) => account.assume_role).map((account) => ({ service: 'sts', operation: 'AssumeRole', params: { RoleArn: account.assume_role }, mutating: false, target: account.account })),
      ],
      findings: discovery.findings,
      state: discovery,
    };
  },

  async apply(ctx, input, plan) {
    const discovery = (plan.state as Discovery | undefined) ?? (await discover(ctx, input));
    return {
      changed: false,
      outputs: {
        accounts: discovery.accounts,
        account_ids: discovery.accounts.map((account) => account.account),
        unreachable: discovery.unreachable.map((entry) => entry.account),
        role_targets: roleTargets(input, discovery),
        own_account: discovery.own,
        gaps: discovery.findings.map((finding) => finding.summary),
      },
      findings: discovery.findings,
    };
  },

  async verify(_ctx, _input, result) {
    const accounts = (result.outputs.accounts as AccountTarget[] | undefined) ?? [];
    const gaps = (result.outputs.gaps as string[] | undefined) ?? [];
    const regions = accounts.reduce((sum, account) => sum + account.regions.length, 0);
    const searched = `${accounts.length} account(s) to search (${accounts.map((account) => account.account).join(', ')}), ${regions} region(s) to hunt`;
    if (gaps.length > 0) return { verified: false, detail: `${searched}; NOT covered: ${gaps.join(' | ')}` };
    return { verified: true, detail: searched };
  },
});
