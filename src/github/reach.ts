import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { expressionsIn, hasExpression, secretReads } from './expressions.js';

/**
 * Pure analysis of one GitHub Actions workflow file: which secrets, environments and OIDC
 * identities each job can reach (FACTS.md, "What a workflow can reach"). No API calls here:
 * src/github/follow.ts follows reusable workflows through a fetcher, and the
 * `github.inventory` action resolves names against the secrets that really exist.
 */

export type PermissionLevel = 'read' | 'write' | 'none';

/** A `permissions:` block as written, or its absence. */
export type Permissions =
  | { kind: 'default' }
  | { kind: 'all'; level: 'read' | 'write' | 'none' }
  | { kind: 'scopes'; scopes: Record<string, PermissionLevel> };

/** A job's `environment:`, with the name when it is known before the run. */
export interface EnvironmentRef {
  job: string;
  /** As written (`prod`, `${{ inputs.environment }}`, `GovCloud ${{ inputs.environment }} (West)`). */
  raw: string;
  /** The environment name, when it holds no expression (or the expression was resolved from inputs). */
  name?: string;
  /** True when the name is only known at run time: treat as "any environment". */
  dynamic: boolean;
}

/** A job that calls a reusable workflow (`jobs.<id>.uses`). */
export interface ReusableCall {
  job: string;
  /** As written: `o/r/.github/workflows/f.yml@ref` or `./.github/workflows/f.yml`. */
  uses: string;
  /** The called file: its repository (the caller's for a local call), path and ref. */
  target: { repo: string; path: string; ref?: string; local: boolean };
  /** `secrets: inherit`: the called workflow gets every secret of the caller. */
  inherit: boolean;
  /** Explicitly passed secrets: the callee's name (upper case) to the caller's secrets it reads. */
  passed: Record<string, { names: string[]; all: boolean }>;
  /** `with:` inputs as written (scalars as strings): resolve `${{ inputs.x }}` in the callee. */
  inputs: Record<string, string>;
}

/** Everything one job reaches. */
export interface JobReach {
  /** The key under `jobs:`. */
  id: string;
  name?: string;
  /** Secrets read by name, upper-cased, sorted (GITHUB_TOKEN excluded: see `githubToken`). */
  secrets: string[];
  /** Reads the whole secrets context (`toJSON(secrets)`, a dynamic index). */
  allSecrets: boolean;
  environment?: EnvironmentRef;
  /** The permissions in force for the job's GITHUB_TOKEN (job-level, else workflow-level, else default). */
  permissions: Permissions;
  /** `id-token: write` in force: the job can mint OIDC tokens. */
  idToken: boolean;
  /** The OIDC subjects the job would present (only when `idToken`); `*` marks "any value". */
  oidcSubjects: string[];
  /** Reads `secrets.GITHUB_TOKEN` / `github.token` explicitly (every job has the token anyway). */
  readsGithubToken: boolean;
  call?: ReusableCall;
  /** Every `uses:` in the job (reusable workflow or step actions), as written. */
  uses: string[];
}

/** One named secret and the jobs that read it. */
export interface SecretRef {
  name: string;
  jobs: string[];
}

export interface WorkflowAnalysis {
  repo: string;
  path: string;
  name?: string;
  /** Event names under `on:`. */
  triggers: string[];
  /** Branch filters per event where given (`push: [main]`). */
  branchFilters: Record<string, string[]>;
  /** Tag filters of `push`, where given. */
  tagFilters: string[];
  permissions: Permissions;
  jobs: JobReach[];
  /** Named secrets over all jobs, sorted by name. */
  secretRefs: SecretRef[];
  /** Jobs with `secrets: inherit`. */
  inheritCalls: ReusableCall[];
  /** Every reusable-workflow call. */
  calls: ReusableCall[];
  environments: EnvironmentRef[];
  idTokenJobs: string[];
  /** True when some job reads the whole secrets context. */
  allSecrets: boolean;
  /** Secrets a reusable workflow declares under `on.workflow_call.secrets`. */
  declaredSecrets: string[];
}

export interface AnalyzeOptions {
  /** `owner/repo` the workflow lives in. */
  repo: string;
  /** Path in the repository, `.github/workflows/deploy.yml`. */
  path: string;
  /** The repository's default branch (for the OIDC subject of schedule, workflow_run, ...). */
  defaultBranch?: string;
  /** Literal inputs a caller passes (resolves `${{ inputs.x }}` in `environment:`). */
  inputs?: Record<string, string>;
}

