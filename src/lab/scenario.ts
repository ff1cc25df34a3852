import { z } from 'zod';

/**
 * Lab scenarios (`scenarios/*.yaml`): the world at lab start and the attacker's script.
 *
 * Times are offsets from the moment the lab starts (`-95m`, `-2h`, `+30s`, `-5d`), so a
 * scenario replays the same way on any day, and the product's real clock (which it uses for
 * the `aws:TokenIssueTime` cutoff) agrees with the lab's.
 *
 * DRAFT CONTRACT: the GitHub part is owned by src/lab/github, the AWS part and the attacker by
 * src/lab/aws. Both may add fields; keep the schema strict so a typo in a scenario is exit 2.
 */

/** `-95m`, `+4m`, `0s`, `-5d`, `-1h30m`. */
export const Offset = z
  .string()
  .regex(/^[+-]?(\d+(ms|s|m|h|d))+$/, 'an offset like -95m, +4m, -5d or -1h30m');

export const SecretValue = z.object({ name: z.string().min(1), value: z.string().min(1) }).strict();

export const Job = z
  .object({
    id: z.number().int().optional(),
    name: z.string(),
    status: z.enum(['queued', 'in_progress', 'completed']).default('completed'),
    conclusion: z.enum(['success', 'failure', 'cancelled', 'skipped']).nullable().optional(),
    started_at: Offset,
    completed_at: Offset.optional(),
    /** The AWS role session this job's OIDC token was exchanged for (id in aws.sessions). */
    aws_session: z.string().optional(),
  })
  .strict();

export const Run = z
  .object({
    id: z.number().int(),
    workflow: z.string().describe('workflow path, e.g. .github/workflows/deploy.yml'),
    event: z.string().default('push'),
    actor: z.string(),
    head_branch: z.string().default('main'),
    head_sha: z.string().regex(/^[0-9a-f]{40}$/),
    status: z.enum(['queued', 'in_progress', 'completed', 'waiting', 'requested', 'pending']).default('completed'),
    conclusion: z.string().nullable().optional(),
    created_at: Offset,
    /** The run ignores cancel (a runner that does not answer): only force-cancel stops it. */
    ignores_cancel: z.boolean().default(false),
    jobs: z.array(Job).default([]),
    /** Log text per job name (the zip GET .../runs/{id}/logs returns). */
    logs: z.record(z.string(), z.string()).optional(),
  })
  .strict();

export const Workflow = z
  .object({
    id: z.number().int().optional(),
    path: z.string().regex(/^\.github\/workflows\/[^/]+\.ya?ml$/),
    name: z.string().optional(),
    state: z.enum(['active', 'disabled_manually', 'disabled_inactivity']).default('active'),
    /** The workflow YAML itself, inline. */
    content: z.string().optional(),
    /** Or a file, relative to the scenario file. */
    file: z.string().optional(),
  })
  .strict();

