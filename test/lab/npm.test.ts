import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/engine/errors.js';
import { parseScenario } from '../../src/lab/load-scenario.js';
import { npmTokenKey } from '../../src/lab/npm/index.js';
import { createNpmClient, NpmRegistryError } from '../../src/providers/npm.js';
import { useScenarioLab } from '../helpers/scenario-lab.js';

const TOKENS = ['npm_' + 'a'.repeat(36), 'npm_' + 'b'.repeat(36), 'npm_' + 'c'.repeat(36)];

const scenarioText = `
name: npm registry
description: a package and three tokens
npm:
  packages:
    - name: "@acme/web"
      versions:
        - { version: 1.0.0, published_at: -3d }
        - { version: 1.0.1, published_at: -2h, published_by: mallory }
  tokens:
${TOKENS.map((value) => `    - { value: ${value} }`).join('\n')}
`;

describe('the lab npm registry', () => {
  const start = useScenarioLab(scenarioText, 'cicd-ir-npm-lab-');

  it('is served by startLab and named in the providerConfig real clients use', async () => {
    // Given a scenario with an npm part
    const running = await start();
    // Then the lab serves the registry and hands out its URL and the responder's token
    expect(running.endpoints.npm).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(running.providerConfig.npm).toEqual({ registryUrl: running.endpoints.npm, token: running.npm.token });
  });

  it('lists tokens page by page (abbreviated, never whole), deletes by key, and answers 404 for a key already gone', async () => {
    // Given the real client pointed at the lab
    const running = await start();
    const client = createNpmClient({ dryRun: false, incident: 't', ...running.providerConfig });
    // When the tokens are listed (the lab pages two at a time)
    const tokens = await client.listTokens();
    // Then all four (three + the responder's) come back, keys are sha512 hex, values abbreviated to 6 characters
    expect(tokens).toHaveLength(4);
    expect(tokens.map((t) => t.key)).toEqual(expect.arrayContaining(TOKENS.map(npmTokenKey)));
    expect(tokens.every((t) => t.token.length === 6)).toBe(true);
    expect(running.requests().filter((r) => r.operation === 'GET /-/npm/v1/tokens')).toHaveLength(2);
    // When one is deleted by key, twice
    expect(await client.revokeToken(npmTokenKey(TOKENS[0]!))).toBe('revoked');
    expect(await client.revokeToken(npmTokenKey(TOKENS[0]!))).toBe('gone');
    // Then it is no longer listed, and the DELETEs are logged as mutating
    expect((await client.listTokens()).map((t) => t.key)).not.toContain(npmTokenKey(TOKENS[0]!));
    expect(running.requests().filter((r) => r.mutating).map((r) => r.status)).toEqual([204, 404]);
  });

  it('refuses the token API without a valid Bearer token, and once that token is revoked', async () => {
    const running = await start();
    const stranger = createNpmClient({ dryRun: false, incident: 't', github: {}, aws: {}, npm: { registryUrl: running.endpoints.npm!, token: 'npm_' + 'x'.repeat(36) } });
    await expect(stranger.listTokens()).rejects.toMatchObject({ status: 401 });
    // Given a client authenticated with a token of the account, which then revokes itself
    const self = createNpmClient({ dryRun: false, incident: 't', github: {}, aws: {}, npm: { registryUrl: running.endpoints.npm!, token: TOKENS[1]! } });
    await self.revokeToken(npmTokenKey(TOKENS[1]!));
    // Then the registry refuses it at once
    await expect(self.listTokens()).rejects.toBeInstanceOf(NpmRegistryError);
  });

  it('serves packuments with a publish time per version; scoped names are one escaped segment', async () => {
    const running = await start();
    const client = createNpmClient({ dryRun: true, incident: 't', ...running.providerConfig });
    const packument = await client.packument('@acme/web');
    expect(Object.keys(packument!.versions!)).toEqual(['1.0.0', '1.0.1']);
    expect(packument!['dist-tags']).toEqual({ latest: '1.0.1' });
    expect(Date.parse(packument!.time!['1.0.1']!)).toBeGreaterThan(Date.parse(packument!.time!['1.0.0']!));
    expect(packument!.versions!['1.0.1']!._npmUser).toEqual({ name: 'mallory' });
    expect(await client.packument('left-pad')).toBeUndefined();
  });

  it('lets a token publish a new version once, and refuses it after the token is revoked', async () => {
    // Given a token of the account (as stolen from a build log)
    const running = await start();
    const publish = (version: string) =>
      fetch(`${running.endpoints.npm}/@acme%2fweb`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${TOKENS[2]}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: '@acme/web', versions: { [version]: { name: '@acme/web', version } } }),
      });
    // When it publishes a new version, then the same version again
    expect((await publish('1.0.2')).status).toBe(200);
    expect((await publish('1.0.2')).status).toBe(403);
    // Then the packument shows the new version with a publish time
    expect(running.npm.packages.get('@acme/web')!.map((v) => v.version)).toEqual(['1.0.0', '1.0.1', '1.0.2']);
    // When the token is revoked, it can no longer publish
    await createNpmClient({ dryRun: false, incident: 't', ...running.providerConfig }).revokeToken(npmTokenKey(TOKENS[2]!));
    expect((await publish('1.0.3')).status).toBe(401);
    expect(running.requests().filter((r) => r.mutating).map((r) => r.operation)).toEqual([...Array(2).fill('PUT /{package}'), 'DELETE /-/npm/v1/tokens/token/{key}', 'PUT /{package}']);
  });

  describe("the attacker's npm:publish history", () => {
    const HISTORY = `
name: npm history
description: publishes with a secret's token, a raw token, and tokens that cannot publish
github:
  orgs:
    - login: acme
      secrets:
        - { name: NPM_TOKEN, value: ${TOKENS[0]} }
npm:
  packages:
    - name: "@acme/web"
      versions:
        - { version: 1.0.0, published_at: -3d }
  tokens:
    - { value: ${TOKENS[0]}, automation: true, created: -200d }
    - { value: ${TOKENS[1]}, readonly: true, created: -200d }
    - { value: ${TOKENS[2]}, created: -1d }
attacker:
  - { at: -2d, credential: NPM_TOKEN, call: npm:publish, params: { package: "@acme/web", version: 1.1.0 } }
  - { at: -1d23h, credential: ${TOKENS[0]}, actor: workload, call: npm:publish, params: { package: left-pad, version: 9.9.9 } }
  - { at: -47h, credential: ${TOKENS[1]}, call: npm:publish, params: { package: "@acme/web", version: 1.1.1 } }
  - { at: -46h, credential: npm_${'z'.repeat(36)}, call: npm:publish, params: { package: "@acme/web", version: 1.1.2 } }
  - { at: -45h, credential: NPM_TOKEN, call: npm:publish, params: { package: "@acme/web", version: 1.0.0 } }
  - { at: -44h, credential: ${TOKENS[2]}, call: npm:publish, params: { package: "@acme/web", version: 1.1.3 } }
  - { phase: after-containment, credential: NPM_TOKEN, call: npm:publish, params: { package: "@acme/web", version: 1.2.0 } }
`;

    const startHistory = useScenarioLab(HISTORY, 'cicd-ir-npm-lab-');

    it('lands a publish made with a live token (a secret name resolved to its value, or the value) at its time, by its actor', async () => {
      // Given a scenario whose attacker published with the org secret NPM_TOKEN and with the raw token
      const running = await startHistory();
      // Then both versions are in the registry, stamped at the steps' offsets, by the steps' actors
      const web = running.npm.packages.get('@acme/web')!;
      expect(web.find((v) => v.version === '1.1.0')).toEqual({ version: '1.1.0', publishedAt: running.context.at('-2d'), publishedBy: 'attacker' });
      expect(running.npm.packages.get('left-pad')).toEqual([{ version: '9.9.9', publishedAt: running.context.at('-1d23h'), publishedBy: 'workload' }]);
      // And the packument a responder reads shows the stolen-token publish at that time
      const packument = await createNpmClient({ dryRun: true, incident: 't', ...running.providerConfig }).packument('@acme/web');
      expect(packument!.time!['1.1.0']).toBe(running.context.at('-2d').toISOString());
      expect(packument!.versions!['1.1.0']!._npmUser).toEqual({ name: 'attacker' });
      // And it was played at lab start, not over HTTP: the request log holds only that GET
      expect(running.requests().map((r) => r.operation)).toEqual(['GET /{package}']);
    });

    it('publishes nothing with a read-only, unknown or not-yet-created token, nor over a version that exists', async () => {
      const running = await startHistory();
      // Then only 1.0.0 (the scenario's) and the attacker's 1.1.0 are there: not 1.1.1..1.1.3, not 1.2.0 (after containment)
      expect(running.npm.packages.get('@acme/web')!.map((v) => v.version)).toEqual(['1.0.0', '1.1.0']);
      expect(running.npm.packages.get('@acme/web')!.find((v) => v.version === '1.0.0')!.publishedAt).toEqual(running.context.at('-3d'));
      // And each step's outcome says why, in time order, with no token in it
      expect(running.npm.history.map((h) => [h.step, `${h.package}@${h.version}`, h.outcome, h.status])).toEqual([
        [0, '@acme/web@1.1.0', 'success', 200],
        [1, 'left-pad@9.9.9', 'success', 200],
        [2, '@acme/web@1.1.1', 'denied', 403],
        [3, '@acme/web@1.1.2', 'denied', 401],
        [4, '@acme/web@1.0.0', 'denied', 403],
        [5, '@acme/web@1.1.3', 'denied', 401],
      ]);
      expect(JSON.stringify(running.npm.history)).not.toMatch(/npm_/);
    });
  });

  it('refuses an npm step it cannot play, at its line: another npm call, or publish params missing or misspelt', () => {
    const step = (call: string, params: string) => `name: x\ndescription: y\nattacker:\n  - credential: NPM_TOKEN\n    call: ${call}\n    params: ${params}\n`;
    expect(() => parseScenario(step('npm:unpublish', '{ package: a, version: 1.0.0 }'), 's.yaml')).toThrow(/s\.yaml:5:\d+: attacker\.0\.call: .*npm:publish, not npm:unpublish/);
    expect(() => parseScenario(step('npm:publish', '{ package: a }'), 's.yaml')).toThrow(/attacker\.0\.params\.version/);
    expect(() => parseScenario(step('npm:publish', '{ package: "@A/b", version: 1.0.0 }'), 's.yaml')).toThrow(/attacker\.0\.params\.package: an npm package name/);
    expect(() => parseScenario(step('npm:publish', '{ package: a, version: 1.0.0, tag: next }'), 's.yaml')).toThrow(/tag/);
    expect(parseScenario(step('npm:publish', '{ package: "@a/b", version: 1.0.0 }'), 's.yaml').attacker).toHaveLength(1);
  });

  it('keeps the npm part of the scenario strict: a typo is a validation error at its line', () => {
    // Given a scenario whose token has a misspelt field
    const text = 'name: x\ndescription: y\nnpm:\n  tokens:\n    - value: npm_abcdefgh\n      readonyl: true\n';
    // Then parsing fails with the position of the typo
    expect(() => parseScenario(text, 'typo.yaml')).toThrow(ValidationError);
    expect(() => parseScenario(text, 'typo.yaml')).toThrow(/typo\.yaml:6:\d+: npm\.tokens\.0: .*readonyl/);
  });
});
