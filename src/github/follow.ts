import { posix } from 'node:path';
import {
  analyzeWorkflow,
  oidcSubjects,
  substituteInputs,
  type EnvironmentRef,
  type Permissions,
  type ReusableCall,
  type WorkflowAnalysis,
} from './reach.js';

/**
 * Follows reusable-workflow calls (`jobs.<id>.uses`) from a root workflow, across
 * repositories, and maps every secret a called job reads back to the root repository's
 * secrets: `secrets: inherit` passes them all under their own names, an explicit `secrets:`
 * block renames them, no block passes none. Environment secrets and the OIDC subject of a
 * called job belong to the caller's repository (GitHub runs the callee in the caller's
 * context), and a callee cannot have more token permissions than its caller job grants.
 */

/** Fetches a workflow file's text; undefined when it does not exist or cannot be read. */
export type WorkflowFetcher = (target: { repo: string; path: string; ref?: string }) => Promise<string | undefined>;

/** One job that runs steps, wherever its file lives, with what it reaches in the root repository. */
export interface ReachedJob {
  /** `deploy.yml#build`, or through calls `release.yml#publish/publish_layer.yml#beta/deploy_stack.yml#deploy`. */
  key: string;
  /** The file the job is defined in: `o/r/.github/workflows/f.yml`. */
  definedIn: string;
  /** Root-repository secret names the job reads (upper case, no GITHUB_TOKEN). */
  secrets: string[];
  /** Reads every secret of the root repository (toJSON(secrets), or an unreadable callee given `inherit`). */
  allSecrets: boolean;
  environment?: EnvironmentRef;
  idToken: boolean;
  /** OIDC subjects in the root repository's name (`*` for run-time values). */
  oidcSubjects: string[];
  readsGithubToken: boolean;
  /** A calling job (`uses:` a reusable workflow): it runs no steps, it only reads what it passes on. */
  caller?: true;
  /** The job's GITHUB_TOKEN permissions: as written, a called job's capped by its caller's. */
  permissions: Permissions;
}

export interface ReachGraph {
  repo: string;
  path: string;
  triggers: string[];
  jobs: ReachedJob[];
  /** Calls that could not be followed (file missing, unreadable, cycle, too deep). */
  unresolved: Array<{ job: string; uses: string; reason: string }>;
  /** Every file read, `o/r/path@ref`. */
  files: string[];
}

export interface FollowOptions {
  fetch: WorkflowFetcher;
  defaultBranch?: string;
  /** GitHub allows 4 levels of nesting (10 since 2025); deeper chains are reported, not followed. */
  maxDepth?: number;
}

const RANK = { none: 0, read: 1, write: 2 } as const;
type Level = keyof typeof RANK;
const lower = (a: Level, b: Level): Level => (RANK[a] <= RANK[b] ? a : b);

/**
 * A called job's token permissions: what it asks for, never more than its caller job has
 * (GitHub can only keep or lower permissions down a call chain).
 */
export function capPermissions(callee: Permissions, caller: Permissions): Permissions {
  if (caller.kind === 'default') return callee;
  if (callee.kind === 'default') return caller;
  if (caller.kind === 'all' && callee.kind === 'all') return { kind: 'all', level: lower(callee.level, caller.level) };
  if (caller.kind === 'all' && callee.kind === 'scopes') {
    return { kind: 'scopes', scopes: Object.fromEntries(Object.entries(callee.scopes).map(([scope, level]) => [scope, lower(level, caller.level)])) };
  }
  if (caller.kind === 'scopes' && callee.kind === 'all') {
    return { kind: 'scopes', scopes: Object.fromEntries(Object.entries(caller.scopes).map(([scope, level]) => [scope, lower(level, callee.level)])) };
  }
  const callerScopes = (caller as Extract<Permissions, { kind: 'scopes' }>).scopes;
  const calleeScopes = (callee as Extract<Permissions, { kind: 'scopes' }>).scopes;
  return { kind: 'scopes', scopes: Object.fromEntries(Object.entries(calleeScopes).map(([scope, level]) => [scope, lower(level, callerScopes[scope] ?? 'none')])) };
}

/** What a called workflow's `secrets.X` means in the root repository. */
type SecretResolver = (name: string) => { names: string[]; all: boolean };

const identity: SecretResolver = (name) => ({ names: [name], all: false });

function jobName(path: string, job: string): string {
  return `${posix.basename(path)}#${job}`;
}

/**
 * Builds the reach graph of a workflow: its own jobs and, through calls, every job it runs.
 * Never throws on a callee: what cannot be read is listed in `unresolved` and treated as
 * reaching what the caller handed it (all secrets under `inherit`).
 */
