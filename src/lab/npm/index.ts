import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { NpmWorld } from '../scenario.js';
import type { LabContext, LabHttpRequest, LabHttpResponse, LabService } from '../types.js';

/** A token the lab's registry knows. */
export interface LabNpmToken {
  key: string;
  value: string;
  readonly: boolean;
  automation: boolean;
  created: Date;
  revokedAt?: Date;
}

/** The npm registry stand-in, with its state for tests and drills to look into. */
export interface NpmLab extends LabService {
  /** The responder's own token (the one `providerConfig.npm.token` holds). */
  readonly token: string;
  readonly tokens: LabNpmToken[];
  /** Keys revoked so far, in order. */
  readonly revoked: string[];
  readonly packages: Map<string, Array<{ version: string; publishedAt: Date; publishedBy?: string }>>;
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
 * An npm registry on loopback, speaking the parts of its HTTP API cicd-ir uses: the token API
 * (`GET /-/npm/v1/tokens` paged with `urls.next`, `DELETE /-/npm/v1/tokens/token/{key|token}`,
 * Bearer auth; a revoked token answers 401 at once, as npm's does), packuments
 * (`GET /{package}` with `time` per version; scoped names as `@scope%2fname`) and publishing
 * (`PUT /{package}`), so a drill can show a stolen token no longer publishes.
 */
export function createNpmService(world: z.input<typeof NpmWorld> | undefined, ctx: LabContext): NpmLab {
  const parsed = NpmWorld.parse(world ?? {});
  // The responder's own token (a real account lists it too). Derived from a hash, not from
  // ctx.random(): drawing here would shift the seeded fault sequence of every other service.
  const responderToken = `npm_${createHash('sha256').update(`cicd-ir lab npm responder ${ctx.startedAt.toISOString()}`).digest('base64url').replace(/[^A-Za-z0-9]/g, '').slice(0, 36)}`;
  const tokens: LabNpmToken[] = [
    { key: npmTokenKey(responderToken), value: responderToken, readonly: false, automation: false, created: ctx.at('-90d') },
    ...parsed.tokens.map((token) => ({
      key: token.id ?? npmTokenKey(token.value),
      value: token.value,
      readonly: token.readonly,
      automation: token.automation,
      created: ctx.at(token.created),
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

  function listTokens(request: LabHttpRequest): LabHttpResponse {
    const page = Number(request.query.get('page') ?? '0');
    const all = live();
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
   * a version that exists 403 (npm never lets a version be published twice).
   */
  function publish(request: LabHttpRequest, name: string): LabHttpResponse {
    const token = authenticated(request);
    if (!token) return json(401, { error: 'Unauthorized' });
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
    packages.set(name, [...existing, ...versions.map((version) => ({ version, publishedAt: ctx.now() }))]);
    return json(200, { success: true });
  }

  return {
    name: 'npm',
    token: responderToken,
    tokens,
    revoked,
    packages,
    operation(request) {
      if (request.path === '/-/npm/v1/tokens') return `${request.method} /-/npm/v1/tokens`;
      if (request.path.startsWith('/-/npm/v1/tokens/token/')) return `${request.method} /-/npm/v1/tokens/token/{key}`;
      return `${request.method} /{package}`;
    },
    mutating: (request) => request.method !== 'GET' && request.method !== 'HEAD',
    async handle(request) {
      if (isTokenRoute(request.path)) {
        if (!authenticated(request)) return json(401, { error: 'Unauthorized' });
        if (request.method === 'GET' && request.path === '/-/npm/v1/tokens') return listTokens(request);
        const deleted = /^\/-\/npm\/v1\/tokens\/token\/(.+)$/.exec(request.path);
        if (request.method === 'DELETE' && deleted) {
          const id = decodeURIComponent(deleted[1]!);
          // The registry deletes by key, or by the whole token (npm's CLI sends either).
          const token = live().find((candidate) => candidate.key === id || candidate.value === id);
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
