import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { startLab } from '../../src/lab/index.js';
import { Scenario } from '../../src/lab/scenario.js';
import { buildWorld, worldParams, worlds, type World } from './worlds.js';

const dir = mkdtempSync(join(tmpdir(), 'cicd-ir-worlds-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function labOf(world: World, index: number) {
  const file = join(dir, `world-${index}.json`);
  writeFileSync(file, JSON.stringify(world.scenario));
  return startLab(file);
}

describe('the incident world generator', () => {
  it('builds scenarios the lab accepts, the same way for the same parameters', () => {
    fc.assert(
      fc.property(worldParams, (params) => {
        const world = buildWorld(params);
        expect(() => Scenario.parse(world.scenario)).not.toThrow();
        expect(buildWorld(params)).toEqual(world);
      }),
      { numRuns: 300 },
    );
  });

  it('draws the n-th world of a seed as the n-th parameters of that seed (a failing index replays as fast-check path)', () => {
    const built = fc.sample(worlds, { seed: 99, numRuns: 20 }).map((world) => world.params);
    expect(built).toEqual(fc.sample(worldParams, { seed: 99, numRuns: 20 }));
  });

  it("replays the n-th sampled world as fast-check's path n, which the containment test prints", () => {
    const sampled = fc.sample(worldParams, { seed: 5, numRuns: 10 });
    let replayed: unknown;
    fc.assert(
      fc.property(worldParams, (params) => {
        replayed ??= params;
        return true;
      }),
      { seed: 5, path: '7', numRuns: 1 },
    );
    expect(replayed).toEqual(sampled[7]);
  });

  it('covers what makes containment hard', () => {
    const sample = fc.sample(worldParams, { seed: 7, numRuns: 400 });
    const seen = (values: unknown[]) => new Set(values.map(String));
    expect(seen(sample.map((w) => w.accounts))).toEqual(seen([1, 2, 3]));
    expect(seen(sample.flatMap((w) => w.roles.map((r) => r.trust)))).toEqual(seen(['branch', 'repo-wildcard', 'org-wildcard', 'environment', 'immutable', 'mixed-case', 'pull-request', 'other-repo']));
    expect(seen(sample.flatMap((w) => w.roles.map((r) => r.named)))).toEqual(seen(['no', 'name', 'arn']));
    expect(seen(sample.flatMap((w) => w.users.map((u) => u.keys)))).toEqual(seen([1, 2]));
    expect(seen(sample.flatMap((w) => [...w.users.map((u) => u.scope), ...w.secrets.map((s) => s.scope)]))).toEqual(seen(['repo', 'environment', 'org-selected', 'org-all']));
    expect(seen(sample.map((w) => w.faults))).toEqual(seen(['none', 'flaky-github', 'aws-throttled']));
    expect(sample.some((w) => w.chained)).toBe(true);
    expect(sample.some((w) => w.immutableSubject)).toBe(true);
    expect(sample.some((w) => w.flagCase === 'lower' && w.repo !== w.repo.toLowerCase())).toBe(true);
    expect(seen(sample.flatMap((w) => (w.githubToken ? [w.githubToken.heldByResponders] : [])))).toEqual(seen([true, false]));
    expect(sample.some((w) => w.secrets.some((s) => s.referenced && s.printed))).toBe(true);
    expect(sample.some((w) => w.attacker.mintKey && w.attacker.readSecret)).toBe(true);
  });
});

describe('the lab ground truth on generated worlds', () => {
  it('before any containment, every capability of the attacker and of the workloads works', async () => {
    // Given 30 generated worlds, started as `contain --lab` starts them
    const sample = fc.sample(worlds, { seed: 2026, numRuns: 30 });
    let attacker = 0;
    for (const [index, world] of sample.entries()) {
      const lab = await labOf(world, index);
      try {
        // When every capability is replayed before anyone responds
        const outcomes = await lab.attackCapabilities();
        // Then each one works (the derivation lists only what the attacker really has), and none prints a secret
        expect(outcomes.filter((o) => o.outcome !== 'success').map((o) => `${o.id}: ${o.detail}`)).toEqual([]);
        attacker += outcomes.filter((o) => o.actor === 'attacker').length;
        const text = JSON.stringify(outcomes);
        // (access key ids are identifiers, not secrets: reports name them)
        const secrets = [...lab.scenario.github.repos.flatMap((r) => [...r.secrets, ...r.environments.flatMap((e) => e.secrets)]), ...lab.scenario.github.orgs.flatMap((o) => o.secrets), ...lab.scenario.github.tokens];
        for (const secret of secrets.filter((s) => !/^AKIA/.test(s.value))) expect(text).not.toContain(secret.value);
      } finally {
        await lab.close();
      }
    }
    expect(attacker).toBeGreaterThan(30);
  });

  it.each(['scenarios/grafana-missed-credential.yaml', 'scenarios/nx-pull-request-target.yaml', 'scenarios/tj-actions-log-leak.yaml', 'test/fixtures/scenarios/unseen-route-planner-leak.yaml'])(
    'on %s, lists capabilities that all work before containment',
    async (file) => {
      const lab = await startLab(file);
      try {
        const outcomes = await lab.attackCapabilities();
        expect(outcomes.filter((o) => o.actor === 'attacker').length).toBeGreaterThan(0);
        expect(outcomes.filter((o) => o.outcome !== 'success').map((o) => `${o.id}: ${o.detail}`)).toEqual([]);
      } finally {
        await lab.close();
      }
    },
  );

  it('names the tj-actions attacker capabilities, including the other account the trust admits', async () => {
    const lab = await startLab(join('scenarios', 'tj-actions-log-leak.yaml'));
    try {
      const ids = lab.capabilities().filter((c) => c.actor === 'attacker').map((c) => c.id);
      expect(ids).toEqual(
        expect.arrayContaining([
          'aws-key:AKIAHBRPOIGF3EXAMPLE',
          'aws-session:ASIAAQLGTMJXKEXAMPLE',
          'oidc-assume:arn:aws:iam::123456789012:role/deploy:repo:acme-robotics/fleet-api:ref:refs/heads/main',
          'oidc-assume:arn:aws:iam::210987654321:role/deploy:repo:acme-robotics/fleet-api:ref:refs/heads/main',
        ]),
      );
      // The key the attacker minted with the session (CreateAccessKey in the script)
      expect(lab.capabilities().some((c) => c.kind === 'aws-key' && c.description.includes('minted by the attacker'))).toBe(true);
      // The npm token from the repository secret the workflow receives
      expect(lab.capabilities().some((c) => c.kind === 'npm-token' && c.names.includes('NPM_TOKEN'))).toBe(true);
      // A pull_request subject the push-only workflow cannot mint is not a capability
      expect(ids.some((id) => id.endsWith(':pull_request'))).toBe(false);
      // And the never-exposed svc-telemetry key is a workload's, which must keep working
      expect(lab.capabilities().find((c) => c.id === 'aws-key:AKIAWNREKPK5YEXAMPLE')).toMatchObject({ actor: 'workload' });
    } finally {
      await lab.close();
    }
  });
});
