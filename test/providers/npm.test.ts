import { describe, expect, it } from 'vitest';
import { createLabContext } from '../../src/lab/context.js';
import { serveService } from '../../src/lab/http.js';
import { createNpmService } from '../../src/lab/npm/index.js';
import type { ApiCallRecord } from '../../src/providers/config.js';
import { DryRunViolation, UsageError } from '../../src/engine/errors.js';
import { createNpmClient, npmRegistryUrl, resolveNpmToken, type NpmEnvironment } from '../../src/providers/npm.js';
import type { ProviderConfig } from '../../src/providers/config.js';

const base: ProviderConfig = { dryRun: false, incident: 't', github: {}, aws: {} };

function environment(files: Record<string, string>, env: NodeJS.ProcessEnv = {}): NpmEnvironment {
  return { env, cwd: '/project', home: '/home/responder', readFile: (path) => files[path] };
}

describe('npm auth and registry resolution', () => {
  it('takes the registry from config, then NPM_CONFIG_REGISTRY, then .npmrc, then registry.npmjs.org', () => {
    expect(npmRegistryUrl(base, environment({}))).toBe('https://registry.npmjs.org/');
    expect(npmRegistryUrl(base, environment({ '/project/.npmrc': 'registry=https://npm.acme.test/repo' }))).toBe('https://npm.acme.test/repo/');
    expect(npmRegistryUrl(base, environment({}, { NPM_CONFIG_REGISTRY: 'https://env.test/' }))).toBe('https://env.test/');
    expect(npmRegistryUrl({ ...base, npm: { registryUrl: 'http://127.0.0.1:9' } }, environment({}, { NPM_CONFIG_REGISTRY: 'https://env.test/' }))).toBe('http://127.0.0.1:9/');
  });

  it('takes the token from NPM_TOKEN, else the _authToken line for the registry host (project .npmrc before ~/.npmrc)', () => {
    const files = {
      '/home/responder/.npmrc': '//registry.npmjs.org/:_authToken=npm_fromHomeRc\n//other.test/:_authToken=npm_other\n',
      '/project/.npmrc': '//registry.npmjs.org/:_authToken=${PROJECT_NPM}\n',
    };
    const url = 'https://registry.npmjs.org/';
    // Given only the home .npmrc
    expect(resolveNpmToken(base, url, environment({ '/home/responder/.npmrc': files['/home/responder/.npmrc'] }))).toBe('npm_fromHomeRc');
    // Given the project .npmrc that expands an environment variable
    expect(resolveNpmToken(base, url, environment(files, { PROJECT_NPM: 'npm_fromProject' }))).toBe('npm_fromProject');
    // Given NPM_TOKEN
    expect(resolveNpmToken(base, url, environment(files, { NPM_TOKEN: 'npm_fromEnv' }))).toBe('npm_fromEnv');
    // Given a registry no line names
    expect(resolveNpmToken(base, 'https://nothing.test/', environment(files))).toBeUndefined();
  });

  it('raises a UsageError naming what to set when the token API has no token, before any request', async () => {
    const client = createNpmClient({ ...base, npm: { registryUrl: 'http://127.0.0.1:9/' } }, environment({}));
    await expect(client.listTokens()).rejects.toBeInstanceOf(UsageError);
  });

  it('refuses a DELETE in a dry run before it leaves the process', async () => {
    const calls: unknown[] = [];
    const client = createNpmClient({ ...base, dryRun: true, npm: { registryUrl: 'http://127.0.0.1:9/', token: 'npm_x' }, onApiCall: (c) => calls.push(c) }, environment({}));
    await expect(client.revokeToken('abcdef')).rejects.toBeInstanceOf(DryRunViolation);
    expect(calls).toEqual([]);
  });
});

describe('npm client retries', () => {
  it('retries a 503, journalling each attempt, and gives up after three', async () => {
    // Given the lab registry answering the first packument request 503, then serving; and a seeded draw sequence
    const ctx = createLabContext({ seed: 1 });
    const service = createNpmService({ packages: [{ name: 'left-pad', versions: [{ version: '1.0.0', published_at: '-1d' }] }] }, ctx);
    const draws = [0, 0.9, 0, 0, 0];
    const served = await serveService(service, { faults: [{ operation: 'GET /{package}', errorRate: 0.5, error: '5xx' }], random: () => draws.shift() ?? 0 });
    const calls: ApiCallRecord[] = [];
    const client = createNpmClient({ ...base, npm: { registryUrl: served.url }, onApiCall: (c) => calls.push(c) }, environment({}));
    try {
      // When the packument is read: the first attempt fails, the second is served
      expect((await client.packument('left-pad'))?.name).toBe('left-pad');
      expect(calls.map((c) => c.status)).toEqual([503, 200]);
      // When every attempt fails
      calls.length = 0;
      await expect(client.packument('left-pad')).rejects.toMatchObject({ status: 503 });
      // Then it tried three times, each journalled with the route template
      expect(calls.map((c) => `${c.operation} ${c.status}`)).toEqual(Array(3).fill('GET /{package} 503'));
    } finally {
      await served.close();
    }
  });
});
