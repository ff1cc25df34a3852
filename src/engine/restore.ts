import { AsyncLocalStorage } from 'node:async_hooks';
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ActionDefinition, ApplyResult, PlannedChange } from '../actions/define.js';
import { actions as builtInActions } from '../actions/index.js';
import type { ActionContext, Clients } from './context.js';
import { UsageError } from './errors.js';
import type { ApiCallRelay } from './execute.js';
import { hashValue } from './execute.js';
import { ExitCode } from './exit-codes.js';
import { JournalWriter, readJournal, type JournalEntry, type JournalRecord } from './journal.js';
import { acquireRunLock } from './lock.js';
import { DEFAULT_RUNS_ROOT, ensureRunDir, isRunId, JOURNAL_FILE, listRunIds, newRunId, runDirFor } from './run-dir.js';
import { redact } from './secret.js';

/** The `playbook` a restore run's run-start record names: how later restores find earlier ones. */
export const RESTORE_PLAYBOOK = 'cicd-ir:restore';

/**
 * What restore decided for one applied step of the containment run.
 * - `undo`: has a compensate and will be (or was) undone.
 * - `never`: restore refuses by rule (credentials stay rotated, revoked, deleted, deactivated).
 * - `no-undo`: the action has no compensate (a cancelled run cannot be un-cancelled).
 * - `cannot`: needs a human: its journalled input holds a secret fingerprint, or no longer validates.
 * - `already`: an earlier restore of the same run undid it.
 */
export type RestoreDecision = 'undo' | 'never' | 'no-undo' | 'cannot' | 'already';

/** How one item ended. */
export type RestoreItemStatus = 'restored' | 'unchanged' | 'planned' | 'skipped' | 'declined' | 'failed';

/** One step key of the containment run, newest application first. */
export interface RestoreItem {
  key: string;
  step: string;
  action: string;
  /** Seq of the `applied` record in the containment journal (the order undone is by it, descending). */
  sourceSeq: number;
  decision: RestoreDecision;
  status: RestoreItemStatus;
  /** Why, in a sentence a responder reads. */
  detail: string;
  /** What the undo puts back, derived from the containment's own plan (before/after swapped). */
  changes: PlannedChange[];
}

/** How a restore ended. `exitCode`: 0 restored (or nothing to do), 1 an undo failed, 3 a human must act. */
export interface RestoreResult {
  runId: string;
  runDir: string;
  sourceRunId: string;
  dryRun: boolean;
  status: 'succeeded' | 'failed' | 'needs-human' | 'planned';
  exitCode: number;
  items: RestoreItem[];
}

/** Everything one restore needs. The command builds it; tests build it against the lab. */
export interface RestoreOptions {
  /** The containment run: a run id under `outDir`, or a run folder (holding journal.jsonl). */
  source: string;
  clients: Clients;
  dryRun: boolean;
  /** Root of run folders; the restore's own run is written here. Default `.cicd-ir/runs`. */
  outDir?: string;
  registry?: readonly ActionDefinition[];
  /** Asked before each undo (not in a dry run): false declines it. Absent: every undo is confirmed. */
  confirm?: (item: RestoreItem) => Promise<boolean>;
  /** Progress, one line at a time (the command sends it to stderr). */
  onProgress?: (line: string) => void;
  apiCalls?: ApiCallRelay;
  now?: () => Date;
}

/**
 * The rule that restore never gives back a credential: what rotation, deletion, deactivation or
 * token revocation took away stays taken, whatever the action's compensate would do (a rotation's
 * compensate can reactivate the old key; restore never calls it). Returns why, or undefined.
 */
export function neverRestoredReason(actionId: string): string | undefined {
  const verb = actionId.split('.', 2)[1] ?? '';
  if (/access-key$/.test(verb)) {
    return 'restore never reactivates an access key: a rotated key stays rotated, a key deactivated as leaked stays inactive, a deleted one stays deleted';
  }
  if (verb.startsWith('rotate-')) return 'rotated credentials stay rotated: the old value is burnt';
  if (verb.startsWith('delete-')) return 'a deleted credential is not put back: issue a new one if it is still needed';
  if (verb.startsWith('deactivate-')) return 'a deactivated credential stays inactive';
  if (verb === 'revoke-tokens') return 'revoked tokens are revoked for good (GitHub cannot un-revoke)';
  return undefined;
}

