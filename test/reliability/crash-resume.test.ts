import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJournal } from '../../src/engine/journal.js';
import type { RunningLab } from '../../src/lab/index.js';
import {
  CONTAIN_PLAYBOOK,
  containWithoutHunt,
  onlyTheHuntOpen,
  incidentFlags,
  journalLines,
  labEnv,
  labFor,
  labSecrets,
  leaksIn,
  mutationCounts,
  removeTempOuts,
  runDir,
  spawnCliAsync,
  tempOut,
  worldOf,
  type CliProcess,
} from './harness.js';

// The run folders the suite made are evidence only while it runs.
afterAll(removeTempOuts);

/**
 * Where a case kills `contain`: when the journal holds `journal` complete records, or right
 * after the lab served the `mutation`-th successful mutating request (the change is made, the
 * CLI has not journalled it: the nastiest point). `torn` then appends half a record, as a kill
 * in the middle of a journal write leaves it. `again` kills the first resume too.
 */
interface KillPoint {
  journal?: number;
  mutation?: number;
  torn?: boolean;
  again?: { journal: number };
  /** Run the shipped playbook with its CloudTrail hunt (slow: paced at 2 requests/s). */
  full?: boolean;
}

const CI_POINTS: KillPoint[] = [
  { journal: 1 },
  { journal: 2, torn: true },
  { journal: 9 },
  { journal: 14, torn: true },
  { journal: 20 },
  { journal: 35 },
  { journal: 44, torn: true },
  { journal: 55 },
  { journal: 78 },
  { journal: 90, torn: true },
  { journal: 102 },
  { mutation: 1 },
  { mutation: 2, torn: true },
  { mutation: 3 },
  { mutation: 4 },
  { mutation: 5, torn: true },
  { mutation: 6 },
  { mutation: 7 },
  { mutation: 8 },
  // Past the rotation (an uninterrupted run's order varies with concurrency: around 10 the second
  // secret write and the cancel, 12 the exposing log's DELETE, which waits for every revocation).
  { mutation: 10 },
  { mutation: 11, torn: true },
  { mutation: 12 },
  { journal: 30, again: { journal: 20 } },
  { mutation: 5, again: { journal: 12 } },
  { journal: 130, full: true },
];

/** The CI matrix: 25 kill points. CICD_IR_CRASH_MATRIX=full adds 54 more: a kill at every 3rd journal record and after every mutation twice over. */
const FULL_POINTS: KillPoint[] = [
  { journal: 5 },
  { journal: 27 },
  { journal: 66 },
  { mutation: 9 },
  { mutation: 13 },
  ...Array.from({ length: 38 }, (_, i) => ({ journal: 3 * i + 4, torn: i % 2 === 0 })),
  // (A resume's journal is short when little is left to do: its kill point stays early.)
  ...Array.from({ length: 9 }, (_, i) => ({ mutation: i + 1, again: { journal: 4 + 3 * (i % 4) } })),
  { mutation: 10, full: true },
  { journal: 150, full: true },
];

const POINTS = process.env.CICD_IR_CRASH_MATRIX === 'full' ? [...CI_POINTS, ...FULL_POINTS] : CI_POINTS;

function describePoint(point: KillPoint): string {
  const at = point.journal !== undefined ? `journal record ${point.journal}` : `mutating request ${point.mutation}`;
  return [`kill at ${at}`, point.torn && 'torn write', point.again && `resume killed at record ${point.again.journal}`, point.full && 'with the hunt'].filter(Boolean).join(', ');
}

/** Polls until `reached()` or the process ends, then SIGKILLs it; resolves how it ended. */
async function killWhen(cli: CliProcess, reached: () => boolean) {
  let ended = false;
  void cli.done.then(() => (ended = true));
  while (!ended && !reached()) await new Promise((resolve) => setTimeout(resolve, 2));
  if (!ended) cli.kill();
  return cli.done;
}

