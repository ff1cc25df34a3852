import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJournal } from '../../src/engine/journal.js';
import { startLab, type RunningLab } from '../../src/lab/index.js';
import type { Timeline } from '../../src/report/model.js';
import { runContain, type ContainResult } from '../../src/ui/contain-session.js';

/**
 * The shipped playbook against the tj-actions world with two twists a responder meets: the
 * repository typed in another case than GitHub's (`ACME-Robotics/Fleet-API`), and a log that
 * printed nothing (the attacker got the secrets some other way). The attacker still used the
 * fleet-ci key twice and its minted key read prod/fleet/db-credentials.
 */

const SCENARIO = new URL('../../scenarios/tj-actions-log-leak.yaml', import.meta.url).pathname;
const LEAKED_KEY = 'AKIAHBRPOIGF3EXAMPLE';

/** The tj-actions scenario without the run log that printed the secrets. */
function scenarioWithoutLog(dir: string): string {
  const text = readFileSync(SCENARIO, 'utf8');
  const start = text.indexOf('          logs:\n            deploy: |');
  const end = text.indexOf('        - id: 9123456702');
  expect(start, 'the scenario still has the log block this test removes').toBeGreaterThan(0);
  const file = join(dir, 'tj-actions-no-log.yaml');
  writeFileSync(file, text.slice(0, start) + text.slice(end));
  return file;
}

let dir: string;
let lab: RunningLab;
let result: ContainResult;
let report: Timeline;
let attacks: Awaited<ReturnType<RunningLab['attack']>>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cicd-ir-reach-'));
  lab = await startLab(scenarioWithoutLog(dir));
  // When contain runs with the repository in another case and no log hit to go on
  result = await runContain({ repo: ['ACME-Robotics/Fleet-API'] }, lab, { dryRun: false, yes: true, json: true, out: join(dir, 'runs'), reporter: null });
  report = JSON.parse(readFileSync(result.reports!.find((file) => file.endsWith('report.json'))!, 'utf8')) as Timeline;
  attacks = await lab.attack('after-containment');
}, 120_000);

afterAll(async () => {
  await lab?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('contain against a mixed-case repository and a silent log', () => {
  it('restricts the trust for GitHub’s casing: the compromised subject can no longer assume the role', () => {
    // Then the trust steps name GitHub's spelling, and every after-containment re-assume is denied
    const restricts = result.steps.filter((step) => step.step === 'restrict-trust');
    expect(restricts.map((step) => step.detail)).toEqual(expect.arrayContaining([expect.stringContaining('no longer admits repo:acme-robotics/fleet-api:*')]));
    const assumes = attacks.filter((attack) => attack.call === 'sts:AssumeRoleWithWebIdentity');
    expect(assumes.length).toBeGreaterThan(0);
    expect(assumes.map((attack) => attack.outcome)).toEqual(assumes.map(() => 'denied'));
  });

  it('hunts the rotated leaked key although no log printed it, and the report shows its two uses', () => {
    // Then the hunt ran (no validation failure) with the key the secrets held among its inputs
    const hunt = readJournal(result.runDir + '/journal.jsonl').records.filter((r) => r.type === 'step' && r.step === 'hunt');
    expect(hunt.at(-1)).toMatchObject({ phase: 'verified' });
    expect((hunt[0] as { input: { access_key_ids: string[] } }).input.access_key_ids).toContain(LEAKED_KEY);
    // And the exposure of that key counts the attacker's two calls
    expect(report.metrics.exposure.find((e) => e.credential === LEAKED_KEY)).toMatchObject({ uses: 2, status: 'deactivated' });
  });

  it('lists the secret the minted key read as an OPEN item to rotate, and does not call the incident contained', () => {
    // Then the report's open items name the secret and who read it, and contain exits 3
    const item = report.verdict.openItems.find((open) => open.summary.startsWith('rotate prod/fleet/db-credentials: read by AKIA'));
    expect(item).toMatchObject({ kind: 'credential', severity: 'high', blocking: true });
    expect(result.verdict.openItems.map((open) => open.summary)).toContain(item!.summary);
    expect(result.exitCode).toBe(3);
    expect(report.findings.find((f) => f.kind === 'secret-read')).toMatchObject({ resource: 'prod/fleet/db-credentials', severity: 'high' });
  });
});