/** True when a journalled value holds a secret (it comes back from the journal as a fingerprint object). */
function holdsSecret(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(holdsSecret);
  if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (record.secret === true && typeof record.fingerprint === 'string') return true;
    return Object.values(record).some(holdsSecret);
  }
  return false;
}

/** The containment's changes turned around: what the undo puts back. */
function reversed(changes: PlannedChange[] | undefined): PlannedChange[] {
  return (changes ?? []).map((change) => ({
    resource: change.resource,
    action: `undo-${change.action}`,
    summary: `put back ${change.resource} as before: undo "${change.summary}"`,
    ...(change.after !== undefined ? { before: change.after } : {}),
    ...(change.before !== undefined ? { after: change.before } : {}),
  }));
}

/** The containment run a restore reads, and its incident (names AWS sessions before clients are built). */
export function describeSourceRun(source: string, root: string): { runId: string; runDir: string; incident: string } {
  const found = resolveSourceRun(source, root);
  const start = readJournal(join(found.runDir, JOURNAL_FILE)).records.find((record) => record.type === 'run-start');
  return { ...found, incident: start?.type === 'run-start' ? start.incident : 'restore' };
}

/** Finds the containment run's folder: an existing folder with a journal, else a run id under `root`. */
export function resolveSourceRun(source: string, root: string): { runId: string; runDir: string } {
  if (existsSync(source) && statSync(source).isDirectory()) {
    const dir = resolve(source);
    if (!existsSync(join(dir, JOURNAL_FILE))) throw new UsageError(`${source} has no ${JOURNAL_FILE}: not a run folder`);
    const start = readJournal(join(dir, JOURNAL_FILE)).records[0];
    return { runId: start?.runId ?? dir.split(/[\\/]/).at(-1)!, runDir: dir };
  }
  if (!isRunId(source)) {
    throw new UsageError(`not a run id or run folder: ${JSON.stringify(source)}`, ['pass a run id (ls .cicd-ir/runs), a run folder, or --latest']);
  }
  const dir = runDirFor(root, source);
  if (!existsSync(join(dir, JOURNAL_FILE))) throw new UsageError(`no journal for run ${source} under ${resolve(root)}`, ['pass --out if the run was written elsewhere']);
  return { runId: source, runDir: dir };
}

/** The most recent run under `root` that is not itself a restore (what `restore --latest` undoes). */
export function latestContainmentRun(root: string): string {
  for (const id of listRunIds(root).reverse()) {
    const start = readJournal(join(root, id, JOURNAL_FILE)).records.find((record) => record.type === 'run-start');
    if (start?.type === 'run-start' && start.playbook !== RESTORE_PLAYBOOK && !start.dryRun) return id;
  }
  throw new UsageError(`no containment run to restore under ${resolve(root)}`, ['pass the run id or folder']);
}

/** Keys of `sourceRunId` that earlier (non-dry) restore runs under `root` undid, with the restore's run id. */
function alreadyRestored(root: string, sourceRunId: string): Map<string, string> {
  const done = new Map<string, string>();
  for (const id of listRunIds(root)) {
    const { records } = readJournal(join(root, id, JOURNAL_FILE));
    const start = records.find((record) => record.type === 'run-start');
    if (start?.type !== 'run-start' || start.playbook !== RESTORE_PLAYBOOK || start.dryRun) continue;
    for (const record of records) {
      if (record.type === 'step' && record.phase === 'compensated' && record.restoreOf?.runId === sourceRunId) done.set(record.key, id);
    }
  }
  return done;
}

interface Applied {
  key: string;
  step: string;
  action: string;
  seq: number;
  input: unknown;
  result: ApplyResult;
  changes: PlannedChange[];
}

/** Every key the containment applied with `changed: true`, its input (from its `start` record) and plan, newest first. */
function appliedSteps(records: JournalRecord[]): Applied[] {
  const starts = new Map<string, { inputHash: string; input: unknown }>();
  const plans = new Map<string, PlannedChange[]>();
  const applied = new Map<string, Applied>();
  for (const record of records) {
    if (record.type !== 'step') continue;
    if (record.phase === 'start') starts.set(record.key, { inputHash: record.inputHash, input: record.input });
    if (record.phase === 'planned' && record.plan) plans.set(record.key, record.plan.changes);
    if (record.phase === 'applied' && record.result) {
      const start = starts.get(record.key);
      // A later apply with no change leaves an earlier change of the same key standing.
      if (!record.result.changed || !start || start.inputHash !== record.inputHash) continue;
      applied.set(record.key, {
        key: record.key,
        step: record.step,
        action: record.action,
        seq: record.seq,
        input: start.input,
        result: { changed: true, outputs: record.result.outputs, undo: record.result.undo, requestIds: record.result.requestIds },
        changes: plans.get(record.key) ?? [],
      });
    }
  }
  return [...applied.values()].sort((a, b) => b.seq - a.seq);
}

