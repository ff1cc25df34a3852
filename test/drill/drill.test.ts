import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runDrill } from '../../src/drill/index.js';
import { repoRoot } from '../helpers/cli.js';

const out = mkdtempSync(join(tmpdir(), 'cicd-ir-drill-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

// One fault profile per shipped scenario: the drill must pass through the faults, not around them.
const cases = [
  // tj-actions: every credential is closed, but contain exits 3 for the secret the attacker's minted
  // key read (prod/fleet/db-credentials): nothing in the playbook can rotate it.
  { scenario: 'tj-actions-log-leak', faults: 'partition-5s', expectOpen: [], containExit: 3 },
  { scenario: 'grafana-missed-credential', faults: 'aws-throttled', expectOpen: ['NPM_TOKEN'], containExit: 3 },
  { scenario: 'nx-pull-request-target', faults: 'flaky-github', expectOpen: ['NPM_TOKEN'], containExit: 3 },
];

describe('runDrill on the shipped scenarios', () => {
  it.concurrent.each(cases)('$scenario passes with $faults', async ({ scenario, faults, expectOpen, containExit }) => {
    // Given a shipped scenario, the shipped playbook and a fault profile
    // When the drill runs it end to end
    const result = await runDrill({ scenarioFile: join(repoRoot, 'scenarios', `${scenario}.yaml`), faults, sloMs: 120_000, out });
    // Then every criterion passes, each with its reason
    expect(result.criteria.filter((c) => !c.passed)).toEqual([]);
    expect(result.criteria.map((c) => c.id)).toEqual(['time-to-contain', 'credentials-closed', 'no-attacker-success', 'no-secret-leaked']);
    expect(result).toMatchObject({ passed: true, exitCode: 0, faults });
    // And every after-containment step was played: denied, or (npm) an expected-open credential
    expect(result.attacks.length).toBeGreaterThan(0);
    for (const attack of result.attacks) {
      if (attack.expected === 'denied') expect(attack.outcome).toBe('denied');
      else expect(expectOpen).toContain(attack.credential);
    }
    // And the credentials the playbook cannot close are said to be open, never faked closed
    const credentials = result.criteria.find((c) => c.id === 'credentials-closed')!;
    for (const name of expectOpen) expect(credentials.reason).toContain(name);
    // And contain itself said "needs a human" for them (exit 3), and "contained" (0) only when
    // nothing was left (tj-actions: the npm token the log printed was revoked, and its publish is
    // denied, but the secret the minted key read stays to rotate)
    expect(result.containExitCode).toBe(containExit);
    if (scenario === 'tj-actions-log-leak') expect(result.attacks.find((a) => a.call === 'npm:publish')).toMatchObject({ expected: 'denied', outcome: 'denied' });
  }, 120_000);
});