export const Repo = z
  .object({
    full_name: z.string().regex(/^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/),
    id: z.number().int().optional(),
    private: z.boolean().default(false),
    default_branch: z.string().default('main'),
    actions_enabled: z.boolean().default(true),
    workflows: z.array(Workflow).default([]),
    secrets: z.array(SecretValue).default([]),
    environments: z.array(z.object({ name: z.string(), secrets: z.array(SecretValue).default([]) }).strict()).default([]),
    deploy_keys: z
      .array(z.object({ id: z.number().int().optional(), title: z.string(), key: z.string(), read_only: z.boolean().default(true) }).strict())
      .default([]),
    runs: z.array(Run).default([]),
    /** Other files in the repo (CODEOWNERS, reusable workflows called with `uses:`). */
    files: z.record(z.string(), z.string()).default({}),
    /** Actions caches (`GET/DELETE .../actions/caches`): what a poisoned cache looks like to the responder. */
    caches: z
      .array(
        z
          .object({
            id: z.number().int().optional(),
            key: z.string().min(1),
            ref: z.string().default('refs/heads/main'),
            size_in_bytes: z.number().int().min(0).default(1024),
            created_at: Offset.default('-1d'),
            last_accessed_at: Offset.optional(),
          })
          .strict(),
      )
      .default([]),
    /** Commit history (`GET .../commits?path=`): when a workflow file was last changed, and files added. */
    commits: z
      .array(
        z
          .object({
            sha: z.string().regex(/^[0-9a-f]{40}$/),
            message: z.string().default('update'),
            author: z.string(),
            at: Offset,
            files: z.array(z.object({ path: z.string(), status: z.enum(['added', 'modified', 'removed']).default('modified') }).strict()).default([]),
          })
          .strict(),
      )
      .default([]),
    /**
     * The repo's OIDC `sub` customization (`GET/PUT .../actions/oidc/customization/sub`):
     * custom claim keys, and the immutable `repo:org@id/repo@id` subject format (FACTS.md).
     */
    oidc: z
      .object({
        use_default: z.boolean().default(true),
        include_claim_keys: z.array(z.string().regex(/^\w+$/)).default([]),
        use_immutable_subject: z.boolean().default(false),
      })
      .strict()
      .optional(),
  })
  .strict();

export const Org = z
  .object({
    login: z.string(),
    secrets: z
      .array(
        SecretValue.extend({
          visibility: z.enum(['all', 'private', 'selected']).default('all'),
          selected_repositories: z.array(z.string()).default([]),
        }).strict(),
      )
      .default([]),
  })
  .strict();

export const GitHubWorld = z
  .object({
    orgs: z.array(Org).default([]),
    repos: z.array(Repo).default([]),
    /** Tokens that exist (PATs, OAuth): POST /credentials/revoke revokes them. */
    tokens: z.array(z.object({ value: z.string(), kind: z.string().default('pat'), owner: z.string().optional() }).strict()).default([]),
    /**
     * GitHub Apps installed in the lab: `POST /app/installations/{id}/access_tokens` accepts a JWT
     * signed with the private key matching `public_key` (PEM) and mints an installation token.
     */
    apps: z
      .array(
        z
          .object({
            id: z.number().int(),
            slug: z.string().default('cicd-ir-responder'),
            installation_id: z.number().int(),
            public_key: z.string().includes('PUBLIC KEY'),
          })
          .strict(),
      )
      .default([]),
  })
  .strict();

const PolicyDocument = z.union([z.string(), z.record(z.string(), z.unknown())]);

export const AccessKey = z
  .object({
    id: z.string().regex(/^AKIA[A-Z0-9]{12,}$/),
    secret: z.string().min(20),
    status: z.enum(['Active', 'Inactive']).default('Active'),
    created: Offset,
    last_used: Offset.optional(),
  })
  .strict();

export const Role = z
  .object({
    name: z.string(),
    path: z.string().default('/'),
    trust_policy: PolicyDocument,
    inline_policies: z.record(z.string(), PolicyDocument).default({}),
    /** Identity permissions of managed policies, inlined for the evaluator. */
    managed_policies: z.record(z.string(), PolicyDocument).default({}),
    service_linked: z.boolean().default(false),
    max_session_duration: z.number().int().default(3600),
  })
  .strict();

export const User = z
  .object({
    name: z.string(),
    path: z.string().default('/'),
    access_keys: z.array(AccessKey).default([]),
    inline_policies: z.record(z.string(), PolicyDocument).default({}),
    managed_policies: z.record(z.string(), PolicyDocument).default({}),
  })
  .strict();

/** A temporary credential that exists at lab start (a job's role session, say). */
export const Session = z
  .object({
    id: z.string(),
    account: z.string().regex(/^\d{12}$/),
    role: z.string(),
    session_name: z.string().default('GitHubActions'),
    access_key_id: z.string().regex(/^ASIA[A-Z0-9]{12,}$/),
    secret: z.string().min(20),
    issued_at: Offset,
    duration_seconds: z.number().int().default(3600),
    /** How it was minted: the OIDC subject for AssumeRoleWithWebIdentity. */
    oidc_subject: z.string().optional(),
    source_ip: z.string().default('4.148.0.10'),
    user_agent: z.string().default('aws-sdk-js/3 configure-aws-credentials'),
  })
  .strict();

