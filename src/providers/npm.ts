import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DryRunViolation, UsageError } from '../engine/errors.js';
import { registerSecretValue, type Secret } from '../engine/secret.js';
import type { ApiCallRecord, ProviderConfig } from './config.js';
import { cicdIrUserAgent } from './user-agent.js';

/** The public npm registry; `npm:registry.npmjs.org` in the inventory's `opens` column. */
export const DEFAULT_NPM_REGISTRY = 'https://registry.npmjs.org/';
const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
/** Tries per request (the first and two retries). */
const MAX_ATTEMPTS = 3;
/** A Retry-After longer than this is cut short: a containment must not sit idle. */
const MAX_RETRY_WAIT_MS = 10_000;

/**
 * One token of the account, as `GET /-/npm/v1/tokens` lists it: `key` is the full id the
 * registry deletes by; `token` is only an abbreviated prefix of the value (npm never lists a
 * whole token). npm's CLI shows the shortest unique prefix of `key` (at least 6) as the "id".
 */
export interface NpmTokenInfo {
  key: string;
  token: string;
  readonly?: boolean;
  automation?: boolean;
  created?: string;
  updated?: string;
  cidr_whitelist?: string[] | null;
}

/** The parts of a packument (`GET /{package}`) the audit reads. */
export interface Packument {
  name: string;
  'dist-tags'?: Record<string, string>;
  versions?: Record<string, { version: string; _npmUser?: { name?: string }; dist?: Record<string, unknown> }>;
  /** Publish time per version, plus `created` and `modified`. */
  time?: Record<string, string>;
}

/** An answer the registry refused; `status` is the HTTP status. */
export class NpmRegistryError extends Error {
  readonly status: number;
  constructor(operation: string, status: number, detail: string) {
    super(`npm registry ${operation}: ${status}${detail ? ` ${detail}` : ''}`);
    this.name = 'NpmRegistryError';
    this.status = status;
  }
}

/** The npm registry client actions get from `ctx.clients.npm()`. */
export interface NpmClient {
  /** Registry base URL, with a trailing slash. */
  readonly registryUrl: string;
  /** The registry host, for `npm:<host>` resource names. */
  readonly host: string;
  /** Every token of the authenticated account (follows `urls.next`). Needs auth. */
  listTokens(): Promise<NpmTokenInfo[]>;
  /**
   * `DELETE /-/npm/v1/tokens/token/{key}`. Resolves `revoked`, or `gone` when the registry
   * answers 404 (already revoked: idempotent). A Secret is accepted as the key too (npm's CLI
   * sends the full token when the list cannot name its key); it is only ever put on the wire.
   */
  revokeToken(key: string | Secret): Promise<'revoked' | 'gone'>;
  /** The packument, or undefined when the package does not exist. */
  packument(name: string): Promise<Packument | undefined>;
  /**
   * `GET /-/whoami` authenticated with `token` itself (not the responder's): the account it
   * belongs to, or undefined when the registry refuses it (401/403: revoked or never valid).
   */
  whoami(token: Secret): Promise<string | undefined>;
}

/** What auth resolution reads: injectable so tests do not depend on the machine. */
export interface NpmEnvironment {
  env: NodeJS.ProcessEnv;
  cwd: string;
  home: string;
  readFile(path: string): string | undefined;
}

const systemNpmEnvironment: NpmEnvironment = {
  env: process.env,
  cwd: process.cwd(),
  home: homedir(),
  readFile: (path) => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  },
};

/** `key=value` lines of an .npmrc, `${VAR}` expanded from the environment as npm does. */
function parseNpmrc(text: string, env: NodeJS.ProcessEnv): Map<string, string> {
  const values = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const value = line
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .replace(/\$\{([^}]+)\}/g, (_, name: string) => env[name] ?? '');
    values.set(line.slice(0, eq).trim(), value);
  }
  return values;
}

