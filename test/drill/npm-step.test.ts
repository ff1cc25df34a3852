import { describe, expect, it } from 'vitest';
import { playAfterContainment } from '../../src/drill/index.js';
import { labSecrets } from '../../src/drill/secrets.js';
import { npmTokenKey } from '../../src/lab/npm/index.js';
import { createNpmClient } from '../../src/providers/npm.js';
import { useScenarioLab } from '../helpers/scenario-lab.js';

const STOLEN = 'npm_' + 'S'.repeat(36);

// No AWS and no GitHub calls: only the npm step, so the drill's player is tested without a containment run.
const scenarioText = `
name: npm after containment
description: a publish token leaked in a repo secret; the attacker publishes again after containment
github:
  repos:
    - full_name: acme/web
      secrets:
        - { name: NPM_TOKEN, value: ${STOLEN} }
npm:
  packages:
    - name: "@acme/web"
      versions:
        - { version: 1.0.0, published_at: -3d }
  tokens:
    - { value: ${STOLEN}, automation: true, created: -200d }
attacker:
  - phase: after-containment
    credential: NPM_TOKEN
    call: npm:publish
    params: { package: "@acme/web", version: 1.0.1 }
    expect: denied
`;

describe("the drill's after-containment npm:publish step", () => {
  const start = useScenarioLab(scenarioText, 'cicd-ir-drill-npm-');

  it('succeeds while the stolen token lives: a real PUT lands the version, and the drill flags it', async () => {
    // Given a lab where nobody revoked the token
    const running = await start();
    // When the drill plays the after-containment steps
    const [attack, ...rest] = await playAfterContainment(running, [], labSecrets(running));
    // Then the publish went over HTTP to the registry and succeeded
    expect(rest).toEqual([]);
    expect(attack).toMatchObject({ step: 0, call: 'npm:publish', credential: 'NPM_TOKEN', outcome: 'success', expected: 'denied', passed: false });
    expect(attack!.detail).toContain('HTTP 200');
    expect(running.requests().map((r) => [r.service, r.operation, r.status])).toEqual([['npm', 'PUT /{package}', 200]]);
    expect(running.npm.packages.get('@acme/web')!.map((v) => v.version)).toEqual(['1.0.0', '1.0.1']);
    // And the token's value appears nowhere in what the drill reports
    expect(JSON.stringify(attack)).not.toContain(STOLEN);
  });

  it('is denied with 401 once the token is revoked through the registry, and nothing is published', async () => {
    // Given the responder revoked the token (DELETE /-/npm/v1/tokens/token/{key}, as npm.revoke-token does)
    const running = await start();
    expect(await createNpmClient({ dryRun: false, incident: 't', ...running.providerConfig }).revokeToken(npmTokenKey(STOLEN))).toBe('revoked');
    // When the drill plays the step
    const [attack] = await playAfterContainment(running, [], labSecrets(running));
    // Then the registry refused it, the drill says so with the status, and no version landed
    expect(attack).toMatchObject({ outcome: 'denied', expected: 'denied', passed: true });
    expect(attack!.detail).toMatch(/^denied as it must be: PUT @acme\/web@1\.0\.1: HTTP 401/);
    expect(running.npm.packages.get('@acme/web')!.map((v) => v.version)).toEqual(['1.0.0']);
    expect(running.requests().filter((r) => r.operation === 'PUT /{package}').map((r) => r.status)).toEqual([401]);
  });

  it('counts a publish it could not make (the registry failing) as an error, never as denied', async () => {
    // Given a registry that answers every publish with a 5xx
    const running = await start({ faults: { name: 'npm-down', rules: [{ service: 'npm', operation: 'PUT /{package}', errorRate: 1, error: '5xx' }] } });
    // When the drill plays the step (retrying as npm does)
    const [attack] = await playAfterContainment(running, [], labSecrets(running));
    // Then it is an error that fails the step, after three tries
    expect(attack).toMatchObject({ outcome: 'error', expected: 'denied', passed: false });
    expect(attack!.detail).toContain('HTTP 503');
    expect(running.requests().map((r) => r.status)).toEqual([503, 503, 503]);
  });

  it('passes a success with a token the scenario declares open (expect_open), naming the status', async () => {
    const running = await start();
    const [attack] = await playAfterContainment(running, ['NPM_TOKEN'], labSecrets(running));
    expect(attack).toMatchObject({ outcome: 'success', expected: 'expected-open', passed: true });
    expect(attack!.detail).toMatch(/^PUT @acme\/web@1\.0\.1: HTTP 200/);
  });
});
