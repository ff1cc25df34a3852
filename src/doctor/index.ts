import type { ActionDefinition } from '../actions/define.js';
import type { Clients } from '../engine/context.js';
import { UsageError } from '../engine/errors.js';
import { ExitCode } from '../engine/exit-codes.js';
import type { Playbook } from '../engine/model.js';
import { awsIdentity, awsPermissionChecks, cloudTrailChecks, type AwsIdentity } from './aws.js';
import { describeError, type Check } from './check.js';
import { githubIdentity, githubPermissionChecks, githubRepoProbes, type GitHubIdentity } from './github.js';

export type { Check, CheckStatus } from './check.js';
export { CLASSIC_SCOPE_GRANTS } from './scopes.js';

/** What doctor checks with. The command builds the clients with `dryRun: true`: a write would be refused. */
export interface DoctorOptions {
  clients: Clients;
  /** The actions whose permissions must hold: a playbook's (doctorActions), or the whole registry. */
  actions: readonly ActionDefinition[];
  /** owner/name: probe a read endpoint of each GitHub permission family there. */
  repo?: string;
  /** Regions to reach with CloudTrail LookupEvents; default the configured region. */
  regions?: readonly string[];
  signal?: AbortSignal;
}

/** Doctor's answer: the table, the identities, and the exit code (0 all ok, 3 a human must act). */
export interface DoctorReport {
  status: 'ok' | 'needs-human';
  exitCode: number;
  /** Action ids checked. */
  actions: string[];
  github?: GitHubIdentity;
  aws?: AwsIdentity;
  checks: Check[];
}

/**
 * The permissions the actions declare, split by side: `github:*` strings, `npm:*` strings (the
 * registry's token, which no simulator knows) and AWS actions (`iam:PutRolePolicy`), the only
 * ones IAM's policy simulator is asked about.
 */
export function requiredPermissions(actions: readonly ActionDefinition[]): { github: string[]; aws: string[]; npm: string[] } {
  const all = [...new Set(actions.flatMap((action) => action.permissions))].sort();
  const side = (permission: string) => permission.split(':')[0];
  return {
    github: all.filter((permission) => side(permission) === 'github'),
    npm: all.filter((permission) => side(permission) === 'npm'),
    aws: all.filter((permission) => side(permission) !== 'github' && side(permission) !== 'npm'),
  };
}

/** The registry's definitions of the actions a playbook uses (each once). */
export function doctorActions(registry: readonly ActionDefinition[], playbook?: Playbook): ActionDefinition[] {
  if (!playbook) return [...registry];
  const ids = new Set(playbook.steps.map((step) => step.uses));
  return registry.filter((action) => ids.has(action.id));
}

const REPO = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

/**
 * Preflight before an incident: who cicd-ir acts as on GitHub and AWS, whether each
 * permission the actions need is granted (classic scopes / SimulatePrincipalPolicy), read
 * probes of the repository's endpoint families, and CloudTrail reachability per region.
 * Only read calls. A side no action needs is not checked (GitHub unless --repo, AWS unless
 * regions are given).
 */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  if (options.repo !== undefined && !REPO.test(options.repo)) throw new UsageError(`--repo ${options.repo}: expected owner/name`);
  const needed = requiredPermissions(options.actions);
  const checks: Check[] = [];
  const report: DoctorReport = { status: 'ok', exitCode: ExitCode.Ok, actions: options.actions.map((action) => action.id), checks };

  if (needed.github.length > 0 || options.repo) {
    try {
      const github = await options.clients.github();
      const found = await githubIdentity(github);
      report.github = found.identity;
      checks.push(found.check);
      checks.push(...githubPermissionChecks(found.identity, needed.github));
      if (options.repo && found.identity.type !== 'invalid') checks.push(...(await githubRepoProbes(github, options.repo, needed.github)));
    } catch (error) {
      checks.push({ check: 'github identity', status: 'missing', detail: `no GitHub credential: ${describeError(error).message}`, fix: 'set GH_TOKEN or GITHUB_TOKEN, `gh auth login`, or GITHUB_APP_ID/GITHUB_APP_PRIVATE_KEY/GITHUB_APP_INSTALLATION_ID' });
      // Still list what the playbook needs, so the table says what would fail.
      checks.push(...githubPermissionChecks({ type: 'invalid' }, needed.github));
    }
  }

  // npm permissions (needed.npm) are not checked here: the registry has no API that lists a
  // token's rights, and IAM's simulator would answer about an AWS action that does not exist.

  if (needed.aws.length > 0 || (options.regions?.length ?? 0) > 0) {
    const found = await awsIdentity(options.clients, options.signal);
    report.aws = found.identity;
    checks.push(...found.checks);
    checks.push(...(await awsPermissionChecks(options.clients, found.identity, needed.aws, options.signal)));
    const regions = options.regions?.length ? options.regions : [defaultRegion(options.clients)];
    if (found.identity.arn) checks.push(...(await cloudTrailChecks(options.clients, regions, options.signal)));
  }

  if (checks.some((check) => check.status !== 'ok')) {
    report.status = 'needs-human';
    report.exitCode = ExitCode.NeedsHuman;
  }
  return report;
}

function defaultRegion(clients: Clients): string {
  return clients.config.aws.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
}
