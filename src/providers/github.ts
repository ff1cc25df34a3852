import { AsyncLocalStorage } from 'node:async_hooks';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Octokit } from '@octokit/rest';
import { throttling } from '@octokit/plugin-throttling';
import { retry } from '@octokit/plugin-retry';
import { createAppAuth } from '@octokit/auth-app';
import Bottleneck from 'bottleneck';
import { GITHUB_MAX_IN_FLIGHT, GITHUB_WRITE_SPACING_MS, GITHUB_WRITES_PER_MINUTE, RequestLimiter } from './limiter.js';
import { DryRunViolation, UsageError } from '../engine/errors.js';
import { registerSecretValue } from '../engine/secret.js';
import type { ApiCallRecord, ProviderConfig } from './config.js';
import { cicdIrUserAgent } from './user-agent.js';

/** The REST API version every request pins (GitHub answers with this shape until we move). */
export const GITHUB_API_VERSION = '2022-11-28';

const DEFAULT_API_URL = 'https://api.github.com';
/** One attempt longer than this is aborted: generous for a large log archive, finite for a dead link. */
const DEFAULT_REQUEST_TIMEOUT_MS = 120_000;

/** What `createGitHubClients` hands out; `Clients` in src/engine/context.ts takes the same two. */
export interface GitHubClients {
  /** Authenticated Octokit: resolved once (token, App or `gh auth token`), then reused. */
  github(): Promise<Octokit>;
  /** Octokit with no credentials at all: POST /credentials/revoke must be sent unauthenticated. */
  githubUnauthenticated(): Octokit;
}

/** Where the GitHub credential came from, for `doctor` and error messages. Never the credential. */
export type GitHubAuthSource =
  | { kind: 'token'; source: 'config' | TokenVariable | 'gh auth token'; token: string }
  | { kind: 'app'; source: 'config' | 'env'; appId: string; privateKey: string; installationId: string };

type TokenVariable = 'GH_ENTERPRISE_TOKEN' | 'GITHUB_ENTERPRISE_TOKEN' | 'GH_TOKEN' | 'GITHUB_TOKEN';

/** What auth resolution may read: injectable so tests do not depend on the machine. */
export interface AuthEnvironment {
  env: NodeJS.ProcessEnv;
  /** Runs `gh auth token [--hostname H]`; resolves undefined when gh is missing or not logged in. */
  ghAuthToken(hostname: string | undefined): Promise<string | undefined>;
  readFile(path: string): string;
}

/** The real environment: process.env, the `gh` on PATH, the file system. */
export const systemAuthEnvironment: AuthEnvironment = {
  env: process.env,
  ghAuthToken: (hostname) =>
    new Promise((resolve) => {
      const args = ['auth', 'token', ...(hostname ? ['--hostname', hostname] : [])];
      // gh prints the token on stdout; stderr (e.g. "not logged in") is dropped, never echoed.
      execFile('gh', args, { timeout: 10_000, windowsHide: true }, (error, stdout) => {
        const token = stdout?.toString().trim();
        resolve(error || !token ? undefined : token);
      });
    }),
  readFile: (path) => readFileSync(path, 'utf8'),
};

/**
 * The base URL: `--github-api-url` (config), then GITHUB_API_URL, then GH_HOST as `gh` reads it
 * (GHES `host` -> https://host/api/v3, GHE.com `sub.ghe.com` -> https://api.sub.ghe.com), then
 * github.com. Trailing slash dropped.
 */
export function githubApiUrl(config: ProviderConfig, env: NodeJS.ProcessEnv = process.env): string {
  return (config.github.apiUrl ?? env.GITHUB_API_URL ?? ghHostApiUrl(env.GH_HOST) ?? DEFAULT_API_URL).replace(/\/+$/, '');
}

