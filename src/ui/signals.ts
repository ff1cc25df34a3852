import { interruptedRuns, runInterruptCleanups } from '../engine/interrupt.js';
import { safeText } from '../engine/safe-text.js';

/** How to continue a run the signal stopped: the command line for its run id. */
export type ResumeHint = (runId: string) => string;

let hint: ResumeHint = (runId) => `--resume ${runId}`;
let installed = false;

/** The text printed on Ctrl-C / SIGTERM: per run, what finished, what was in flight, and how to resume. Pure, for tests. */
export function interruptText(signal: string, runs: ReturnType<typeof interruptedRuns>, resume: ResumeHint): string {
  const lines = [`\ninterrupted (${signal}): stopped cleanly; lock and temporary token files removed.`];
  if (runs.length === 0) lines.push('No run had started: nothing was changed.');
  for (const run of runs) {
    lines.push(`run ${run.runId}: ${run.finished.length} step(s) finished${run.finished.length ? `: ${run.finished.map(safeText).join(', ')}` : ''}`);
    if (run.inFlight.length) lines.push(`  in flight when stopped (resume verifies or redoes them): ${run.inFlight.map(safeText).join(', ')}`);
    lines.push(`  journal: ${run.runDir}/journal.jsonl`, `  continue it with: ${resume(run.runId)}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Makes Ctrl-C and SIGTERM stop a run cleanly: the cleanups registered by the lock and the
 * tokens file run (synchronously), the run id and how to resume are printed on stderr, and the
 * process exits 130 (SIGINT) or 143 (SIGTERM), as shells expect. Installed once per process;
 * each command updates the resume hint. A second signal while stopping exits at once.
 */
export function installInterruptHandler(resume: ResumeHint): void {
  hint = resume;
  if (installed) return;
  installed = true;
  let stopping = false;
  const stop = (signal: NodeJS.Signals, code: number) => {
    if (stopping) process.exit(code);
    stopping = true;
    const runs = interruptedRuns();
    runInterruptCleanups();
    process.stderr.write(interruptText(signal, runs, hint));
    process.exit(code);
  };
  process.on('SIGINT', () => stop('SIGINT', 130));
  process.on('SIGTERM', () => stop('SIGTERM', 143));
}