/**
 * Undoes a containment run from its journal, newest change first: each applied step whose
 * action has `compensate` gets it called with the journalled input and result (incl. `undo`),
 * after the responder confirmed it. Credentials are never given back (neverRestoredReason).
 * The restore is a run of its own (run-start playbook `cicd-ir:restore`, step records with
 * `restoreOf` naming the containment run and record), so a second restore of the same run
 * finds the first and changes nothing. A dry run plans only and makes no API call.
 */
export async function restoreRun(options: RestoreOptions): Promise<RestoreResult> {
  const now = options.now ?? (() => new Date());
  const registry = options.registry ?? builtInActions;
  const root = options.outDir ?? DEFAULT_RUNS_ROOT;
  const progress = (line: string) => options.onProgress?.(redact(line));
  const source = resolveSourceRun(options.source, root);
  const { records } = readJournal(join(source.runDir, JOURNAL_FILE));
  const start = records.find((record) => record.type === 'run-start');
  if (start?.type !== 'run-start') throw new UsageError(`run ${source.runId} has no run-start record: nothing to restore from`);
  if (start.playbook === RESTORE_PLAYBOOK) throw new UsageError(`run ${source.runId} is itself a restore: restore the containment run it undid instead`);

  // The containment run's lock first: no restore while that run (or another restore of it) is
  // writing, and two restores of one run cannot both decide that nothing was undone yet.
  const sourceLock = acquireRunLock(source.runDir, now());
  try {
    return await restoreLocked(options, { root, registry, now, progress, source, incident: start.incident });
  } finally {
    sourceLock.release();
  }
}

