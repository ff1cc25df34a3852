import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { npmPackagePath } from '../../providers/npm.js';
import { NpmPublishParams, NpmWorld, offsetMs, type Scenario } from '../scenario.js';
import type { LabContext, LabHttpRequest, LabHttpResponse, LabService } from '../types.js';

/** A token the lab's registry knows. */
export interface LabNpmToken {
  key: string;
  value: string;
  readonly: boolean;
  automation: boolean;
  created: Date;
  /** The npm account it authenticates as. */
  account: string;
  revokedAt?: Date;
}

/** What became of one `npm:publish` attacker step the registry played as history. */
export interface NpmPublishOutcome {
  /** Index of the step in the scenario's `attacker` list. */
  step: number;
  package: string;
  version: string;
  /** When it was published (the step's `at`). */
  at: Date;
  outcome: 'success' | 'denied';
  /** The registry's HTTP status for it (200; 401 unknown or revoked token, 403 read-only token or version taken). */
  status: number;
}

/** The npm registry stand-in, with its state for tests and drills to look into. */
export interface NpmLab extends LabService {
  /** The responder's own token (the one `providerConfig.npm.token` holds). */
  readonly token: string;
  readonly tokens: LabNpmToken[];
  /** Keys revoked so far, in order. */
  readonly revoked: string[];
  readonly packages: Map<string, Array<{ version: string; publishedAt: Date; publishedBy?: string }>>;
  /** The scenario's `npm:publish` history steps as the registry played them at lab start, in time order. */
  readonly history: readonly NpmPublishOutcome[];
}

/** What the registry needs from the scenario to play the attacker's npm history. */
export interface NpmHistoryOptions {
  /** The scenario's attacker script; its `history` `npm:publish` steps are played at their `at`. */
  attacker?: Scenario['attacker'];
  /** A step's `credential` to the token value it stands for (a secret name to the secret's value). */
  resolveCredential?: (credential: string) => string;
}

