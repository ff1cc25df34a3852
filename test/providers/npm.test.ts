import { describe, expect, it } from 'vitest';
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