/** A workflow file that is not valid YAML (or not a mapping): where and why. */
export class WorkflowParseError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly col: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}:${col}: ${reason}`);
    this.name = 'WorkflowParseError';
  }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function asRecord(value: unknown): Record<string, Json> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, Json>) : undefined;
}

/** Every string scalar under a value, with the key it sits under (to treat `if:` as an expression). */
function* strings(value: Json | undefined, key?: string): Generator<{ key?: string; text: string }> {
  if (typeof value === 'string') yield { key, text: value };
  else if (Array.isArray(value)) for (const item of value) yield* strings(item, key);
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) yield* strings(v, k);
}

interface Reads {
  names: Set<string>;
  all: boolean;
  githubToken: boolean;
}

function readsOf(value: Json | undefined, into: Reads = { names: new Set(), all: false, githubToken: false }): Reads {
  for (const { key, text } of strings(value)) {
    // `if:` is an expression even without `${{ }}`.
    const bodies = key === 'if' && !hasExpression(text) ? [text] : expressionsIn(text);
    for (const body of bodies) {
      const reads = secretReads(body);
      if (reads.all) into.all = true;
      for (const name of reads.names) {
        if (name === 'GITHUB_TOKEN') into.githubToken = true;
        else into.names.add(name);
      }
      if (/\bgithub\s*\.\s*token\b/i.test(body)) into.githubToken = true;
    }
  }
  return into;
}

function parsePermissions(value: Json | undefined): Permissions {
  if (value === undefined || value === null) return { kind: 'default' };
  if (typeof value === 'string') {
    if (value === 'write-all') return { kind: 'all', level: 'write' };
    if (value === 'read-all') return { kind: 'all', level: 'read' };
    return { kind: 'all', level: 'none' };
  }
  const record = asRecord(value);
  if (!record) return { kind: 'default' };
  const scopes: Record<string, PermissionLevel> = {};
  for (const [scope, level] of Object.entries(record)) {
    scopes[scope] = level === 'write' ? 'write' : level === 'read' ? 'read' : 'none';
  }
  return { kind: 'scopes', scopes };
}

/**
 * True when the permissions grant `id-token: write`. The default token never has it: a job
 * mints OIDC tokens only when someone wrote it (or `write-all`).
 */
export function grantsIdToken(permissions: Permissions): boolean {
  if (permissions.kind === 'all') return permissions.level === 'write';
  if (permissions.kind === 'scopes') return permissions.scopes['id-token'] === 'write';
  return false;
}

function parseTriggers(on: Json | undefined): { triggers: string[]; branchFilters: Record<string, string[]>; tagFilters: string[] } {
  const branchFilters: Record<string, string[]> = {};
  let tagFilters: string[] = [];
  if (typeof on === 'string') return { triggers: [on], branchFilters, tagFilters };
  if (Array.isArray(on)) return { triggers: on.filter((t): t is string => typeof t === 'string'), branchFilters, tagFilters };
  const record = asRecord(on);
  if (!record) return { triggers: [], branchFilters, tagFilters };
  for (const [event, config] of Object.entries(record)) {
    const branches = asRecord(config)?.['branches'];
    if (Array.isArray(branches)) branchFilters[event] = branches.filter((b): b is string => typeof b === 'string');
    const tags = asRecord(config)?.['tags'];
    if (event === 'push' && Array.isArray(tags)) tagFilters = tags.filter((t): t is string => typeof t === 'string');
  }
  return { triggers: Object.keys(record), branchFilters, tagFilters };
}

/** Replaces `${{ inputs.x }}` by a literal the caller passed; leaves other expressions alone. */
export function substituteInputs(text: string, inputs: Record<string, string> | undefined): string {
  if (!inputs) return text;
  return text.replace(/\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}/g, (whole, name: string) => inputs[name] ?? whole);
}

function parseEnvironment(job: string, value: Json | undefined, inputs: Record<string, string> | undefined): EnvironmentRef | undefined {
  let raw: string | undefined;
  if (typeof value === 'string') raw = value;
  else if (typeof value === 'number' || typeof value === 'boolean') raw = String(value);
  else {
    const name = asRecord(value)?.['name'];
    if (typeof name === 'string' || typeof name === 'number') raw = String(name);
  }
  if (raw === undefined) return undefined;
  const resolved = substituteInputs(raw, inputs);
  return hasExpression(resolved) ? { job, raw, dynamic: true } : { job, raw, name: resolved, dynamic: false };
}

/**
 * Parses `o/r/.github/workflows/f.yml@ref` or `./.github/workflows/f.yml`. Undefined for a
 * `docker://` or malformed reference (GitHub would reject the workflow).
 */
