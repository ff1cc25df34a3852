import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from './errors.js';

/** Where run folders live unless `--out` says otherwise (relative to the working directory). */
export const DEFAULT_RUNS_ROOT = '.cicd-ir/runs';

/** The journal file's name inside a run folder. */
export const JOURNAL_FILE = 'journal.jsonl';

const RUN_ID = /^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z-[0-9a-f]{4}$/;

/**
 * A new run id, `2026-11-25T16-40-12Z-3fa9`: UTC second first so ids sort by start time (what
 * `--latest` relies on), a random suffix so two runs started in the same second do not collide.
 * No colons, so the id is a valid folder name on every OS.
 */
export function newRunId(now: Date = new Date()): string {
  const stamp = now.toISOString().slice(0, 19).replaceAll(':', '-');
  return `${stamp}Z-${randomBytes(2).toString('hex')}`;
}

/** True for a string shaped like a run id (guards `--resume` against paths like `../x`). */
export function isRunId(value: string): boolean {
  return RUN_ID.test(value);
}

/** The folder of one run: `<root>/<run-id>`. */
export function runDirFor(root: string, runId: string): string {
  if (!isRunId(runId)) {
    throw new UsageError(`not a run id: ${JSON.stringify(runId)}`, ['run ids look like 2026-11-25T16-40-12Z-3fa9; list them with `ls .cicd-ir/runs`']);
  }
  return resolve(root, runId);
}

/** Creates the run folder (and the root) if needed, returning its absolute path. */
export function ensureRunDir(root: string, runId: string): string {
  const dir = runDirFor(root, runId);
  mkdirSync(dir, { recursive: true, mode: 0o700 }); // run folders are the responder's alone
  return dir;
}

/** Every run id under `root` that has a journal, oldest first. */
export function listRunIds(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && isRunId(entry.name) && existsSync(join(root, entry.name, JOURNAL_FILE)))
    .map((entry) => entry.name)
    .sort();
}

/** The most recent run id under `root` (what `--latest` resumes); a UsageError when there is none. */
export function latestRunId(root: string): string {
  const ids = listRunIds(root);
  const latest = ids.at(-1);
  if (!latest) throw new UsageError(`no runs to resume under ${resolve(root)}`, ['start one with `cicd-ir run PLAYBOOK`']);
  return latest;
}

/** The run folder a resume targets; a UsageError if it has no journal. */
export function existingRunDir(root: string, runId: string): string {
  const dir = runDirFor(root, runId);
  if (!existsSync(join(dir, JOURNAL_FILE))) {
    throw new UsageError(`no journal for run ${runId} under ${resolve(root)}`, ['pass --out if the run was written elsewhere', 'or use --latest']);
  }
  return dir;
}

/**
 * The run folder an argument names: a run id under `root`, or a folder holding a journal;
 * a UsageError (exit 2) when neither.
 */
export function runDirFromArg(run: string, root: string): string {
  for (const candidate of [resolve(root, run), resolve(run)]) {
    if (existsSync(join(candidate, JOURNAL_FILE)) && statSync(candidate).isDirectory()) return candidate;
  }
  throw new UsageError(`no run ${run}: neither ${join(root, run)} nor ${run} holds a ${JOURNAL_FILE}`, [`list the runs with: ls ${root}`]);
}