/** The project `.npmrc` first, then the user's (`NPM_CONFIG_USERCONFIG` or `~/.npmrc`), as npm layers them. */
function npmrcFiles(environment: NpmEnvironment): Array<Map<string, string>> {
  const paths = [join(environment.cwd, '.npmrc'), environment.env.NPM_CONFIG_USERCONFIG ?? environment.env.npm_config_userconfig ?? join(environment.home, '.npmrc')];
  return paths.flatMap((path) => {
    const text = environment.readFile(path);
    return text === undefined ? [] : [parseNpmrc(text, environment.env)];
  });
}

/** The registry: config, then NPM_CONFIG_REGISTRY, then `registry=` of an .npmrc, then registry.npmjs.org. Always with a trailing slash. */
export function npmRegistryUrl(config: ProviderConfig, environment: NpmEnvironment = systemNpmEnvironment): string {
  const fromRc = npmrcFiles(environment).map((rc) => rc.get('registry')).find(Boolean);
  const url = config.npm?.registryUrl ?? environment.env.NPM_CONFIG_REGISTRY ?? environment.env.npm_config_registry ?? fromRc ?? DEFAULT_NPM_REGISTRY;
  return url.endsWith('/') ? url : `${url}/`;
}

/**
 * The registry token: config (the lab's), then NPM_TOKEN, then the `//host/path/:_authToken=`
 * line of the project `.npmrc` or the user's, matched to the registry as npm matches it
 * (`//registry.npmjs.org/:_authToken=`). Undefined when none: packuments are public, the
 * token API is not (the caller raises a UsageError then).
 */
export function resolveNpmToken(config: ProviderConfig, registryUrl: string, environment: NpmEnvironment = systemNpmEnvironment): string | undefined {
  if (config.npm?.token) return config.npm.token;
  const fromEnv = environment.env.NPM_TOKEN?.trim();
  if (fromEnv) return fromEnv;
  const url = new URL(registryUrl);
  const nerf = `//${url.host}${url.pathname}`;
  for (const rc of npmrcFiles(environment)) {
    for (const [key, value] of rc) {
      if (!key.endsWith(':_authToken') || !value) continue;
      const prefix = key.slice(0, -':_authToken'.length);
      const normalised = prefix.endsWith('/') ? prefix : `${prefix}/`;
      if (nerf.startsWith(normalised)) return value;
    }
  }
  return undefined;
}

/** `@scope/name` is one path segment to the registry: the slash is escaped as npm does (`@scope%2Fname`). */
export function npmPackagePath(name: string): string {
  return name.startsWith('@') ? `@${encodeURIComponent(name.slice(1))}` : encodeURIComponent(name);
}

/**
 * Builds the npm registry client: Node's fetch, `Authorization: Bearer <token>`, a deadline per
 * request, the dry-run guard (any non-GET throws DryRunViolation before it leaves the process)
 * and the `onApiCall` journal hook with the route template, never a token or a URL holding one.
 */
