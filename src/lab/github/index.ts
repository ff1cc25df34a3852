import { createHash, createPublicKey, verify } from 'node:crypto';
import { strToU8, zipSync } from 'fflate';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { Secret, fingerprint } from '../../engine/secret.js';
import type { GitHubWorld } from '../scenario.js';
import type { LabContext, LabHttpRequest, LabHttpResponse, LabService } from '../types.js';
import { DOCS, error, json, jsonBody, matchRoute, noContent, notFound, paginate, route, validationFailed, type Reply, type Route } from './http.js';
import { SealedBoxKeys } from './sealed.js';
import * as shape from './shapes.js';
import {
  buildWorld,
  findWorkflow,
  type EnvironmentState,
  type GitHubLabState,
  type OrgSecretState,
  type OrgState,
  type RepoState,
  type RunState,
  type SecretState,
  type TokenState,
} from './world.js';
import { isoSeconds } from './world.js';

export type { GitHubLabState } from './world.js';

/** The GitHub half of the lab: a LabService plus what tests and `lab serve` need. */
export interface GitHubLab extends LabService {
  readonly name: 'github';
  /** The lab's own token (`ghp_lab...`): put it in `ProviderConfig.github.token`. Derived from the seed. */
  readonly token: string;
  /** The login the lab token belongs to (`GET /user`). */
  readonly user: string;
  /** The world as requests changed it: workflow states, runs, secret fingerprints, deploy keys, tokens, counters. */
  readonly state: GitHubLabState;
  /**
   * Plays one REST call as the holder of `token` (an attacker with a stolen PAT, say) without
   * HTTP: `callAs(token, 'GET /repos/acme/api')`. A revoked or unknown token gets GitHub's 401.
   */
  callAs(token: string | undefined, call: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  /** The public key of a scope (for tests that seal a value themselves). Resolves once libsodium is ready. */
  publicKey(scope: { repo: string; env?: string } | { org: string }): Promise<{ keyId: string; key: string }>;
}

export interface GitHubLabOptions {
  /** The scenario seed: the lab token, ids and box keys derive from it. Default: drawn from `ctx.random()`. */
  seed?: number;
  /** Login of the lab token's owner. */
  user?: string;
}

/** POST /credentials/revoke: 60 requests an hour, per GitHub's docs (FACTS.md "Leaked tokens"). */
const REVOKE_BUDGET_PER_HOUR = 60;
const REVOKE_MAX_CREDENTIALS = 1000;
/** Primary limit of a token (FACTS.md "Rate limits"). */
const RATE_LIMIT_PER_HOUR = 5000;
/** GitHub lists runs filtered by any parameter only up to 1,000 results (FACTS.md "Runs"). */
const FILTERED_RUNS_CAP = 1000;

const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** The sealed-box ciphertext GitHub's OpenAPI description requires: standard base64. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$/;
const RUN_STATUSES = ['completed', 'action_required', 'cancelled', 'failure', 'neutral', 'skipped', 'stale', 'success', 'timed_out', 'in_progress', 'queued', 'requested', 'waiting', 'pending'];

interface Call {
  request: LabHttpRequest;
  params: Record<string, string>;
  /** Scheme and host the client reached: every URL in a body or header points back at it. */
  base: shape.UrlBase;
  docs: string;
  /** Owner of the token that authenticated, undefined on unauthenticated routes. */
  token?: TokenState;
}

type Handler = (call: Call) => Reply | Promise<Reply>;

/** The lab's token: `ghp_` and 36 characters like a classic PAT, `lab` first so it is recognisable. */
function labTokenFor(secret: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = createHash('sha256').update(`${secret}:token`).digest();
  let body = '';
  for (let index = 0; index < 33; index += 1) body += alphabet[bytes[index % bytes.length]! % alphabet.length];
  return `ghp_lab${body}`;
}

function bearer(request: LabHttpRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^(?:token|bearer)\s+(\S+)$/i.exec(header.trim());
  return match ? match[1] : '';
}

/** Bounds of a `created` filter (GitHub search date syntax): `>=D`, `<D`, `D..D`, `D..*`, `D`. */
function createdRange(filter: string): { from: number; to: number } | undefined {
  const isDateOnly = (value: string) => /^\d{4}-\d{2}-\d{2}$/.test(value);
  const startOf = (value: string) => (value === '*' ? -Infinity : Date.parse(isDateOnly(value) ? `${value}T00:00:00Z` : value));
  const endOf = (value: string) => (value === '*' ? Infinity : isDateOnly(value) ? Date.parse(`${value}T00:00:00Z`) + 86_400_000 - 1 : Date.parse(value));
  let range: { from: number; to: number };
  const comparison = /^(>=|<=|>|<)(.+)$/.exec(filter);
  if (comparison) {
    const [, op, value] = comparison as unknown as [string, string, string];
    if (op === '>=') range = { from: startOf(value), to: Infinity };
    else if (op === '>') range = { from: endOf(value) + 1, to: Infinity };
    else if (op === '<=') range = { from: -Infinity, to: endOf(value) };
    else range = { from: -Infinity, to: startOf(value) - 1 };
  } else if (filter.includes('..')) {
    const [from, to] = filter.split('..') as [string, string];
    range = { from: startOf(from), to: endOf(to) };
  } else {
    range = { from: startOf(filter), to: endOf(filter) };
  }
  return Number.isNaN(range.from) || Number.isNaN(range.to) ? undefined : range;
}

/** Whether a workflow file declares `workflow_dispatch` (`on:` as a string, a list or a map). Unknown content: assume so. */
function dispatchable(content: string | undefined): boolean {
  if (content === undefined) return true;
  try {
    const on = (parseYaml(content) as { on?: unknown } | null)?.on;
    if (typeof on === 'string') return on === 'workflow_dispatch';
    if (Array.isArray(on)) return on.includes('workflow_dispatch');
    return Boolean(on && typeof on === 'object' && 'workflow_dispatch' in on);
  } catch {
    return false;
  }
}

/**
 * Creates the GitHub REST emulator for a scenario's `github` world. Serve it with
 * `serveService` (src/lab/http.ts) and point the real Octokit at the URL with `token`.
 */
export function createGitHubService(world: z.input<typeof GitHubWorld>, ctx: LabContext, options: GitHubLabOptions = {}): GitHubLab {
  const labSecret = `cicd-ir-lab:${options.seed ?? Math.floor(ctx.random() * 2 ** 32)}`;
  const token = labTokenFor(labSecret);
  const user = options.user ?? 'lab-responder';
  const { state, tokensByValue, apps } = buildWorld(world, ctx, labSecret, token, user);
  let mintedTokens = 0;
  const keys = new SealedBoxKeys(labSecret);
  let requestSerial = 0;
  const rateUsed = new Map<string, number>();
  let rateWindowStart = ctx.now();
  /** The primary budget is per hour: a lab that runs longer starts a new window, as GitHub does at reset. */
  const rollRateWindow = () => {
    if (ctx.now().getTime() >= rateWindowStart.getTime() + 3_600_000) {
      rateWindowStart = ctx.now();
      rateUsed.clear();
    }
  };

  // ---- lookups that answer 404 the way GitHub does --------------------------------------------

  const repoOf = (call: Call): RepoState | undefined => state.repos.get(`${call.params.owner}/${call.params.repo}`.toLowerCase());
  const orgOf = (call: Call): OrgState | undefined => state.orgs.get(call.params.org!.toLowerCase());
  const runOf = (repo: RepoState, call: Call): RunState | undefined => repo.runs.find((run) => String(run.id) === call.params.run_id);
  const secretName = (call: Call) => call.params.secret_name!.toUpperCase();

  const withRepo = (handler: (call: Call, repo: RepoState) => Reply | Promise<Reply>): Handler => (call) => {
    const repo = repoOf(call);
    return repo ? handler(call, repo) : notFound(call.docs);
  };
  const withOrg = (handler: (call: Call, org: OrgState) => Reply | Promise<Reply>): Handler => (call) => {
    const org = orgOf(call);
    return org ? handler(call, org) : notFound(call.docs);
  };
  const withEnv = (handler: (call: Call, repo: RepoState, env: EnvironmentState) => Reply | Promise<Reply>): Handler =>
    withRepo((call, repo) => {
      const env = repo.environments.get(call.params.environment_name!);
      return env ? handler(call, repo, env) : notFound(call.docs);
    });

  // ---- runs ------------------------------------------------------------------------------------

  function listRuns(call: Call, repo: RepoState, workflowId?: number): Reply {
    const query = call.request.query;
    const filters = ['actor', 'branch', 'event', 'status', 'created', 'head_sha', 'check_suite_id'].filter((name) => query.has(name));
    let runs = repo.runs.filter((run) => workflowId === undefined || run.workflowId === workflowId);
    const status = query.get('status');
    if (status !== null && !RUN_STATUSES.includes(status)) {
      return validationFailed(call.docs, [{ resource: 'WorkflowRun', field: 'status', code: 'invalid' }]);
    }
    const created = query.get('created');
    const range = created !== null ? createdRange(created) : undefined;
    if (created !== null && !range) {
      return validationFailed(call.docs, [{ resource: 'WorkflowRun', field: 'created', code: 'invalid' }]);
    }
    runs = runs.filter(
      (run) =>
        (!query.has('actor') || run.actor === query.get('actor')) &&
        (!query.has('branch') || run.headBranch === query.get('branch')) &&
        (!query.has('event') || run.event === query.get('event')) &&
        (!query.has('head_sha') || run.headSha === query.get('head_sha')) &&
        (!query.has('check_suite_id') || String(run.id + 1) === query.get('check_suite_id')) &&
        // `status` takes a status or a conclusion (docs: "Can be one of: completed, ..., success").
        (status === null || run.status === status || run.conclusion === status) &&
        (!range || (run.createdAt.getTime() >= range.from && run.createdAt.getTime() <= range.to)),
    );
    // Newest first, as GitHub lists them.
    runs.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.id - a.id);
    if (filters.length > 0) runs = runs.slice(0, FILTERED_RUNS_CAP);
    const { page, headers } = paginate(runs, call.request, call.base.api);
    return json(200, { total_count: runs.length, workflow_runs: page.map((run) => shape.workflowRun(call.base, repo, run)) }, headers);
  }

