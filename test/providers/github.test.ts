import { AsyncLocalStorage } from 'node:async_hooks';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/engine/errors.js';
import { ExitCode } from '../../src/engine/exit-codes.js';
import type { ProviderConfig } from '../../src/providers/config.js';
import { createGitHubClients, githubApiUrl, resolveGitHubAuth, systemAuthEnvironment, type AuthEnvironment } from '../../src/providers/github.js';
import { testWorld } from '../fixtures/github-world.js';
import { startLab } from '../lab/github-harness.js';

const baseConfig: ProviderConfig = { dryRun: false, incident: 'IR-1', github: {}, aws: {} };

/** An auth environment the test controls: which env vars exist, what `gh auth token` prints. */
function environment(env: Record<string, string>, gh?: string, files: Record<string, string> = {}): AuthEnvironment & { ghHosts: Array<string | undefined> } {
  const ghHosts: Array<string | undefined> = [];
  return {
    env,
    ghHosts,
    ghAuthToken: async (hostname) => {
      ghHosts.push(hostname);
      return gh;
    },
    readFile: (path) => {
      const content = files[path];
      if (content === undefined) throw new Error(`ENOENT: ${path}`);
      return content;
    },
  };
}

describe('GitHub auth, resolved like gh', () => {
  it('takes the first of: config token, config App, GH_TOKEN, GITHUB_TOKEN, App env, gh auth token', async () => {
    const app = { appId: '1', privateKey: 'pem', installationId: '2' };
    const appEnv = { GITHUB_APP_ID: '7', GITHUB_APP_PRIVATE_KEY: 'k', GITHUB_APP_INSTALLATION_ID: '8' };
    const all = { GH_TOKEN: 'gh-token', GITHUB_TOKEN: 'github-token', ...appEnv };
    const source = async (config: ProviderConfig, env: Record<string, string>, gh?: string) => (await resolveGitHubAuth(config, environment(env, gh))).source;
    expect(await source({ ...baseConfig, github: { token: 'flag', app } }, all, 'from-gh')).toBe('config');
    expect((await resolveGitHubAuth({ ...baseConfig, github: { app } }, environment(all, 'from-gh'))).kind).toBe('app');
    expect(await source(baseConfig, all, 'from-gh')).toBe('GH_TOKEN');
    expect(await source(baseConfig, { GITHUB_TOKEN: 'github-token', ...appEnv }, 'from-gh')).toBe('GITHUB_TOKEN');
    expect(await source(baseConfig, appEnv, 'from-gh')).toBe('env');
    expect(await source(baseConfig, {}, 'from-gh')).toBe('gh auth token');
  });

  it('on a GHES host, prefers GH_ENTERPRISE_TOKEN and GITHUB_ENTERPRISE_TOKEN as gh does; github.com ignores them', async () => {
    const ghes = { ...baseConfig, github: { apiUrl: 'https://ghe.example.com/api/v3' } };
    const env = { GH_ENTERPRISE_TOKEN: 'e1', GITHUB_ENTERPRISE_TOKEN: 'e2', GH_TOKEN: 'g1' };
    expect((await resolveGitHubAuth(ghes, environment(env))).source).toBe('GH_ENTERPRISE_TOKEN');
    expect((await resolveGitHubAuth(ghes, environment({ GITHUB_ENTERPRISE_TOKEN: 'e2', GH_TOKEN: 'g1' }))).source).toBe('GITHUB_ENTERPRISE_TOKEN');
    expect((await resolveGitHubAuth(ghes, environment({ GH_TOKEN: 'g1' }))).source).toBe('GH_TOKEN');
    expect((await resolveGitHubAuth(baseConfig, environment(env))).source).toBe('GH_TOKEN');
    expect((await resolveGitHubAuth({ ...baseConfig, github: { apiUrl: 'https://api.acme.ghe.com' } }, environment({ GITHUB_ENTERPRISE_TOKEN: 'e2' }), ).catch(() => 'none'))).toBe('none');
  });

  it('asks gh for the token of the API host: github.com, or the GHES host', async () => {
    const dotcom = environment({}, 'tok');
    await resolveGitHubAuth(baseConfig, dotcom);
    const ghes = environment({ GITHUB_API_URL: 'https://ghe.example.com/api/v3' }, 'tok');
    await resolveGitHubAuth(baseConfig, ghes);
    const dataResidency = environment({ GITHUB_API_URL: 'https://api.acme.ghe.com' }, 'tok');
    await resolveGitHubAuth(baseConfig, dataResidency);
    expect([dotcom.ghHosts, ghes.ghHosts, dataResidency.ghHosts]).toEqual([['github.com'], ['ghe.example.com'], ['acme.ghe.com']]);
  });

  it('runs the real `gh auth token --hostname H` from PATH, and moves on when gh fails or is missing', async () => {
    // Given a stand-in `gh` on PATH that records its arguments and prints a token
    const bin = mkdtempSync(join(tmpdir(), 'cicd-ir-gh-'));
    const argsFile = join(bin, 'args');
    writeFileSync(join(bin, 'gh'), `#!/bin/sh\necho "$@" > ${argsFile}\nif [ -n "$GH_FAIL" ]; then echo "not logged in" >&2; exit 1; fi\necho gho_fromGhCliFromGhCliFromGhCli0001\n`);
    chmodSync(join(bin, 'gh'), 0o755);
    const savedPath = process.env.PATH;
    try {
      process.env.PATH = `${bin}:${savedPath}`;
      // When no token is in the environment
      const found = await resolveGitHubAuth({ ...baseConfig, github: { apiUrl: 'https://ghe.example.com/api/v3' } }, { ...systemAuthEnvironment, env: {} });
      // Then gh was asked for the GHES host and its token used
      expect(found).toMatchObject({ kind: 'token', source: 'gh auth token', token: 'gho_fromGhCliFromGhCliFromGhCli0001' });
      expect(readFileSync(argsFile, 'utf8').trim()).toBe('auth token --hostname ghe.example.com');
      // When gh is not logged in
      process.env.GH_FAIL = '1';
      await expect(resolveGitHubAuth(baseConfig, { ...systemAuthEnvironment, env: {} })).rejects.toBeInstanceOf(UsageError);
      // When there is no gh at all
      process.env.PATH = '/nonexistent';
      await expect(resolveGitHubAuth(baseConfig, { ...systemAuthEnvironment, env: {} })).rejects.toBeInstanceOf(UsageError);
    } finally {
      process.env.PATH = savedPath;
      delete process.env.GH_FAIL;
    }
  });

  it('reads the App key from GITHUB_APP_PRIVATE_KEY_FILE, or unescapes a one-line GITHUB_APP_PRIVATE_KEY', async () => {
    const fromFile = await resolveGitHubAuth(baseConfig, environment({ GITHUB_APP_ID: '7', GITHUB_APP_PRIVATE_KEY_FILE: '/k.pem', GITHUB_APP_INSTALLATION_ID: '8' }, undefined, { '/k.pem': 'PEM\nBODY' }));
    const inline = await resolveGitHubAuth(baseConfig, environment({ GITHUB_APP_ID: '7', GITHUB_APP_PRIVATE_KEY: 'PEM\\nBODY', GITHUB_APP_INSTALLATION_ID: '8' }));
    expect(fromFile).toMatchObject({ kind: 'app', privateKey: 'PEM\nBODY', appId: '7', installationId: '8' });
    expect(inline).toMatchObject({ kind: 'app', privateKey: 'PEM\nBODY' });
  });

  it('is a usage error (exit 2) naming what to set when App settings are incomplete or nothing is found', async () => {
    const incomplete = resolveGitHubAuth(baseConfig, environment({ GITHUB_APP_ID: '7' }));
    await expect(incomplete).rejects.toBeInstanceOf(UsageError);
    await expect(incomplete).rejects.toThrow(/GITHUB_APP_PRIVATE_KEY or GITHUB_APP_PRIVATE_KEY_FILE, GITHUB_APP_INSTALLATION_ID not set/);
    const none = await resolveGitHubAuth(baseConfig, environment({})).catch((error: unknown) => error as UsageError);
    expect(none).toBeInstanceOf(UsageError);
    expect(none.exitCode).toBe(ExitCode.BadInput);
    expect(none.suggestions.join('\n')).toMatch(/GH_TOKEN[\s\S]*gh auth login[\s\S]*GITHUB_APP_ID/);
    // And createGitHubClients surfaces it when the client is first needed, not before
    const clients = createGitHubClients(baseConfig, environment({}));
    await expect(clients.github()).rejects.toBeInstanceOf(UsageError);
  });

  it('uses --github-api-url, then GITHUB_API_URL, then api.github.com', () => {
    expect(githubApiUrl({ ...baseConfig, github: { apiUrl: 'https://ghe.example.com/api/v3/' } }, { GITHUB_API_URL: 'https://other' })).toBe('https://ghe.example.com/api/v3');
    expect(githubApiUrl(baseConfig, { GITHUB_API_URL: 'https://ghe.example.com/api/v3' })).toBe('https://ghe.example.com/api/v3');
    expect(githubApiUrl(baseConfig, {})).toBe('https://api.github.com');
  });

  it('never puts the token in an error or an onApiCall record', async () => {
    // Given the lab and a provider authenticated with its token
    const h = await startLab();
    try {
      await h.github.rest.repos.get({ owner: 'acme', repo: 'missing' }).catch((error: unknown) => {
        // Then the error and the journal records do not carry the token
        expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).not.toContain(h.lab.token);
      });
      expect(JSON.stringify(h.calls)).not.toContain(h.lab.token);
    } finally {
      await h.close();
    }
  });
});