export async function followWorkflow(root: WorkflowAnalysis, options: FollowOptions): Promise<ReachGraph> {
  const graph: ReachGraph = { repo: root.repo, path: root.path, triggers: root.triggers, jobs: [], unresolved: [], files: [`${root.repo}/${root.path}`] };
  const triggerInfo = { triggers: root.triggers, branchFilters: root.branchFilters, tagFilters: root.tagFilters };
  const maxDepth = options.maxDepth ?? 10;
  const subjectsFor = (environment: EnvironmentRef | undefined) => oidcSubjects(root.repo, triggerInfo, environment, options.defaultBranch);

  const visit = async (
    analysis: WorkflowAnalysis,
    prefix: string,
    resolve: SecretResolver,
    callerGrantsIdToken: boolean,
    chain: string[],
    inputs: Record<string, string> | undefined,
    callerPermissions: Permissions,
  ): Promise<void> => {
    for (const job of analysis.jobs) {
      const key = `${prefix}${jobName(analysis.path, job.id)}`;
      const names = new Set<string>();
      let all = false;
      for (const name of job.secrets) {
        const mapped = resolve(name);
        mapped.names.forEach((n) => names.add(n));
        all ||= mapped.all;
      }
      if (job.allSecrets) {
        // Every secret this workflow was given: all of the root's at the root or under inherit.
        const mapped = resolve('*');
        mapped.names.forEach((n) => names.add(n));
        all ||= mapped.all;
      }
      const idToken = job.idToken && callerGrantsIdToken;
      const permissions = capPermissions(job.permissions, callerPermissions);
      const environment = job.environment;
      if (!job.call) {
        graph.jobs.push({
          key,
          definedIn: `${analysis.repo}/${analysis.path}`,
          secrets: [...names].sort(),
          allSecrets: all,
          ...(environment ? { environment } : {}),
          idToken,
          oidcSubjects: idToken ? subjectsFor(environment) : [],
          readsGithubToken: job.readsGithubToken,
          permissions,
        });
        continue;
      }
      // A calling job runs no steps; what it passes is read in its own context.
      if (names.size > 0 || all) {
        graph.jobs.push({ key, definedIn: `${analysis.repo}/${analysis.path}`, secrets: [...names].sort(), allSecrets: all, idToken: false, oidcSubjects: [], readsGithubToken: job.readsGithubToken, permissions, caller: true });
      }
      // `with: { env: ${{ inputs.env }} }` in a called workflow: pass on what this level knows.
      const callInputs = Object.fromEntries(Object.entries(job.call.inputs).map(([k, v]) => [k, substituteInputs(v, inputs)]));
      await follow({ ...job.call, inputs: callInputs }, key, resolve, idToken, permissions, chain, (reason) => {
        graph.unresolved.push({ job: key, uses: job.call!.uses, reason });
        // Unknown callee: assume it uses everything it was handed.
        const passed = new Set<string>();
        let passedAll = job.call!.inherit ? resolve('*').all : false;
        if (job.call!.inherit) resolve('*').names.forEach((n) => passed.add(n));
        for (const value of Object.values(job.call!.passed)) {
          value.names.filter((n) => n !== 'GITHUB_TOKEN').forEach((n) => resolve(n).names.forEach((m) => passed.add(m)));
          passedAll ||= value.all;
        }
        graph.jobs.push({
          key: `${key}/?`,
          definedIn: job.call!.uses,
          secrets: [...passed].sort(),
          allSecrets: passedAll,
          environment: { job: '?', raw: '(unknown)', dynamic: true },
          idToken,
          oidcSubjects: idToken ? [...new Set([...subjectsFor(undefined), ...subjectsFor({ job: '?', raw: '', dynamic: true })])].sort() : [],
          readsGithubToken: true,
          permissions,
        });
      });
    }
  };

  const follow = async (
    call: ReusableCall,
    callerKey: string,
    callerResolve: SecretResolver,
    callerGrantsIdToken: boolean,
    callerPermissions: Permissions,
    chain: string[],
    onUnresolved: (reason: string) => void,
  ): Promise<void> => {
    const fileId = `${call.target.repo}/${call.target.path}${call.target.ref ? `@${call.target.ref}` : ''}`;
    if (chain.includes(fileId)) return onUnresolved(`cycle: ${[...chain, fileId].join(' -> ')}`);
    if (chain.length > maxDepth) return onUnresolved(`nesting deeper than ${maxDepth}`);
    let text: string | undefined;
    try {
      text = await options.fetch(call.target);
    } catch (error) {
      return onUnresolved(`cannot read ${fileId}: ${(error as Error).message}`);
    }
    if (text === undefined) return onUnresolved(`${fileId} not found`);
    let callee: WorkflowAnalysis;
    try {
      callee = analyzeWorkflow(text, { repo: call.target.repo, path: call.target.path, inputs: call.inputs, ...(options.defaultBranch ? { defaultBranch: options.defaultBranch } : {}) });
    } catch (error) {
      return onUnresolved(`cannot parse ${fileId}: ${(error as Error).message}`);
    }
    graph.files.push(fileId);
    const resolve: SecretResolver = call.inherit
      ? callerResolve
      : (name) => {
          if (name === '*') {
            // toJSON(secrets) in the callee: every secret it was explicitly given.
            const names = new Set<string>();
            let all = false;
            for (const value of Object.values(call.passed)) {
              for (const n of value.names) if (n !== 'GITHUB_TOKEN') callerResolve(n).names.forEach((m) => names.add(m));
              all ||= value.all;
            }
            return { names: [...names], all };
          }
          const passed = call.passed[name];
          if (!passed) return { names: [], all: false };
          const names = new Set<string>();
          let all = passed.all;
          for (const n of passed.names) {
            if (n === 'GITHUB_TOKEN') continue;
            const mapped = callerResolve(n);
            mapped.names.forEach((m) => names.add(m));
            all ||= mapped.all;
          }
          return { names: [...names], all };
        };
    await visit(callee, `${callerKey}/`, resolve, callerGrantsIdToken, [...chain, fileId], call.inputs, callerPermissions);
  };

  const rootResolve: SecretResolver = (name) => (name === '*' ? { names: [], all: true } : identity(name));
  await visit(root, '', rootResolve, true, [`${root.repo}/${root.path}`], undefined, { kind: 'default' });
  return graph;
}