  function finishRun(run: RunState, how: 'cancel' | 'force-cancel') {
    const now = ctx.now();
    run.status = 'completed';
    run.conclusion = 'cancelled';
    run.updatedAt = now;
    run.endedBy = how;
    for (const job of run.jobs) {
      if (job.status === 'completed') continue;
      job.status = 'completed';
      job.conclusion = 'cancelled';
      job.completedAt = now;
    }
  }

  // ---- secrets ---------------------------------------------------------------------------------

  function validSecretName(call: Call): Reply | undefined {
    const name = call.params.secret_name!;
    if (!SECRET_NAME.test(name) || /^GITHUB_/i.test(name)) {
      // GitHub: "Secret names can only contain alphanumeric characters or underscores, must not
      // start with a number, and must not start with the GITHUB_ prefix."
      return validationFailed(call.docs, [{ resource: 'Secret', field: 'name', code: 'invalid' }]);
    }
    return undefined;
  }

  /** Opens a PUT secret body: 422 on a malformed body, a stale key_id, or a box that does not open. */
  async function openSecretBody(call: Call, scope: string): Promise<{ plaintext: string; body: Record<string, unknown> } | Reply> {
    const invalidName = validSecretName(call);
    if (invalidName) return invalidName;
    const body = jsonBody(call.request);
    if (!body || typeof body !== 'object' || Array.isArray(body)) return error(400, 'Problems parsing JSON', call.docs);
    const { encrypted_value: encrypted, key_id: keyId } = body as Record<string, unknown>;
    if (typeof encrypted !== 'string' || !BASE64.test(encrypted)) {
      return validationFailed(call.docs, [{ resource: 'Secret', field: 'encrypted_value', code: 'invalid' }]);
    }
    await SealedBoxKeys.ready();
    if (typeof keyId !== 'string' || keyId !== keys.keypair(scope).keyId) {
      // The key_id must be the scope's current one: a value sealed for another repo's key cannot be read here.
      return validationFailed(call.docs, [{ resource: 'Secret', field: 'key_id', code: 'invalid' }]);
    }
    const plaintext = keys.open(scope, encrypted);
    if (plaintext === undefined) {
      // Wording is the lab's: GitHub answers 422 when the value does not decrypt with the key.
      return validationFailed(call.docs, [{ resource: 'Secret', field: 'encrypted_value', code: 'invalid', message: 'could not be decrypted with the key of key_id' }]);
    }
    return { plaintext, body: body as Record<string, unknown> };
  }

  function storeSecret<S extends SecretState>(secrets: Map<string, S>, name: string, plaintext: string, extra: Omit<S, keyof SecretState>): Reply {
    const now = ctx.now();
    const existing = secrets.get(name);
    const value = new Secret(plaintext, `GitHub secret ${name}`);
    if (existing) {
      Object.assign(existing, extra, { value, fingerprint: fingerprint(plaintext), updatedAt: now, puts: existing.puts + 1 });
      return noContent();
    }
    secrets.set(name, { name, createdAt: now, updatedAt: now, value, fingerprint: fingerprint(plaintext), puts: 1, ...extra } as S);
    // 201 Created for a new secret, 204 for an update (docs: create-or-update-repo-secret).
    return { status: 201, headers: { 'content-type': 'application/json; charset=utf-8' }, body: '{}' };
  }