const json = (status: number, body: unknown): LabHttpResponse => ({ status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** npm's token key: the sha512 of the token, hex (what `GET /-/npm/v1/tokens` lists as `key`). */
export function npmTokenKey(value: string): string {
  return createHash('sha512').update(value, 'utf8').digest('hex');
}

/** How the registry abbreviates a token in a listing: its first characters, never the rest. */
function abbreviate(value: string): string {
  return value.slice(0, 6);
}

const PAGE_SIZE = 2;

/**
 * The body `npm publish` PUTs for one new version (libnpmpublish's shape: the packument with
 * just that version, its dist-tag and the tarball as a base64 attachment). The lab reads only
 * `versions`; the rest is there so the request is what a registry would see.
 */
export function publishBody(name: string, version: string): string {
  const tarball = `${name.split('/').pop()}-${version}.tgz`;
  const data = Buffer.from(`lab tarball of ${name}@${version}`).toString('base64');
  return JSON.stringify({
    _id: name,
    name,
    'dist-tags': { latest: version },
    versions: { [version]: { _id: `${name}@${version}`, name, version, dist: { tarball: `/${name}/-/${tarball}` } } },
    access: 'public',
    _attachments: { [tarball]: { content_type: 'application/octet-stream', data, length: Buffer.byteLength(data, 'base64') } },
  });
}

/** Tries of `publishOverHttp`: an injected throttle, 5xx or dropped connection is tried again, as npm's CLI does. */
const PUBLISH_ATTEMPTS = 3;

/**
 * Publishes `name@version` to a registry over HTTP as `npm publish` does: `PUT /{package}`
 * (scoped names as one escaped segment) with `authorization: Bearer <token>`. For drills: the
 * attacker's after-containment publish goes through the served registry, its request log and
 * fault rules. Resolves the final HTTP status (0 when no attempt got an answer) and the
 * registry's error text, never the token.
 */
export async function publishOverHttp(registryUrl: string, token: string, name: string, version: string): Promise<{ status: number; error?: string }> {
  const url = new URL(npmPackagePath(name), registryUrl.endsWith('/') ? registryUrl : `${registryUrl}/`);
  let last: { status: number; error?: string } = { status: 0, error: 'no answer' };
  for (let attempt = 1; attempt <= PUBLISH_ATTEMPTS; attempt += 1) {
    try {
      const response = await fetch(url, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'npm-command': 'publish' },
        body: publishBody(name, version),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await response.text();
      let error: string | undefined;
      if (!response.ok) {
        try {
          error = (JSON.parse(text) as { error?: string }).error;
        } catch {
          error = text.slice(0, 200);
        }
      }
      last = { status: response.status, ...(error ? { error } : {}) };
      if (response.status !== 429 && response.status < 500) return last;
    } catch (error) {
      last = { status: 0, error: (error as Error).message };
    }
    if (attempt < PUBLISH_ATTEMPTS) await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
  }
  return last;
}

/**
 * An npm registry on loopback, speaking the parts of its HTTP API cicd-ir uses: the token API
 * (`GET /-/npm/v1/tokens` paged with `urls.next`, `DELETE /-/npm/v1/tokens/token/{key|token}`,
 * Bearer auth; a revoked token answers 401 at once, as npm's does), packuments
 * (`GET /{package}` with `time` per version; scoped names as `@scope%2fname`) and publishing
 * (`PUT /{package}`), so a drill can show a stolen token no longer publishes. The attacker's
 * `npm:publish` history steps are played at creation (see playHistory).
 */
export function createNpmService(world: z.input<typeof NpmWorld> | undefined, ctx: LabContext, options: NpmHistoryOptions = {}): NpmLab {
  const parsed = NpmWorld.parse(world ?? {});
  // The responder's own token (a real account lists it too). Derived from a hash, not from
  // ctx.random(): drawing here would shift the seeded fault sequence of every other service.
  const responderToken = `npm_${createHash('sha256').update(`cicd-ir lab npm responder ${ctx.startedAt.toISOString()}`).digest('base64url').replace(/[^A-Za-z0-9]/g, '').slice(0, 36)}`;
  const tokens: LabNpmToken[] = [
    { key: npmTokenKey(responderToken), value: responderToken, readonly: false, automation: false, created: ctx.at('-90d'), account: parsed.account },
    ...parsed.tokens.map((token) => ({
      key: token.id ?? npmTokenKey(token.value),
      value: token.value,
      readonly: token.readonly,
      automation: token.automation,
      created: ctx.at(token.created),
      account: token.account ?? parsed.account,
    })),
  ];
  const packages = new Map(parsed.packages.map((pkg) => [pkg.name, pkg.versions.map((v) => ({ version: v.version, publishedAt: ctx.at(v.published_at), ...(v.published_by ? { publishedBy: v.published_by } : {}) }))]));
  const revoked: string[] = [];

  const live = () => tokens.filter((token) => !token.revokedAt);
  const authenticated = (request: LabHttpRequest) => {
    const match = /^Bearer (.+)$/i.exec(request.headers['authorization'] ?? '');
    return match ? live().find((token) => token.value === match[1]) : undefined;
  };

  const isTokenRoute = (path: string) => path.startsWith('/-/npm/v1/tokens');

  /** The account's own tokens: npm lists (and deletes) only those of the account the caller authenticates as. */
  function listTokens(request: LabHttpRequest, account: string): LabHttpResponse {
    const page = Number(request.query.get('page') ?? '0');
    const all = live().filter((token) => token.account === account);
    const slice = all.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
    const more = (page + 1) * PAGE_SIZE < all.length;
    return json(200, {
      objects: slice.map((token) => ({
        key: token.key,
        token: abbreviate(token.value),
        readonly: token.readonly,
        automation: token.automation,
        cidr_whitelist: null,
        created: token.created.toISOString(),
        updated: token.created.toISOString(),
      })),
      total: all.length,
      urls: more ? { next: `/-/npm/v1/tokens?page=${page + 1}` } : {},
    });
  }

  function packument(name: string): LabHttpResponse {
    const versions = packages.get(name);
    if (!versions) return json(404, { error: 'Not found' });
    const sorted = [...versions].sort((a, b) => a.publishedAt.getTime() - b.publishedAt.getTime());
    const time: Record<string, string> = {};
    if (sorted.length > 0) {
      time['created'] = sorted[0]!.publishedAt.toISOString();
      time['modified'] = sorted.at(-1)!.publishedAt.toISOString();
    }
    for (const v of sorted) time[v.version] = v.publishedAt.toISOString();
    return json(200, {
      _id: name,
      name,
      'dist-tags': sorted.length > 0 ? { latest: sorted.at(-1)!.version } : {},
      versions: Object.fromEntries(sorted.map((v) => [v.version, { name, version: v.version, ...(v.publishedBy ? { _npmUser: { name: v.publishedBy } } : {}), dist: { tarball: `/${name}/-/${name.split('/').pop()}-${v.version}.tgz` } }])),
      time,
    });
  }

  /**
   * `PUT /{package}` as `npm publish` sends it (a packument with the new version): what a drill's
   * attacker does with a stolen token. A revoked or unknown token gets 401, a read-only one 403,
   * a version that exists 403 (npm never lets a version be published twice). `at` is when the
   * publish happens: now over HTTP, the step's time when history is played; a token created
   * after it did not exist yet.
   */
  function publish(request: LabHttpRequest, name: string, at: Date = ctx.now(), publishedBy?: string): LabHttpResponse {
    const token = authenticated(request);
    if (!token || token.created > at) return json(401, { error: 'Unauthorized' });
    if (token.readonly) return json(403, { error: 'Forbidden: read-only token' });
    let body: { versions?: Record<string, unknown> };
    try {
      body = JSON.parse(request.body.toString('utf8')) as typeof body;
    } catch {
      return json(400, { error: 'Bad request: not JSON' });
    }
    const versions = Object.keys(body.versions ?? {});
    if (versions.length === 0) return json(400, { error: 'Bad request: no version' });
    const existing = packages.get(name) ?? [];
    const taken = versions.find((version) => existing.some((v) => v.version === version));
    if (taken) return json(403, { error: `You cannot publish over the previously published versions: ${taken}.` });
    packages.set(name, [...existing, ...versions.map((version) => ({ version, publishedAt: at, ...(publishedBy ? { publishedBy } : {}) }))]);
    return json(200, { success: true });
  }

  /**
   * The attacker's `npm:publish` history steps, in time order, through the same publish checks
   * as HTTP: a step whose credential is a live, writable token of the account adds the version at
   * the step's `at`, `_npmUser` = the step's actor (the lab's marker: a real packument names the
   * token owner's account, the same for a stolen token as for the release job). Any other
   * credential publishes nothing. Nothing is logged: the outcomes carry no token.
   */
  function playHistory(): NpmPublishOutcome[] {
    const steps = (options.attacker ?? [])
      .map((step, index) => ({ step, index }))
      .filter(({ step }) => step.phase === 'history' && step.call === 'npm:publish')
      .sort((a, b) => offsetMs(a.step.at ?? '0s') - offsetMs(b.step.at ?? '0s') || a.index - b.index);
    return steps.map(({ step, index }) => {
      const params = NpmPublishParams.parse(step.params);
      const value = options.resolveCredential ? options.resolveCredential(step.credential) : step.credential;
      const at = ctx.at(step.at ?? '0s');
      const request: LabHttpRequest = {
        method: 'PUT',
        path: `/${npmPackagePath(params.package)}`,
        query: new URLSearchParams(),
        headers: { authorization: `Bearer ${value}`, 'content-type': 'application/json' },
        body: Buffer.from(publishBody(params.package, params.version)),
      };
      const response = publish(request, params.package, at, step.actor);
      return { step: index, package: params.package, version: params.version, at, outcome: response.status < 300 ? 'success' : 'denied', status: response.status };
    });
  }
  const history = playHistory();

  return {
    name: 'npm',
    token: responderToken,
    tokens,
    revoked,
    packages,
    history,
    operation(request) {
      if (request.path === '/-/npm/v1/tokens') return `${request.method} /-/npm/v1/tokens`;
      if (request.path === '/-/whoami') return `${request.method} /-/whoami`;
      if (request.path.startsWith('/-/npm/v1/tokens/token/')) return `${request.method} /-/npm/v1/tokens/token/{key}`;
      return `${request.method} /{package}`;
    },
    mutating: (request) => request.method !== 'GET' && request.method !== 'HEAD',
    async handle(request) {
      if (request.path === '/-/whoami') {
        const caller = authenticated(request);
        if (!caller) return json(401, { error: 'Unauthorized' });
        return request.method === 'GET' ? json(200, { username: caller.account }) : json(405, { error: 'Method not allowed' });
      }
      if (isTokenRoute(request.path)) {
        const caller = authenticated(request);
        if (!caller) return json(401, { error: 'Unauthorized' });
        if (request.method === 'GET' && request.path === '/-/npm/v1/tokens') return listTokens(request, caller.account);
        const deleted = /^\/-\/npm\/v1\/tokens\/token\/(.+)$/.exec(request.path);
        if (request.method === 'DELETE' && deleted) {
          const id = decodeURIComponent(deleted[1]!);
          // The registry deletes by key, or by the whole token (npm's CLI sends either), of the caller's account only.
          const token = live().find((candidate) => candidate.account === caller.account && (candidate.key === id || candidate.value === id));
          if (!token) return json(404, { error: 'Not found' });
          token.revokedAt = ctx.now();
          revoked.push(token.key);
          return { status: 204 };
        }
        return json(405, { error: 'Method not allowed' });
      }
      const name = decodeURIComponent(request.path.slice(1));
      if (request.method === 'PUT') return publish(request, name);
      if (request.method !== 'GET') return json(405, { error: 'Method not allowed' });
      return packument(name);
    },
    faultResponse(kind, retryAfterSeconds) {
      return kind === 'throttle'
        ? { status: 429, headers: { 'content-type': 'application/json', 'retry-after': String(retryAfterSeconds ?? 1) }, body: JSON.stringify({ error: 'Too Many Requests' }) }
        : json(503, { error: 'Service Unavailable' });
    },
  };
}
