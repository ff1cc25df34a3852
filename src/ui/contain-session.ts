import { fileURLToPath } from 'node:url';
import { UsageError } from '../engine/errors.js';
import { RepoName } from '../github/api.js';
import { principalField } from '../aws/target.js';
import type { RunResult } from '../engine/execute.js';
import type { Verdict } from '../report/model.js';
import type { RunningLab } from '../lab/index.js';
import { labIncident, withTokensFile } from './lab-session.js';
import { runSession, type SessionOptions, type Vars } from './run-session.js';
import { runVerdict, withVerdict } from './run-verdict.js';

export { runVerdict, withVerdict } from './run-verdict.js';

/** The shipped containment playbook, found from the package root (src/ or dist/ alike), not the cwd. */
export const CONTAIN_PLAYBOOK = fileURLToPath(new URL('../../playbooks/contain-compromised-workflow.yaml', import.meta.url));

/** When --since is not given: the last 24 hours. */
const DEFAULT_WINDOW_MS = 24 * 3_600_000;

/** What `contain` takes from its flags (each unset one comes from the lab scenario's incident block). */
export interface ContainFlags {
  repo?: string[];
  workflow?: string;
  'also-workflow'?: string[];
  role?: string[];
  account?: string[];
  'assume-role-name'?: string;
  region?: string[];
  'aws-user'?: string;
  'aws-key-id-secret'?: string;
  'aws-secret-key-secret'?: string;
  'tokens-file'?: string;
  'npm-package'?: string[];
  'npm-release-workflow'?: string;
  'keep-logs'?: boolean;
  'keep-caches'?: boolean;
  since?: string;
  incident?: string;
  resume?: string;
  latest?: boolean;
}

/** `contain`'s result: the run and its containment verdict (the open items, and the exit code they mean). */
export interface ContainResult extends RunResult {
  verdict: Verdict;
}

/**
 * The playbook inputs for `contain`: flags first, then the lab scenario's incident block.
 * Throws UsageError (exit 2) when the run cannot be named.
 */
export function containVars(flags: ContainFlags, lab: RunningLab | undefined, tokensFile: string | undefined): { vars: Vars; incident?: string } {
  if (flags.resume || flags.latest) return resumeVars(flags);
  const fromLab = lab ? labIncident(lab) : {};
  const repos = flags.repo ?? fromLab.repos;
  const workflow = flags.workflow ?? fromLab.workflow;
  const incident = flags.incident ?? fromLab.incident;
  if (!flags.resume && !flags.latest && (!repos?.length || !workflow || !incident)) {
    throw new UsageError('contain needs --repo, --workflow and --incident (or --lab with a scenario that names them)', [
      'e.g. cicd-ir contain --repo acme/web --workflow deploy.yml --incident IR-42 --dry-run',
    ]);
  }
  checkContainFlags(repos, workflow, flags.role, flags['aws-user']);
  checkAwsScopeFlags(flags);
  const since = flags.since ?? fromLab.since ?? new Date(Date.now() - DEFAULT_WINDOW_MS).toISOString();
  const awsUser = flags['aws-user'] ?? fromLab.awsUser;
  const alsoWorkflows = flags['also-workflow'] ?? fromLab.alsoWorkflows;
  const keyIdSecret = flags['aws-key-id-secret'] ?? fromLab.awsKeyIdSecret;
  const secretKeySecret = flags['aws-secret-key-secret'] ?? fromLab.awsSecretKeySecret;
  const tokens = flags['tokens-file'] ?? tokensFile;
  const npmPackages = flags['npm-package'] ?? fromLab.npmPackages;
  const npmReleaseWorkflow = flags['npm-release-workflow'] ?? fromLab.npmReleaseWorkflow;
  if (npmReleaseWorkflow !== undefined) checkWorkflow('--npm-release-workflow', npmReleaseWorkflow);
  const badPackages = (npmPackages ?? []).filter((name) => !NPM_PACKAGE.test(name));
  if (badPackages.length > 0) throw new UsageError(`--npm-package must be an npm package name (name or @scope/name, lower case): got ${badPackages.map((name) => JSON.stringify(name.slice(0, 80))).join(', ')}`, ['e.g. --npm-package @acme/web']);
  return {
    ...(incident && { incident }),
    vars: {
      ...(repos && { repos }),
      ...(workflow && { workflow }),
      ...(incident && { incident }),
      roles: flags.role ?? fromLab.roles ?? [],
      ...(flags.account?.length && { accounts: [...new Set(flags.account)] }),
      ...(flags['assume-role-name'] && { assume_role_name: flags['assume-role-name'] }),
      ...(flags.region?.length && { regions: [...new Set(flags.region)] }),
      since,
      ...(alsoWorkflows?.length && { also_workflows: alsoWorkflows }),
      ...(awsUser && { aws_user: awsUser }),
      ...(keyIdSecret && { aws_key_id_secret: keyIdSecret }),
      ...(secretKeySecret && { aws_secret_key_secret: secretKeySecret }),
      ...(tokens && { tokens_file: tokens }),
      ...(npmPackages?.length && { npm_packages: npmPackages }),
      ...(npmReleaseWorkflow && { npm_release_workflow: npmReleaseWorkflow }),
      ...(flags['keep-logs'] && { delete_logs: false }),
      ...(flags['keep-caches'] && { purge_caches: false }),
    },
  };
}

