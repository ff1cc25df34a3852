import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { Secret, fingerprint } from '../../engine/secret.js';
import { GitHubWorld } from '../scenario.js';
import type { LabContext } from '../types.js';

/** A secret as the lab holds it: the value only inside a Secret (prints as its fingerprint). */
export interface SecretState {
  name: string;
  createdAt: Date;
  updatedAt: Date;
  value: Secret;
  /** Fingerprint of the plaintext last put (or of the scenario's value): proves the client sealed it right. */
  fingerprint: string;
  /** How many times a client has PUT it since the lab started. */
  puts: number;
}

export interface OrgSecretState extends SecretState {
  visibility: 'all' | 'private' | 'selected';
  /** Repository ids the secret is shared with when `visibility` is `selected`. */
  selectedRepositoryIds: number[];
}

export interface WorkflowState {
  id: number;
  path: string;
  name: string;
  state: 'active' | 'disabled_manually' | 'disabled_inactivity';
  createdAt: Date;
  updatedAt: Date;
}

export interface JobState {
  id: number;
  name: string;
  status: 'queued' | 'in_progress' | 'completed';
  conclusion: string | null;
  startedAt: Date;
  completedAt: Date | null;
  /** The AWS session (scenario aws.sessions id) its OIDC token was exchanged for. */
  awsSession?: string;
}

export type RunStatus = 'queued' | 'in_progress' | 'completed' | 'waiting' | 'requested' | 'pending';

export interface RunState {
  id: number;
  workflowId: number;
  workflowPath: string;
  name: string;
  runNumber: number;
  event: string;
  actor: string;
  headBranch: string;
  headSha: string;
  status: RunStatus;
  conclusion: string | null;
  createdAt: Date;
  updatedAt: Date;
  ignoresCancel: boolean;
  /** A cancel was accepted (202) but the run ignores it: only force-cancel ends it. */
  cancelRequested: boolean;
  /** How the run ended, when the lab ended it: `cancel` or `force-cancel`. */
  endedBy?: 'cancel' | 'force-cancel';
  jobs: JobState[];
  logs?: Record<string, string>;
}

export interface DeployKeyState {
  id: number;
  title: string;
  key: string;
  readOnly: boolean;
  createdAt: Date;
  deletedAt?: Date;
}

export interface EnvironmentState {
  id: number;
  name: string;
  createdAt: Date;
  secrets: Map<string, SecretState>;
}

export interface RepoState {
  id: number;
  fullName: string;
  owner: string;
  name: string;
  private: boolean;
  defaultBranch: string;
  createdAt: Date;
  /** `GET/PUT .../actions/permissions` `enabled`: false is the repo-wide kill switch. */
  actionsEnabled: boolean;
  allowedActions: 'all' | 'local_only' | 'selected';
  shaPinningRequired: boolean;
  workflows: WorkflowState[];
  runs: RunState[];
  secrets: Map<string, SecretState>;
  environments: Map<string, EnvironmentState>;
  deployKeys: DeployKeyState[];
  deletedDeployKeys: DeployKeyState[];
  /** Every file the contents API serves: workflow files and the scenario's `files`. */
  files: Map<string, string>;
  /** OIDC subject customization of the repo. */
  oidc: { useDefault: boolean; includeClaimKeys: string[]; useImmutableSubject: boolean };
}

export interface OrgState {
  login: string;
  id: number;
  secrets: Map<string, OrgSecretState>;
}

export interface TokenState {
  /** Fingerprint of the token: the value itself is kept out of the state tests print. */
  fingerprint: string;
  kind: string;
  owner: string;
  revokedAt?: Date;
}

/** The GitHub half of the lab's world, mutated by requests; tests assert on it. */
export interface GitHubLabState {
  repos: Map<string, RepoState>;
  orgs: Map<string, OrgState>;
  tokens: TokenState[];
  /** Requests the emulator handled (faults injected by the host never reach it). */
  requestCount: number;
  /** Handled requests per `METHOD /route/template`. */
  requestsByOperation: Map<string, number>;
  /** When each POST /credentials/revoke was accepted or refused for budget: the 60/h window. */
  revokeRequests: Date[];
  /** A repo by full name, or throws: for tests. */
  repo(fullName: string): RepoState;
  /** A workflow by id, file name or path, or throws. */
  workflow(fullName: string, idOrFile: number | string): WorkflowState;
  run(fullName: string, runId: number): RunState;
  /** A repo, environment (`env` given) or org secret, or undefined. */
  secret(scope: { repo: string; env?: string } | { org: string }, name: string): SecretState | undefined;
  isTokenRevoked(token: string): boolean;
}

/** Scenario times are offsets; GitHub prints seconds, not milliseconds. */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A stable positive id for a thing named `key`, in the range real GitHub ids live in. */
export function stableId(labSecret: string, key: string, min = 100_000_000, span = 800_000_000): number {
  const hash = createHash('sha256').update(`${labSecret}:id:${key}`).digest();
  return min + (hash.readUInt32BE(0) % span);
}

