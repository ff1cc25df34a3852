import type { Octokit } from '@octokit/rest';
import type { Finding } from '../actions/define.js';
import type { InventoryItem } from '../engine/evidence.js';
import { isNotFound, splitRepo, workflowId } from './api.js';
import { CODEOWNERS_PATHS, ownerFromFile, ownersOf, OWNERS_FILE_PATH, parseCodeowners, parseOwnersFile, type CodeownersRule } from './codeowners.js';
import { followWorkflow, type ReachedJob, type ReachGraph, type WorkflowFetcher } from './follow.js';
import { NPM_TOKEN_NAME, opensFor, workflowTargets } from './opens.js';
import { presentSubject, type RepoIdentity, type SubjectCustomization } from './oidc-subject.js';
import { analyzeWorkflow, WorkflowParseError, type Permissions } from './reach.js';

/**
 * The inventory of what a repository's workflows can reach, resolved against the secrets
 * that really exist (repository, environments, organization secrets visible to the
 * repository) and the OIDC subjects its id-token jobs present. Used by the
 * `github.inventory` action and the `cicd-ir inventory` command.
 */

export interface InventoryResult {
  repo: string;
  /** Per workflow: its path, the reach graph, and the items it reaches. */
  workflows: Array<{ path: string; graph?: ReachGraph; items: InventoryItem[]; error?: string }>;
  /** Every item over all workflows (merged by kind, scope and name; jobs unioned). */
  items: InventoryItem[];
  findings: Finding[];
}

/** Rotation action for a secret, from its name: AWS key pairs go to the AWS side. */
export function rotationFor(name: string): { rotation: string; detail?: string } {
  if (/(^|_)(AWS_)?(ACCESS_KEY_ID|SECRET_ACCESS_KEY|ACCESS_KEY|SECRET_KEY)$/i.test(name) || /^AWS_.*(KEY|SECRET)/i.test(name) || /AKIA/.test(name)) {
    return { rotation: 'aws.rotate-access-key', detail: 'looks like part of an AWS access key pair: create a new key, update this secret, deactivate the old key' };
  }
  if (/(^|_)(GH|GITHUB)(_[A-Z0-9]+)*_(PAT|TOKEN)$|(^|_)PAT$|^GH_TOKEN$/i.test(name)) {
    return { rotation: 'github.revoke-tokens', detail: 'likely a GitHub personal access token: revoke it, then store a new one with github.rotate-secret' };
  }
  if (NPM_TOKEN_NAME.test(name)) {
    return { rotation: 'npm.revoke-token', detail: 'an npm publish token: revoke it on the registry, then publish with trusted publishing (OIDC) instead of a stored token' };
  }
  if (/ROLE(_ARN|_TO_ASSUME)?$|_ROLE_|ROLE_ARN/i.test(name)) {
    return { rotation: 'manual', detail: 'holds an identifier (a role ARN), not a credential: contain the role through its OIDC subject' };
  }
  return { rotation: 'github.rotate-secret' };
}

function describePermissions(permissions: Permissions): string {
  if (permissions.kind === 'default') return 'default token permissions (repository or org setting)';
  if (permissions.kind === 'all') return `${permissions.level}-all`;
  const writes = Object.entries(permissions.scopes).filter(([, level]) => level === 'write').map(([scope]) => scope);
  return writes.length > 0 ? `write: ${writes.sort().join(', ')}` : 'read-only or none';
}

export interface Available {
  /** Rewrites a default-form OIDC subject into the form this repository presents. */
  present?: (subject: string) => string;
  repoSecrets: Set<string>;
  orgSecrets: Map<string, string>;
  /** Environment name -> its secret names. */
  environments: Map<string, Set<string>>;
  owner: string;
}