/**
 * The world after a resume that had to make a second key: the one the crashed run made sits
 * inactive next to the active one, and the leaked scenario key was deleted as the "inactive
 * spare" to stay within IAM's two keys (the action's make-room rule).
 */
function withOrphanKey(world: unknown): unknown {
  const copy = structuredClone(world) as { aws: { users: { name: string; keys: string[][] }[] }[] };
  for (const account of copy.aws) for (const user of account.users) if (user.name === 'fleet-ci') user.keys = [['minted', 'Active'], ['minted', 'Inactive']];
  return copy;
}

function mutatingServed(lab: RunningLab): number {
  return lab.requests().filter((r) => r.mutating && r.status < 300 && !r.fault).length;
}

interface Baseline {
  world: unknown;
  counts: Map<string, number>;
}

/** An uninterrupted containment of a fresh lab: what every crashed-and-resumed run must reach. */
async function uninterrupted(playbook: string, out: string): Promise<Baseline> {
  const lab = await labFor();
  try {
    const run = await spawnCliAsync(['contain', ...incidentFlags(lab), '--yes', '--out', out, '--playbook', playbook], labEnv(lab)).done;
    // Contained: every credential closed (the npm token the log printed is revoked on the lab's
    // registry). With the hunt, the secret the attacker's minted key read stays OPEN to rotate
    // (exit 3); without the hunt step, the verdict keeps the missing hunt open (exit 3).
    if (playbook === CONTAIN_PLAYBOOK) expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(3);
    else onlyTheHuntOpen(run);
    return { world: worldOf(lab), counts: mutationCounts(lab) };
  } finally {
    await lab.close();
  }
}