export function parseReusableUses(uses: string, callerRepo: string): ReusableCall['target'] | undefined {
  if (uses.startsWith('./')) return { repo: callerRepo, path: uses.slice(2).replace(/@.*$/, ''), local: true };
  const match = /^([^/\s]+)\/([^/\s]+)\/(.+?)@(.+)$/.exec(uses);
  if (!match) return undefined;
  return { repo: `${match[1]}/${match[2]}`, path: match[3]!, ref: match[4]!, local: false };
}

function parseCall(job: string, raw: Record<string, Json>, callerRepo: string): ReusableCall | undefined {
  const uses = raw['uses'];
  if (typeof uses !== 'string') return undefined;
  const target = parseReusableUses(uses, callerRepo);
  if (!target) return undefined;
  const secrets = raw['secrets'];
  const passed: ReusableCall['passed'] = {};
  for (const [name, value] of Object.entries(asRecord(secrets) ?? {})) {
    const reads = readsOf(value);
    const names = [...reads.names];
    if (reads.githubToken) names.push('GITHUB_TOKEN');
    passed[name.toUpperCase()] = { names: names.sort(), all: reads.all };
  }
  const inputs: Record<string, string> = {};
  for (const [name, value] of Object.entries(asRecord(raw['with']) ?? {})) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') inputs[name] = String(value);
  }
  return { job, uses, target, inherit: secrets === 'inherit', passed, inputs };
}

/**
 * The OIDC `sub` claims a job in `repo` would present under the default subject template:
 * `repo:o/r:environment:<env>` when the job has an environment, else `repo:o/r:pull_request`
 * for pull requests, else `repo:o/r:ref:<ref>`. A `*` stands for a value only known at run
 * time (a dynamic environment, a branch chosen by workflow_dispatch). Conservative where GitHub's
 * documentation is silent: pull_request_target lists both the pull_request and the base-branch
 * form (unverified which one GitHub issues).
 */
export function oidcSubjects(
  repo: string,
  triggers: { triggers: string[]; branchFilters: Record<string, string[]>; tagFilters: string[] },
  environment: EnvironmentRef | undefined,
  defaultBranch = 'main',
): string[] {
  const prefix = `repo:${repo}`;
  if (environment) return [`${prefix}:environment:${environment.dynamic ? '*' : environment.name}`];
  const subjects = new Set<string>();
  const heads = (event: string) => {
    const filters = triggers.branchFilters[event]?.filter((b) => !b.startsWith('!'));
    return filters && filters.length > 0 ? filters : undefined;
  };
  for (const event of triggers.triggers) {
    switch (event) {
      case 'pull_request':
      // Review events run on the pull request's merge ref too (unverified: assumed the same subject).
      case 'pull_request_review':
      case 'pull_request_review_comment':
        subjects.add(`${prefix}:pull_request`);
        break;
      case 'pull_request_target':
        subjects.add(`${prefix}:pull_request`);
        for (const b of heads(event) ?? [defaultBranch]) subjects.add(`${prefix}:ref:refs/heads/${b}`);
        break;
      case 'push': {
        const branches = heads(event);
        const tags = triggers.tagFilters.filter((t) => !t.startsWith('!'));
        if (branches) for (const b of branches) subjects.add(`${prefix}:ref:refs/heads/${b}`);
        if (tags.length > 0) for (const t of tags) subjects.add(`${prefix}:ref:refs/tags/${t}`);
        if (!branches && tags.length === 0) {
          subjects.add(`${prefix}:ref:refs/heads/*`);
          subjects.add(`${prefix}:ref:refs/tags/*`);
        }
        break;
      }
      case 'workflow_dispatch':
        // The person dispatching picks any branch or tag.
        subjects.add(`${prefix}:ref:refs/heads/*`);
        subjects.add(`${prefix}:ref:refs/tags/*`);
        break;
      case 'release':
      case 'create':
        subjects.add(`${prefix}:ref:refs/tags/*`);
        break;
      case 'merge_group':
        subjects.add(`${prefix}:ref:refs/heads/gh-readonly-queue/*`);
        break;
      case 'workflow_call':
        // The caller's context decides: follow.ts recomputes with the caller's triggers.
        break;
      default:
        // schedule, workflow_run, issues, issue_comment, repository_dispatch, ...: default branch.
        subjects.add(`${prefix}:ref:refs/heads/${defaultBranch}`);
    }
  }
  return [...subjects].sort();
}

