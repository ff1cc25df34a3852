import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ActionDefinition, ActionPlan, ApplyResult, Finding, VerifyResult } from '../actions/define.js';
import { actions as builtInActions } from '../actions/index.js';
import type { ApiCallRecord } from '../providers/config.js';
import type { ActionContext, Clients } from './context.js';
import { BugError, UsageError, ValidationError } from './errors.js';
import type { EngineEvent, RunStatus, StepOutcome, StepStatus } from './events.js';
import { ExitCode } from './exit-codes.js';
import { evaluate, evaluateCondition, Unresolved, type ExpressionScope } from './expressions.js';
import { JournalWriter, readJournal, type JournalEntry, type JournalRecord, type RunTarget } from './journal.js';
import { acquireRunLock } from './lock.js';
import type { InputValues, Playbook, Step } from './model.js';
import { dependencyGraph, findCycle, stepReferences } from './plan.js';
import { DEFAULT_RUNS_ROOT, ensureRunDir, existingRunDir, JOURNAL_FILE, newRunId, runDirFor } from './run-dir.js';
import { isSecret, redact } from './secret.js';

/** Everything one run needs. Commands build it; tests build it with fake actions and clients. */
export interface RunOptions {
  playbook: Playbook;
  inputs: InputValues;
  clients: Clients;
  dryRun: boolean;
  incident: string;
  /** Root of run folders (`--out`); default `.cicd-ir/runs`. */
  outDir?: string;
  /** A new run's id (default: a fresh one), or the run to continue with `resume`. */
  runId?: string;
  /** Continue the run `runId`: completed steps with the same input hash are verified, not re-applied. */
  resume?: boolean;
  /** How many action executions (step keys) run at once; default 8. */
  concurrency?: number;
  /** The actions steps may use; default the built-in registry (src/actions/index.ts). */
  registry?: readonly ActionDefinition[];
  onEvent?: (event: EngineEvent) => void;
  /** Connects the clients' `ProviderConfig.onApiCall` to this run's journal (see ApiCallRelay). */
  apiCalls?: ApiCallRelay;
  /** The endpoints the run goes to, journalled in run-start (resume checks them before any call). */
  target?: RunTarget;
  now?: () => Date;
}

/** How a run ended, per step key. `exitCode` follows src/engine/exit-codes.ts. */
export interface RunResult {
  runId: string;
  runDir: string;
  status: RunStatus;
  exitCode: number;
  steps: StepOutcome[];
  /** Report files written after the run (contain writes them; see src/report). */
  reports?: string[];
}

const stepScope = new AsyncLocalStorage<string>();

/**
 * Carries API calls from the clients to the running engine. The command creates one, passes
 * `relay.onApiCall` as `ProviderConfig.onApiCall` when it builds the clients, and the relay as
 * `RunOptions.apiCalls`; the engine journals each call as an `api-call` record attributed to
 * the step key whose action made it (tracked with AsyncLocalStorage across concurrent steps).
 */
export class ApiCallRelay {
  #listener: ((call: ApiCallRecord, stepKey: string | undefined) => void) | undefined;

  /** Give this to ProviderConfig.onApiCall. */
  readonly onApiCall = (call: ApiCallRecord): void => {
    this.#listener?.(call, stepScope.getStore());
  };

