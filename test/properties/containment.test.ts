import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { containWorld, mapLimit, type WorldResult } from './containment.js';
import { regressions } from './regressions.js';
import { buildWorld, worlds, type World } from './worlds.js';

/**
 * The containment invariant on generated incident worlds (test/properties/worlds.ts), each run
 * as `contain --lab` runs it and then attacked with every capability the lab knows the attacker
 * has (src/lab/capabilities.ts):
 *
 *   exit 0 ⇒ no attacker capability works; exit 3 ⇒ every one that works is named among the open
 *   items; a legitimate workload that stops working is named in the report.
 *
 * CICD_IR_WORLDS (default 200) worlds from CICD_IR_WORLDS_SEED (default: a new seed each run,
 * printed), CICD_IR_WORLDS_CONCURRENCY at once (default 16: a world mostly waits on CloudTrail's
 * 2 requests/s). On failure: the seed, each failing world's index (fast-check `path`) and
 * parameters, and a counterexample fast-check shrank for up to CICD_IR_SHRINK_MS (default 120 s).
 * Every failing world found becomes a case in regressions.ts, replayed first.
 */

const WORLDS = Number(process.env.CICD_IR_WORLDS ?? 200);
const SEED = process.env.CICD_IR_WORLDS_SEED !== undefined ? Number(process.env.CICD_IR_WORLDS_SEED) : Math.floor(Math.random() * 2 ** 31);
const CONCURRENCY = Number(process.env.CICD_IR_WORLDS_CONCURRENCY ?? 16);
const SHRINK_MS = Number(process.env.CICD_IR_SHRINK_MS ?? 120_000);

async function safely(world: World): Promise<WorldResult> {
  try {
    return await containWorld(world);
  } catch (error) {
    return { exitCode: -1, violations: [`crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`], outcomes: [], openItems: [], durationMs: 0, failedSteps: [], runDir: '' };
  }
}

function stats(durations: number[]): string {
  const sorted = [...durations].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  return `per world: mean ${(mean / 1000).toFixed(1)} s, median ${(at(0.5) / 1000).toFixed(1)} s, p90 ${(at(0.9) / 1000).toFixed(1)} s, max ${(at(1) / 1000).toFixed(1)} s`;
}

/**
 * A session of the generator's chained role (`chained-admin`) that the attacker minted from the
 * job's session: the playbook never revokes the chained role's sessions and the hunt does not
 * flag the AssumeRole made while the job ran. Regression "a chained role's session the attacker
 * minted" is `known` for it; remove both when the fix lands.
 */
function isKnownViolation(violation: string): boolean {
  return /session ASIA[A-Z0-9]+ of role chained-admin in \d{12}, minted by the attacker/.test(violation);
}

describe('containment on generated incident worlds', () => {
  for (const regression of regressions) {
    const test = regression.known ? it.fails : it;
    test(`regression ${regression.name} (${regression.found})${regression.known ? ` [known failure: ${regression.known}]` : ''}`, async () => {
      const result = await containWorld(buildWorld(regression.params));
      expect(result.violations).toEqual([]);
    }, 300_000);
  }

  it(`holds the invariant on ${WORLDS} random worlds (seed ${SEED})`, async () => {
    const sample = fc.sample(worlds, { seed: SEED, numRuns: WORLDS });
    const started = Date.now();
    const cpu = process.cpuUsage();
    const results = await mapLimit(sample, CONCURRENCY, (world) => safely(world));
    const used = process.cpuUsage(cpu);
    const exits = new Map<number, number>();
    for (const result of results) exits.set(result.exitCode, (exits.get(result.exitCode) ?? 0) + 1);
    console.log(
      `${WORLDS} worlds (seed ${SEED}, ${CONCURRENCY} at once) in ${((Date.now() - started) / 1000).toFixed(1)} s, CPU ${((used.user + used.system) / 1e6).toFixed(1)} s; ` +
        `${stats(results.map((r) => r.durationMs))}; exits ${[...exits].map(([code, n]) => `${code}: ${n}`).join(', ')}; ` +
        `capabilities replayed: ${results.reduce((n, r) => n + r.outcomes.length, 0)}`,
    );
    // Why worlds exit 1 (a loud failure, never an all-clear): the failed steps, by step and reason.
    const failures = new Map<string, number>();
    for (const result of results) {
      for (const step of result.failedSteps) {
        const key = step.replace(/\[\d+\]/g, '').replace(/\(request id [^)]*\)/g, '').replace(/\b(deploy|ci-user|chained-admin)[-\w]*|AKIA[A-Z0-9]+|\d{12}/g, '…').slice(0, 140);
        failures.set(key, (failures.get(key) ?? 0) + 1);
      }
    }
    if (failures.size) console.log(`failed steps:\n${[...failures].sort((a, b) => b[1] - a[1]).map(([key, n]) => `  ${n} × ${key}`).join('\n')}`);
    // Known classes (each with a `known` regression world in regressions.ts and an open issue):
    // printed on every run, never counted as passing silently, and only that exact class is set
    // aside: any other violation in the same world still fails the test.
    const known = results.flatMap((result, index) => result.violations.filter(isKnownViolation).map((v) => `world ${index}: ${v}`));
    if (known.length) console.log(`KNOWN false all-clears (not fixed yet, see regressions.ts):\n${known.map((line) => `  ${line}`).join('\n')}`);
    const failing = results
      .map((result, index) => ({ result: { ...result, violations: result.violations.filter((v) => !isKnownViolation(v)) }, index }))
      .filter(({ result }) => result.violations.length > 0);
    if (failing.length === 0) return;

    const lines = [`${failing.length}/${WORLDS} worlds break the containment invariant. Replay: CICD_IR_WORLDS_SEED=${SEED} CICD_IR_WORLDS=${WORLDS}`];
    for (const { result, index } of failing) {
      lines.push(``, `world ${index} (fast-check seed ${SEED}, path "${index}"), exit ${result.exitCode}:`, ...result.violations.map((v) => `  - ${v}`), `  params: ${JSON.stringify(sample[index]!.params)}`);
    }
    if (SHRINK_MS > 0) {
      // fast-check replays the first failing world from its path and shrinks it, within the budget.
      const first = failing[0]!.index;
      try {
        await fc.assert(
          fc.asyncProperty(worlds, async (world) => (await safely(world)).violations.length === 0),
          { seed: SEED, path: String(first), interruptAfterTimeLimit: SHRINK_MS, endOnFailure: false },
        );
        lines.push('', `shrinking: world ${first} passed when replayed alone (a fault profile's timing?)`);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        const counterexample = (/Counterexample: \[([\s\S]*?)\]\n/.exec(message)?.[1] ?? message.slice(0, 4000)).replace(/__proto__:null,?/g, '');
        const params = /"params":(\{[\s\S]*?\}),"scenario"/.exec(counterexample)?.[1];
        lines.push('', `shrunk counterexample of world ${first} (${/Shrunk \d+ time\(s\)/.exec(message)?.[0] ?? 'not shrunk'}): ${params ?? counterexample.slice(0, 4000)}`);
      }
    }
    expect.fail(lines.join('\n'));
  }, 3_600_000);
});