/** The workflow file's text from the contents API, or undefined when it does not exist. */
export function contentsFetcher(github: Octokit): WorkflowFetcher {
  return async ({ repo: fullName, path, ref }) => {
    const { owner, repo } = splitRepo(fullName);
    try {
      const { data } = await github.rest.repos.getContent({ owner, repo, path, ...(ref ? { ref } : {}) });
      if (Array.isArray(data) || data.type !== 'file' || !('content' in data)) return undefined;
      return Buffer.from(data.content, 'base64').toString('utf8');
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  };
}

async function availableSecrets(github: Octokit, fullName: string, isPrivate: boolean, repoId: number, findings: Finding[]): Promise<Available> {
  const { owner, repo } = splitRepo(fullName);
  const repoSecrets = new Set((await github.paginate(github.rest.actions.listRepoSecrets, { owner, repo, per_page: 100 })).map((s) => s.name.toUpperCase()));
  const environments = new Map<string, Set<string>>();
  try {
    const { data } = await github.rest.repos.getAllEnvironments({ owner, repo, per_page: 100 });
    for (const env of data.environments ?? []) {
      const secrets = await github.paginate(github.rest.actions.listEnvironmentSecrets, { owner, repo, environment_name: env.name, per_page: 100 });
      environments.set(env.name, new Set(secrets.map((s) => s.name.toUpperCase())));
    }
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  const orgSecrets = new Map<string, string>();
  try {
    const secrets = await github.paginate(github.rest.actions.listOrgSecrets, { org: owner, per_page: 100 });
    for (const secret of secrets) {
      let visible = secret.visibility === 'all' || (secret.visibility === 'private' && isPrivate);
      if (secret.visibility === 'selected') {
        const repos = await github.paginate(github.rest.actions.listSelectedReposForOrgSecret, { org: owner, secret_name: secret.name, per_page: 100 });
        visible = repos.some((r) => r.id === repoId);
      }
      if (visible) orgSecrets.set(secret.name.toUpperCase(), secret.visibility);
    }
  } catch (error) {
    // A user-owned repository has no org secrets; a token without org admin cannot list them.
    const status = (error as { status?: number }).status;
    if (status === 404) {
      // not an organization
    } else if (status === 403) {
      findings.push({ kind: 'org-secrets-unreadable', severity: 'medium', resource: `org:${owner}`, summary: `cannot list organization secrets of ${owner} (403): org secrets this repo can read are missing from the inventory` });
    } else throw error;
  }
  return { repoSecrets, orgSecrets, environments, owner };
}

/** The environments a job may run in: its own, or every environment when the name is dynamic. */
function environmentsOf(job: ReachedJob, available: Available): string[] {
  if (!job.environment) return [];
  if (job.environment.dynamic) return [...available.environments.keys()];
  return [job.environment.name!];
}

class ItemSet {
  readonly #items = new Map<string, InventoryItem>();

  add(item: Omit<InventoryItem, 'jobs'> & { detail?: string }, job: string): void {
    // GITHUB_TOKEN: one row per permission set, so a write-all job is not hidden behind a read-only one.
    const key = `${item.kind}|${item.scope}|${item.name}${item.kind === 'github-token' ? `|${item.detail}` : ''}`;
    const existing = this.#items.get(key);
    if (existing) {
      if (!existing.jobs.includes(job)) existing.jobs.push(job);
      return;
    }
    this.#items.set(key, { ...item, jobs: [job] });
  }

  list(): InventoryItem[] {
    const order = ['all-secrets', 'environment-secret', 'repo-secret', 'org-secret', 'github-token', 'oidc-role'];
    return [...this.#items.values()].sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind) || a.scope.localeCompare(b.scope) || a.name.localeCompare(b.name));
  }
}

function secretItem(kind: InventoryItem['kind'], scope: string, name: string): Omit<InventoryItem, 'jobs'> {
  const { rotation, detail } = rotationFor(name);
  return { kind, scope, name, rotation, ...(detail ? { detail } : {}) };
}

/** Items one reach graph gives, resolved against what exists. */
export function itemsOf(graph: ReachGraph, available: Available, findings: Finding[]): InventoryItem[] {
  const repo = graph.repo;
  const items = new ItemSet();
  for (const job of graph.jobs) {
    const envs = environmentsOf(job, available);
    const resolveName = (name: string) => {
      let found = false;
      for (const env of envs) {
        if (available.environments.get(env)?.has(name)) {
          items.add(secretItem('environment-secret', `env:${repo}/${env}`, name), job.key);
          found = true;
        }
      }
      // An environment secret overrides the repository's; with a dynamic environment either may win.
      const shadowed = found && !job.environment?.dynamic;
      if (!shadowed && available.repoSecrets.has(name)) {
        items.add(secretItem('repo-secret', `repo:${repo}`, name), job.key);
        found = true;
      } else if (!shadowed && available.orgSecrets.has(name)) {
        items.add(secretItem('org-secret', `org:${available.owner}`, name), job.key);
        found = true;
      }
      if (!found) {
        items.add({ kind: 'repo-secret', scope: `unknown:${repo}`, name, rotation: 'manual', detail: 'referenced but not found in the repository, its environments or visible org secrets' }, job.key);
      }
    };
    for (const name of job.secrets) resolveName(name);
    if (job.allSecrets) {
      items.add({ kind: 'all-secrets', scope: `repo:${repo}`, name: '*', rotation: 'manual', detail: 'reads the whole secrets context (toJSON(secrets), a dynamic index, or an unreadable callee given secrets: inherit): every secret below is exposed' }, job.key);
      for (const name of available.repoSecrets) items.add(secretItem('repo-secret', `repo:${repo}`, name), job.key);
      for (const name of available.orgSecrets.keys()) items.add(secretItem('org-secret', `org:${available.owner}`, name), job.key);
      for (const env of envs) for (const name of available.environments.get(env) ?? []) items.add(secretItem('environment-secret', `env:${repo}/${env}`, name), job.key);
    }
    if (!job.caller) items.add(
      { kind: 'github-token', scope: `repo:${repo}`, name: 'GITHUB_TOKEN', rotation: 'github.cancel-runs', detail: `valid until its job ends (6 h hosted, 24 h self-hosted); ${describePermissions(job.permissions)}` } as InventoryItem,
      job.key,
    );
    for (const subject of job.oidcSubjects.map((s) => (available.present ? available.present(s) : s))) {
      items.add({ kind: 'oidc-role', scope: 'oidc:token.actions.githubusercontent.com', name: subject, rotation: 'aws.revoke-role-sessions', detail: 'every cloud role whose trust policy admits this subject (aws.find-roles)' }, job.key);
    }
  }
  for (const unresolved of graph.unresolved) {
    findings.push({ kind: 'reusable-workflow-unresolved', severity: 'medium', resource: `github:${repo}/${graph.path}`, summary: `${unresolved.job}: cannot follow ${unresolved.uses} (${unresolved.reason}); assumed it reaches what it was given` });
  }
  return items.list();
}

/** The repository's OIDC subject customization; undefined (default form) when it cannot be read. */
async function subjectCustomization(github: Octokit, fullName: string, findings: Finding[]): Promise<SubjectCustomization | undefined> {
  const { owner, repo } = splitRepo(fullName);
  try {
    const { data } = await github.rest.actions.getCustomOidcSubClaimForRepo({ owner, repo });
    return data as SubjectCustomization;
  } catch (error) {
    findings.push({
      kind: 'oidc-template-unreadable',
      severity: 'low',
      resource: `github:${fullName}`,
      summary: `cannot read the OIDC subject template of ${fullName} (${(error as { status?: number }).status ?? 'error'}): subjects assume the default repo:${fullName}:... form`,
    });
    return undefined;
  }
}

/** What decides rotation owners in a repository: its owners file and its CODEOWNERS, when present. */
interface OwnerSources {
  file?: Map<string, string>;
  codeowners?: CodeownersRule[];
}

async function ownerSources(fetch: WorkflowFetcher, repo: string, findings: Finding[]): Promise<OwnerSources> {
  const sources: OwnerSources = {};
  const ownersText = await fetch({ repo, path: OWNERS_FILE_PATH });
  if (ownersText !== undefined) {
    try {
      sources.file = parseOwnersFile(ownersText);
    } catch (error) {
      findings.push({ kind: 'owners-file-invalid', severity: 'low', resource: `github:${repo}/${OWNERS_FILE_PATH}`, summary: `${OWNERS_FILE_PATH} is not valid (${(error as Error).message}): owners fall back to CODEOWNERS` });
    }
  }
  for (const path of CODEOWNERS_PATHS) {
    const text = await fetch({ repo, path });
    if (text === undefined) continue;
    sources.codeowners = parseCodeowners(text);
    break;
  }
  return sources;
}

/** Fills `opens` and `owner` of a workflow's items: the owners file, else the workflow file's code owners, else `unknown`. */
function annotate(items: InventoryItem[], org: string, workflowPath: string, text: string, owners: OwnerSources): void {
  const targets = workflowTargets(text);
  const codeowners = owners.codeowners ? ownersOf(owners.codeowners, workflowPath)?.join(' ') : undefined;
  for (const item of items) {
    item.opens = opensFor(item, org, targets);
    item.owner = (owners.file && ownerFromFile(owners.file, item.name)) ?? codeowners ?? 'unknown';
  }
}

/** Joins two values of a column for an item several workflows reach: each distinct value once. */
function merged(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined || a === b) return b ?? a;
  if (b === undefined) return a;
  const values = [...new Set([...a.split(','), ...b.split(',')])].filter((value) => value !== 'unknown');
  return values.length > 0 ? values.join(',') : 'unknown';
}

/** Builds the inventory of one workflow (by file name, path or id) or of every workflow of the repository. */
export async function buildInventory(github: Octokit, options: { repo: string; workflow?: string | number }): Promise<InventoryResult> {
  const { owner, repo } = splitRepo(options.repo);
  const { data: repository } = await github.rest.repos.get({ owner, repo });
  const findings: Finding[] = [];
  const paths: string[] = [];
  if (options.workflow !== undefined) {
    const { data } = await github.rest.actions.getWorkflow({ owner, repo, workflow_id: workflowId(options.workflow) });
    paths.push(data.path);
  } else {
    const workflows = await github.paginate(github.rest.actions.listRepoWorkflows, { owner, repo, per_page: 100 });
    paths.push(...workflows.map((w) => w.path).filter((p) => /^\.github\/workflows\/[^/]+\.ya?ml$/.test(p)));
  }
  const available = await availableSecrets(github, options.repo, repository.private, repository.id, findings);
  const customization = await subjectCustomization(github, options.repo, findings);
  const identity: RepoIdentity = { fullName: repository.full_name, owner: repository.owner.login, ownerId: repository.owner.id, repoId: repository.id };
  available.present = (subject) => presentSubject(subject, identity, customization);
  // Reusable workflows are called from many places: read each file once.
  const read = contentsFetcher(github);
  const cache = new Map<string, Promise<string | undefined>>();
  const fetch: WorkflowFetcher = (target) => {
    const key = `${target.repo}/${target.path}@${target.ref ?? ''}`;
    let text = cache.get(key);
    if (!text) cache.set(key, (text = read(target)));
    return text;
  };
  const owners = await ownerSources(fetch, options.repo, findings);
  const workflows: InventoryResult['workflows'] = [];
  const all = new Map<string, InventoryItem>();
  for (const path of paths) {
    const text = await fetch({ repo: options.repo, path });
    if (text === undefined) {
      workflows.push({ path, items: [], error: 'file not found' });
      continue;
    }
    let analysis;
    try {
      analysis = analyzeWorkflow(text, { repo: options.repo, path, defaultBranch: repository.default_branch });
    } catch (error) {
      if (!(error instanceof WorkflowParseError)) throw error;
      findings.push({ kind: 'workflow-unparseable', severity: 'medium', resource: `github:${options.repo}/${path}`, summary: error.message });
      workflows.push({ path, items: [], error: error.message });
      continue;
    }
    const graph = await followWorkflow(analysis, { fetch, defaultBranch: repository.default_branch });
    const items = itemsOf(graph, available, findings);
    annotate(items, repository.owner.login, path, text, owners);
    workflows.push({ path, graph, items });
    for (const item of items) {
      const key = `${item.kind}|${item.scope}|${item.name}${item.kind === 'github-token' ? `|${item.detail}` : ''}`;
      const existing = all.get(key);
      if (existing) {
        existing.jobs = [...new Set([...existing.jobs, ...item.jobs])];
        const opens = merged(existing.opens, item.opens);
        const owner = merged(existing.owner, item.owner);
        if (opens !== undefined) existing.opens = opens;
        if (owner !== undefined) existing.owner = owner;
      } else all.set(key, { ...item, jobs: [...item.jobs] });
    }
  }
  return { repo: options.repo, workflows, items: [...all.values()], findings };
}