function ghHostApiUrl(host: string | undefined): string | undefined {
  const name = host?.trim().replace(/^https?:\/\//, '').replace(/\/+$/, '');
  if (!name || name === 'github.com') return undefined;
  if (name.endsWith('.ghe.com')) return `https://api.${name}`;
  return `https://${name}/api/v3`;
}

/** The host `gh` knows the API by: github.com for the public API, the GHES host otherwise. */
function ghHostname(apiUrl: string): string | undefined {
  try {
    const host = new URL(apiUrl).host;
    if (host === 'api.github.com') return 'github.com';
    // GHE.com (data residency) serves its API at api.<subdomain>.ghe.com; gh knows it as <subdomain>.ghe.com.
    if (host.endsWith('.ghe.com') && host.startsWith('api.')) return host.slice('api.'.length);
    return host;
  } catch {
    return undefined;
  }
}

const APP_ENV_HINT =
  'GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY (or GITHUB_APP_PRIVATE_KEY_FILE) and GITHUB_APP_INSTALLATION_ID';

function appFromEnv(env: NodeJS.ProcessEnv, readFile: (path: string) => string): GitHubAuthSource | undefined {
  const appId = env.GITHUB_APP_ID?.trim();
  const keyFile = env.GITHUB_APP_PRIVATE_KEY_FILE?.trim();
  const inlineKey = env.GITHUB_APP_PRIVATE_KEY;
  const installationId = env.GITHUB_APP_INSTALLATION_ID?.trim();
  if (!appId && !keyFile && !inlineKey && !installationId) return undefined;
  const missing = [
    !appId && 'GITHUB_APP_ID',
    !keyFile && !inlineKey && 'GITHUB_APP_PRIVATE_KEY or GITHUB_APP_PRIVATE_KEY_FILE',
    !installationId && 'GITHUB_APP_INSTALLATION_ID',
  ].filter(Boolean);
  if (missing.length > 0) {
    throw new UsageError(`GitHub App credentials are incomplete: ${missing.join(', ')} not set`, [`set all of ${APP_ENV_HINT}`]);
  }
  let privateKey: string;
  if (keyFile) {
    try {
      privateKey = readFile(keyFile);
    } catch (error) {
      throw new UsageError(`cannot read GITHUB_APP_PRIVATE_KEY_FILE ${keyFile}: ${(error as Error).message}`);
    }
  } else {
    // CI systems often store a PEM with literal "\n" sequences in one line.
    privateKey = inlineKey!.replace(/\\n/g, '\n');
  }
  return { kind: 'app', source: 'env', appId: appId!, privateKey, installationId: installationId! };
}

/** github.com and GHE.com (data residency) hosts: gh's GH_TOKEN/GITHUB_TOKEN are theirs; any other host is GHES. */
function isGitHubDotCom(apiUrl: string): boolean {
  const host = ghHostname(apiUrl) ?? '';
  return host === 'github.com' || host.endsWith('.ghe.com');
}

/**
 * Finds a GitHub credential the way `gh` does, most explicit first:
 * config token (flag / lab) → config App → GH_TOKEN → GITHUB_TOKEN → App from GITHUB_APP_* env →
 * `gh auth token` (the stored login of the gh CLI, for the API host). For a GHES host, gh reads
 * GH_ENTERPRISE_TOKEN then GITHUB_ENTERPRISE_TOKEN; cicd-ir does too, before GH_TOKEN/GITHUB_TOKEN.
 *
 * Explicit App settings come before the gh login on purpose: someone who exports GITHUB_APP_ID
 * means the App, and a responder's personal gh login silently winning would act as the wrong
 * identity. No credential at all is a UsageError (exit 2) saying what to set.
 */
export async function resolveGitHubAuth(config: ProviderConfig, environment: AuthEnvironment = systemAuthEnvironment): Promise<GitHubAuthSource> {
  const { env } = environment;
  if (config.github.token) return { kind: 'token', source: 'config', token: config.github.token };
  if (config.github.app) return { kind: 'app', source: 'config', ...config.github.app };
  const variables: TokenVariable[] = isGitHubDotCom(githubApiUrl(config, env))
    ? ['GH_TOKEN', 'GITHUB_TOKEN']
    : ['GH_ENTERPRISE_TOKEN', 'GITHUB_ENTERPRISE_TOKEN', 'GH_TOKEN', 'GITHUB_TOKEN'];
  for (const variable of variables) {
    const value = env[variable]?.trim();
    if (value) return { kind: 'token', source: variable, token: value };
  }
  const app = appFromEnv(env, environment.readFile);
  if (app) return app;
  const fromGh = await environment.ghAuthToken(ghHostname(githubApiUrl(config, env)));
  if (fromGh) return { kind: 'token', source: 'gh auth token', token: fromGh };
  throw new UsageError('no GitHub credentials found', [
    'set GH_TOKEN (or GITHUB_TOKEN) to a token with repo, workflow and admin:org scopes as the playbook needs',
    'or log in with `gh auth login` (cicd-ir then uses `gh auth token`)',
    `or use a GitHub App: set ${APP_ENV_HINT}`,
  ]);
}

/** auth-app's request for an installation token: a POST that changes nothing a playbook acts on. */
const APP_TOKEN_ROUTE = '/app/installations/{installation_id}/access_tokens';

/** Requests that do not change anything on GitHub: everything else is refused in a dry run. */
function isReadOnly(method: string, route?: string): boolean {
  return method === 'GET' || method === 'HEAD' || (method === 'POST' && route === APP_TOKEN_ROUTE);
}

/** `/repos/{owner}/{repo}/actions/runs/{run_id}/cancel` from the request options (the route template when Octokit knows it). */
function routeOf(url: string, baseUrl: string): string {
  let route = url.startsWith(baseUrl) ? url.slice(baseUrl.length) : url;
  const query = route.indexOf('?');
  if (query >= 0) route = route.slice(0, query);
  return route;
}

type RequestOptions = { method: string; url: string; baseUrl?: string; request?: Record<string, unknown> };

type RouteTable = Array<{ method: string; template: string; regex: RegExp }>;

/**
 * Every `METHOD /template` @octokit/rest knows, as regexes over literal paths. paginate() follows
 * `Link` URLs, so its later pages arrive as literal paths; the journal should still name the route.
 */
function routeTable(octokit: { rest?: Record<string, Record<string, unknown>> }): RouteTable {
  const table: RouteTable = [];
  for (const namespace of Object.values(octokit.rest ?? {})) {
    for (const method of Object.values(namespace)) {
      const defaults = (method as { endpoint?: { DEFAULTS?: { method: string; url: string } } }).endpoint?.DEFAULTS;
      if (!defaults?.url.includes('{')) continue;
      const pattern = defaults.url
        .split(/(\{[^}]+\})/)
        .map((part) => (part.startsWith('{') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('');
      table.push({ method: defaults.method, template: defaults.url, regex: new RegExp(`^${pattern}$`) });
    }
  }
  // More literal segments first, so `/actions/secrets/public-key` beats `/actions/secrets/{secret_name}`.
  const literalLength = (template: string) => template.replace(/\{[^}]+\}/g, '').length;
  return table.sort((a, b) => literalLength(b.template) - literalLength(a.template));
}

function templateOf(table: RouteTable, method: string, path: string): string {
  if (path.includes('{')) return path;
  return table.find((entry) => entry.method === method && entry.regex.test(path))?.template ?? path;
}

/**
 * An Octokit plugin that reports every HTTP attempt to `config.onApiCall`. It is applied before
 * the throttling and retry plugins, so it sits inside them and sees each retry as its own call,
 * which is what the journal should show.
 */
/** Runs a function in the async context of the code that made a request (AsyncLocalStorage.snapshot). */
type CallerContext = <R>(fn: () => R) => R;
/** Where the outermost hook leaves the caller's context on the request options, for the recorder. */
const CALLER_CONTEXT = 'cicdIrCallerContext';

function apiCallRecorder(config: ProviderConfig, baseUrl: string) {
  return (octokit: {
    rest?: Record<string, Record<string, unknown>>;
    hook: { wrap: (name: 'request', fn: (request: (o: unknown) => Promise<unknown>, options: RequestOptions) => Promise<unknown>) => void };
  }) => {
    if (!config.onApiCall) return {};
    const onApiCall = config.onApiCall;
    let table: RouteTable | undefined;
    octokit.hook.wrap('request', async (request, options) => {
      const started = performance.now();
      table ??= routeTable(octokit);
      const route = templateOf(table, options.method, routeOf(options.url, options.baseUrl ?? baseUrl));
      const base: Pick<ApiCallRecord, 'service' | 'operation' | 'mutating' | 'target'> = {
        service: 'github',
        operation: `${options.method} ${route}`,
        mutating: !isReadOnly(options.method, route),
        target: new URL(options.baseUrl ?? baseUrl).host,
      };
      // Report in the caller's async context, not in whichever one the throttling queue ran this
      // attempt from: the engine attributes a call to the step whose context it is in.
      const inCaller = (options.request as { [CALLER_CONTEXT]?: CallerContext } | undefined)?.[CALLER_CONTEXT] ?? ((fn) => fn());
      const report = (call: ApiCallRecord) => inCaller(() => onApiCall(call));
      try {
        const response = (await request(options)) as { status: number; headers: Record<string, string | undefined> };
        report({ ...base, status: response.status, requestId: response.headers['x-github-request-id'], durationMs: Math.round(performance.now() - started) });
        return response;
      } catch (error) {
        const failure = error as { status?: number; message?: string; response?: { headers?: Record<string, string | undefined> } };
        report({
          ...base,
          ...(typeof failure.status === 'number' ? { status: failure.status } : {}),
          ...(failure.response?.headers?.['x-github-request-id'] ? { requestId: failure.response.headers['x-github-request-id'] } : {}),
          durationMs: Math.round(performance.now() - started),
          // RequestError messages carry GitHub's message and the URL, never the Authorization header.
          error: failure.message ?? String(error),
        });
        throw error;
      }
    });
    return {};
  };
}

/**
 * fetch with a deadline per attempt. Octokit has no timeout of its own: a connection that never
 * answers would hang the run. An aborted attempt surfaces as a RequestError (status 500), which
 * plugin-retry retries for idempotent methods only.
 */
function fetchWithTimeout(timeoutMs: number): typeof fetch {
  return (input, init) => {
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = init?.signal ? AbortSignal.any([init.signal, deadline]) : deadline;
    return fetch(input, { ...init, signal });
  };
}

/** How many times a rate-limited request is retried after the wait GitHub asked for. */
const RATE_LIMIT_RETRIES = 3;
/**
 * A primary rate limit (the token's hourly budget) is waited out however long the reset is, with
 * a line every PRIMARY_WAIT_PROGRESS_MS saying how long is left: failing after two minutes would
 * leave the containment half done, and the reset comes within the hour.
 */
const PRIMARY_WAIT_PROGRESS_MS = 30_000;

/**
 * The run's GitHub limiter (src/providers/limiter.ts): at most 10 requests in flight, and the
 * content-creating ones (every method but GET and HEAD) 1 s apart and at most 80 a minute, as
 * GitHub asks. `writeIntervalMs` overrides the spacing; 0 (the lab's default) turns pacing off.
 */
export function githubLimiter(config: ProviderConfig): RequestLimiter {
  const spacing = config.github.writeIntervalMs ?? GITHUB_WRITE_SPACING_MS;
  return new RequestLimiter({
    name: 'github',
    maxInFlight: GITHUB_MAX_IN_FLIGHT,
    spacingMs: spacing,
    perWindow: spacing === 0 ? Infinity : GITHUB_WRITES_PER_MINUTE,
    windowMs: 60_000,
  });
}

/** Prints how long a primary rate-limit wait has left until it is over (stderr: stdout is for results). */
function announcePrimaryWait(retryAfterSeconds: number, log: (message: string) => void): void {
  const resetAt = Date.now() + retryAfterSeconds * 1000;
  const say = () => {
    const left = Math.max(0, Math.round((resetAt - Date.now()) / 1000));
    log(`GitHub rate limit exhausted: waiting for its reset at ${new Date(resetAt).toISOString()} (${left} s left); containment resumes then`);
  };
  say();
  const timer = setInterval(() => {
    if (Date.now() >= resetAt) clearInterval(timer);
    else say();
  }, PRIMARY_WAIT_PROGRESS_MS);
  timer.unref();
}

function buildOctokit(config: ProviderConfig, auth: GitHubAuthSource | undefined, env: NodeJS.ProcessEnv, limiter: RequestLimiter): Octokit {
  const baseUrl = githubApiUrl(config, env);
  const Client = Octokit.plugin(apiCallRecorder(config, baseUrl) as never, throttling, retry);
  // Writes are paced by `limiter`, outside the engine's slots; plugin-throttling's own write
  // queue (1 s apart by default, inside the slot) would pace them a second time.
  const writeGroup = new Bottleneck.Group({ id: 'cicd-ir-write', maxConcurrent: GITHUB_MAX_IN_FLIGHT, minTime: 0 });
  const warn = console.warn.bind(console);
  const octokit = new Client({
    baseUrl,
    userAgent: cicdIrUserAgent(config.incident),
    ...(auth?.kind === 'token' ? { auth: auth.token } : {}),
    ...(auth?.kind === 'app'
      ? { authStrategy: createAppAuth, auth: { appId: auth.appId, privateKey: auth.privateKey, installationId: auth.installationId } }
      : {}),
    throttle: {
      write: writeGroup,
      // GitHub's secondary limit answers carry retry-after: honour it a few times, then surface the error.
      onSecondaryRateLimit: (_retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number) => retryCount < RATE_LIMIT_RETRIES,
      onRateLimit: (retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number) => {
        if (retryCount >= RATE_LIMIT_RETRIES || retryAfter > (config.github.maxPrimaryWaitSeconds ?? 3_600)) return false;
        announcePrimaryWait(retryAfter, warn);
        return true;
      },
    },
    // GitHub's 409s are conflicts of state (an empty repository, a run that already finished),
    // never transient: retrying them only costs the responder seconds (plugin-retry's default
    // list plus 409).
    retry: { retries: 3, doNotRetry: [400, 401, 403, 404, 409, 410, 422, 451] },
    request: { fetch: fetchWithTimeout(config.github.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS) },
    // Failed requests are thrown to the caller, which decides (a 404 is often "already done"):
    // request-log's error line on stderr would only be noise. Deprecation warnings still show.
    log: { debug: () => {}, info: () => {}, warn, error: () => {} },
  }) as unknown as Octokit;

  // Outside the plugins (registered last, so outermost but for the guard below): a request waits
  // here, holding no engine slot, for a place among the 10 in flight and, if it writes, its turn.
  octokit.hook.wrap('request', (request, options) => {
    const method = String(options.method).toUpperCase();
    return limiter.run(async () => request(options), method !== 'GET' && method !== 'HEAD');
  });

  octokit.hook.before('request', (options) => {
    const method = options.method.toUpperCase();
    const route = routeOf(options.url, options.baseUrl ?? baseUrl);
    if (config.dryRun && !isReadOnly(method, route)) throw new DryRunViolation(`${method} ${route}`);
    // Octokit's constructor takes no default headers: pin the version and GitHub's current media
    // type here, leaving an accept the caller chose (raw, diff...) alone.
    options.headers['x-github-api-version'] ??= GITHUB_API_VERSION;
    if (!options.headers.accept || options.headers.accept === 'application/vnd.github.v3+json') options.headers.accept = 'application/vnd.github+json';
    // plugin-retry retries 5xx and other errors; a POST (cancel, force-cancel, credentials/revoke)
    // or PATCH may already have taken effect, so it is never repeated automatically. Rate-limit
    // answers are still retried by plugin-throttling: GitHub did not process those requests.
    if ((method === 'POST' || method === 'PATCH') && route !== APP_TOKEN_ROUTE) {
      options.request = { ...options.request, retries: 0 };
    }
    // This hook is the outermost, so it runs in the caller's async context; the throttling
    // plugin's queue may run the attempt (and the recorder inside it) from another one.
    options.request = { ...options.request, [CALLER_CONTEXT]: AsyncLocalStorage.snapshot() } as typeof options.request;
  });
  return octokit;
}

/**
 * Builds the GitHub clients for a run: @octokit/rest with plugin-throttling and plugin-retry,
 * `X-GitHub-Api-Version` pinned, the dry-run guard (a second net under plan-only: any non-GET
 * throws DryRunViolation before it leaves the process) and the `onApiCall` journal hook.
 * The lab and real use differ only by `config.github.apiUrl` and the token.
 */
export function createGitHubClients(config: ProviderConfig, environment: AuthEnvironment = systemAuthEnvironment): GitHubClients {
  const limiter = githubLimiter(config);
  let authenticated: Promise<Octokit> | undefined;
  let unauthenticated: Octokit | undefined;
  return {
    github() {
      authenticated ??= resolveGitHubAuth(config, environment).then((auth) => {
        if (auth.kind === 'token') registerSecretValue(auth.token);
        else registerSecretValue(auth.privateKey);
        return buildOctokit(config, auth, environment.env, limiter);
      });
      return authenticated;
    },
    githubUnauthenticated() {
      unauthenticated ??= buildOctokit(config, undefined, environment.env, limiter);
      return unauthenticated;
    },
  };
}
