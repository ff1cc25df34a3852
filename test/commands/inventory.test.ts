import { format } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import Inventory from '../../src/commands/inventory.js';
import { testWorld } from '../fixtures/github-world.js';
import { startGitHubLab, type GitHubLabHarness } from '../actions/github/lab.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
let harness: GitHubLabHarness;
let stdout: string;
let stderr: string;
const savedToken = process.env.GH_TOKEN;

beforeAll(async () => {
  harness = await startGitHubLab(testWorld);
});
afterAll(async () => {
  await harness.close();
});
beforeEach(() => {
  process.env.GH_TOKEN = harness.lab.token;
  stdout = '';
  stderr = '';
  vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    stdout += `${format(...args)}\n`;
  });
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
    stderr += `${format(...args)}\n`;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += chunk.toString();
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
  if (savedToken === undefined) delete process.env.GH_TOKEN;
  else process.env.GH_TOKEN = savedToken;
});

describe('cicd-ir inventory', () => {
  it('prints a table of what deploy.yml reaches', async () => {
    // Given acme/api's deploy.yml (id-token: write, environment prod, secrets.AWS_ROLE)
    // When inventoried
    await Inventory.run(['--repo', 'acme/api', '--workflow', 'deploy.yml', '--github-api-url', harness.url], root);
    // Then the table names the secret, the token and the OIDC subject with their rotation
    const lines = stdout.split('\n');
    expect(lines[1]).toMatch(/^SECRET\/IDENTITY\s+KIND\s+WHERE DEFINED\s+OPENS\s+OWNER\s+JOBS\s+ROTATION$/);
    expect(stdout).toMatch(/AWS_ROLE\s+repo-secret\s+repo:acme\/api\s+aws:\S+\s+\S+\s+deploy\.yml#deploy\s+manual/);
    expect(stdout).toMatch(/GITHUB_TOKEN\s+github-token\s+repo:acme\/api\s+github:acme\s+\S+\s+deploy\.yml#deploy\s+github\.cancel-runs/);
    expect(stdout).toMatch(/repo:acme\/api:environment:prod\s+oidc-role\s+oidc:token\.actions\.githubusercontent\.com\s+\S+\s+\S+\s+deploy\.yml#deploy\s+aws\.revoke-role-sessions/);
    // And nothing was written to the lab
    expect(harness.requests.filter((r) => r.mutating)).toEqual([]);
  });

  it('returns JSON with --json', async () => {
    const result = await Inventory.run(['--repo', 'acme/api', '--workflow', 'deploy.yml', '--github-api-url', harness.url, '--json'], root);
    expect(result).toMatchObject({ repos: [{ repo: 'acme/api' }] });
    const parsed = JSON.parse(stdout) as { repos: Array<{ items: Array<{ name: string }> }> };
    expect(parsed.repos[0]!.items.map((i) => i.name)).toEqual(['AWS_ROLE', 'GITHUB_TOKEN', 'repo:acme/api:environment:prod']);
  });

  it('finds the org workflows using an action', async () => {
    const result = await Inventory.run(['--org', 'acme', '--workflow-uses', 'actions/checkout@*', '--github-api-url', harness.url, '--json'], root);
    expect(result).toEqual({ org: 'acme', pattern: 'actions/checkout@*', matches: [] });
  });

  it('rejects --repo together with --org before any request', async () => {
    const before = harness.requests.length;
    await expect(Inventory.run(['--repo', 'acme/api', '--org', 'acme', '--workflow-uses', 'x/y', '--github-api-url', harness.url], root)).rejects.toThrow();
    expect(harness.requests.length).toBe(before);
  });

  it('exits 2 on a repository the token cannot see', async () => {
    await expect(Inventory.run(['--repo', 'acme/nope', '--github-api-url', harness.url], root)).rejects.toMatchObject({ oclif: { exit: 2 } });
  });
});
