import fc from 'fast-check';
import { seededRandom } from '../../src/lab/context.js';
import { evaluate } from '../../src/lab/aws/policy.js';
import { stableId } from '../../src/lab/github/world.js';
import { Scenario } from '../../src/lab/scenario.js';

/**
 * Generated incident worlds: small lab scenarios (src/lab/scenario.ts) of a compromised GitHub
 * Actions workflow, drawn by fast-check. What varies is what makes containment hard:
 *
 * - 1–3 AWS accounts; OIDC roles whose trust is exact (a branch), repository-wide, org-wide, an
 *   environment, the immutable-id form (`repo:org@123/repo@456:*`), typed in another case, or
 *   another repository's; roles named on the command line by name or ARN, or left to discovery;
 * - a role chained from a job's role (its trust names that role), assumed by the attacker;
 * - IAM users with 1–2 keys, whose key sits in the workflow's secrets (repository, environment
 *   or org `selected`) and/or is printed in the job log;
 * - other secrets at every scope, referenced by the workflow or not, printed or not;
 * - a GitHub token and an npm token, printed or only in secrets, held by the responders or not;
 * - the attacker minting a key, reading Secrets Manager, chaining into a role;
 * - a repository typed in another case on the command line, a sibling repository (a legitimate
 *   workload sharing org-wide roles), a run still in progress;
 * - a lab fault profile (src/lab/faults.ts).
 *
 * A world is its parameters (what fast-check draws and shrinks) and the scenario built from them.
 */

export const ACCOUNT_IDS = ['123456789012', '210987654321', '345678901234'] as const;

export type TrustKind = 'branch' | 'repo-wildcard' | 'org-wildcard' | 'environment' | 'immutable' | 'mixed-case' | 'pull-request' | 'other-repo';
export type SecretScope = 'repo' | 'environment' | 'org-selected' | 'org-all';

export interface RoleParams {
  account: number;
  trust: TrustKind;
  /** Passed as --role: by name or by ARN; or found by discovery only. */
  named: 'no' | 'name' | 'arn';
  /** Its policy lets the session mint IAM user keys (iam:CreateAccessKey on user/*). */
  canMintKeys: boolean;
}

export interface UserParams {
  account: number;
  keys: 1 | 2;
  /** Where its first key's id and secret live: the workflow's secrets, printed in the log too, or nowhere the attacker reaches. */
  exposure: 'secret' | 'secret-and-log' | 'log' | 'none';
  scope: SecretScope;
}

export interface GenericSecretParams {
  name: 'DB_PASSWORD' | 'API_KEY' | 'SLACK_WEBHOOK' | 'SIGNING_KEY';
  scope: SecretScope;
  referenced: boolean;
  printed: boolean;
}

export interface WorldParams {
  seed: number;
  org: 'acme' | 'GlobexCorp' | 'Initech-Labs';
  repo: 'payments' | 'Payments' | 'fleet-api' | 'Web.App';
  /** How --repo is typed: GitHub's casing, or lower case. */
  flagCase: 'exact' | 'lower';
  immutableSubject: boolean;
  privateRepo: boolean;
  /** The job runs in this environment (its secrets and `environment:` subject). */
  environment: 'none' | 'prod' | 'staging';
  siblingRepo: boolean;
  accounts: 1 | 2 | 3;
  /**
   * The accounts are one AWS Organization (the first is its management account, where the
   * responder's credentials are). `role`: members made through Organizations, with
   * OrganizationAccountAccessRole; `none`: invited members without it (the responder cannot get
   * in: each is a coverage gap). Absent: `role`.
   */
  memberAccess?: 'role' | 'none';
  roles: RoleParams[];
  chained: { fromRole: number; account: number } | null;
  users: UserParams[];
  secrets: GenericSecretParams[];
  githubToken: { inSecret: boolean; printed: boolean; heldByResponders: boolean } | null;
  npmToken: { printed: boolean } | null;
  attacker: { mintKey: boolean; readSecret: boolean; useStaticKey: boolean };
  inProgressRun: boolean;
  faults: 'none' | 'flaky-github' | 'aws-throttled';
}

