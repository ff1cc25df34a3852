import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { CapabilityOutcome } from '../../src/lab/capabilities.js';
import { startLab } from '../../src/lab/index.js';
import { runContain } from '../../src/ui/contain-session.js';
import { lineReporter } from '../../src/ui/lines.js';
import type { World } from './worlds.js';

/**
 * Where worlds keep their scenario and run folder: memory (/dev/shm) where there is one. The
 * journal fsyncs every record (durability the product needs); on a disk that is most of a
 * world's CPU time, and a world's journal is thrown away anyway. CICD_IR_WORLDS_TMP overrides.
 */
const WORLDS_TMP = process.env.CICD_IR_WORLDS_TMP ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());

/** What one world's containment came to, and how it broke the invariant (if it did). */
export interface WorldResult {
  exitCode: number;
  /** Violations of the invariant, one line each (empty: the world passed). */
  violations: string[];
  outcomes: CapabilityOutcome[];
  openItems: unknown[];
  durationMs: number;
  /** Steps that failed (report.json metrics), for exit 1. */
  failedSteps: string[];
  runDir: string;
}

/**
 * One world end to end, exactly as `contain --lab` runs it (runContain in-process, the shipped
 * playbook, the scenario's incident block as flags), then every capability replayed. The invariant:
 *
 * - exit 0 ⇒ no attacker capability still works (never a false all-clear);
 * - exit 3 ⇒ every attacker capability that still works is named among the CLI's open items;
 * - a legitimate workload that no longer works is named in the report (it was cut on purpose);
 * - any other exit than 0, 1 (a step failed, loudly) or 3 is a violation (2 = the world was refused).
 */
export async function containWorld(world: World): Promise<WorldResult> {
  const started = Date.now();
  const dir = mkdtempSync(join(WORLDS_TMP, 'cicd-ir-world-'));
  const file = join(dir, 'scenario.json');
  writeFileSync(file, JSON.stringify(world.scenario));
  let lab: Awaited<ReturnType<typeof startLab>> | undefined;
  try {
    lab = await startLab(file, { faults: process.env.CICD_IR_WORLD_FAULTS ?? world.faults });
    const progress = new PassThrough();
    progress.resume();
    const contain = await runContain({}, lab, {
      dryRun: false,
      yes: true,
      json: false,
      out: join(dir, 'runs'),
      incident: String(world.scenario.name),
      progress,
      reporter: lineReporter(progress),
    });
    const outcomes = await lab.attackCapabilities();
    const reportFile = contain.reports?.find((path) => path.endsWith('report.json'));
    const reportText = reportFile ? readFileSync(reportFile, 'utf8') : '';
    // What the verdict says still blocks "contained": a capability that works must be named there.
    const openItems = contain.verdict.openItems.filter((item) => item.blocking);
    const openText = openItems.map((item) => JSON.stringify(item));
    // An account that could not be searched (a coverage gap on `aws:account/<id>`) names everything
    // in it: the responder is told nothing there is known to be closed.
    const unsearched = openItems.flatMap((item) => /^aws:account\/(\d{12})$/.exec(item.resource)?.[1] ?? []);
    const inUnsearched = (name: string) => unsearched.some((account) => name.startsWith(`arn:aws:iam::${account}:`) || name.startsWith(`arn:aws:sts::${account}:`));
    const named = (outcome: CapabilityOutcome) => outcome.names.some((name) => name && (openText.some((text) => text.includes(name)) || inUnsearched(name)));
    const violations: string[] = [];
    const working = outcomes.filter((o) => o.actor === 'attacker' && o.outcome === 'success');
    if (contain.exitCode === 0) {
      for (const o of working) violations.push(`false all-clear: exit 0, but ${o.kind} still works: ${o.description} [${o.detail}]`);
    } else if (contain.exitCode === 3) {
      for (const o of working.filter((o) => !named(o))) violations.push(`unnamed: exit 3, but ${o.kind} still works and no open item names it (${o.names.join(', ')}): ${o.description} [${o.detail}]`);
    } else if (contain.exitCode !== 1) {
      violations.push(`exit ${contain.exitCode}: the world was refused or crashed (${contain.status})`);
    }
    for (const o of outcomes.filter((o) => o.actor === 'workload' && o.outcome !== 'success')) {
      if (!o.names.some((name) => name && reportText.includes(name))) violations.push(`workload cut silently: ${o.description} [${o.detail}]`);
    }
    for (const o of outcomes.filter((o) => o.outcome === 'error')) violations.push(`replay error: ${o.description} [${o.detail}]`);
    const failedSteps = reportText ? ((JSON.parse(reportText) as { metrics?: { steps?: { failed?: Array<{ key: string; detail?: string }> } } }).metrics?.steps?.failed ?? []).map((s) => `${s.key}: ${s.detail ?? ''}`) : [];
    return { exitCode: contain.exitCode, violations, outcomes, openItems, durationMs: Date.now() - started, failedSteps, runDir: contain.runDir };
  } finally {
    await lab?.close();
    if (!process.env.CICD_IR_KEEP_WORLDS) rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs `task` over `items` with at most `limit` at once, results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]!, index);
    }
  });
  await Promise.all(workers);
  return results;
}
