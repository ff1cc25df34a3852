import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CANARY_KEY_ID_SECRET, CANARY_SECRET_KEY_SECRET, runLiveDrill, type LiveDrillOptions } from '../../src/drill/live.js';
import { startLab, type RunningLab } from '../../src/lab/index.js';
import { repoRoot } from '../helpers/cli.js';

const out = mkdtempSync(join(tmpdir(), 'cicd-ir-live-drill-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

let lab: RunningLab;
beforeEach(async () => {
  lab = await startLab(join(repoRoot, 'test', 'fixtures', 'drill', 'live-sandbox.yaml'));
});
afterEach(async () => lab.close());

/** The live drill pointed at the lab's endpoints: the only difference from a real sandbox. */
function options(extra: Partial<LiveDrillOptions> = {}): LiveDrillOptions {
  return {
    sandboxAccount: '111122223333',
    sandboxRepo: 'drill-sandbox-org/drill-sandbox',
    workflow: '.github/workflows/canary.yml',
    canaryUser: 'cicd-ir-drill-canary',
    sloMs: 120_000,
    out,
    provider: lab.providerConfig,
    ...extra,
  };
}

/** What the drill may leave behind: the canary user's keys and the canary secrets. */
function leftovers(): { keys: string[]; secrets: string[] } {
  const user = lab.aws.state.accounts.get('111122223333')!.users.get('cicd-ir-drill-canary')!;
  return {
    keys: user.accessKeys.map((k) => `${k.id}:${k.status}`),
    secrets: [CANARY_KEY_ID_SECRET, CANARY_SECRET_KEY_SECRET].filter((name) => lab.github.state.secret({ repo: 'drill-sandbox-org/drill-sandbox' }, name)),
  };
}

describe('drill --target live (against the lab as the sandbox)', () => {
  it('detonates a canary key, contains it, proves the stolen key refused, and cleans everything up', async () => {
    // Given a sandbox whose canary user has no key
    expect(leftovers()).toEqual({ keys: [], secrets: [] });
    // When the live drill runs
    const result = await runLiveDrill(options());
    // Then it passed: contained, the canary key rotated as leaked, the stolen key refused, nothing leaked
    expect(result.criteria.filter((c) => !c.passed)).toEqual([]);
    expect(result.attacks).toMatchObject([{ call: 'sts:GetCallerIdentity', outcome: 'denied', passed: true }]);
    expect(result.cleanupProblems).toEqual([]);
    // And the containment really ran on the sandbox: the workflow is disabled
    expect(lab.github.state.workflow('drill-sandbox-org/drill-sandbox', 'canary.yml').state).toBe('disabled_manually');
    // And cleanup removed every key the drill created (canary and replacement) and both secrets
    expect(leftovers()).toEqual({ keys: [], secrets: [] });
  }, 90_000);

  it('cleans up after a failure in the middle of the drill', async () => {
    // Given a containment that fails after the canary is detonated (its playbook is missing)
    // When the live drill runs
    await expect(runLiveDrill(options({ playbookFile: join(out, 'missing-playbook.yaml') }))).rejects.toThrow(/missing-playbook/);
    // Then nothing the detonation created is left behind
    expect(leftovers()).toEqual({ keys: [], secrets: [] });
  }, 60_000);

  it('refuses to detonate outside the sandbox account (exit 2), creating nothing', async () => {
    await expect(runLiveDrill(options({ sandboxAccount: '999999999999' }))).rejects.toMatchObject({ exitCode: 2 });
    expect(leftovers()).toEqual({ keys: [], secrets: [] });
  });
});