/** The restore proper, under the containment run's lock. */
async function restoreLocked(
  options: RestoreOptions,
  run: { root: string; registry: readonly ActionDefinition[]; now: () => Date; progress: (line: string) => void; source: { runId: string; runDir: string }; incident: string },
): Promise<RestoreResult> {
  const { root, registry, now, progress, source } = run;
  const { records } = readJournal(join(source.runDir, JOURNAL_FILE));
  const done = alreadyRestored(root, source.runId);
  const items: Array<{ item: RestoreItem; applied: Applied; definition?: ActionDefinition; input?: unknown }> = [];
  for (const applied of appliedSteps(records)) {
    const definition = registry.find((action) => action.id === applied.action);
    const base = { key: applied.key, step: applied.step, action: applied.action, sourceSeq: applied.seq, changes: reversed(applied.changes) };
    const never = neverRestoredReason(applied.action);
    let item: RestoreItem;
    let input: unknown;
    if (never) item = { ...base, decision: 'never', status: 'skipped', detail: never };
    else if (!definition) item = { ...base, decision: 'cannot', status: 'skipped', detail: `action ${applied.action} is not in this build: undo it by hand` };
    else if (!definition.compensate) item = { ...base, decision: 'no-undo', status: 'skipped', detail: `${applied.action} has no undo (what it did cannot be reversed by an API call)` };
    else if (done.has(applied.key)) item = { ...base, decision: 'already', status: 'unchanged', detail: `already undone by restore run ${done.get(applied.key)}` };
    else {
      const parsed = definition.schema.safeParse(applied.input);
      if (parsed.success) {
        input = parsed.data;
        item = { ...base, decision: 'undo', status: 'planned', detail: base.changes.map((change) => change.summary).join('; ') || `undo ${applied.action}` };
      } else if (holdsSecret(applied.input)) {
        item = { ...base, decision: 'cannot', status: 'skipped', detail: `its input held a secret, journalled only as a fingerprint: undo ${applied.action} by hand` };
      } else {
        item = { ...base, decision: 'cannot', status: 'skipped', detail: `its journalled input no longer validates for ${applied.action} (${parsed.error.issues[0]?.message ?? 'schema'}): undo it by hand` };
      }
    }
    items.push({ item, applied, definition, input });
  }

  const runId = newRunId(now());
  const runDir = ensureRunDir(root, runId);
  const lock = acquireRunLock(runDir, now());
  const journal = JournalWriter.open(join(runDir, JOURNAL_FILE), runId, { now });
  const scope = new AsyncLocalStorage<string>();
  const record = (entry: JournalEntry) => journal.append(entry);
  const detach = options.apiCalls?.attach((call) => record({ type: 'api-call', step: scope.getStore(), ...call })) ?? (() => {});
  try {
    record({
      type: 'run-start',
      playbook: RESTORE_PLAYBOOK,
      playbookHash: hashValue({ restoreOf: source.runId }),
      inputs: { restore_of: source.runId },
      dryRun: options.dryRun,
      incident: run.incident,
    });
    progress(`restore of run ${source.runId} (incident ${run.incident}) as run ${runId}${options.dryRun ? ', dry run' : ''}`);
    for (const entry of items) {
      const { item, applied, definition, input } = entry;
      const stepRecord = { step: item.step, key: item.key, action: item.action, inputHash: hashValue({ action: item.action, input: applied.input }), restoreOf: { runId: source.runId, seq: item.sourceSeq } };
      if (item.decision !== 'undo') {
        record({ type: 'step', ...stepRecord, phase: 'skipped', error: { message: item.detail } });
        progress(`${item.key} (${item.action}): ${item.status}: ${item.detail}`);
        continue;
      }
      record({ type: 'step', ...stepRecord, phase: 'planned', input: applied.input, plan: { changes: item.changes, calls: [] } });
      progress(`${item.key} (${item.action}): will ${item.detail}`);
      if (options.dryRun) continue;
      if (options.confirm && !(await options.confirm(item))) {
        item.status = 'declined';
        item.detail = `declined: ${item.detail}`;
        record({ type: 'step', ...stepRecord, phase: 'skipped', error: { message: 'declined by the responder' } });
        continue;
      }
      const started = Date.now();
      try {
        const ctx = context(options, { runId, runDir, incident: run.incident, key: item.key, now, record, progress });
        const result = await scope.run(item.key, () => definition!.compensate!(ctx, input, applied.result));
        item.status = result.changed ? 'restored' : 'unchanged';
        if (!result.changed) item.detail = `nothing to put back (${item.detail})`;
        record({ type: 'step', ...stepRecord, phase: 'compensated', result: { changed: result.changed, outputs: result.outputs, requestIds: result.requestIds }, durationMs: Date.now() - started });
        progress(`${item.key} (${item.action}): ${item.status}`);
      } catch (error) {
        item.status = 'failed';
        item.detail = redact(error instanceof Error ? error.message : String(error));
        record({ type: 'step', ...stepRecord, phase: 'failed', error: { message: item.detail, name: (error as Error)?.name }, durationMs: Date.now() - started });
        progress(`${item.key} (${item.action}): failed: ${item.detail}`);
      }
    }
    const list = items.map((entry) => entry.item);
    const failed = list.some((item) => item.status === 'failed');
    const needsHuman = list.some((item) => item.status === 'declined' || item.decision === 'cannot');
    const status = failed ? 'failed' : needsHuman ? 'needs-human' : options.dryRun ? 'planned' : 'succeeded';
    const exitCode = failed ? ExitCode.StepFailed : needsHuman ? ExitCode.NeedsHuman : ExitCode.Ok;
    record({ type: 'run-end', status, exitCode });
    return { runId, runDir, sourceRunId: source.runId, dryRun: options.dryRun, status, exitCode, items: list };
  } finally {
    detach();
    journal.close();
    lock.release();
  }
}

function context(
  options: RestoreOptions,
  run: { runId: string; runDir: string; incident: string; key: string; now: () => Date; record: (entry: JournalEntry) => unknown; progress: (line: string) => void },
): ActionContext {
  return {
    runId: run.runId,
    incident: run.incident,
    runDir: run.runDir,
    dryRun: false,
    stepKey: run.key,
    clients: options.clients,
    signal: new AbortController().signal,
    now: run.now,
    log: (message, level = 'info') => run.progress(`${run.key}: ${level === 'info' ? '' : `${level}: `}${message}`),
    evidence: (kind, data) => run.record({ type: 'evidence', step: run.key, kind, data }),
    finding: (finding) => run.record({ type: 'finding', step: run.key, finding }),
  };
}