  const publicKeyReply = async (scope: string): Promise<Reply> => {
    await SealedBoxKeys.ready();
    const pair = keys.keypair(scope);
    return json(200, { key_id: pair.keyId, key: pair.publicKeyBase64 });
  };

  const secretList = (call: Call, secrets: Map<string, SecretState>): Reply => {
    const all = [...secrets.values()].sort((a, b) => a.name.localeCompare(b.name));
    const { page, headers } = paginate(all, call.request, call.base.api);
    return json(200, { total_count: all.length, secrets: page.map(shape.actionsSecret) }, headers);
  };

  const secretGet = (call: Call, secrets: Map<string, SecretState>): Reply => {
    const secret = secrets.get(secretName(call));
    return secret ? json(200, shape.actionsSecret(secret)) : notFound(call.docs);
  };

  const secretDelete = (call: Call, secrets: Map<string, SecretState>): Reply => (secrets.delete(secretName(call)) ? noContent() : notFound(call.docs));

  const repoScope = (repo: RepoState) => `repo:${repo.fullName.toLowerCase()}`;
  const envScope = (repo: RepoState, env: EnvironmentState) => `env:${repo.fullName.toLowerCase()}:${env.name}`;
  const orgScope = (org: OrgState) => `org:${org.login.toLowerCase()}`;

  /** Org secrets a repository's workflows can read: visibility `all`, `private` (private repos), or `selected` naming it. */
  const visibleTo = (repo: RepoState, secret: OrgSecretState) =>
    secret.visibility === 'all' || (secret.visibility === 'private' && repo.private) || (secret.visibility === 'selected' && secret.selectedRepositoryIds.includes(repo.id));

  const reposOfOrg = (org: OrgState) => [...state.repos.values()].filter((repo) => repo.owner.toLowerCase() === org.login.toLowerCase()).sort((a, b) => a.fullName.localeCompare(b.fullName));

  // ---- contents --------------------------------------------------------------------------------

  function contents(call: Call, repo: RepoState): Reply {
    // `ref` is accepted and ignored: the lab keeps one version of each file, so a reusable
    // workflow pinned `@v1` or `@<sha>` resolves to the scenario's copy.
    const path = (call.params.path ?? '').replace(/^\/+|\/+$/g, '');
    const file = repo.files.get(path);
    if (file !== undefined) return json(200, shape.contentFile(call.base, repo, path, file));
    const prefix = path === '' ? '' : `${path}/`;
    const children = new Map<string, 'file' | 'dir'>();
    for (const filePath of repo.files.keys()) {
      if (!filePath.startsWith(prefix)) continue;
      const [head, ...rest] = filePath.slice(prefix.length).split('/');
      children.set(`${prefix}${head}`, rest.length > 0 ? 'dir' : 'file');
    }
    if (children.size === 0) return notFound(call.docs);
    const entries = [...children.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([childPath, type]) => shape.contentEntry(call.base, repo, childPath, type, repo.files.get(childPath)));
    return json(200, entries);
  }

  // ---- credentials/revoke --------------------------------------------------------------------------

  function revoke(call: Call): Reply {
    if (call.request.headers.authorization) {
      // Docs: "Any authenticated requests will return a 403." (FACTS.md "Leaked tokens").
      return error(403, 'This endpoint must be called without authentication', call.docs);
    }
    const now = ctx.now();
    const hourAgo = now.getTime() - 3_600_000;
    const recent = state.revokeRequests.filter((at) => at.getTime() > hourAgo);
    const rateHeaders = (remaining: number) => ({
      'x-ratelimit-limit': String(REVOKE_BUDGET_PER_HOUR),
      'x-ratelimit-remaining': String(remaining),
      'x-ratelimit-reset': String(Math.ceil(((recent[0]?.getTime() ?? now.getTime()) + 3_600_000) / 1000)),
      'x-ratelimit-resource': 'credentials_revoke',
    });
    if (recent.length >= REVOKE_BUDGET_PER_HOUR) {
      // Docs: "limited to only 60 unauthenticated requests per hour"; beyond, the usual rate-limit answer.
      const refused = error(429, 'API rate limit exceeded for credential revocation.', call.docs);
      return { ...refused, headers: { ...refused.headers, ...rateHeaders(0) } };
    }
    state.revokeRequests.push(now);
    const body = jsonBody(call.request) as { credentials?: unknown } | undefined;
    const credentials = body?.credentials;
    if (!Array.isArray(credentials) || credentials.length === 0 || credentials.length > REVOKE_MAX_CREDENTIALS || credentials.some((item) => typeof item !== 'string' || item.length === 0)) {
      return {
        ...json(422, { message: 'Validation Failed', documentation_url: call.docs, errors: [`credentials must be a list of 1 to ${REVOKE_MAX_CREDENTIALS} tokens`] }),
        headers: { 'content-type': 'application/json; charset=utf-8', ...rateHeaders(REVOKE_BUDGET_PER_HOUR - recent.length - 1) },
      };
    }
    for (const credential of credentials as string[]) {
      const known = tokensByValue.get(credential);
      // Unknown tokens are accepted silently: GitHub does not say which credentials existed.
      if (known && !known.revokedAt) known.revokedAt = now;
    }
    return { ...json(202, {}), headers: { 'content-type': 'application/json; charset=utf-8', ...rateHeaders(REVOKE_BUDGET_PER_HOUR - recent.length - 1) } };
  }

  // ---- GitHub Apps ---------------------------------------------------------------------------------