function workflowName(content: string | undefined, path: string): string {
  if (content) {
    try {
      const parsed = parseYaml(content) as { name?: unknown } | null;
      if (parsed && typeof parsed.name === 'string' && parsed.name.trim()) return parsed.name;
    } catch {
      // A workflow GitHub cannot parse is still listed, under its path.
    }
  }
  // GitHub names a workflow without `name:` by its path.
  return path;
}

/** A GitHub App the lab knows: installation tokens are minted for JWTs its key signed. */
export interface AppState {
  id: number;
  slug: string;
  installationId: number;
  publicKeyPem: string;
}

export interface BuiltWorld {
  state: GitHubLabState;
  apps: AppState[];
  /** Token value -> its state; the lab's own token is in it too. Private to the service. */
  tokensByValue: Map<string, TokenState>;
}

/**
 * Builds the lab's GitHub state from the scenario: ids are filled deterministically, offsets
 * become absolute times, workflow files are read (inline `content` or `file` next to the scenario).
 */
export function buildWorld(input: z.input<typeof GitHubWorld>, ctx: LabContext, labSecret: string, labToken: string, labUser: string): BuiltWorld {
  const world = GitHubWorld.parse(input);
  const repos = new Map<string, RepoState>();
  const orgs = new Map<string, OrgState>();
  const at = (offset: string) => ctx.at(offset);
  const secretState = (name: string, value: string, when: Date): SecretState => ({
    name: name.toUpperCase(),
    createdAt: when,
    updatedAt: when,
    value: new Secret(value, `GitHub secret ${name.toUpperCase()}`),
    fingerprint: fingerprint(value),
    puts: 0,
  });
  // Secrets and repos of a scenario existed before the incident; a month is an arbitrary "long ago".
  const longAgo = at('-30d');

  for (const repo of world.repos) {
    const [owner, name] = repo.full_name.split('/') as [string, string];
    const files = new Map<string, string>(Object.entries(repo.files));
    const workflows: WorkflowState[] = repo.workflows.map((workflow) => {
      const content = workflow.content ?? (workflow.file ? readFileSync(resolve(ctx.scenarioDir, workflow.file), 'utf8') : undefined);
      if (content !== undefined) files.set(workflow.path, content);
      return {
        id: workflow.id ?? stableId(labSecret, `workflow:${repo.full_name}:${workflow.path}`),
        path: workflow.path,
        name: workflow.name ?? workflowName(content, workflow.path),
        state: workflow.state,
        createdAt: longAgo,
        updatedAt: longAgo,
      };
    });
    const runNumbers = new Map<string, number>();
    const runs: RunState[] = [...repo.runs]
      .sort((a, b) => at(a.created_at).getTime() - at(b.created_at).getTime())
      .map((run) => {
        let workflow = workflows.find((candidate) => candidate.path === run.workflow);
        if (!workflow) {
          // A run of a workflow file the scenario does not list still has a workflow on GitHub.
          workflow = { id: stableId(labSecret, `workflow:${repo.full_name}:${run.workflow}`), path: run.workflow, name: run.workflow, state: 'active', createdAt: longAgo, updatedAt: longAgo };
          workflows.push(workflow);
        }
        const runNumber = (runNumbers.get(workflow.path) ?? 0) + 1;
        runNumbers.set(workflow.path, runNumber);
        const createdAt = at(run.created_at);
        const jobs: JobState[] = run.jobs.map((job) => ({
          id: job.id ?? stableId(labSecret, `job:${run.id}:${job.name}`, 10_000_000_000, 9_000_000_000),
          name: job.name,
          status: job.status,
          conclusion: job.conclusion ?? (job.status === 'completed' ? 'success' : null),
          startedAt: at(job.started_at),
          completedAt: job.completed_at ? at(job.completed_at) : null,
          ...(job.aws_session ? { awsSession: job.aws_session } : {}),
        }));
        const lastJobEnd = Math.max(createdAt.getTime(), ...jobs.map((job) => (job.completedAt ?? job.startedAt).getTime()));
        return {
          id: run.id,
          workflowId: workflow.id,
          workflowPath: workflow.path,
          name: workflow.name,
          runNumber,
          event: run.event,
          actor: run.actor,
          headBranch: run.head_branch,
          headSha: run.head_sha,
          status: run.status,
          conclusion: run.conclusion ?? (run.status === 'completed' ? 'success' : null),
          createdAt,
          updatedAt: new Date(lastJobEnd),
          ignoresCancel: run.ignores_cancel,
          cancelRequested: false,
          jobs,
          ...(run.logs ? { logs: run.logs } : {}),
        };
      });
    const repoState: RepoState = {
      id: repo.id ?? stableId(labSecret, `repo:${repo.full_name}`),
      fullName: repo.full_name,
      owner,
      name,
      private: repo.private,
      defaultBranch: repo.default_branch,
      createdAt: at('-365d'),
      actionsEnabled: repo.actions_enabled,
      allowedActions: 'all',
      shaPinningRequired: false,
      workflows,
      runs,
      secrets: new Map(repo.secrets.map((secret) => [secret.name.toUpperCase(), secretState(secret.name, secret.value, longAgo)])),
      environments: new Map(
        repo.environments.map((env) => [
          env.name,
          {
            id: stableId(labSecret, `env:${repo.full_name}:${env.name}`),
            name: env.name,
            createdAt: longAgo,
            secrets: new Map(env.secrets.map((secret) => [secret.name.toUpperCase(), secretState(secret.name, secret.value, longAgo)])),
          },
        ]),
      ),
      deployKeys: repo.deploy_keys.map((key) => ({
        id: key.id ?? stableId(labSecret, `deploy-key:${repo.full_name}:${key.title}`, 10_000_000, 90_000_000),
        title: key.title,
        key: key.key,
        readOnly: key.read_only,
        createdAt: longAgo,
      })),
      deletedDeployKeys: [],
      files,
      oidc: {
        useDefault: repo.oidc?.use_default ?? true,
        includeClaimKeys: repo.oidc?.include_claim_keys ?? [],
        useImmutableSubject: repo.oidc?.use_immutable_subject ?? false,
      },
    };
    repos.set(repo.full_name.toLowerCase(), repoState);
  }

  const orgLogins = new Set([...world.orgs.map((org) => org.login), ...[...repos.values()].map((repo) => repo.owner)]);
  for (const login of orgLogins) {
    const scenarioOrg = world.orgs.find((org) => org.login === login);
    const secrets = new Map<string, OrgSecretState>();
    for (const secret of scenarioOrg?.secrets ?? []) {
      const selectedRepositoryIds = secret.selected_repositories.map((fullName) => {
        const repo = repos.get(fullName.toLowerCase()) ?? repos.get(`${login}/${fullName}`.toLowerCase());
        if (!repo) throw new Error(`scenario: org secret ${secret.name} selects unknown repository ${fullName}`);
        return repo.id;
      });
      secrets.set(secret.name.toUpperCase(), { ...secretState(secret.name, secret.value, longAgo), visibility: secret.visibility, selectedRepositoryIds });
    }
    orgs.set(login.toLowerCase(), { login, id: stableId(labSecret, `org:${login}`, 1_000_000, 90_000_000), secrets });
  }

  const tokensByValue = new Map<string, TokenState>();
  tokensByValue.set(labToken, { fingerprint: fingerprint(labToken), kind: 'pat', owner: labUser });
  for (const token of world.tokens) {
    tokensByValue.set(token.value, { fingerprint: fingerprint(token.value), kind: token.kind, owner: token.owner ?? labUser });
  }

  const state: GitHubLabState = {
    repos,
    orgs,
    tokens: [...tokensByValue.values()],
    requestCount: 0,
    requestsByOperation: new Map(),
    revokeRequests: [],
    repo(fullName) {
      const repo = repos.get(fullName.toLowerCase());
      if (!repo) throw new Error(`lab: no repository ${fullName}`);
      return repo;
    },
    workflow(fullName, idOrFile) {
      const workflow = findWorkflow(state.repo(fullName), String(idOrFile)) ?? state.repo(fullName).workflows.find((candidate) => candidate.path === idOrFile);
      if (!workflow) throw new Error(`lab: no workflow ${idOrFile} in ${fullName}`);
      return workflow;
    },
    run(fullName, runId) {
      const run = state.repo(fullName).runs.find((candidate) => candidate.id === runId);
      if (!run) throw new Error(`lab: no run ${runId} in ${fullName}`);
      return run;
    },
    secret(scope, name) {
      const key = name.toUpperCase();
      if ('org' in scope) return orgs.get(scope.org.toLowerCase())?.secrets.get(key);
      const repo = state.repo(scope.repo);
      if (scope.env !== undefined) return repo.environments.get(scope.env)?.secrets.get(key);
      return repo.secrets.get(key);
    },
    isTokenRevoked(token) {
      return tokensByValue.get(token)?.revokedAt !== undefined;
    },
  };
  const apps = world.apps.map((app) => ({ id: app.id, slug: app.slug, installationId: app.installation_id, publicKeyPem: app.public_key }));
  return { state, tokensByValue, apps };
}

/** GitHub accepts a workflow's numeric id or its file name (`deploy.yml`), not its full path. */
export function findWorkflow(repo: RepoState, idOrFile: string): WorkflowState | undefined {
  if (/^\d+$/.test(idOrFile)) return repo.workflows.find((workflow) => workflow.id === Number(idOrFile));
  return repo.workflows.find((workflow) => workflow.path.split('/').pop() === idOrFile);
}