function locate(lineCounter: LineCounter, offset: number): { line: number; col: number } {
  const pos = lineCounter.linePos(offset);
  return { line: pos.line, col: pos.col };
}

/**
 * Analyses one workflow file. Throws WorkflowParseError (with line and column) when the text
 * is not YAML or not a workflow mapping; never throws on a valid workflow.
 */
export function analyzeWorkflow(yamlText: string, options: AnalyzeOptions): WorkflowAnalysis {
  const lineCounter = new LineCounter();
  const doc = parseDocument(yamlText, { lineCounter, uniqueKeys: false });
  const firstError = doc.errors[0];
  if (firstError) {
    const { line, col } = locate(lineCounter, firstError.pos[0]);
    throw new WorkflowParseError(options.path, line, col, firstError.message.split('\n')[0] ?? 'invalid YAML');
  }
  const contents = doc.contents as Node | null;
  if (!isMap(contents)) {
    const offset = contents && (isScalar(contents) || isSeq(contents)) && contents.range ? contents.range[0] : 0;
    const { line, col } = locate(lineCounter, offset);
    throw new WorkflowParseError(options.path, line, col, 'a workflow must be a mapping with `on:` and `jobs:`');
  }
  const root = asRecord(doc.toJS({ maxAliasCount: 1000 }) as Json) ?? {};
  const triggerInfo = parseTriggers(root['on']);
  const workflowPermissions = parsePermissions(root['permissions']);
  // Workflow-level env is evaluated for every job.
  const workflowReads = readsOf(root['env']);
  const jobs: JobReach[] = [];
  for (const [id, value] of Object.entries(asRecord(root['jobs']) ?? {})) {
    const raw = asRecord(value) ?? {};
    const reads = readsOf(
      Object.fromEntries(Object.entries(raw).filter(([key]) => key !== 'secrets' || raw['uses'] === undefined)) as Json,
      { names: new Set(workflowReads.names), all: workflowReads.all, githubToken: workflowReads.githubToken },
    );
    const call = parseCall(id, raw, options.repo);
    if (call) {
      for (const passed of Object.values(call.passed)) {
        if (passed.all) reads.all = true;
        for (const name of passed.names) {
          if (name === 'GITHUB_TOKEN') reads.githubToken = true;
          else reads.names.add(name);
        }
      }
    }
    const environment = parseEnvironment(id, raw['environment'], options.inputs);
    const permissions = raw['permissions'] !== undefined ? parsePermissions(raw['permissions']) : workflowPermissions;
    const idToken = grantsIdToken(permissions);
    const uses: string[] = [];
    if (typeof raw['uses'] === 'string') uses.push(raw['uses']);
    for (const step of Array.isArray(raw['steps']) ? raw['steps'] : []) {
      const stepUses = asRecord(step)?.['uses'];
      if (typeof stepUses === 'string') uses.push(stepUses);
    }
    jobs.push({
      id,
      ...(typeof raw['name'] === 'string' ? { name: raw['name'] } : {}),
      secrets: [...reads.names].sort(),
      allSecrets: reads.all,
      ...(environment ? { environment } : {}),
      permissions,
      idToken,
      oidcSubjects: idToken ? oidcSubjects(options.repo, triggerInfo, environment, options.defaultBranch) : [],
      readsGithubToken: reads.githubToken,
      ...(call ? { call } : {}),
      uses,
    });
  }
  const byName = new Map<string, string[]>();
  for (const job of jobs) for (const name of job.secrets) byName.set(name, [...(byName.get(name) ?? []), job.id]);
  const workflowCall = asRecord(asRecord(root['on'])?.['workflow_call']);
  const calls = jobs.flatMap((job) => (job.call ? [job.call] : []));
  return {
    repo: options.repo,
    path: options.path,
    ...(typeof root['name'] === 'string' ? { name: root['name'] } : {}),
    ...triggerInfo,
    permissions: workflowPermissions,
    jobs,
    secretRefs: [...byName.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, names]) => ({ name, jobs: names })),
    inheritCalls: calls.filter((call) => call.inherit),
    calls,
    environments: jobs.flatMap((job) => (job.environment ? [job.environment] : [])),
    idTokenJobs: jobs.filter((job) => job.idToken).map((job) => job.id),
    allSecrets: jobs.some((job) => job.allSecrets),
    declaredSecrets: Object.keys(asRecord(workflowCall?.['secrets']) ?? {}).map((name) => name.toUpperCase()).sort(),
  };
}