/** The command-line name of each playbook input `contain` sets (a resume's conflict names the flag). */
export const CONTAIN_FLAG_NAMES: Readonly<Record<string, string>> = {
  repos: '--repo',
  workflow: '--workflow',
  incident: '--incident',
  roles: '--role',
  accounts: '--account',
  assume_role_name: '--assume-role-name',
  regions: '--region',
  since: '--since',
  also_workflows: '--also-workflow',
  aws_user: '--aws-user',
  aws_key_id_secret: '--aws-key-id-secret',
  aws_secret_key_secret: '--aws-secret-key-secret',
  tokens_file: '--tokens-file',
  npm_packages: '--npm-package',
  npm_release_workflow: '--npm-release-workflow',
  delete_logs: '--keep-logs',
  purge_caches: '--keep-caches',
};

/**
 * On resume only the flags given on this command line are passed: the journal holds every input
 * of the run (no default is derived again: `--since` stays the journalled time, `--role` the
 * journalled roles), and runSession refuses a flag whose value differs from the journal's.
 */
function resumeVars(flags: ContainFlags): { vars: Vars; incident?: string } {
  checkContainFlags(flags.repo, flags.workflow, flags.role, flags['aws-user']);
  checkAwsScopeFlags(flags);
  const vars: Vars = {};
  const set = (name: string, value: string | string[] | boolean | undefined) => {
    if (value !== undefined) vars[name] = value;
  };
  set('repos', flags.repo);
  set('workflow', flags.workflow);
  set('roles', flags.role);
  set('accounts', flags.account && [...new Set(flags.account)]);
  set('assume_role_name', flags['assume-role-name']);
  set('regions', flags.region && [...new Set(flags.region)]);
  set('since', flags.since);
  set('also_workflows', flags['also-workflow']);
  set('aws_user', flags['aws-user']);
  set('aws_key_id_secret', flags['aws-key-id-secret']);
  set('aws_secret_key_secret', flags['aws-secret-key-secret']);
  set('tokens_file', flags['tokens-file']);
  set('npm_packages', flags['npm-package']);
  set('npm_release_workflow', flags['npm-release-workflow']);
  if (flags['keep-logs']) set('delete_logs', false);
  if (flags['keep-caches']) set('purge_caches', false);
  return { vars, ...(flags.incident && { incident: flags.incident }) };
}

/**
 * Bad input exits 2 before any API call: names are checked here, not when the first step that
 * uses them runs (by then other steps have called GitHub and AWS). GitHub caps owner names at
 * 39 characters and repository names at 100.
 */
function checkContainFlags(repos: readonly string[] | undefined, workflow: string | undefined, roles: readonly string[] | undefined, awsUser: string | undefined): void {
  const badRepos = (repos ?? []).filter((repo) => !RepoName.safeParse(repo).success || repo.split('/')[0]!.length > 39 || repo.split('/')[1]!.length > 100);
  if (badRepos.length > 0) {
    const shown = badRepos.map((repo) => JSON.stringify(repo.length > 80 ? `${repo.slice(0, 80)}…` : repo));
    throw new UsageError(`--repo must be owner/name (letters, digits, '.', '_', '-'; owner up to 39, name up to 100 characters): got ${shown.join(', ')}`, ['e.g. --repo acme/web']);
  }
  if (workflow !== undefined) checkWorkflow('--workflow', workflow);
  const badRoles = (roles ?? []).filter((role) => !principalField('role').safeParse(role).success);
  if (badRoles.length > 0) {
    throw new UsageError(`--role must be a role name or an IAM role ARN: got ${badRoles.map((role) => JSON.stringify(role.slice(0, 80))).join(', ')}`, [
      'e.g. --role deploy or --role arn:aws:iam::123456789012:role/deploy',
    ]);
  }
  if (awsUser !== undefined && !principalField('user').safeParse(awsUser).success) {
    throw new UsageError(`--aws-user must be an IAM user name or user ARN: got ${JSON.stringify(awsUser.slice(0, 80))}`, ['e.g. --aws-user ci-deployer']);
  }
}