export const Account = z
  .object({
    id: z.string().regex(/^\d{12}$/),
    alias: z.string().optional(),
    regions: z.array(z.string()).default(['us-east-1']),
    roles: z.array(Role).default([]),
    users: z.array(User).default([]),
    /** Raw CloudTrail records already in the trail at lab start (real recorded events welcome). */
    cloudtrail_history: z.array(z.record(z.string(), z.unknown())).default([]),
  })
  .strict();

/** One member account of an AWS Organization, as Organizations `ListAccounts` lists it. */
export const OrganizationMember = z
  .object({
    id: z.string().regex(/^\d{12}$/),
    name: z.string().min(1).optional(),
    email: z.string().min(3).optional(),
    status: z.enum(['ACTIVE', 'SUSPENDED', 'PENDING_CLOSURE']).default('ACTIVE'),
    /**
     * The role the management account may assume in it. Accounts created through Organizations
     * get `OrganizationAccountAccessRole` (AdministratorAccess, trusting the management account);
     * invited accounts get none: set null. The lab creates it in the member's `accounts` entry
     * unless one of that name is there already.
     */
    access_role: z.string().regex(/^[\w+=,.@-]{1,64}$/).nullable().default('OrganizationAccountAccessRole'),
  })
  .strict();

/** An AWS Organization: its management account (the responder's) and its members (other than the management account). */
export const Organization = z
  .object({
    management_account: z.string().regex(/^\d{12}$/),
    members: z.array(OrganizationMember).default([]),
  })
  .strict();

export const AwsWorld = z
  .object({
    accounts: z.array(Account).default([]),
    /** Organizations: which accounts `ListAccounts` shows, and the access role in each. Absent: the account is in no organization. */
    organization: Organization.optional(),
    sessions: z.array(Session).default([]),
    /**
     * IAM eventual consistency (FACTS.md: changes "may take a few minutes"): a successful IAM
     * write becomes visible to reads and to authorization this many ms later. 0 = at once.
     */
    propagation_delay_ms: z.number().int().min(0).optional(),
  })
  .strict()
  .superRefine((world, issues) => {
    const org = world.organization;
    if (!org) return;
    // The lab's responder is an administrator of the first account: the management account.
    if (world.accounts[0]?.id !== org.management_account) {
      issues.addIssue({ code: 'custom', path: ['organization', 'management_account'], message: 'the management account must be the first of aws.accounts (the responder is in it)' });
    }
    const seen = new Set([org.management_account]);
    org.members.forEach((member, index) => {
      if (seen.has(member.id)) issues.addIssue({ code: 'custom', path: ['organization', 'members', index, 'id'], message: `account ${member.id} is listed twice` });
      seen.add(member.id);
    });
  });

/** An npm package name (`name` or `@scope/name`). */
const NpmPackageName = z.string().regex(/^(@[a-z0-9._~-]+\/)?[a-z0-9._~-]+$/, 'an npm package name');

/**
 * The npm registry stand-in (src/lab/npm): the project's packages with their publish times,
 * and the account's tokens. `id` is the token's key (`GET /-/npm/v1/tokens` `key`); unset, it
 * is the sha512 hex of the value.
 */
