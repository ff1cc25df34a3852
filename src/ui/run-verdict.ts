import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { ExitCode } from '../engine/exit-codes.js';
import type { RunResult } from '../engine/execute.js';
import type { Verdict } from '../report/model.js';

/**
 * The containment verdict of a finished run, as report.json carries it (the CLI and the report
 * then cannot disagree); computed from the journal when no report.json was written (`run`).
 */
export async function runVerdict(result: Pick<RunResult, 'runDir' | 'reports'>): Promise<Verdict> {
  const file = result.reports?.find((path) => path.endsWith('report.json'));
  if (file) {
    const report = JSON.parse(await readFile(file, 'utf8')) as { verdict?: Verdict };
    if (report.verdict) return report.verdict;
  }
  const { readJournalForReport } = await import('../report/read.js');
  const { verdictOf } = await import('../report/verdict.js');
  const { records } = await readJournalForReport(result.runDir);
  return verdictOf(records, basename(result.runDir));
}

/**
 * The run's exit code and status are the verdict's (exit 0 only when contained; 1 a step
 * failed; 3 a human must act). An exit the verdict does not speak for (2: bad input, before the
 * journal meant anything) is kept.
 */
export function withVerdict<T extends RunResult>(result: T, verdict: Verdict): T & { verdict: Verdict } {
  const speaksFor = new Set<number>([ExitCode.Ok, ExitCode.StepFailed, ExitCode.NeedsHuman]);
  if (verdict.status === 'plan-only' || !speaksFor.has(result.exitCode)) return { ...result, verdict };
  const exitCode = verdict.exitCode;
  const status: RunResult['status'] = exitCode === ExitCode.Ok ? 'succeeded' : exitCode === ExitCode.StepFailed ? 'failed' : 'needs-human';
  return { ...result, status, exitCode, verdict };
}