describe('contain survives SIGKILL at any point and --resume finishes it exactly once', () => {
  let playbook: string;
  const baselines: Partial<Record<'short' | 'full', Baseline>> = {};
  const outcomes: { point: string; secretLost: boolean; counts: Record<string, number> }[] = [];

  beforeAll(async () => {
    const dir = tempOut('crash-playbook');
    playbook = containWithoutHunt(dir);
    // Given: what an uninterrupted run of each playbook leaves behind (the full one only when a point needs it).
    const [short, full] = await Promise.all([
      uninterrupted(playbook, join(dir, 'short')),
      POINTS.some((p) => p.full) ? uninterrupted(CONTAIN_PLAYBOOK, join(dir, 'full')) : Promise.resolve(undefined),
    ]);
    baselines.short = short;
    baselines.full = full;
  }, 120_000);

  afterAll(() => {
    // What the matrix saw, for the record (CICD_IR_CRASH_REPORT=1).
    if (process.env.CICD_IR_CRASH_REPORT) console.log(JSON.stringify(outcomes, null, 1));
  });

  it.concurrent.each(POINTS.map((point) => [describePoint(point), point] as const))('%s', async (_name, point) => {
    const lab = await labFor();
    const out = join(tempOut('crash'), 'runs');
    const env = labEnv(lab);
    const book = point.full ? CONTAIN_PLAYBOOK : playbook;
    const baseline = point.full ? baselines.full! : baselines.short!;
    try {
      // Given: contain running against the lab, killed from outside at the point.
      const first = await killWhen(spawnCliAsync(['contain', ...incidentFlags(lab), '--yes', '--out', out, '--playbook', book], env), () =>
        point.journal !== undefined ? journalLines(out) >= point.journal : mutatingServed(lab) >= point.mutation!,
      );
      expect(first.signal, `the run ended before the kill point (exit ${first.code})`).toBe('SIGKILL');
      const run = runDir(out);
      expect(run, 'a journal exists once the run started').toBeDefined();
      const kills = point.again ? 2 : 1;
      // The new key's secret exists only in the memory of the process that created it. Killed
      // after CreateAccessKey and before both secrets were stored, it is lost: the resume must
      // make another key (the engine re-applies rotate-key) and leave the orphan inactive.
      const createdBeforeResume = mutationCounts(lab).get('iam CreateAccessKey') ?? 0;
      // (Once the secret's write is journalled as applied, a resume only verifies it: no value needed.)
      const stored = readJournal(run!.journal).records.some((r) => r.type === 'step' && r.step === 'store-secret-key' && (r.phase === 'applied' || r.phase === 'verified'));
      const secretLost = createdBeforeResume === 1 && !stored;
      if (point.torn) appendFileSync(run!.journal, '{"v":1,"seq":99999,"at":"2026-');

      // When: --resume (killed once more first, for `again` points), until it ends by itself.
      const resume = () => spawnCliAsync(['contain', '--resume', run!.id, '--yes', '--out', out, '--playbook', book], env);
      if (point.again) {
        const linesBefore = journalLines(out);
        const second = await killWhen(resume(), () => journalLines(out) >= linesBefore + point.again!.journal);
        expect(second.signal, `the resume ended before its kill point (exit ${second.code})`).toBe('SIGKILL');
      }
      const last = await resume().done;

      // Then: it succeeds, and the world is the one an uninterrupted run leaves (the secrets
      // hold the user's one active key), but for the orphan key when the secret was lost.
      // (With the hunt, the one open item is the secret the attacker's minted key read; without
      // it, the missing hunt: exit 3 either way, with that one item.)
      if (point.full) {
        expect(last.code, `${last.stdout}\n${last.stderr}`).toBe(3);
        expect(last.stdout).toMatch(/NOT CONTAINED YET: 1 open item\(s\) need a human \(exit 3\):\n {2}\[high\] rotate prod\/fleet\/db-credentials: read by AKIA/);
      } else onlyTheHuntOpen(last);
      expect(worldOf(lab)).toEqual(secretLost ? withOrphanKey(baseline.world) : baseline.world);
      // No action applied twice: one CreateAccessKey (two when its secret was lost), and no
      // other mutation more often than once per attempt (idempotent overwrites re-sent when the
      // kill fell between the request and its journal record).
      const counts = mutationCounts(lab);
      expect(counts.get('iam CreateAccessKey')).toBe(secretLost ? 2 : 1);
      expect(counts.get('iam DeleteAccessKey') ?? 0).toBe(secretLost ? 1 : 0);
      for (const [operation, count] of counts) {
        if (operation.endsWith('AccessKey')) continue;
        expect(count, operation).toBeLessThanOrEqual((baseline.counts.get(operation) ?? 0) * (1 + kills));
      }
      if (secretLost) expect(`${last.stdout}${last.stderr}`).toMatch(/rotate-key/);
      outcomes.push({ point: describePoint(point), secretLost, counts: Object.fromEntries(counts) });
      // The journal parses: only the injected torn line is skipped, and it ends with success.
      const journal = readJournal(run!.journal);
      expect(journal.torn).toBeUndefined();
      expect(journal.skipped).toHaveLength(point.torn ? 1 : 0);
      // (The engine's own run-end: every step verified; the verdict above adds the missing hunt.)
      expect(journal.records.at(-1)).toMatchObject({ type: 'run-end', status: 'succeeded', exitCode: 0 });
      expect(new Set(journal.records.map((r) => r.seq)).size).toBe(journal.records.length);
      // And no secret the lab minted reached the output or the run folder.
      const secrets = labSecrets(lab);
      expect(secrets.length).toBeGreaterThan(3);
      expect(leaksIn(`${first.stdout}${first.stderr}${last.stdout}${last.stderr}`, secrets)).toEqual([]);
      for (const file of ['journal.jsonl', 'report.md', 'report.json']) {
        const path = join(run!.dir, file);
        if (existsSync(path)) expect(leaksIn(readFileSync(path, 'utf8'), secrets), file).toEqual([]);
      }
    } finally {
      await lab.close();
    }
  }, 120_000);
});