export interface World {
  params: WorldParams;
  /** A valid scenario (Scenario.parse accepts it). */
  scenario: Record<string, unknown>;
  faults: WorldParams['faults'];
}

const scopeArb = fc.constantFrom<SecretScope>('repo', 'environment', 'org-selected', 'org-all');

/** One of the values, drawn with the given weights (shrinks toward the first). */
function weighted<T>(...choices: Array<[T, number]>): fc.Arbitrary<T> {
  return fc.oneof(...choices.map(([value, weight]) => ({ arbitrary: fc.constant(value), weight })));
}

export const worldParams: fc.Arbitrary<WorldParams> = fc
  .record({
    seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
    org: fc.constantFrom('acme' as const, 'GlobexCorp' as const, 'Initech-Labs' as const),
    repo: fc.constantFrom('payments' as const, 'Payments' as const, 'fleet-api' as const, 'Web.App' as const),
    flagCase: weighted<'exact' | 'lower'>(['exact', 3], ['lower', 1]),
    immutableSubject: weighted([false, 3], [true, 1]),
    privateRepo: fc.boolean(),
    environment: weighted<'none' | 'prod' | 'staging'>(['none', 2], ['prod', 1], ['staging', 1]),
    siblingRepo: fc.boolean(),
    accounts: fc.constantFrom(1 as const, 2 as const, 3 as const),
    memberAccess: weighted<'role' | 'none'>(['role', 4], ['none', 1]),
    roles: fc.array(
      fc.record({
        account: weighted([0, 2], [1, 1], [2, 1]),
        trust: fc.constantFrom<TrustKind>('branch', 'repo-wildcard', 'org-wildcard', 'environment', 'immutable', 'mixed-case', 'pull-request', 'other-repo'),
        named: weighted<'no' | 'name' | 'arn'>(['no', 3], ['name', 1], ['arn', 1]),
        canMintKeys: fc.boolean(),
      }),
      { minLength: 1, maxLength: 4 },
    ),
    chained: fc.option(fc.record({ fromRole: fc.nat({ max: 3 }), account: fc.nat({ max: 2 }) }), { nil: null }),
    users: fc.array(
      fc.record({
        account: weighted([0, 4], [1, 1], [2, 1]),
        keys: weighted<1 | 2>([1, 3], [2, 1]),
        exposure: fc.constantFrom('secret' as const, 'secret-and-log' as const, 'log' as const, 'none' as const),
        scope: scopeArb,
      }),
      { maxLength: 2 },
    ),
    secrets: fc.uniqueArray(
      fc.record({
        name: fc.constantFrom('DB_PASSWORD' as const, 'API_KEY' as const, 'SLACK_WEBHOOK' as const, 'SIGNING_KEY' as const),
        scope: scopeArb,
        referenced: weighted([false, 2], [true, 1]),
        printed: fc.boolean(),
      }),
      { maxLength: 2, selector: (s) => s.name },
    ),
    githubToken: fc.option(fc.record({ inSecret: fc.boolean(), printed: fc.boolean(), heldByResponders: fc.boolean() }), { nil: null, freq: 2 }),
    npmToken: fc.option(fc.record({ printed: fc.boolean() }), { nil: null, freq: 2 }),
    attacker: fc.record({ mintKey: fc.boolean(), readSecret: fc.boolean(), useStaticKey: fc.boolean() }),
    inProgressRun: fc.boolean(),
    faults: fc.constantFrom('none' as const, 'none' as const, 'none' as const, 'none' as const, 'flaky-github' as const, 'aws-throttled' as const),
  })
  .map((params) => ({
    ...params,
    // Accounts the world does not have fold onto those it has.
    roles: params.roles.map((role) => ({ ...role, account: role.account % params.accounts })),
    users: params.users.map((user) => ({ ...user, account: user.account % params.accounts })),
    chained: params.chained && { fromRole: params.chained.fromRole % params.roles.length, account: params.chained.account % params.accounts },
  }));