describe('API call records', () => {
  it('are reported in the async context of the code that made the request, even through the throttling queue', async () => {
    // Given two concurrent callers (two steps of a run), each in its own AsyncLocalStorage context
    const h = await startLab();
    const scope = new AsyncLocalStorage<string>();
    const seen: Array<{ caller: string | undefined; operation: string }> = [];
    try {
      const clients = createGitHubClients({ ...h.config, onApiCall: (call) => seen.push({ caller: scope.getStore(), operation: call.operation }) });
      const github = await clients.github();
      // When each makes its own kind of request many times at once (writes too: they share a queue)
      const reads = scope.run('reads', () => Promise.all(Array.from({ length: 15 }, () => github.rest.repos.get({ owner: 'acme', repo: 'api' }))));
      const writes = scope.run('writes', () =>
        Promise.all(Array.from({ length: 15 }, () => github.rest.actions.disableWorkflow({ owner: 'acme', repo: 'api', workflow_id: 'deploy.yml' }).catch(() => undefined))),
      );
      await Promise.all([reads, writes]);
      // Then every record names the caller that made it
      expect(seen.length).toBeGreaterThanOrEqual(30);
      for (const record of seen) expect(record.caller, record.operation).toBe(record.operation.startsWith('GET /repos/{owner}/{repo}') && !record.operation.includes('workflows') ? 'reads' : 'writes');
    } finally {
      await h.close();
    }
  });
});