  /** The engine's side: one listener at a time (one run per relay). */
  attach(listener: (call: ApiCallRecord, stepKey: string | undefined) => void): () => void {
    this.#listener = listener;
    return () => {
      if (this.#listener === listener) this.#listener = undefined;
    };
  }
}

/** A key's attempt ran past `timeout`. */
class StepTimeoutError extends Error {
  constructor(ms: number) {
    super(`timed out after ${ms} ms`);
    this.name = 'StepTimeoutError';
  }
}

/** sha256 of a value's canonical JSON (sorted keys, toJSON honoured: Secrets hash as fingerprints). */
export function hashValue(value: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson(value)).digest('hex')}`;
}

function canonicalJson(value: unknown): string {
  const normal = (v: unknown): unknown => {
    if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
      return normal((v as { toJSON(): unknown }).toJSON());
    }
    if (Array.isArray(v)) return v.map(normal);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(Object.keys(v).sort().map((key) => [key, normal((v as Record<string, unknown>)[key])]));
    }
    return v;
  };
  return JSON.stringify(normal(value)) ?? 'null';
}

/** The first Unresolved value inside `value` (dry run: an output known only after a mutating apply). */
function findUnresolved(value: unknown): Unresolved | undefined {
  if (value instanceof Unresolved) return value;
  if (Array.isArray(value)) {
    for (const element of value) {
      const found = findUnresolved(element);
      if (found) return found;
    }
  } else if (value !== null && typeof value === 'object' && !isSecret(value)) {
    for (const element of Object.values(value)) {
      const found = findUnresolved(element);
      if (found) return found;
    }
  }
  return undefined;
}

function messageOf(error: unknown): string {
  return redact(error instanceof Error ? error.message : String(error));
}

/** Bounds how many step keys execute at once. */
class Semaphore {
  #free: number;
  /** Waiters by priority: urgent ones (changes that contain) are let in before the rest. */
  readonly #waiting: { urgent: Array<() => void>; normal: Array<() => void> } = { urgent: [], normal: [] };

  constructor(size: number) {
    this.#free = Math.max(1, size);
  }

  /**
   * Runs `fn` when a slot is free. `urgent` waiters go first: when a large incident fills every
   * slot with read-only triage (log scans, audits), a containment change waiting behind them
   * still starts at the next free slot. In order within each class.
   */
  async use<T>(fn: () => Promise<T>, urgent = false): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => (urgent ? this.#waiting.urgent : this.#waiting.normal).push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.#waiting.urgent.shift() ?? this.#waiting.normal.shift();
      if (next) next();
      else this.#free++;
    }
  }
}

/** What resume learned from the journal about one key. */
interface PriorKey {
  inputHash: string;
  phase: string;
  result?: ApplyResult;
  /** Why a skipped key was skipped (`if: ... is false`, or a failed dependency). */
  reason?: string;
}

const COMPLETED_PHASES = new Set(['applied', 'verified', 'unverified']);

/**
 * The journal's view of each key: the latest phase, and the latest applied result (an
 * apply followed by a failed verify still counts as applied for that input hash).
 */
function summariseJournal(records: JournalRecord[]): Map<string, PriorKey> {
  const keys = new Map<string, PriorKey>();
  for (const record of records) {
    if (record.type !== 'step') continue;
    const previous = keys.get(record.key);
    const sameInput = previous?.inputHash === record.inputHash;
    const entry: PriorKey = {
      inputHash: record.inputHash,
      phase: record.phase,
      result: sameInput ? previous?.result : undefined,
      ...(record.reason !== undefined && { reason: record.reason }),
    };
    if (record.phase === 'applied' && record.result) {
      entry.result = { changed: record.result.changed, outputs: record.result.outputs, undo: record.result.undo, requestIds: record.result.requestIds };
    }
    if (record.phase === 'start' || record.phase === 'planned') {
      // A new attempt began: the key is no longer complete until it applies again.
      entry.result = undefined;
    }
    keys.set(record.key, entry);
  }
  return keys;
}

function completedResult(prior: PriorKey | undefined, inputHash: string): ApplyResult | undefined {
  if (!prior || prior.inputHash !== inputHash || !COMPLETED_PHASES.has(prior.phase)) return undefined;
  return prior.result;
}

/** Step ids whose every journalled key is complete (at least one key). */
function completedStepIds(prior: Map<string, PriorKey>): Set<string> {
  const byStep = new Map<string, boolean>();
  for (const [key, entry] of prior) {
    const step = key.replace(/\[\d+\]$/, '');
    // A key its own `if:` skipped needs nothing from other steps: it counts as finished, or a
    // resume would re-apply a producer (a new access key) for a consumer that will not run.
    const skippedByIf = entry.phase === 'skipped' && entry.reason?.startsWith('if: ') === true;
    const done = (COMPLETED_PHASES.has(entry.phase) && entry.result !== undefined) || skippedByIf;
    byStep.set(step, (byStep.get(step) ?? true) && done);
  }
  return new Set([...byStep].filter(([, done]) => done).map(([step]) => step));
}

/** A step's state as later steps' expressions see it. */
interface StepState {
  status: 'succeeded' | 'failed' | 'skipped' | 'planned' | 'unverified';
  outputs: Record<string, unknown>;
  /** Failed (without continue_on_error), or skipped because a dependency failed: dependents are skipped. */
  blocked: boolean;
}

/**
 * Runs a playbook: a DAG of steps, each planned, applied and verified through its action,
 * every phase journalled (fsynced) before the next begins.
 *
 * Semantics, in order of precedence:
 * - A step starts when every step it `needs` or reads (`steps.X` in its expressions) has finished.
 *   Independent steps and the keys of a `for_each` run concurrently, at most `concurrency` at once.
 * - A failed step (without `continue_on_error`) skips its dependents, transitively, with the
 *   reason; unrelated steps carry on; the run ends `failed` (exit 1).
 * - A step skipped by its own `if:` does not block: its dependents still run if their own `if:`
 *   allows (they see `steps.X.status == 'skipped'` and empty outputs).
 * - `continue_on_error`: the failure is recorded, dependents run, the run ends `needs-human` (exit 3).
 * - `verify()` returning false: the run ends `needs-human` (exit 3) unless something failed.
 * - `retry`: a thrown error (not a schema error) re-runs plan, apply and verify after
 *   `backoffMs * 2^(attempt-1)`; `timeout` bounds each attempt and aborts `ctx.signal`.
 * - Dry run: mutating actions stop after `plan()`; read-only actions (mutating: false) also apply
 *   and verify. Outputs of a planned step are Unresolved; a dependent whose input needs one is
 *   reported `planned` without calling its plan().
 * - `for_each` is evaluated first, then `if:` per item (so `if:` may use `item`). A fanned-out
 *   step's outputs, for later steps, are lists with one element per item.
 */
export async function runPlaybook(options: RunOptions): Promise<RunResult> {
  const now = options.now ?? (() => new Date());
  const registry = options.registry ?? builtInActions;
  const root = options.outDir ?? DEFAULT_RUNS_ROOT;
  const emit = (event: EngineEvent) => {
    try {
      options.onEvent?.(event);
    } catch {
      // A broken listener must not break a containment run.
    }
  };

  // Every action must exist before the first call (playbook.ts validated against the same
  // registry; this catches a playbook validated against a different one).
  const definitions = new Map<string, ActionDefinition>();
  const unknown = [];
  for (const step of options.playbook.steps) {
    const definition = registry.find((action) => action.id === step.uses);
    if (definition) definitions.set(step.id, definition);
    else unknown.push({ ...step.location, message: `step ${step.id}: unknown action ${step.uses} (valid: ${registry.map((a) => a.id).join(', ') || 'none'})` });
  }
  if (unknown.length > 0) throw new ValidationError(unknown);
  const cycle = findCycle(dependencyGraph(options.playbook));
  if (cycle) {
    const first = options.playbook.steps.find((step) => step.id === cycle[0])!;
    throw new ValidationError([{ ...first.location, message: `dependency cycle: ${cycle.join(' -> ')}` }]);
  }

  let runId: string;
  let runDir: string;
  if (options.resume) {
    if (!options.runId) throw new UsageError('resume needs the id of the run to continue');
    runId = options.runId;
    runDir = existingRunDir(root, runId);
  } else {
    runId = options.runId ?? newRunId(now());
    if (existsSync(join(runDirFor(root, runId), JOURNAL_FILE))) {
      throw new UsageError(`run ${runId} already exists`, [`continue it with --resume ${runId}`]);
    }
    runDir = ensureRunDir(root, runId);
  }

  const lock = acquireRunLock(runDir, now());
  let journal: JournalWriter | undefined;
  let detach = () => {};
  try {
    if (lock.tookOverFrom) {
      emit({ type: 'log', level: 'warn', message: `took over a stale lock of pid ${lock.tookOverFrom.pid} (${lock.tookOverFrom.host}, ${lock.tookOverFrom.at}): that process is gone` });
    }
    const journalPath = join(runDir, JOURNAL_FILE);
    let prior = new Map<string, PriorKey>();
    let nextSeq = 1;
    if (options.resume) {
      const contents = readJournal(journalPath);
      const start = contents.records.find((record) => record.type === 'run-start');
      if (!start || start.type !== 'run-start') throw new UsageError(`run ${runId} has no run-start record: cannot resume it`);
      if (start.playbookHash !== options.playbook.hash) {
        throw new UsageError(`the playbook changed since run ${runId} started (${start.playbookHash} then, ${options.playbook.hash} now): refusing to resume`, [
          'start a new run with the changed playbook',
          'or restore the playbook as it was',
        ]);
      }
      for (const problem of [...contents.skipped, ...(contents.torn ? [contents.torn] : [])]) {
        emit({ type: 'log', level: 'warn', message: `journal line ${problem.line}: ${problem.reason}` });
      }
      prior = summariseJournal(contents.records);
      nextSeq = Math.max(0, ...contents.records.map((record) => record.seq)) + 1;
    }
    journal = JournalWriter.open(journalPath, runId, { nextSeq, now });
    const writer = journal;
    const record = (entry: JournalEntry) => writer.append(entry);
    detach = options.apiCalls?.attach((call, stepKey) => record({ type: 'api-call', step: stepKey, ...call })) ?? detach;

    record({
      type: 'run-start',
      playbook: options.playbook.file,
      playbookHash: options.playbook.hash,
      inputs: options.inputs,
      dryRun: options.dryRun,
      incident: options.incident,
      ...(options.target && { target: options.target }),
    });
    emit({
      type: 'run-started',
      runId,
      runDir,
      playbook: options.playbook.name,
      dryRun: options.dryRun,
      resumed: options.resume === true,
      steps: options.playbook.steps.map((step) => ({ id: step.id, action: step.uses, needs: step.needs })),
    });

    const run = new Scheduler({ ...options, now, runId, runDir, definitions, prior, record, emit });
    const outcomes = await run.execute();

    const failed = outcomes.some((outcome) => outcome.status === 'failed' && !outcome.continued);
    const needsHuman = outcomes.some((outcome) => outcome.status === 'unverified' || (outcome.status === 'failed' && outcome.continued));
    const status: RunStatus = failed ? 'failed' : needsHuman ? 'needs-human' : options.dryRun ? 'planned' : 'succeeded';
    const exitCode = failed ? ExitCode.StepFailed : needsHuman ? ExitCode.NeedsHuman : ExitCode.Ok;
    record({ type: 'run-end', status, exitCode });
    emit({ type: 'run-finished', runId, runDir, status, exitCode });
    return { runId, runDir, status, exitCode, steps: outcomes };
  } finally {
    detach();
    journal?.close();
    lock.release();
  }
}

interface SchedulerOptions extends RunOptions {
  now: () => Date;
  runId: string;
  runDir: string;
  definitions: Map<string, ActionDefinition>;
  prior: Map<string, PriorKey>;
  record: (entry: JournalEntry) => JournalRecord;
  emit: (event: EngineEvent) => void;
}

/** One run's DAG walk. */
class Scheduler {
  readonly #o: SchedulerOptions;
  readonly #graph: Map<string, Set<string>>;
  readonly #states = new Map<string, StepState>();
  readonly #outcomes: StepOutcome[] = [];
  /** Findings journalled per step key: an action may both call ctx.finding and return it. */
  readonly #findingsSeen = new Set<string>();
  readonly #limit: Semaphore;
  readonly #startedAt: string;
  /** Completed steps whose secret outputs a not-yet-completed step needs: apply them again. */
  readonly #reapply = new Set<string>();

  constructor(options: SchedulerOptions) {
    this.#o = options;
    this.#graph = dependencyGraph(options.playbook);
    this.#limit = new Semaphore(options.concurrency ?? 8);
    this.#startedAt = options.now().toISOString();
    if (options.resume) this.#findSecretReapplies();
  }

  /**
   * Secret outputs are journalled as fingerprints only. A completed step whose secret output a
   * step still to do reads must run its apply() again to produce a usable value.
   */
  #findSecretReapplies(): void {
    const done = completedStepIds(this.#o.prior);
    for (const step of this.#o.playbook.steps) {
      if (done.has(step.id)) continue;
      for (const ref of stepReferences(step)) {
        const secrets = this.#o.definitions.get(ref.step)?.secretOutputs ?? [];
        if (ref.output && secrets.includes(ref.output) && done.has(ref.step) && !this.#reapply.has(ref.step)) {
          this.#reapply.add(ref.step);
          this.#o.emit({
            type: 'log',
            level: 'warn',
            step: ref.step,
            message: `resume: step ${ref.step} completed, but its secret output ${ref.output} is not in the journal and step ${step.id} needs it: applying ${ref.step} again`,
          });
        }
      }
    }
  }

  async execute(): Promise<StepOutcome[]> {
    const pending = new Set(this.#o.playbook.steps.map((step) => step.id));
    const running = new Map<string, Promise<void>>();
    while (pending.size > 0 || running.size > 0) {
      for (const step of this.#o.playbook.steps) {
        if (!pending.has(step.id)) continue;
        const deps = [...(this.#graph.get(step.id) ?? [])];
        if (!deps.every((dep) => this.#states.has(dep))) continue;
        pending.delete(step.id);
        running.set(
          step.id,
          this.#runStep(step, deps).finally(() => running.delete(step.id)),
        );
      }
      if (running.size === 0) {
        // runPlaybook refused cycles before starting; nothing else leaves steps unreachable.
        throw new BugError(`steps never became ready: ${[...pending].join(', ')}`);
      }
      await Promise.race(running.values());
    }
    const order = new Map(this.#o.playbook.steps.map((step, index) => [step.id, index]));
    return this.#outcomes.sort((a, b) => order.get(a.step)! - order.get(b.step)! || keyIndex(a.key) - keyIndex(b.key));
  }

  #finishStep(id: string, state: StepState): void {
    this.#states.set(id, state);
  }

  #scope(item?: unknown): ExpressionScope {
    const steps: Record<string, { outputs: Record<string, unknown>; status?: string }> = {};
    for (const [id, state] of this.#states) steps[id] = { outputs: state.outputs, status: state.status };
    return {
      inputs: this.#o.inputs,
      steps,
      ...(item === undefined ? {} : { item }),
      run: { id: this.#o.runId, incident: this.#o.incident, dry_run: this.#o.dryRun, started_at: this.#startedAt },
    } as ExpressionScope;
  }

  #finishKey(outcome: StepOutcome, inputHash?: string, extra: Partial<JournalEntry> = {}): StepOutcome {
    if (outcome.status === 'skipped' || (outcome.status === 'failed' && inputHash !== undefined)) {
      this.#o.record({
        type: 'step',
        step: outcome.step,
        key: outcome.key,
        action: outcome.action,
        phase: outcome.status,
        inputHash: inputHash ?? '',
        ...(outcome.status === 'failed' ? { error: { message: outcome.detail ?? 'failed' } } : {}),
        ...(outcome.status === 'skipped' && outcome.detail ? { reason: outcome.detail } : {}),
        ...extra,
      } as JournalEntry);
    }
    if (outcome.status === 'skipped') this.#o.emit({ type: 'step-skipped', step: outcome.step, key: outcome.key, reason: outcome.detail ?? '' });
    if (outcome.status === 'failed') {
      this.#o.emit({ type: 'step-failed', step: outcome.step, key: outcome.key, error: outcome.detail ?? 'failed', continued: outcome.continued === true });
    }
    this.#outcomes.push(outcome);
    this.#o.emit({ type: 'step-finished', step: outcome.step, key: outcome.key, outcome });
    return outcome;
  }

  async #runStep(step: Step, deps: string[]): Promise<void> {
    const definition = this.#o.definitions.get(step.id)!;
    const base = { step: step.id, action: step.uses };

    const blocker = deps.find((dep) => {
      const state = this.#states.get(dep)!;
      return state.blocked;
    });
    if (blocker) {
      const state = this.#states.get(blocker)!;
      const reason = state.status === 'failed' ? `dependency ${blocker} failed` : `dependency ${blocker} was skipped because its own dependency failed`;
      this.#finishKey({ ...base, key: step.id, status: 'skipped', detail: reason });
      this.#finishStep(step.id, { status: 'skipped', outputs: {}, blocked: true });
      return;
    }

    // for_each first (so `if:` may test `item`), then one key per item.
    let items: unknown[] | undefined;
    if (step.for_each !== undefined) {
      let list: unknown;
      try {
        list = evaluate(step.for_each, this.#scope());
      } catch (error) {
        this.#finishKey({ ...base, key: step.id, status: 'failed', detail: `for_each: ${messageOf(error)}`, continued: step.continueOnError }, '');
        this.#finishStep(step.id, { status: 'failed', outputs: {}, blocked: !step.continueOnError });
        return;
      }
      const unresolved = findUnresolved(list);
      if (unresolved) {
        const detail = `fans out over \${{ ${unresolved.expression} }}, known only after a real apply`;
        this.#o.record({ type: 'step', ...base, key: step.id, phase: 'planned', inputHash: hashValue({ action: step.uses, for_each: step.for_each }) });
        this.#finishKey({ ...base, key: step.id, status: 'planned', detail });
        this.#finishStep(step.id, { status: 'planned', outputs: unresolvedOutputs(step.id, definition), blocked: false });
        return;
      }
      if (!Array.isArray(list)) {
        this.#finishKey({ ...base, key: step.id, status: 'failed', detail: `for_each must be a list, got ${typeof list}`, continued: step.continueOnError }, '');
        this.#finishStep(step.id, { status: 'failed', outputs: {}, blocked: !step.continueOnError });
        return;
      }
      items = list;
      this.#o.emit({ type: 'step-expanded', step: step.id, keys: list.map((_, index) => `${step.id}[${index}]`) });
    }

    const keys = items ? items.map((item, index) => ({ key: `${step.id}[${index}]`, item })) : [{ key: step.id, item: undefined }];
    // A mutating action is a containment change: it goes ahead of read-only work for a slot.
    const results = await Promise.all(keys.map(({ key, item }) => this.#limit.use(() => this.#runKey(step, definition, key, item), definition.mutating)));

    // The step's state for dependents: the worst of its keys.
    const failed = results.filter((r) => r.outcome.status === 'failed');
    const hardFailure = failed.some((r) => !r.outcome.continued);
    const allSkipped = results.length > 0 && results.every((r) => r.outcome.status === 'skipped');
    const anyPlanned = results.some((r) => r.outcome.status === 'planned');
    const anyUnverified = results.some((r) => r.outcome.status === 'unverified');
    let outputs: Record<string, unknown>;
    if (anyPlanned) outputs = unresolvedOutputs(step.id, definition);
    else if (items) {
      outputs = {};
      for (const name of Object.keys(definition.outputs)) outputs[name] = results.map((r) => r.outputs[name]);
    } else outputs = results[0]?.outputs ?? {};
    this.#finishStep(step.id, {
      status: failed.length > 0 ? 'failed' : allSkipped ? 'skipped' : anyPlanned ? 'planned' : anyUnverified ? 'unverified' : 'succeeded',
      outputs,
      // continue_on_error: dependents run and see status 'failed'; otherwise they are skipped.
      blocked: hardFailure,
    });
  }

  async #runKey(step: Step, definition: ActionDefinition, key: string, item: unknown): Promise<{ outcome: StepOutcome; outputs: Record<string, unknown> }> {
    const base = { step: step.id, key, action: step.uses };
    const fail = (detail: string, inputHash?: string) => ({
      outcome: this.#finishKey({ ...base, status: 'failed', detail, continued: step.continueOnError }, inputHash ?? ''),
      outputs: {},
    });
    const scope = this.#scope(item);

    if (step.if !== undefined) {
      let allowed: boolean;
      try {
        allowed = evaluateCondition(step.if, scope);
      } catch (error) {
        return fail(`if: ${messageOf(error)}`);
      }
      if (!allowed) {
        return { outcome: this.#finishKey({ ...base, status: 'skipped', detail: `if: ${step.if} is false` }, ''), outputs: {} };
      }
    }

    let input: unknown;
    try {
      input = evaluate(step.with, scope);
    } catch (error) {
      return fail(`with: ${messageOf(error)}`);
    }
    const inputHash = hashValue({ action: step.uses, input });
    const unresolved = findUnresolved(input);
    if (unresolved) {
      const detail = `input needs \${{ ${unresolved.expression} }}, known only after a real apply`;
      this.#o.record({ type: 'step', ...base, phase: 'planned', inputHash, input });
      this.#o.emit({ type: 'step-planned', step: step.id, key, plan: { changes: [], calls: [] } });
      return { outcome: this.#finishKey({ ...base, status: 'planned', detail }), outputs: {} };
    }

    const restored = this.#o.resume && !this.#reapply.has(step.id) ? completedResult(this.#o.prior.get(key), inputHash) : undefined;
    const parsed = definition.schema.safeParse(input);
    let value: unknown;
    if (parsed.success) value = parsed.data;
    else if (restored) {
      // Applied before with this very input; it only fails the schema now because a secret it
      // received comes back from the journal as a fingerprint. verify() reads state, not secrets.
      value = input;
    } else {
      const issues = parsed.error.issues.map((issue) => `with${issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}: ${issue.message}`);
      return fail(`input rejected by ${step.uses}: ${issues.join('; ')}`, inputHash);
    }

    const attempts = Math.max(1, step.retry?.attempts ?? 1);
    for (let attempt = 1; ; attempt++) {
      const startedAt = Date.now();
      try {
        const result = await stepScope.run(key, () =>
          withTimeout(step.timeoutMs, (signal) => this.#attempt(step, definition, key, value, inputHash, attempt, signal, restored)),
        );
        if (result.kind === 'planned') {
          return { outcome: this.#finishKey({ ...base, status: 'planned', plan: result.plan }), outputs: {} };
        }
        const outcome: StepOutcome = {
          ...base,
          status: result.verify.verified ? 'verified' : 'unverified',
          changed: result.apply.changed,
          verified: result.verify.verified,
          detail: redact(result.verify.detail),
          ...(result.plan ? { plan: result.plan } : {}),
          ...(restored ? { resumed: true } : {}),
        };
        return { outcome: this.#finishKey(outcome), outputs: result.apply.outputs };
      } catch (error) {
        const message = messageOf(error);
        if (attempt < attempts) {
          const delayMs = (step.retry?.backoffMs ?? 0) * 2 ** (attempt - 1);
          this.#o.record({ type: 'step', ...base, phase: 'failed', inputHash, error: { message, name: (error as Error)?.name }, durationMs: Date.now() - startedAt });
          this.#o.emit({ type: 'step-retry', step: step.id, key, attempt, delayMs, error: message });
          await sleep(delayMs);
          continue;
        }
        return {
          outcome: this.#finishKey({ ...base, status: 'failed', detail: message, continued: step.continueOnError }, inputHash, {
            error: { message, name: (error as Error)?.name },
            durationMs: Date.now() - startedAt,
          } as Partial<JournalEntry>),
          outputs: {},
        };
      }
    }
  }

  async #attempt(
    step: Step,
    definition: ActionDefinition,
    key: string,
    input: unknown,
    inputHash: string,
    attempt: number,
    signal: AbortSignal,
    restored: ApplyResult | undefined,
  ): Promise<{ kind: 'planned'; plan: ActionPlan } | { kind: 'done'; plan?: ActionPlan; apply: ApplyResult; verify: VerifyResult }> {
    const base = { step: step.id, key, action: step.uses };
    const ctx = this.#context(key, signal);
    const started = Date.now();
    this.#o.emit({ type: 'step-started', step: step.id, key, action: step.uses, attempt });

    if (restored) {
      // Applied before the crash with this very input: do not apply twice, read the state back.
      this.#o.emit({ type: 'step-applied', step: step.id, key, changed: restored.changed, reused: true });
      const verify = await definition.verify(ctx, input, restored);
      this.#o.record({ type: 'step', ...base, phase: verify.verified ? 'verified' : 'unverified', inputHash, verify, durationMs: Date.now() - started });
      this.#o.emit({ type: 'step-verified', step: step.id, key, verified: verify.verified, detail: redact(verify.detail) });
      return { kind: 'done', apply: restored, verify };
    }

    this.#o.record({ type: 'step', ...base, phase: 'start', inputHash, input });
    const plan = await definition.plan(ctx, input);
    throwIfAborted(signal);
    this.#o.record({ type: 'step', ...base, phase: 'planned', inputHash, plan });
    this.#o.emit({ type: 'step-planned', step: step.id, key, plan });
    for (const finding of plan.findings ?? []) this.#recordFinding(key, finding);
    if (this.#o.dryRun && definition.mutating) return { kind: 'planned', plan };

    const apply = await definition.apply(ctx, input, plan);
    throwIfAborted(signal);
    this.#o.record({
      type: 'step',
      ...base,
      phase: 'applied',
      inputHash,
      result: { changed: apply.changed, outputs: apply.outputs, undo: apply.undo, requestIds: apply.requestIds },
    });
    for (const finding of apply.findings ?? []) this.#recordFinding(key, finding);
    this.#o.emit({ type: 'step-applied', step: step.id, key, changed: apply.changed, reused: false });

    const verify = await definition.verify(ctx, input, apply);
    throwIfAborted(signal);
    this.#o.record({ type: 'step', ...base, phase: verify.verified ? 'verified' : 'unverified', inputHash, verify, durationMs: Date.now() - started });
    this.#o.emit({ type: 'step-verified', step: step.id, key, verified: verify.verified, detail: redact(verify.detail) });
    return { kind: 'done', plan, apply, verify };
  }

  #context(key: string, signal: AbortSignal): ActionContext {
    const o = this.#o;
    return {
      runId: o.runId,
      incident: o.incident,
      runDir: o.runDir,
      dryRun: o.dryRun,
      stepKey: key,
      clients: o.clients,
      signal,
      now: o.now,
      log: (message, level = 'info') => o.emit({ type: 'log', level, message: redact(message), step: key.replace(/\[\d+\]$/, ''), key }),
      evidence: (kind, data) => {
        o.record({ type: 'evidence', step: key, kind, data });
      },
      finding: (finding) => this.#recordFinding(key, finding),
    };
  }

  /** Journals a finding once per step key, however many ways the action reported it. */
  #recordFinding(key: string, finding: Finding): void {
    const id = `${key}\u0000${JSON.stringify(finding)}`;
    if (this.#findingsSeen.has(id)) return;
    this.#findingsSeen.add(id);
    this.#o.record({ type: 'finding', step: key, finding });
  }
}

function keyIndex(key: string): number {
  const match = /\[(\d+)\]$/.exec(key);
  return match ? Number(match[1]) : -1;
}

/** Outputs of a step a dry run only planned: every declared output is Unresolved. */
function unresolvedOutputs(stepId: string, definition: ActionDefinition): Record<string, unknown> {
  return Object.fromEntries(Object.keys(definition.outputs).map((name) => [name, new Unresolved(`steps.${stepId}.outputs.${name}`)]));
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

/**
 * Runs `fn` with a signal that aborts after `ms`. The step fails at the deadline even if the
 * action ignores the signal (its late result is discarded; actions are idempotent by contract).
 */
async function withTimeout<T>(ms: number | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  if (!ms || ms <= 0) return fn(controller.signal);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new StepTimeoutError(ms);
      controller.abort(error);
      reject(error);
    }, ms);
  });
  try {
    return await Promise.race([fn(controller.signal), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export type { StepStatus };