/** Deterministic strings from the world's seed. */
function valueSource(seed: number): { upper(n: number): string; mixed(n: number): string } {
  const random = seededRandom(seed);
  const pick = (alphabet: string, n: number) => Array.from({ length: n }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
  return { upper: (n) => pick('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', n), mixed: (n) => pick('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', n) };
}

const OIDC = 'token.actions.githubusercontent.com';
const WORKFLOW = '.github/workflows/deploy.yml';

function oidcTrust(account: string, condition: 'StringEquals' | 'StringLike', sub: string): Record<string, unknown> {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: `arn:aws:iam::${account}:oidc-provider/${OIDC}` },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: { StringEquals: { [`${OIDC}:aud`]: 'sts.amazonaws.com' }, [condition]: { [`${OIDC}:sub`]: sub } },
      },
    ],
  };
}

/** Builds the scenario of a world's parameters (pure: the same parameters give the same scenario). */
export function buildWorld(params: WorldParams): World {
  const values = valueSource(params.seed);
  const owner = params.org;
  const fullName = `${owner}/${params.repo}`;
  const repoId = 700_000_000 + (params.seed % 99_999_999);
  const orgId = stableId(`cicd-ir-lab:${params.seed}`, `org:${owner}`, 1_000_000, 90_000_000);
  const siblingName = `${owner}/billing`;
  const env = params.environment === 'none' ? undefined : params.environment;
  const accounts = ACCOUNT_IDS.slice(0, params.accounts);
  const prefix = params.immutableSubject ? `repo:${owner}@${orgId}/${params.repo}@${repoId}` : `repo:${fullName}`;
  const jobSubject = env ? `${prefix}:environment:${env}` : `${prefix}:ref:refs/heads/main`;

  // Roles: names unique across the world, so a name alone is ambiguous only by account.
  const roles = params.roles.map((role, index) => {
    const account = accounts[role.account]!;
    const name = `deploy-${index}`;
    const trust = (() => {
      switch (role.trust) {
        case 'branch':
          return oidcTrust(account, 'StringEquals', `${prefix}:ref:refs/heads/main`);
        case 'repo-wildcard':
          return oidcTrust(account, 'StringLike', `repo:${fullName}:*`);
        case 'org-wildcard':
          return oidcTrust(account, 'StringLike', `repo:${owner}/*`);
        case 'environment':
          return oidcTrust(account, 'StringEquals', `${prefix}:environment:${env ?? 'prod'}`);
        case 'immutable':
          return oidcTrust(account, 'StringLike', `repo:${owner}@${orgId}/${params.repo}@${repoId}:*`);
        case 'mixed-case':
          return oidcTrust(account, 'StringLike', `repo:${fullName.toLowerCase()}:*`);
        case 'pull-request':
          return oidcTrust(account, 'StringEquals', `${prefix}:pull_request`);
        case 'other-repo':
          return oidcTrust(account, 'StringLike', `repo:${siblingName}:*`);
      }
    })();
    const statements: Record<string, unknown>[] = [
      { Effect: 'Allow', Action: ['s3:ListAllMyBuckets', 's3:GetObject'], Resource: '*' },
      { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: `arn:aws:secretsmanager:us-east-1:${account}:secret:prod/*` },
    ];
    if (role.canMintKeys) statements.push({ Effect: 'Allow', Action: ['iam:CreateAccessKey', 'iam:ListAccessKeys'], Resource: `arn:aws:iam::${account}:user/*` });
    if (params.chained && params.chained.fromRole === index) statements.push({ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' });
    return { account, name, arn: `arn:aws:iam::${account}:role/${name}`, trust, statements, params: role };
  });
  const admits = (trust: Record<string, unknown>, account: string, sub: string) =>
    evaluate({
      principal: { type: 'Federated', id: `arn:aws:iam::${account}:oidc-provider/${OIDC}` },
      action: 'sts:AssumeRoleWithWebIdentity',
      resource: '*',
      context: { [`${OIDC}:sub`]: sub, [`${OIDC}:aud`]: 'sts.amazonaws.com' },
      identityPolicies: [],
      resourcePolicy: trust,
    }) === 'allow';
  // The job's session: of the first role that admits the job's subject (none: the job had no AWS session).
  const sessionRole = roles.find((role) => admits(role.trust, role.account, jobSubject));

  const chained = params.chained && roles[params.chained.fromRole] && {
    account: accounts[params.chained.account]!,
    name: 'chained-admin',
    from: roles[params.chained.fromRole]!,
  };

  // Users and their keys.
  const users = params.users.map((user, index) => ({
    ...user,
    name: `ci-user-${index}`,
    accountId: accounts[user.account]!,
    keys: Array.from({ length: user.keys }, () => ({ id: `AKIA${values.upper(16)}`, secret: values.mixed(40) })),
  }));

  // Secrets of each scope: repo, environment, org (selected to the repo, or all).
  const repoSecrets: Array<{ name: string; value: string }> = [];
  const envSecrets: Array<{ name: string; value: string }> = [];
  const orgSecrets: Array<{ name: string; value: string; visibility: 'all' | 'selected'; selected_repositories: string[] }> = [];
  const referenced: string[] = [];
  const printedLines: string[] = [];
  /** Secrets the compromised step dumps (double base64 of `{"NAME":{"value":...}}` lines, as tj-actions did). */
  const dumped: Record<string, string> = {};
  const place = (name: string, value: string, scope: SecretScope) => {
    // An environment secret needs the job's environment; without one it is a repository secret.
    if (scope === 'environment' && env) envSecrets.push({ name, value });
    else if (scope === 'org-selected') orgSecrets.push({ name, value, visibility: 'selected', selected_repositories: [fullName] });
    else if (scope === 'org-all') orgSecrets.push({ name, value, visibility: 'all', selected_repositories: [] });
    else repoSecrets.push({ name, value });
  };
  let awsUser: (typeof users)[number] | undefined;
  for (const user of users) {
    const key = user.keys[0]!;
    if ((user.exposure === 'secret' || user.exposure === 'secret-and-log') && !awsUser) {
      awsUser = user;
      place('AWS_ACCESS_KEY_ID', key.id, user.scope);
      place('AWS_SECRET_ACCESS_KEY', key.secret, user.scope);
      referenced.push('AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY');
    }
    // A key in a config file the job cats (not a GitHub secret: not masked), or a dumped secret.
    if (user.exposure === 'log') printedLines.push(`aws_access_key_id = ${key.id}`, `aws_secret_access_key = ${key.secret}`);
    if (user.exposure === 'secret-and-log' && awsUser === user) Object.assign(dumped, { AWS_ACCESS_KEY_ID: key.id, AWS_SECRET_ACCESS_KEY: key.secret });
  }
  for (const secret of params.secrets) {
    const value = `${secret.name.toLowerCase()}-${values.mixed(24)}`;
    place(secret.name, value, secret.scope);
    // GitHub masks the secrets a job receives: a log prints one only encoded (the tj-actions
    // double base64), and only one the job received (referenced).
    if (secret.referenced) referenced.push(secret.name);
    if (secret.referenced && secret.printed) dumped[secret.name] = value;
  }
  const githubToken = params.githubToken && { ...params.githubToken, value: `ghp_${values.mixed(36)}` };
  if (githubToken) {
    if (githubToken.inSecret) {
      place('RELEASE_PAT', githubToken.value, 'repo');
      referenced.push('RELEASE_PAT');
    }
    if (githubToken.printed) {
      if (githubToken.inSecret) dumped.RELEASE_PAT = githubToken.value;
      else printedLines.push(`git remote set-url origin https://x-access-token:${githubToken.value}@github.com/${fullName}`);
    }
  }
  const npmToken = params.npmToken && { ...params.npmToken, value: `npm_${values.mixed(36)}` };
  if (npmToken) {
    place('NPM_TOKEN', npmToken.value, 'repo');
    referenced.push('NPM_TOKEN');
    if (npmToken.printed) dumped.NPM_TOKEN = npmToken.value;
  }
  if (Object.keys(dumped).length > 0) {
    const json = Object.entries(dumped).map(([name, value]) => `${JSON.stringify(name)}:{"value":${JSON.stringify(value)},"isSecret":true}`).join('\n');
    printedLines.push(Buffer.from(Buffer.from(json).toString('base64')).toString('base64'));
  }

  const workflow = [
    'name: Deploy',
    'on:',
    '  push:',
    '    branches: [main]',
    'jobs:',
    '  deploy:',
    '    runs-on: ubuntu-latest',
    ...(env ? [`    environment: ${env}`] : []),
    '    permissions:',
    '      id-token: write',
    '      contents: read',
    '    steps:',
    '      - uses: actions/checkout@v4',
    ...(sessionRole ? ['      - uses: aws-actions/configure-aws-credentials@v4', '        with:', `          role-to-assume: ${sessionRole.arn}`, '          aws-region: us-east-1'] : []),
    '      - run: ./deploy.sh',
    ...(referenced.length ? ['        env:', ...[...new Set(referenced)].map((name) => `          ${name}: \${{ secrets.${name} }}`)] : []),
    '',
  ].join('\n');

  const sessionId = 'job-session';
  const session = sessionRole && {
    id: sessionId,
    account: sessionRole.account,
    role: sessionRole.name,
    access_key_id: `ASIA${values.upper(16)}`,
    secret: values.mixed(40),
    issued_at: '-44m',
    duration_seconds: 3600,
    oidc_subject: jobSubject,
  };

  // The attacker's script, from what it holds.
  const attacker: Array<Record<string, unknown>> = [];
  if (session) attacker.push({ at: '-34m', credential: sessionId, call: 's3:ListBuckets' });
  // IAM allows two keys a user: a mint on a user with two fails (LimitExceeded), and there is no key to use.
  const mintTarget = sessionRole && sessionRole.params.canMintKeys ? users.find((user) => user.accountId === sessionRole.account && user.keys.length < 2) : undefined;
  if (params.attacker.mintKey && session && mintTarget) {
    attacker.push({ at: '-33m', credential: sessionId, call: 'iam:CreateAccessKey', params: { UserName: mintTarget.name }, as: 'minted-key' });
    if (params.attacker.readSecret) attacker.push({ at: '-32m', credential: 'minted-key', call: 'secretsmanager:GetSecretValue', params: { SecretId: 'prod/app/db-credentials' } });
  } else if (params.attacker.readSecret && session) {
    attacker.push({ at: '-32m', credential: sessionId, call: 'secretsmanager:GetSecretValue', params: { SecretId: 'prod/app/db-credentials' } });
  }
  if (chained && session && chained.from === sessionRole) {
    attacker.push({ at: '-31m', credential: sessionId, call: 'sts:AssumeRole', params: { RoleArn: `arn:aws:iam::${chained.account}:role/${chained.name}` }, as: 'chained-session' });
    attacker.push({ at: '-30m', credential: 'chained-session', call: 's3:ListBuckets' });
  }
  const leakedUser = users.find((user) => user.exposure !== 'none');
  if (params.attacker.useStaticKey && leakedUser) {
    attacker.push({ at: '-20m', credential: leakedUser.keys[0]!.id, call: 'sts:GetCallerIdentity' });
    attacker.push({ at: '-19m', credential: leakedUser.keys[0]!.id, call: 's3:ListBuckets' });
  }
  if (githubToken && (githubToken.printed || githubToken.inSecret)) attacker.push({ at: '-25m', credential: githubToken.value, call: `github:GET /repos/${fullName}` });

  const accountsOut = accounts.map((id) => ({
    id,
    roles: [
      ...roles
        .filter((role) => role.account === id)
        .map((role) => ({ name: role.name, trust_policy: role.trust, inline_policies: { permissions: { Version: '2012-10-17', Statement: role.statements } } })),
      ...(chained && chained.account === id
        ? [
            {
              name: chained.name,
              trust_policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: chained.from.arn }, Action: 'sts:AssumeRole' }] },
              inline_policies: { admin: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:*', 'secretsmanager:GetSecretValue'], Resource: '*' }] } },
            },
          ]
        : []),
    ],
    users: users
      .filter((user) => user.accountId === id)
      .map((user) => ({
        name: user.name,
        access_keys: user.keys.map((key, index) => ({ id: key.id, secret: key.secret, created: index === 0 ? '-200d' : '-20d', last_used: '-1h' })),
        inline_policies: {
          app: {
            Version: '2012-10-17',
            Statement: [
              { Effect: 'Allow', Action: ['s3:ListAllMyBuckets', 's3:PutObject'], Resource: '*' },
              { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: `arn:aws:secretsmanager:us-east-1:${id}:secret:prod/*` },
            ],
          },
        },
      })),
  }));

  const runs: Array<Record<string, unknown>> = [
    {
      id: 9_100_000_001,
      workflow: WORKFLOW,
      actor: 'dev-lee',
      head_sha: 'a'.repeat(40),
      conclusion: 'success',
      created_at: '-45m',
      jobs: [{ name: 'deploy', conclusion: 'success', started_at: '-44m', completed_at: '-38m', ...(session ? { aws_session: sessionId } : {}) }],
      logs: { deploy: ['##[group]Run ./deploy.sh', ...printedLines, 'deployed', '##[endgroup]', ''].join('\n') },
    },
  ];
  if (params.inProgressRun) {
    runs.push({ id: 9_100_000_002, workflow: WORKFLOW, actor: 'dev-lee', head_sha: 'b'.repeat(40), status: 'in_progress', conclusion: null, created_at: '-3m', jobs: [{ name: 'deploy', status: 'in_progress', conclusion: null, started_at: '-2m' }] });
  }

  const namedRoles = roles.filter((role) => role.params.named !== 'no').map((role) => (role.params.named === 'arn' ? role.arn : role.name));
  const scenario = {
    name: `world-${params.seed}`,
    description: 'A generated incident world (test/properties/worlds.ts).',
    seed: params.seed,
    github: {
      orgs: [{ login: owner, secrets: orgSecrets }],
      repos: [
        {
          full_name: fullName,
          id: repoId,
          private: params.privateRepo,
          workflows: [{ id: 81_000_001, path: WORKFLOW, name: 'Deploy', content: workflow }],
          secrets: repoSecrets,
          environments: [
            ...(env ? [{ name: env, secrets: envSecrets }] : []),
          ],
          runs,
          ...(params.immutableSubject ? { oidc: { use_default: true, include_claim_keys: [], use_immutable_subject: true } } : {}),
        },
        ...(params.siblingRepo ? [{ full_name: siblingName, id: repoId + 1, private: true }] : []),
      ],
      tokens: githubToken ? [{ value: githubToken.value, kind: 'pat', owner: 'release-bot' }] : [],
    },
    aws: {
      accounts: accountsOut,
      ...(accounts.length > 1
        ? { organization: { management_account: accounts[0]!, members: accounts.slice(1).map((id) => ({ id, ...(params.memberAccess === 'none' ? { access_role: null } : {}) })) } }
        : {}),
      sessions: session ? [session] : [],
    },
    attacker,
    ...(npmToken ? { npm: { packages: [{ name: `@${owner.toLowerCase()}/client`, versions: [{ version: '1.0.0', published_at: '-10d' }] }], tokens: [{ value: npmToken.value, automation: true }] } } : {}),
    incident: {
      repos: [params.flagCase === 'lower' ? fullName.toLowerCase() : fullName],
      workflow: WORKFLOW,
      roles: namedRoles,
      since: '-2h',
      ...(awsUser ? { aws_user: awsUser.name } : {}),
      ...(githubToken?.heldByResponders ? { leaked_tokens: [githubToken.value] } : {}),
    },
  };
  return { params, scenario, faults: params.faults };
}

/** Incident worlds: parameters drawn, the scenario built and checked against the lab's schema. */
export const worlds: fc.Arbitrary<World> = worldParams.map((params) => {
  const world = buildWorld(params);
  Scenario.parse(world.scenario);
  return world;
});