export const NpmWorld = z
  .object({
    packages: z
      .array(
        z
          .object({
            name: NpmPackageName,
            versions: z.array(z.object({ version: z.string().min(1), published_at: Offset, published_by: z.string().optional() }).strict()).default([]),
          })
          .strict(),
      )
      .default([]),
    tokens: z
      .array(
        z
          .object({
            id: z.string().regex(/^[0-9a-f]{6,128}$/).optional(),
            value: z.string().min(8),
            readonly: z.boolean().default(false),
            automation: z.boolean().default(false),
            created: Offset.default('-30d'),
            /** The npm account it belongs to (default the project's, `account` below). Another account's token is not in the responder's list. */
            account: z.string().min(1).optional(),
          })
          .strict(),
      )
      .default([]),
    /** The project's npm account: the responder's token belongs to it, and so does every token without an `account`. */
    account: z.string().min(1).default('lab-publisher'),
  })
  .strict();

/** The params of an `npm:publish` step: what `npm publish` of that version sends. */
export const NpmPublishParams = z.object({ package: NpmPackageName, version: z.string().min(1) }).strict();

/** The npm calls the lab's registry plays (src/lab/npm); any other `npm:` call is a typo. */
const NPM_CALLS = new Set(['npm:publish']);

/** One thing the attacker does with a stolen credential. */
export const AttackerStep = z
  .object({
    /**
     * Who makes the call: the attacker, or the legitimate workload (a job's own calls with its
     * session, so hunts have to tell them apart from the attacker's).
     */
    actor: z.enum(['attacker', 'workload']).default('attacker'),
    /** `history`: happened before the responders arrived (at `at`); `after-containment`: played by drills after contain. */
    phase: z.enum(['history', 'after-containment']).default('history'),
    at: Offset.optional(),
    /**
     * A session id (aws.sessions), an access key id (AKIA...), or `oidc:<subject>` to re-assume;
     * for `github:` and `npm:` steps a token value, or (npm) the name of the secret that holds it.
     */
    credential: z.string(),
    /**
     * `iam:CreateAccessKey`, `s3:ListBuckets`, `sts:AssumeRoleWithWebIdentity`, `github:GET /repos/{o}/{r}`,
     * `npm:publish` (params `{package, version}`).
     */
    call: z.string(),
    params: z.record(z.string(), z.unknown()).default({}),
    region: z.string().default('us-east-1'),
    source_ip: z.string().default('203.0.113.66'),
    user_agent: z.string().default('python-requests/2.31.0'),
    /** Name for what the call produces (a new key, a session), usable as `credential` later. */
    as: z.string().optional(),
    /**
     * `after-containment` steps: what a correct containment leads to (`denied`); a drill flags a
     * step whose outcome differs. `history` steps: what happened (`success` unless stated).
     */
    expect: z.enum(['success', 'denied']).optional(),
    /** Why the step is there / what the responder must do about it (for tabletop readers). */
    note: z.string().optional(),
  })
  .strict()
  .superRefine((step, issues) => {
    // npm steps are played against the lab registry: a wrong call or param must fail at load, at its line.
    if (!step.call.toLowerCase().startsWith('npm:')) return;
    if (!NPM_CALLS.has(step.call)) {
      issues.addIssue({ code: z.ZodIssueCode.custom, path: ['call'], message: `the lab's npm registry plays ${[...NPM_CALLS].join(', ')}, not ${step.call}` });
      return;
    }
    const params = NpmPublishParams.safeParse(step.params);
    if (!params.success) for (const issue of params.error.issues) issues.addIssue({ ...issue, path: ['params', ...issue.path] });
  });