  /**
   * `POST /app/installations/{id}/access_tokens`: the caller proves it is the App with an RS256
   * JWT (`iss` = app id, `exp` at most 10 minutes ahead, per GitHub's docs on JWTs for Apps).
   */
  function installationToken(call: Call): Reply {
    const jwt = bearer(call.request);
    const parts = jwt?.split('.') ?? [];
    if (parts.length !== 3) return error(401, 'A JSON web token could not be decoded', call.docs);
    const [header, payload, signature] = parts as [string, string, string];
    let claims: { iss?: unknown; exp?: unknown; iat?: unknown };
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof claims;
    } catch {
      return error(401, 'A JSON web token could not be decoded', call.docs);
    }
    const app = apps.find((candidate) => String(candidate.id) === String(claims.iss));
    if (!app) return error(401, 'Integration not found', call.docs);
    const signed = verify('RSA-SHA256', Buffer.from(`${header}.${payload}`), createPublicKey(app.publicKeyPem), Buffer.from(signature, 'base64url'));
    const nowSeconds = Math.floor(ctx.now().getTime() / 1000);
    if (!signed) return error(401, 'A JSON web token could not be decoded', call.docs);
    if (typeof claims.exp !== 'number' || claims.exp < nowSeconds || claims.exp > nowSeconds + 660) {
      return error(401, "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires", call.docs);
    }
    if (String(app.installationId) !== call.params.installation_id) return notFound(call.docs);
    mintedTokens += 1;
    const minted = `ghs_${labTokenFor(`${labSecret}:app:${app.id}:${mintedTokens}`).slice('ghp_lab'.length)}xyz`;
    tokensByValue.set(minted, { fingerprint: fingerprint(minted), kind: 'installation', owner: `${app.slug}[bot]` });
    state.tokens.push(tokensByValue.get(minted)!);
    return json(201, {
      token: minted,
      expires_at: isoSeconds(new Date(ctx.now().getTime() + 3_600_000)),
      permissions: { actions: 'write', administration: 'write', contents: 'read', metadata: 'read', secrets: 'write', environments: 'write' },
      repository_selection: 'all',
    });
  }

  // ---- the route table -----------------------------------------------------------------------------

  const routes: Route<Handler>[] = [
    route('GET', '/user', 'users/users#get-the-authenticated-user', (call) =>
      // An installation token is not a user: GitHub answers 403 to GET /user.
      call.token!.kind === 'installation' ? error(403, 'Resource not accessible by integration', call.docs) : json(200, shape.privateUser(call.base, call.token!.owner, ctx.at('-1000d'))),
    ),
    route('POST', '/app/installations/{installation_id}/access_tokens', 'apps/apps#create-an-installation-access-token-for-an-app', installationToken),
    route('GET', '/repos/{owner}/{repo}', 'repos/repos#get-a-repository', withRepo((call, repo) => json(200, shape.fullRepository(call.base, repo)))),
    route('GET', '/orgs/{org}/repos', 'repos/repos#list-organization-repositories', withOrg((call, org) => {
      const type = call.request.query.get('type') ?? 'all';
      const repos = reposOfOrg(org).filter((repo) => type === 'all' || (type === 'private' && repo.private) || (type === 'public' && !repo.private) || !['private', 'public'].includes(type));
      const { page, headers } = paginate(repos, call.request, call.base.api);
      return json(200, page.map((repo) => shape.listedRepository(call.base, repo)), headers);
    })),

    // Workflows
    route('GET', '/repos/{owner}/{repo}/actions/workflows', 'actions/workflows#list-repository-workflows', withRepo((call, repo) => {
      const { page, headers } = paginate(repo.workflows, call.request, call.base.api);
      return json(200, { total_count: repo.workflows.length, workflows: page.map((workflow) => shape.workflow(call.base, repo, workflow)) }, headers);
    })),
    route('GET', '/repos/{owner}/{repo}/actions/workflows/{workflow_id}', 'actions/workflows#get-a-workflow', withRepo((call, repo) => {
      const workflow = findWorkflow(repo, call.params.workflow_id!);
      return workflow ? json(200, shape.workflow(call.base, repo, workflow)) : notFound(call.docs);
    })),
    route('PUT', '/repos/{owner}/{repo}/actions/workflows/{workflow_id}/disable', 'actions/workflows#disable-a-workflow', withRepo((call, repo) => {
      const workflow = findWorkflow(repo, call.params.workflow_id!);
      if (!workflow) return notFound(call.docs);
      // Disabling an already disabled workflow answers 204 again: the state simply stays.
      if (workflow.state !== 'disabled_manually') {
        workflow.state = 'disabled_manually';
        workflow.updatedAt = ctx.now();
      }
      return noContent();
    })),
    route('PUT', '/repos/{owner}/{repo}/actions/workflows/{workflow_id}/enable', 'actions/workflows#enable-a-workflow', withRepo((call, repo) => {
      const workflow = findWorkflow(repo, call.params.workflow_id!);
      if (!workflow) return notFound(call.docs);
      if (workflow.state !== 'active') {
        workflow.state = 'active';
        workflow.updatedAt = ctx.now();
      }
      return noContent();
    })),
    route('POST', '/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches', 'actions/workflows#create-a-workflow-dispatch-event', withRepo((call, repo) => {
      const workflow = findWorkflow(repo, call.params.workflow_id!);
      if (!workflow) return notFound(call.docs);
      const body = jsonBody(call.request) as { ref?: unknown; inputs?: unknown; return_run_details?: unknown } | undefined;
      if (!body || typeof body.ref !== 'string') return validationFailed(call.docs, [{ resource: 'WorkflowDispatch', field: 'ref', code: 'missing_field' }]);
      // Messages as GitHub words them (seen in benc-uk/workflow-dispatch#72 and the fcetool issue #1
      // answer `"status":"422"`); the 422 for the disabled case is *unverified*.
      if (!repo.actionsEnabled) return error(422, 'Actions has been disabled for this repository.', call.docs);
      if (workflow.state !== 'active') return error(422, "Cannot trigger a 'workflow_dispatch' on a disabled workflow", call.docs);
      if (!dispatchable(repo.files.get(workflow.path))) return error(422, "Workflow does not have 'workflow_dispatch' trigger", call.docs);
      const ref = body.ref.replace(/^refs\/heads\//, '');
      const branches = new Set([repo.defaultBranch, ...repo.runs.map((run) => run.headBranch)]);
      if (!branches.has(ref)) return error(422, `No ref found for: ${body.ref}`, call.docs);
      const now = ctx.now();
      const previous = repo.runs.filter((run) => run.workflowId === workflow.id);
      const run: RunState = {
        id: Math.max(0, ...[...state.repos.values()].flatMap((candidate) => candidate.runs.map((existing) => existing.id))) + 1,
        workflowId: workflow.id,
        workflowPath: workflow.path,
        name: workflow.name,
        runNumber: Math.max(0, ...previous.map((existing) => existing.runNumber)) + 1,
        event: 'workflow_dispatch',
        actor: call.token!.owner,
        headBranch: ref,
        headSha: repo.runs.find((existing) => existing.headBranch === ref)?.headSha ?? createHash('sha1').update(`${repo.fullName}:${ref}`).digest('hex'),
        status: 'queued',
        conclusion: null,
        createdAt: now,
        updatedAt: now,
        ignoresCancel: false,
        cancelRequested: false,
        jobs: [],
      };
      repo.runs.push(run);
      if (body.return_run_details === true) {
        return json(200, { workflow_run_id: run.id, run_url: `${call.base.api}/repos/${repo.fullName}/actions/runs/${run.id}`, html_url: `${call.base.html}/${repo.fullName}/actions/runs/${run.id}` });
      }
      return noContent();
    })),
    route('GET', '/repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs', 'actions/workflow-runs#list-workflow-runs-for-a-workflow', withRepo((call, repo) => {
      const workflow = findWorkflow(repo, call.params.workflow_id!);
      return workflow ? listRuns(call, repo, workflow.id) : notFound(call.docs);
    })),

    // Runs
    route('GET', '/repos/{owner}/{repo}/actions/runs', 'actions/workflow-runs#list-workflow-runs-for-a-repository', withRepo((call, repo) => listRuns(call, repo))),
    route('GET', '/repos/{owner}/{repo}/actions/runs/{run_id}', 'actions/workflow-runs#get-a-workflow-run', withRepo((call, repo) => {
      const run = runOf(repo, call);
      return run ? json(200, shape.workflowRun(call.base, repo, run)) : notFound(call.docs);
    })),
    route('POST', '/repos/{owner}/{repo}/actions/runs/{run_id}/cancel', 'actions/workflow-runs#cancel-a-workflow-run', withRepo((call, repo) => {
      const run = runOf(repo, call);
      if (!run) return notFound(call.docs);
      if (run.status === 'completed') return error(409, 'Cannot cancel a workflow run that is completed.', call.docs);
      if (run.ignoresCancel) {
        // A run whose runner does not answer: GitHub accepts the cancel and the run stays in progress.
        run.cancelRequested = true;
      } else {
        // GitHub cancels asynchronously (seconds); the lab ends the run at once.
        finishRun(run, 'cancel');
      }
      return json(202, {});
    })),
    route('POST', '/repos/{owner}/{repo}/actions/runs/{run_id}/force-cancel', 'actions/workflow-runs#force-cancel-a-workflow-run', withRepo((call, repo) => {
      const run = runOf(repo, call);
      if (!run) return notFound(call.docs);
      if (run.status === 'completed') return error(409, 'Cannot cancel a workflow run that is completed.', call.docs);
      finishRun(run, 'force-cancel');
      return json(202, {});
    })),
    route('GET', '/repos/{owner}/{repo}/actions/runs/{run_id}/jobs', 'actions/workflow-jobs#list-jobs-for-a-workflow-run', withRepo((call, repo) => {
      const run = runOf(repo, call);
      if (!run) return notFound(call.docs);
      const filter = call.request.query.get('filter') ?? 'latest';
      if (filter !== 'latest' && filter !== 'all') return validationFailed(call.docs, [{ resource: 'Job', field: 'filter', code: 'invalid' }]);
      const { page, headers } = paginate(run.jobs, call.request, call.base.api);
      return json(200, { total_count: run.jobs.length, jobs: page.map((job) => shape.job(call.base, repo, run, job)) }, headers);
    })),
    route('GET', '/repos/{owner}/{repo}/actions/jobs/{job_id}', 'actions/workflow-jobs#get-a-job-for-a-workflow-run', withRepo((call, repo) => {
      for (const run of repo.runs) {
        const job = run.jobs.find((candidate) => String(candidate.id) === call.params.job_id);
        if (job) return json(200, shape.job(call.base, repo, run, job));
      }
      return notFound(call.docs);
    })),
    route('GET', '/repos/{owner}/{repo}/actions/runs/{run_id}/logs', 'actions/workflow-runs#download-workflow-run-logs', withRepo((call, repo) => {
      const run = runOf(repo, call);
      // A run without logs in the scenario behaves like one whose logs expired or were deleted.
      if (!run || !run.logs) return notFound(call.docs);
      // GitHub redirects to a short-lived signed URL on another host; the lab signs one on itself.
      const signature = createHash('sha256').update(`${labSecret}:logs:${repo.fullName}:${run.id}`).digest('hex').slice(0, 32);
      return { status: 302, headers: { location: `${call.base.api}/_lab/logs/${repo.fullName}/${run.id}.zip?sig=${signature}` } };
    })),

    // Repository secrets
    route('GET', '/repos/{owner}/{repo}/actions/secrets', 'actions/secrets#list-repository-secrets', withRepo((call, repo) => secretList(call, repo.secrets))),
    route('GET', '/repos/{owner}/{repo}/actions/secrets/public-key', 'actions/secrets#get-a-repository-public-key', withRepo((_call, repo) => publicKeyReply(repoScope(repo)))),
    route('GET', '/repos/{owner}/{repo}/actions/secrets/{secret_name}', 'actions/secrets#get-a-repository-secret', withRepo((call, repo) => secretGet(call, repo.secrets))),
    route('PUT', '/repos/{owner}/{repo}/actions/secrets/{secret_name}', 'actions/secrets#create-or-update-a-repository-secret', withRepo(async (call, repo) => {
      const opened = await openSecretBody(call, repoScope(repo));
      return 'plaintext' in opened ? storeSecret(repo.secrets, secretName(call), opened.plaintext, {}) : opened;
    })),
    route('DELETE', '/repos/{owner}/{repo}/actions/secrets/{secret_name}', 'actions/secrets#delete-a-repository-secret', withRepo((call, repo) => secretDelete(call, repo.secrets))),
    route('GET', '/repos/{owner}/{repo}/actions/organization-secrets', 'actions/secrets#list-repository-organization-secrets', withRepo((call, repo) => {
      const org = state.orgs.get(repo.owner.toLowerCase());
      const visible = [...(org?.secrets.values() ?? [])].filter((secret) => visibleTo(repo, secret)).sort((a, b) => a.name.localeCompare(b.name));
      const { page, headers } = paginate(visible, call.request, call.base.api);
      return json(200, { total_count: visible.length, secrets: page.map(shape.actionsSecret) }, headers);
    })),

    // Environments and their secrets
    route('GET', '/repos/{owner}/{repo}/environments', 'deployments/environments#list-environments', withRepo((call, repo) => {
      const envs = [...repo.environments.values()];
      const { page, headers } = paginate(envs, call.request, call.base.api);
      return json(200, { total_count: envs.length, environments: page.map((env) => shape.environment(call.base, repo, env)) }, headers);
    })),
    route('GET', '/repos/{owner}/{repo}/environments/{environment_name}', 'deployments/environments#get-an-environment', withEnv((call, repo, env) => json(200, shape.environment(call.base, repo, env)))),
    route('GET', '/repos/{owner}/{repo}/environments/{environment_name}/secrets', 'actions/secrets#list-environment-secrets', withEnv((call, _repo, env) => secretList(call, env.secrets))),
    route('GET', '/repos/{owner}/{repo}/environments/{environment_name}/secrets/public-key', 'actions/secrets#get-an-environment-public-key', withEnv((_call, repo, env) => publicKeyReply(envScope(repo, env)))),
    route('GET', '/repos/{owner}/{repo}/environments/{environment_name}/secrets/{secret_name}', 'actions/secrets#get-an-environment-secret', withEnv((call, _repo, env) => secretGet(call, env.secrets))),
    route('PUT', '/repos/{owner}/{repo}/environments/{environment_name}/secrets/{secret_name}', 'actions/secrets#create-or-update-an-environment-secret', withEnv(async (call, repo, env) => {
      const opened = await openSecretBody(call, envScope(repo, env));
      return 'plaintext' in opened ? storeSecret(env.secrets, secretName(call), opened.plaintext, {}) : opened;
    })),
    route('DELETE', '/repos/{owner}/{repo}/environments/{environment_name}/secrets/{secret_name}', 'actions/secrets#delete-an-environment-secret', withEnv((call, _repo, env) => secretDelete(call, env.secrets))),

    // Organization secrets
    route('GET', '/orgs/{org}/actions/secrets', 'actions/secrets#list-organization-secrets', withOrg((call, org) => {
      const all = [...org.secrets.values()].sort((a, b) => a.name.localeCompare(b.name));
      const { page, headers } = paginate(all, call.request, call.base.api);
      return json(200, { total_count: all.length, secrets: page.map((secret) => shape.orgSecret(call.base, org.login, secret)) }, headers);
    })),
    route('GET', '/orgs/{org}/actions/secrets/public-key', 'actions/secrets#get-an-organization-public-key', withOrg((_call, org) => publicKeyReply(orgScope(org)))),
    route('GET', '/orgs/{org}/actions/secrets/{secret_name}', 'actions/secrets#get-an-organization-secret', withOrg((call, org) => {
      const secret = org.secrets.get(secretName(call));
      return secret ? json(200, shape.orgSecret(call.base, org.login, secret)) : notFound(call.docs);
    })),
    route('PUT', '/orgs/{org}/actions/secrets/{secret_name}', 'actions/secrets#create-or-update-an-organization-secret', withOrg(async (call, org) => {
      const opened = await openSecretBody(call, orgScope(org));
      if (!('plaintext' in opened)) return opened;
      const { visibility, selected_repository_ids: selected } = opened.body;
      if (visibility !== 'all' && visibility !== 'private' && visibility !== 'selected') {
        return validationFailed(call.docs, [{ resource: 'Secret', field: 'visibility', code: 'invalid' }]);
      }
      if (selected !== undefined && (!Array.isArray(selected) || selected.some((id) => !Number.isInteger(id)))) {
        return validationFailed(call.docs, [{ resource: 'Secret', field: 'selected_repository_ids', code: 'invalid' }]);
      }
      const existing = org.secrets.get(secretName(call));
      const selectedRepositoryIds = visibility === 'selected' ? ((selected as number[] | undefined) ?? existing?.selectedRepositoryIds ?? []) : [];
      return storeSecret<OrgSecretState>(org.secrets, secretName(call), opened.plaintext, { visibility, selectedRepositoryIds });
    })),
    route('DELETE', '/orgs/{org}/actions/secrets/{secret_name}', 'actions/secrets#delete-an-organization-secret', withOrg((call, org) => (org.secrets.delete(secretName(call)) ? noContent() : notFound(call.docs)))),
    route('GET', '/orgs/{org}/actions/secrets/{secret_name}/repositories', 'actions/secrets#list-selected-repositories-for-an-organization-secret', withOrg((call, org) => {
      const secret = org.secrets.get(secretName(call));
      if (!secret) return notFound(call.docs);
      // Only a `selected` secret has a repository list; for `all`/`private` the lab answers 409
      // (lab choice: GitHub does not document this case; the list would be meaningless).
      if (secret.visibility !== 'selected') return error(409, `Secret visibility is ${secret.visibility}, not selected`, call.docs);
      const repos = reposOfOrg(org).filter((repo) => secret.selectedRepositoryIds.includes(repo.id));
      const { page, headers } = paginate(repos, call.request, call.base.api);
      return json(200, { total_count: repos.length, repositories: page.map((repo) => shape.minimalRepository(call.base, repo)) }, headers);
    })),
    route('PUT', '/orgs/{org}/actions/secrets/{secret_name}/repositories', 'actions/secrets#set-selected-repositories-for-an-organization-secret', withOrg((call, org) => {
      const secret = org.secrets.get(secretName(call));
      if (!secret) return notFound(call.docs);
      const ids = (jsonBody(call.request) as { selected_repository_ids?: unknown } | undefined)?.selected_repository_ids;
      if (!Array.isArray(ids) || ids.some((id) => !Number.isInteger(id))) {
        return validationFailed(call.docs, [{ resource: 'Secret', field: 'selected_repository_ids', code: 'invalid' }]);
      }
      if (secret.visibility !== 'selected') return error(409, `Secret visibility is ${secret.visibility}, not selected`, call.docs);
      secret.selectedRepositoryIds = ids as number[];
      secret.updatedAt = ctx.now();
      return noContent();
    })),

    // Actions permissions: the repo kill switch
    route('GET', '/repos/{owner}/{repo}/actions/permissions', 'actions/permissions#get-github-actions-permissions-for-a-repository', withRepo((call, repo) =>
      json(200, {
        enabled: repo.actionsEnabled,
        ...(repo.actionsEnabled ? { allowed_actions: repo.allowedActions, sha_pinning_required: repo.shaPinningRequired } : {}),
        ...(repo.actionsEnabled && repo.allowedActions === 'selected' ? { selected_actions_url: `${call.base.api}/repos/${repo.fullName}/actions/permissions/selected-actions` } : {}),
      }),
    )),
    route('PUT', '/repos/{owner}/{repo}/actions/permissions', 'actions/permissions#set-github-actions-permissions-for-a-repository', withRepo((call, repo) => {
      const body = jsonBody(call.request) as Record<string, unknown> | undefined;
      if (!body || typeof body !== 'object') return error(400, 'Problems parsing JSON', call.docs);
      if (typeof body.enabled !== 'boolean') return validationFailed(call.docs, [{ resource: 'ActionsPermissions', field: 'enabled', code: 'missing_field' }]);
      if (body.allowed_actions !== undefined && !['all', 'local_only', 'selected'].includes(body.allowed_actions as string)) {
        return validationFailed(call.docs, [{ resource: 'ActionsPermissions', field: 'allowed_actions', code: 'invalid' }]);
      }
      if (body.sha_pinning_required !== undefined && typeof body.sha_pinning_required !== 'boolean') {
        return validationFailed(call.docs, [{ resource: 'ActionsPermissions', field: 'sha_pinning_required', code: 'invalid' }]);
      }
      repo.actionsEnabled = body.enabled;
      if (body.allowed_actions !== undefined) repo.allowedActions = body.allowed_actions as RepoState['allowedActions'];
      if (body.sha_pinning_required !== undefined) repo.shaPinningRequired = body.sha_pinning_required as boolean;
      return noContent();
    })),

    // OIDC subject customization: what the `sub` claim of this repo's tokens looks like
    route('GET', '/repos/{owner}/{repo}/actions/oidc/customization/sub', 'actions/oidc#get-the-customization-template-for-an-oidc-subject-claim-for-a-repository', withRepo((_call, repo) => {
      const org = state.orgs.get(repo.owner.toLowerCase());
      // FACTS.md: since 2026 opted-in repos get `repo:org@<org id>/repo@<repo id>:...` subjects.
      const prefix = repo.oidc.useImmutableSubject ? `repo:${repo.owner}@${org?.id ?? 0}/${repo.name}@${repo.id}` : `repo:${repo.fullName}`;
      return json(200, {
        use_default: repo.oidc.useDefault,
        ...(repo.oidc.useDefault ? {} : { include_claim_keys: repo.oidc.includeClaimKeys }),
        use_immutable_subject: repo.oidc.useImmutableSubject,
        sub_claim_prefix: prefix,
      });
    })),
    route('PUT', '/repos/{owner}/{repo}/actions/oidc/customization/sub', 'actions/oidc#set-the-customization-template-for-an-oidc-subject-claim-for-a-repository', withRepo((call, repo) => {
      const body = jsonBody(call.request) as Record<string, unknown> | undefined;
      if (!body || typeof body !== 'object') return error(400, 'Problems parsing JSON', call.docs);
      if (typeof body.use_default !== 'boolean') return validationFailed(call.docs, ['use_default is required and must be a boolean']);
      const keys = body.include_claim_keys;
      if (keys !== undefined && (!Array.isArray(keys) || keys.some((key) => typeof key !== 'string' || !/^\w+$/.test(key)))) {
        // This operation documents validation-error-simple: errors are strings.
        return validationFailed(call.docs, ['include_claim_keys: each claim key can only contain alphanumeric characters and underscores']);
      }
      if (body.use_immutable_subject !== undefined && typeof body.use_immutable_subject !== 'boolean') {
        return validationFailed(call.docs, ['use_immutable_subject must be a boolean']);
      }
      repo.oidc.useDefault = body.use_default;
      if (keys !== undefined) repo.oidc.includeClaimKeys = keys as string[];
      if (body.use_immutable_subject !== undefined) repo.oidc.useImmutableSubject = body.use_immutable_subject as boolean;
      return json(201, {});
    })),

    // Rate limits (doctor): the token's core budget as the lab counts it
    route('GET', '/rate_limit', 'rate-limit/rate-limit#get-rate-limit-status-for-the-authenticated-user', (call) => {
      const used = rateUsed.get(call.token!.fingerprint) ?? 0;
      const reset = Math.ceil(rateWindowStart.getTime() / 1000) + 3600;
      const core = { limit: RATE_LIMIT_PER_HOUR, remaining: Math.max(0, RATE_LIMIT_PER_HOUR - used), reset, used, resource: 'core' };
      const search = { limit: 30, remaining: 30, reset, used: 0, resource: 'search' };
      return json(200, { resources: { core, search, graphql: { ...core, limit: 5000, remaining: 5000, used: 0, resource: 'graphql' } }, rate: core });
    }),

    // Deploy keys
    route('GET', '/repos/{owner}/{repo}/keys', 'deploy-keys/deploy-keys#list-deploy-keys', withRepo((call, repo) => {
      const { page, headers } = paginate(repo.deployKeys, call.request, call.base.api);
      return json(200, page.map((key) => shape.deployKey(call.base, repo, key)), headers);
    })),
    route('GET', '/repos/{owner}/{repo}/keys/{key_id}', 'deploy-keys/deploy-keys#get-a-deploy-key', withRepo((call, repo) => {
      const key = repo.deployKeys.find((candidate) => String(candidate.id) === call.params.key_id);
      return key ? json(200, shape.deployKey(call.base, repo, key)) : notFound(call.docs);
    })),
    route('DELETE', '/repos/{owner}/{repo}/keys/{key_id}', 'deploy-keys/deploy-keys#delete-a-deploy-key', withRepo((call, repo) => {
      const index = repo.deployKeys.findIndex((candidate) => String(candidate.id) === call.params.key_id);
      if (index < 0) return notFound(call.docs);
      const [removed] = repo.deployKeys.splice(index, 1);
      repo.deletedDeployKeys.push({ ...removed!, deletedAt: ctx.now() });
      return noContent();
    })),

    // Contents (workflow files, reusable workflows, CODEOWNERS...)
    route('GET', '/repos/{owner}/{repo}/contents/{path}', 'repos/contents#get-repository-content', withRepo(contents)),

    // Leaked tokens: served without authentication, see revoke().
    route('POST', '/credentials/revoke', 'credentials/revoke#revoke-a-list-of-credentials', revoke),

    // The lab's stand-ins for GitHub's signed download hosts (no token: the URL is the credential).
    route('GET', '/_lab/logs/{owner}/{repo}/{run_file}', 'actions/workflow-runs#download-workflow-run-logs', withRepo((call, repo) => {
      const runId = /^(\d+)\.zip$/.exec(call.params.run_file!)?.[1];
      const run = repo.runs.find((candidate) => String(candidate.id) === runId);
      const expected = run && createHash('sha256').update(`${labSecret}:logs:${repo.fullName}:${run.id}`).digest('hex').slice(0, 32);
      if (!run || !run.logs || call.request.query.get('sig') !== expected) return notFound(call.docs);
      const mtime = run.createdAt;
      const files: Record<string, [Uint8Array, { mtime: Date }]> = {};
      Object.entries(run.logs).forEach(([jobName, text], index) => {
        // GitHub's archive holds one `<n>_<job name>.txt` per job at the top level.
        files[`${index}_${jobName.replace(/[/\\]/g, '_')}.txt`] = [strToU8(text), { mtime }];
      });
      return { status: 200, headers: { 'content-type': 'application/zip', 'content-disposition': `attachment; filename=logs_${run.id}.zip` }, body: Buffer.from(zipSync(files)) };
    })),
    route('GET', '/_lab/raw/{owner}/{repo}/{branch}/{path}', 'repos/contents#get-repository-content', withRepo((call, repo) => {
      const file = repo.files.get(call.params.path!);
      return file === undefined ? { status: 404, headers: { 'content-type': 'text/plain' }, body: '404: Not Found' } : { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: file };
    })),
  ];

  const unauthenticatedRoutes = new Set(['POST /credentials/revoke', 'POST /app/installations/{installation_id}/access_tokens', 'GET /_lab/logs/{owner}/{repo}/{run_file}', 'GET /_lab/raw/{owner}/{repo}/{branch}/{path}']);

  function operationOf(request: LabHttpRequest): string {
    const matched = matchRoute(routes, request.method, request.path);
    return matched ? `${request.method} ${matched.route.template}` : `${request.method} ${request.path}`;
  }

  /** Headers GitHub sends on every answer: request id, API version, and the token's rate budget. */
  function commonHeaders(tokenState: TokenState | undefined): Record<string, string> {
    requestSerial += 1;
    const serial = requestSerial.toString(16).toUpperCase().padStart(6, '0');
    const headers: Record<string, string> = {
      'x-github-request-id': `1AB0:2C3D:${serial}:${(requestSerial * 7919).toString(16).toUpperCase()}:${Math.floor(ctx.startedAt.getTime() / 1000).toString(16).toUpperCase()}`,
      'x-github-api-version-selected': '2022-11-28',
      'x-github-media-type': 'github.v3; format=json',
    };
    if (tokenState) {
      const used = rateUsed.get(tokenState.fingerprint) ?? 0;
      // OAuth scopes belong to classic PATs and OAuth tokens; an App installation token has permissions instead.
      if (tokenState.kind !== 'installation') Object.assign(headers, { 'x-oauth-scopes': 'admin:org, repo, workflow', 'x-accepted-oauth-scopes': '' });
      Object.assign(headers, {
        'x-ratelimit-limit': String(RATE_LIMIT_PER_HOUR),
        'x-ratelimit-remaining': String(Math.max(0, RATE_LIMIT_PER_HOUR - used)),
        'x-ratelimit-used': String(used),
        'x-ratelimit-reset': String(Math.ceil(rateWindowStart.getTime() / 1000) + 3600),
        'x-ratelimit-resource': 'core',
      });
    }
    return headers;
  }

  async function handle(request: LabHttpRequest): Promise<LabHttpResponse> {
    const base = { api: `http://${request.headers.host ?? '127.0.0.1'}`, html: `http://${request.headers.host ?? '127.0.0.1'}` };
    const matched = matchRoute(routes, request.method, request.path);
    const operation = matched ? `${request.method} ${matched.route.template}` : `${request.method} ${request.path}`;
    state.requestCount += 1;
    state.requestsByOperation.set(operation, (state.requestsByOperation.get(operation) ?? 0) + 1);

    let tokenState: TokenState | undefined;
    if (!matched || !unauthenticatedRoutes.has(`${matched.route.method} ${matched.route.template}`)) {
      const presented = bearer(request);
      if (presented === undefined) {
        // Real GitHub serves public resources without a token; the lab asks for one everywhere
        // (the product always authenticates, and a missing token should fail loudly in tests).
        return withHeaders(error(401, 'Requires authentication', DOCS), undefined);
      }
      tokenState = tokensByValue.get(presented);
      if (!tokenState || tokenState.revokedAt) return withHeaders(error(401, 'Bad credentials', DOCS), undefined);
      rollRateWindow();
      // Docs: GET /rate_limit "does not count against your REST API rate limit".
      const used = (rateUsed.get(tokenState.fingerprint) ?? 0) + (operation === 'GET /rate_limit' ? 0 : 1);
      rateUsed.set(tokenState.fingerprint, used);
      if (used > RATE_LIMIT_PER_HOUR) {
        return withHeaders(error(403, `API rate limit exceeded for user ID ${shape.simpleUser(base, tokenState.owner).id}.`, `${DOCS}/overview/rate-limits-for-the-rest-api#about-primary-rate-limits`), tokenState);
      }
    }
    if (!matched) return withHeaders(notFound(), tokenState);
    const reply = await matched.route.handler({ request, params: matched.params, base, docs: matched.route.docs, ...(tokenState ? { token: tokenState } : {}) });
    return withHeaders(reply, tokenState);
  }

  function withHeaders(reply: Reply, tokenState: TokenState | undefined): LabHttpResponse {
    return { ...reply, headers: { ...commonHeaders(tokenState), ...(reply.headers ?? {}) } };
  }

  return {
    name: 'github',
    token,
    user,
    state,
    operation: operationOf,
    // Minting an App installation token changes nothing in the world a playbook acts on.
    mutating: (request) => request.method !== 'GET' && request.method !== 'HEAD' && operationOf(request) !== 'POST /app/installations/{installation_id}/access_tokens',
    handle,
    faultResponse(kind, retryAfterSeconds) {
      if (kind === 'throttle') {
        // GitHub's secondary rate limit answer (docs: rate-limits-for-the-rest-api#about-secondary-rate-limits):
        // 403 with retry-after, and the message plugin-throttling recognises by "secondary rate".
        return withHeaders(
          {
            ...error(403, 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID 1AB0:2C3D:LAB.', `${DOCS}/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits`),
            headers: { 'content-type': 'application/json; charset=utf-8', 'retry-after': String(retryAfterSeconds ?? 60) },
          },
          undefined,
        );
      }
      return withHeaders(error(500, 'Server Error'), undefined);
    },
    async callAs(callerToken, call, body) {
      const match = /^([A-Z]+)\s+(\/\S*)$/.exec(call.trim());
      if (!match) throw new Error(`lab: a call is "METHOD /path", got ${call}`);
      const url = new URL(match[2]!, 'http://127.0.0.1');
      const response = await handle({
        method: match[1]!,
        path: url.pathname,
        query: url.searchParams,
        headers: { host: '127.0.0.1', ...(callerToken ? { authorization: `token ${callerToken}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body !== undefined ? Buffer.from(JSON.stringify(body)) : Buffer.alloc(0),
      });
      const text = response.body?.toString() ?? '';
      const isJson = response.headers?.['content-type']?.includes('json') ?? false;
      return { status: response.status, body: isJson && text ? (JSON.parse(text) as unknown) : text };
    },
    async publicKey(scope) {
      await SealedBoxKeys.ready();
      let scopeName: string;
      if ('org' in scope) {
        const org = state.orgs.get(scope.org.toLowerCase());
        if (!org) throw new Error(`lab: no org ${scope.org}`);
        scopeName = orgScope(org);
      } else {
        const repo = state.repo(scope.repo);
        if (scope.env === undefined) scopeName = repoScope(repo);
        else {
          const env = repo.environments.get(scope.env);
          if (!env) throw new Error(`lab: no environment ${scope.env} in ${scope.repo}`);
          scopeName = envScope(repo, env);
        }
      }
      const pair = keys.keypair(scopeName);
      return { keyId: pair.keyId, key: pair.publicKeyBase64 };
    },
  };
}

