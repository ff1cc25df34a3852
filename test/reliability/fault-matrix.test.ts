import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJournal, type JournalRecord } from '../../src/engine/journal.js';
import { faultProfiles } from '../../src/lab/faults.js';
import type { FaultProfile } from '../../src/lab/types.js';
import { containWithoutHunt, onlyTheHuntOpen, incidentFlags, labEnv, labFor, labSecrets, leaksIn, mutationCounts, removeTempOuts, runDir, spawnCliAsync, tempOut, worldOf } from './harness.js';

// The run folders the suite made are evidence only while it runs.
afterAll(removeTempOuts);

/** The lab's named profiles, as drills use them (partitions are timed from lab start). */
const NAMED: FaultProfile[] = ['latency-150ms', 'flaky-github', 'aws-throttled', 'partition-5s', 'partition-60s'].map((name) => faultProfiles[name]!);

/**
 * Two harder worlds of our own, so the fail-closed branch is always exercised: GitHub refuses
 * every secret write after the key was already rotated (a half-done rotation), and IAM
 * throttles 60% of calls (beyond the SDK's 3 attempts).
 */
const HARSH: FaultProfile[] = [
  { name: 'secret-writes-down', rules: [{ service: 'github', operation: 'PUT /repos/{owner}/{repo}/actions/secrets/{secret_name}', errorRate: 1, error: '5xx' }] },
  { name: 'iam-throttled-60pct', rules: [{ service: 'iam', operation: '*', errorRate: 0.6, error: 'throttle' }] },
];
const PROFILES = [...NAMED, ...HARSH];

/** Successful mutating api-call records of a journal, keyed as the lab's request log keys them. */
function journalledMutations(records: JournalRecord[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const record of records) {
    if (record.type !== 'api-call' || !record.mutating || record.error || (record.status ?? 0) >= 300) continue;
    const key = record.service === 'github' ? record.operation : `${record.service} ${record.operation}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

describe('contain under each fault profile finishes right or fails closed, saying what is open', () => {
  let playbook: string;
  let baseline: unknown;
  /** The undisturbed run's exit: 0, everything closed. */
  let baselineCode: number | null;

  beforeAll(async () => {
    // Given: the world an undisturbed containment leaves.
    const dir = tempOut('faults-playbook');
    playbook = containWithoutHunt(dir);
    const lab = await labFor();
    try {
      const run = await spawnCliAsync(['contain', ...incidentFlags(lab), '--yes', '--out', join(dir, 'runs'), '--playbook', playbook], labEnv(lab)).done;
      // (This playbook has no hunt, for speed: the verdict keeps that one item open, exit 3.)
      onlyTheHuntOpen(run);
      baselineCode = run.code;
      baseline = worldOf(lab);
    } finally {
      await lab.close();
    }
  }, 60_000);

  it.concurrent.each(PROFILES.map((profile) => [profile.name, profile] as const))('%s', async (_name, profile) => {
    const lab = await labFor({ faults: profile });
    const out = join(tempOut('faults'), 'runs');
    try {
      // When: contain runs through the faults.
      const result = await spawnCliAsync(['contain', ...incidentFlags(lab), '--yes', '--out', out, '--playbook', playbook], labEnv(lab)).done;
      const run = runDir(out)!;
      const journal = readJournal(run.journal);
      const report = readFileSync(join(run.dir, 'report.md'), 'utf8');

      // Then: every change the lab made is in the journal (nothing done behind the record's back).
      expect(journalledMutations(journal.records)).toEqual(mutationCounts(lab));
      expect(journal.torn).toBeUndefined();
      const end = journal.records.at(-1);
      if (end?.type === 'run-end' && end.status === 'succeeded') {
        // Finished: the world is the undisturbed run's, and so is the exit.
        expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(baselineCode);
        expect(worldOf(lab)).toEqual(baseline);
        // And the report says what the exit says (needs-human: the hunt this playbook lacks)
        expect(report).toMatch(/status \*\*needs-human\*\*/);
        expect(report).toContain('**NOT CONTAINED** (exit 3)');
      } else {
        // Or failed closed: exit 1 (failed) or 3 (needs a human), never a crash or a 0.
        expect([1, 3], `${result.stdout}\n${result.stderr}`).toContain(result.code);
        expect(end).toMatchObject({ type: 'run-end', exitCode: result.code });
        expect(result.stderr).not.toMatch(/\n\s+at .+:\d+:\d+\)?\n/);
        // And the report lists every step that started and did not verify as open.
        const last = new Map<string, string>();
        for (const record of journal.records) if (record.type === 'step') last.set(record.key ?? record.step, record.phase);
        const open = [...last].filter(([, phase]) => phase !== 'verified' && phase !== 'skipped').map(([key]) => key);
        expect(open.length).toBeGreaterThan(0);
        const openItems = report.slice(report.indexOf('## Open items'), report.indexOf('\n## ', report.indexOf('## Open items') + 5));
        for (const key of open) expect(openItems, `open step ${key} missing from the report`).toContain(key);
        expect(report).not.toMatch(/status \*\*succeeded\*\*/);
      }
      if (profile.name === 'secret-writes-down') {
        // The half-done rotation: the key changed, the secrets could not be written. Both say so:
        // the failed writes are open items, and the secret is closed only because the leaked key
        // it still holds is dead (deactivated), with a note to replace it.
        expect(result.code).not.toBe(0);
        expect(report).toMatch(/store-key-id\[0\]/);
        expect(report).toMatch(/\| deactivated \| AWS_SECRET_ACCESS_KEY \|[^\n]*the secret still holds the deactivated value: replace it/);
      }
      // No secret of the lab in any output.
      const secrets = labSecrets(lab);
      const files = ['journal.jsonl', 'report.md', 'report.json', 'report.html'].map((f) => join(run.dir, f)).filter(existsSync);
      expect(leaksIn([result.stdout, result.stderr, ...files.map((f) => readFileSync(f, 'utf8'))].join('\n'), secrets)).toEqual([]);
      console.log(`fault ${profile.name}: exit ${result.code}, ${journal.records.length} journal records, ${report.match(/Steps: [^\n]*/)?.[0]}`);
    } finally {
      await lab.close();
    }
  }, 150_000);
});
