import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

/**
 * What a Ctrl-C or SIGTERM must undo and say. Whoever creates something a killed process would
 * leave behind (a run's lock file, a temporary tokens file) registers its removal here and
 * unregisters it when it cleans up itself; the run being written is noted so the interrupt
 * message can name it. src/ui/signals.ts installs the handler; the engine never exits itself.
 */
const cleanups = new Set<() => void>();
const activeRuns = new Set<string>();

/** Registers a synchronous cleanup to run on interrupt; returns its unregistration. */
export function onInterrupt(cleanup: () => void): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

/** Notes a run folder being written (its lock is held); returns the unnote. */
export function noteActiveRun(runDir: string): () => void {
  activeRuns.add(runDir);
  return () => activeRuns.delete(runDir);
}

/** Runs every registered cleanup once (each may fail alone), newest first. */
export function runInterruptCleanups(): void {
  for (const cleanup of [...cleanups].reverse()) {
    cleanups.delete(cleanup);
    try {
      cleanup();
    } catch {
      // Best effort: the next cleanup must still run.
    }
  }
}

/** What the interrupted runs had done, from their journals: run id, folder, step keys finished and in flight. */
export interface InterruptedRun {
  runId: string;
  runDir: string;
  finished: string[];
  inFlight: string[];
}

/** Reads the journal of each active run (synchronously: the process is about to exit). */
export function interruptedRuns(): InterruptedRun[] {
  return [...activeRuns].map((runDir) => {
    const ends = new Map<string, string>();
    try {
      for (const line of readFileSync(join(runDir, 'journal.jsonl'), 'utf8').split('\n')) {
        if (!line.includes('"type":"step"')) continue;
        try {
          const record = JSON.parse(line) as { key?: string; phase?: string };
          if (record.key && record.phase) ends.set(record.key, record.phase);
        } catch {
          // A torn last line: the journal reader handles it on resume.
        }
      }
    } catch {
      // No journal yet.
    }
    const finished = [...ends].filter(([, phase]) => ['verified', 'unverified', 'failed', 'skipped', 'planned'].includes(phase)).map(([key, phase]) => `${key} ${phase}`);
    const inFlight = [...ends].filter(([, phase]) => ['start', 'applied'].includes(phase)).map(([key, phase]) => `${key} (${phase === 'start' ? 'started' : 'applied, not yet verified'})`);
    return { runId: basename(runDir), runDir, finished, inFlight };
  });
}