export const Scenario = z
  .object({
    name: z.string(),
    description: z.string(),
    /** Which incident of INCIDENT_TIMELINES.md it is modelled on. */
    modelled_on: z.string().optional(),
    /** Seed for ids, keys, fault injection: the same seed replays the same run. */
    seed: z.number().int().default(1),
    github: GitHubWorld.default({ orgs: [], repos: [], tokens: [], apps: [] }),
    aws: AwsWorld.default({ accounts: [], sessions: [] }),
    attacker: z.array(AttackerStep).default([]),
    /** The npm registry (optional: only scenarios about a published package need it). */
    npm: NpmWorld.optional(),
    /** What `contain --lab` passes as flags when the scenario is run with no others. */
    incident: z
      .object({
        repos: z.array(z.string()),
        workflow: z.string(),
        roles: z.array(z.string()).default([]),
        since: Offset.optional(),
        /** IAM user whose static key the workflow's secrets hold (contain rotates it as leaked). */
        aws_user: z.string().optional(),
        /** Secret names (repo, environment or org) holding that user's key id and secret key, when not AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. */
        /** Other workflows of the first repo whose secrets the attacker reached (contain --also-workflow). */
        also_workflows: z.array(z.string()).default([]),
        aws_key_id_secret: z.string().optional(),
        aws_secret_key_secret: z.string().optional(),
        /**
         * Leaked GitHub tokens (values) the responders hold from their scan: `contain --lab` and
         * drills write them to a tokens file (0600, in a temp folder) for github.revoke-tokens.
         */
        leaked_tokens: z.array(z.string().min(1)).default([]),
        /** npm packages the workflow publishes (contain --npm-package): their window's versions are audited. */
        npm_packages: z.array(z.string()).default([]),
        /** The workflow of the first repo that publishes them, when not the contained one (contain --npm-release-workflow). */
        npm_release_workflow: z.string().optional(),
      })
      .strict()
      .optional(),
    /** What `cicd-ir drill` expects beyond "everything closed, every after-containment step denied". */
    drill: z
      .object({
        /**
         * Credentials the containment playbook cannot close (a token nobody holds: it was exfiltrated, not printed), by name as
         * the report lists them (`NPM_TOKEN`) or as attacker steps name them. The drill requires the
         * report to list each as OPEN (never pretend), and after-containment steps that use only
         * these succeed as expected.
         */
        expect_open: z.array(z.string().min(1)).default([]),
        /**
         * Kinds of critical finding only a human can close (`untrusted-trigger`: the workflow's
         * `pull_request_target` trigger must be rewritten; the playbook only disables it). The
         * containment verdict keeps them open (exit 3); the drill requires each to be listed among
         * its open items and does not count it against time-to-contain.
         */
        expect_findings: z.array(z.string().min(1)).default([]),
      })
      .strict()
      .optional(),
  })
  .strict();

export type Scenario = z.infer<typeof Scenario>;

/** Parses an offset (`-95m`, `+1h30m`) to milliseconds. */
export function offsetMs(offset: string): number {
  const sign = offset.startsWith('-') ? -1 : 1;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  let total = 0;
  for (const match of offset.replace(/^[+-]/, '').matchAll(/(\d+)(ms|s|m|h|d)/g)) {
    total += Number(match[1]) * units[match[2]!]!;
  }
  return sign * total;
}

/** One GitHub secret of a scenario, with where it lives. */
export interface ScenarioSecret {
  name: string;
  value: string;
  scope: 'environment' | 'repo' | 'org';
}

/**
 * Every GitHub secret of a scenario, the most specific first (environment, repository, then
 * organization secrets), the order in which GitHub lets one shadow another of the same name.
 */
export function scenarioSecrets(github: Scenario['github']): ScenarioSecret[] {
  return [
    ...github.repos.flatMap((r) => r.environments.flatMap((e) => e.secrets.map((s) => ({ name: s.name, value: s.value, scope: 'environment' as const })))),
    ...github.repos.flatMap((r) => r.secrets.map((s) => ({ name: s.name, value: s.value, scope: 'repo' as const }))),
    ...github.orgs.flatMap((o) => o.secrets.map((s) => ({ name: s.name, value: s.value, scope: 'org' as const }))),
  ];
}

/**
 * The value an attacker step's `credential` stands for, when it names a secret (`NPM_TOKEN`):
 * that secret's value (the most specific one, see scenarioSecrets); otherwise the credential is
 * the value itself.
 */
export function resolveSecretCredential(github: Scenario['github'], credential: string): string {
  return scenarioSecrets(github).find((secret) => secret.name === credential)?.value ?? credential;
}
