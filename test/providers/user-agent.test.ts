import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { validateHeaderValue } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createGitHubClients, githubApiUrl } from '../../src/providers/github.js';
import { cicdIrUserAgent, headerText } from '../../src/providers/user-agent.js';
import type { ProviderConfig } from '../../src/providers/config.js';

const closers: Array<() => void> = [];
afterEach(() => closers.splice(0).forEach((close) => close()));

describe('--incident text in HTTP headers', () => {
  it('percent-encodes what a header cannot carry, and keeps plain names as they are', () => {
    expect(cicdIrUserAgent('IR-42')).toBe('cicd-ir/0.1.0 (incident IR-42)');
    expect(headerText('IR-42 — prod')).toBe('IR-42 %E2%80%94 prod');
    expect(headerText('a\r\nX-Evil: 1 (x) 100%')).toBe('a%0D%0AX-Evil: 1 %28x%29 100%25');
    expect(decodeURIComponent(headerText('IR-42 — café (prod) 東京'))).toBe('IR-42 — café (prod) 東京');
    for (const incident of ['IR-42 — prod', 'é\u0000\u001b[2J', '🔥'.repeat(50), '']) {
      expect(() => validateHeaderValue('user-agent', cicdIrUserAgent(incident))).not.toThrow();
    }
  });

  it('a GitHub call with an em dash in the incident reaches the server (it used to fail every call)', async () => {
    // Given a local HTTP server standing in for GitHub that records the user agent
    let seen: string | undefined;
    const server = createServer((req, res) => {
      seen = req.headers['user-agent'];
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => server.close());
    const config: ProviderConfig = {
      dryRun: true,
      incident: 'IR-42 — prod',
      github: { apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` },
      aws: {},
    };
    // When the real Octokit client makes a call
    const octokit = createGitHubClients(config).githubUnauthenticated();
    const response = await octokit.request('GET /meta');
    // Then it succeeds and the incident reads back from the header
    expect(response.status).toBe(200);
    expect(seen?.startsWith('cicd-ir/0.1.0 (incident IR-42 %E2%80%94 prod) ')).toBe(true);
  });
});

describe('GH_HOST', () => {
  const config = { dryRun: true, incident: 'x', github: {}, aws: {} } as ProviderConfig;
  it('picks the API of the host gh is pointed at, after the explicit settings', () => {
    expect(githubApiUrl(config, {})).toBe('https://api.github.com');
    expect(githubApiUrl(config, { GH_HOST: 'github.com' })).toBe('https://api.github.com');
    expect(githubApiUrl(config, { GH_HOST: 'ghe.example.com' })).toBe('https://ghe.example.com/api/v3');
    expect(githubApiUrl(config, { GH_HOST: 'acme.ghe.com' })).toBe('https://api.acme.ghe.com');
    expect(githubApiUrl(config, { GH_HOST: 'ghe.example.com', GITHUB_API_URL: 'https://other/api/v3/' })).toBe('https://other/api/v3');
    expect(githubApiUrl({ ...config, github: { apiUrl: 'http://127.0.0.1:1' } }, { GH_HOST: 'ghe.example.com' })).toBe('http://127.0.0.1:1');
  });
});

describe('AWS profile region', () => {
  it('reads region of the profile (or default) from AWS_CONFIG_FILE', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { profileRegion } = await import('../../src/providers/profile-region.js');
    const dir = mkdtempSync(join(tmpdir(), 'cicd-ir-aws-'));
    const file = join(dir, 'config');
    writeFileSync(file, '[default]\nregion = eu-west-1\n\n[profile ir]\noutput = json\nregion=ap-southeast-2\n[profile other]\nregion = us-west-2\n');
    expect(profileRegion(undefined, { AWS_CONFIG_FILE: file })).toBe('eu-west-1');
    expect(profileRegion('ir', { AWS_CONFIG_FILE: file })).toBe('ap-southeast-2');
    expect(profileRegion(undefined, { AWS_CONFIG_FILE: file, AWS_PROFILE: 'other' })).toBe('us-west-2');
    expect(profileRegion('missing', { AWS_CONFIG_FILE: file })).toBeUndefined();
    expect(profileRegion(undefined, { AWS_CONFIG_FILE: join(dir, 'none') })).toBeUndefined();
    rmSync(dir, { recursive: true, force: true });
  });
});