/** --account, --assume-role-name and --region are checked before any call (exit 2). */
function checkAwsScopeFlags(flags: Pick<ContainFlags, 'account' | 'assume-role-name' | 'region'>): void {
  const show = (values: readonly string[]) => values.map((value) => JSON.stringify(value.slice(0, 80))).join(', ');
  const badAccounts = (flags.account ?? []).filter((account) => !/^\d{12}$/.test(account));
  if (badAccounts.length > 0) throw new UsageError(`--account must be a 12-digit AWS account id: got ${show(badAccounts)}`, ['e.g. --account 210987654321']);
  const name = flags['assume-role-name'];
  if (name !== undefined && !/^[\w+=,.@-]{1,64}$/.test(name)) {
    throw new UsageError(`--assume-role-name must be an IAM role name (not an ARN: it is assumed in every account): got ${show([name])}`, ['e.g. --assume-role-name OrganizationAccountAccessRole']);
  }
  const badRegions = (flags.region ?? []).filter((region) => !/^[a-z]{2}(-[a-z]+)+-\d$/.test(region));
  if (badRegions.length > 0) throw new UsageError(`--region must be an AWS region: got ${show(badRegions)}`, ['e.g. --region us-east-1 --region eu-west-1']);
}

/** An npm package name as the registry takes it: `name` or `@scope/name`, lower case. */
const NPM_PACKAGE = /^(@[a-z0-9._~-]+\/)?[a-z0-9._~-]+$/;

/** A workflow is its file name or its path under .github/workflows (or a numeric id). */
function checkWorkflow(flag: string, workflow: string): void {
  if (!/^(?:\.github\/workflows\/)?[A-Za-z0-9_.-]+\.ya?ml$|^\d+$/.test(workflow)) {
    throw new UsageError(`${flag} must be a workflow file name (deploy.yml), its path (.github/workflows/deploy.yml) or its id: got ${JSON.stringify(workflow.slice(0, 80))}`);
  }
}

/**
 * The containment run exactly as `contain` makes it (the drill calls this too, in-process): the
 * shipped playbook with the flags as inputs, a tokens file written from the scenario's
 * `leaked_tokens` when the lab holds some, the report written at the end. The exit code and
 * status are the report's verdict (src/report/verdict.ts): the tool never says contained while
 * anything in the attacker's reach is open.
 */
export async function runContain(flags: ContainFlags, lab: RunningLab | undefined, session: Omit<SessionOptions, 'playbookFile' | 'vars' | 'report'> & { playbookFile?: string }): Promise<ContainResult> {
  // (A resume takes the journalled tokens file: the lab's is written again only for a new run.)
  const tokens = lab && !flags['tokens-file'] && !flags.resume && !flags.latest ? labIncident(lab).leakedTokens : undefined;
  return withTokensFile(tokens, async (tokensFile) => {
    const { vars, incident } = containVars(flags, lab, tokensFile);
    const result = await runSession({
      ...session,
      playbookFile: session.playbookFile ?? CONTAIN_PLAYBOOK,
      vars,
      // The flags say which run to continue (containVars already read them that way).
      ...((session.resume ?? flags.resume) && { resume: session.resume ?? flags.resume }),
      ...((session.latest ?? flags.latest) && { latest: true }),
      ...(incident && { incident }),
      ...(lab ? { provider: lab.providerConfig } : session.provider ? { provider: session.provider } : {}),
      ...(lab && { lab: { scenarioFile: lab.scenarioFile, startedAt: lab.startedAt } }),
      flagNames: CONTAIN_FLAG_NAMES,
      report: true,
    });
    return withVerdict(result, await runVerdict(result));
  });
}