describe('retries', () => {
  it('never retries a 409 (a state conflict such as an empty repository): one call, at once', async () => {
    // Given a repository with nothing in it
    const h = await startLab({ world: { repos: [{ full_name: 'acme/empty' }] } });
    try {
      // When its history is listed
      const error = await h.github.rest.repos.listCommits({ owner: 'acme', repo: 'empty' }).catch((e: unknown) => e);
      // Then GitHub's 409 comes back after one request, not after plugin-retry's backoff
      expect((error as { status?: number }).status).toBe(409);
      expect(h.calls.filter((call) => call.operation === 'GET /repos/{owner}/{repo}/commits')).toHaveLength(1);
    } finally {
      await h.close();
    }
  });
});

describe('GitHub App auth against the lab', () => {
  it('mints an installation token with a JWT signed by the App key, then acts with it; dry runs are not blocked by it', async () => {
    // Given an App installed in the lab, its private key in a file
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    const keyFile = join(mkdtempSync(join(tmpdir(), 'cicd-ir-app-')), 'app.pem');
    writeFileSync(keyFile, pem, { mode: 0o600 });
    const world = { ...testWorld, apps: [{ id: 314, slug: 'responder', installation_id: 2718, public_key: publicKey.export({ type: 'spki', format: 'pem' }).toString() }] };
    const h = await startLab({ world, dryRun: true });
    try {
      // When the provider is configured through the App environment variables only
      const env = { GITHUB_API_URL: h.served.url, GITHUB_APP_ID: '314', GITHUB_APP_PRIVATE_KEY_FILE: keyFile, GITHUB_APP_INSTALLATION_ID: '2718' };
      const clients = createGitHubClients({ ...h.config, github: {} }, { env, ghAuthToken: async () => undefined, readFile: (path) => (path === keyFile ? pem : '') });
      const octokit = await clients.github();
      const workflow = await octokit.rest.actions.getWorkflow({ owner: 'acme', repo: 'api', workflow_id: 'deploy.yml' });
      // Then it exchanged a JWT for an installation token and read the workflow with it
      expect(workflow.data.id).toBe(1001);
      expect(h.log.map((entry) => [entry.operation, entry.status, entry.mutating])).toEqual([
        ['POST /app/installations/{installation_id}/access_tokens', 201, false],
        ['GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}', 200, false],
      ]);
      expect(h.lab.state.tokens.find((token) => token.kind === 'installation')?.owner).toBe('responder[bot]');
      // And an installation token is not a user
      expect(await octokit.rest.users.getAuthenticated().catch((error: { status: number }) => error.status)).toBe(403);
      expect(h.fidelityErrors).toEqual([]);
    } finally {
      await h.close();
    }
  });

  it('refuses a JWT signed by another key', async () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    const world = { ...testWorld, apps: [{ id: 314, installation_id: 2718, public_key: publicKey.export({ type: 'spki', format: 'pem' }).toString() }] };
    const h = await startLab({ world });
    try {
      const clients = createGitHubClients({ ...h.config, github: { apiUrl: h.served.url, app: { appId: '314', privateKey: other, installationId: '2718' } } });
      const octokit = await clients.github();
      expect(await octokit.rest.repos.get({ owner: 'acme', repo: 'api' }).catch((error: { status: number }) => error.status)).toBe(401);
    } finally {
      await h.close();
    }
  });
});