export function createNpmClient(config: ProviderConfig, environment: NpmEnvironment = systemNpmEnvironment): NpmClient {
  const registryUrl = npmRegistryUrl(config, environment);
  const host = new URL(registryUrl).host;
  let token: string | undefined | null = null;
  const auth = (required: boolean): string | undefined => {
    if (token === null) {
      token = resolveNpmToken(config, registryUrl, environment);
      if (token) registerSecretValue(token);
    }
    if (!token && required) {
      throw new UsageError(`no npm token for ${host}`, [
        'set NPM_TOKEN to a token of the account that owns the packages',
        `or add //${host}/:_authToken=... to ~/.npmrc (npm login does)`,
      ]);
    }
    return token ?? undefined;
  };

  /** One HTTP attempt, journalled on its own (as the GitHub and AWS clients journal each retry). */
  async function attempt(method: 'GET' | 'DELETE', path: string, operation: string, bearer: string | undefined): Promise<Response> {
    const started = performance.now();
    const record = (extra: Partial<ApiCallRecord>) =>
      config.onApiCall?.({ service: 'npm', operation: `${method} ${operation}`, mutating: method !== 'GET', target: host, durationMs: Math.round(performance.now() - started), ...extra });
    try {
      const response = await fetch(new URL(path, registryUrl), {
        method,
        headers: {
          accept: 'application/json',
          'user-agent': cicdIrUserAgent(config.incident),
          ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
        },
        signal: AbortSignal.timeout(DEFAULT_REQUEST_TIMEOUT_MS),
      });
      const requestId = response.headers.get('cf-ray') ?? response.headers.get('x-request-id') ?? undefined;
      record({ status: response.status, ...(requestId ? { requestId } : {}) });
      return response;
    } catch (error) {
      record({ error: (error as Error).message });
      throw error;
    }
  }

  /**
   * A request with retries: throttling (429) and server errors (5xx) or a dropped connection
   * are tried again, up to MAX_ATTEMPTS, after Retry-After (capped) or a short backoff. Safe for
   * both methods used: GET reads, and a repeated DELETE of a token already gone answers 404,
   * which revokeToken reads as done.
   */
  async function call(method: 'GET' | 'DELETE', path: string, operation: string, needsAuth: boolean, as?: Secret): Promise<Response> {
    if (config.dryRun && method !== 'GET') throw new DryRunViolation(`${method} ${operation}`);
    const bearer = as ? as.reveal() : auth(needsAuth);
    for (let n = 1; ; n += 1) {
      let response: Response | undefined;
      try {
        response = await attempt(method, path, operation, bearer);
      } catch (error) {
        if (n >= MAX_ATTEMPTS) throw error;
      }
      if (response && response.status !== 429 && response.status < 500) return response;
      if (response && n >= MAX_ATTEMPTS) return response;
      const retryAfter = Number(response?.headers.get('retry-after'));
      await response?.body?.cancel();
      const delay = Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter * 1000, MAX_RETRY_WAIT_MS) : 100 * 2 ** n;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  async function fail(response: Response, operation: string): Promise<never> {
    const text = await response.text().catch(() => '');
    let detail = '';
    try {
      detail = String((JSON.parse(text) as { error?: unknown }).error ?? '');
    } catch {
      detail = text.slice(0, 200);
    }
    throw new NpmRegistryError(operation, response.status, detail);
  }

  return {
    registryUrl,
    host,
    async listTokens() {
      const tokens: NpmTokenInfo[] = [];
      let next: string | undefined = '-/npm/v1/tokens';
      // A bound: a registry that keeps answering `next` must not loop for ever.
      for (let page = 0; next && page < 100; page += 1) {
        const response = await call('GET', next, '/-/npm/v1/tokens', true);
        if (!response.ok) await fail(response, 'GET /-/npm/v1/tokens');
        const body = (await response.json()) as { objects?: NpmTokenInfo[]; urls?: { next?: string } };
        tokens.push(...(body.objects ?? []));
        next = body.urls?.next || undefined;
      }
      return tokens;
    },
    async revokeToken(key) {
      const id = typeof key === 'string' ? key : key.reveal();
      const response = await call('DELETE', `-/npm/v1/tokens/token/${encodeURIComponent(id)}`, '/-/npm/v1/tokens/token/{key}', true);
      if (response.status === 404) return 'gone';
      if (!response.ok) await fail(response, 'DELETE /-/npm/v1/tokens/token/{key}');
      await response.body?.cancel();
      return 'revoked';
    },
    async whoami(token) {
      const response = await call('GET', '-/whoami', '/-/whoami', false, token);
      if (response.status === 401 || response.status === 403) {
        await response.body?.cancel();
        return undefined;
      }
      if (!response.ok) await fail(response, 'GET /-/whoami');
      return String(((await response.json()) as { username?: unknown }).username ?? '');
    },
    async packument(name) {
      const response = await call('GET', npmPackagePath(name), '/{package}', false);
      if (response.status === 404) return undefined;
      if (!response.ok) await fail(response, 'GET /{package}');
      return (await response.json()) as Packument;
    },
  };
}
