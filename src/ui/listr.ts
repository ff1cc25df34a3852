import type { EngineEvent, StepOutcome } from '../engine/events.js';
import { safeText } from '../engine/safe-text.js';

/** A listener the engine feeds (`onEvent`), and `finish()` to await the last repaint. */
export interface EventReporter {
  onEvent(event: EngineEvent): void;
  finish(): Promise<void>;
}

/** What the live view knows of a run, updated from engine events. Plain data, for tests. */
export interface ProgressState {
  runId?: string;
  playbook?: string;
  dryRun?: boolean;
  resumed?: boolean;
  /** Playbook steps in order, and per step its keys once known (for_each). */
  steps: Array<{ id: string; action: string; keys?: string[] }>;
  /** Keys started and not finished: what is running now, with its latest line. */
  running: Map<string, { action: string; line: string }>;
  /** Keys finished, with their outcome. */
  finished: Map<string, StepOutcome>;
  /** Run-level warnings (a stale lock taken over), shown once at the end. */
  warnings: string[];
}

/** A new, empty state. */
export function emptyProgress(): ProgressState {
  return { steps: [], running: new Map(), finished: new Map(), warnings: [] };
}

/** Folds one engine event into the state. */
export function applyEvent(state: ProgressState, event: EngineEvent): void {
  switch (event.type) {
    case 'run-started':
      Object.assign(state, { runId: event.runId, playbook: event.playbook, dryRun: event.dryRun, resumed: event.resumed });
      state.steps = event.steps.map((step) => ({ id: step.id, action: step.action }));
      return;
    case 'step-expanded': {
      const step = state.steps.find((s) => s.id === event.step);
      if (step) step.keys = event.keys;
      return;
    }
    case 'step-started':
      state.running.set(event.key, { action: event.action, line: event.attempt > 1 ? `attempt ${event.attempt}` : '' });
      return;
    case 'step-planned': {
      const entry = state.running.get(event.key);
      if (entry) entry.line = `planned: ${event.plan.changes.length} change(s), ${event.plan.calls.length} call(s)`;
      return;
    }
    case 'step-retry': {
      const entry = state.running.get(event.key);
      if (entry) entry.line = `retry ${event.attempt} in ${Math.round(event.delayMs / 100) / 10}s: ${event.error}`;
      return;
    }
    case 'log':
      if (!event.key) {
        if (event.level === 'warn') state.warnings.push(event.message);
        return;
      }
      if (event.level !== 'debug' && state.running.has(event.key)) state.running.get(event.key)!.line = event.message;
      return;
    case 'step-finished':
      state.running.delete(event.key);
      state.finished.set(event.key, event.outcome);
      return;
    default:
      return;
  }
}

/** A step is done when each of its keys finished (a step not yet expanded or started is not). */
function stepDone(state: ProgressState, step: ProgressState['steps'][number]): boolean {
  if (step.keys) return step.keys.every((key) => state.finished.has(key));
  return state.finished.has(step.id);
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

function fit(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}

/**
 * The live view as lines, at most `height` of them and each at most `width` wide: a header
 * (run id, playbook, dry run or live), the N/M counter, then only what needs eyes: running keys
 * (with their latest line), failed and unverified ones. Waiting, done and skipped work is not
 * drawn (the counter holds it); a skip is normal, not a warning. Every name is safeText'd.
 */
export function progressFrame(state: ProgressState, width: number, height: number, tick = 0): string[] {
  const done = state.steps.filter((step) => stepDone(state, step)).length;
  const outcomes = [...state.finished.values()];
  const failed = outcomes.filter((o) => o.status === 'failed');
  const unverified = outcomes.filter((o) => o.status === 'unverified');
  const skipped = outcomes.filter((o) => o.status === 'skipped').length;
  const mode = state.dryRun ? 'DRY RUN (no changes)' : 'LIVE';
  const header = `cicd-ir ${state.resumed ? 'resuming' : 'run'} ${safeText(state.runId ?? '')} · ${safeText(state.playbook ?? '')} · ${mode}`;
  const counts = [`${done}/${state.steps.length} steps done`, `${state.running.size} running`];
  if (failed.length) counts.push(`${failed.length} failed`);
  if (unverified.length) counts.push(`${unverified.length} need a human`);
  if (skipped) counts.push(`${skipped} skipped`);
  const lines = [header, counts.join(' · ')];
  const open = [
    ...failed.map((o) => `✖ ${safeText(o.key)}  FAILED${o.continued ? ' (continue_on_error)' : ''}: ${safeText(o.detail ?? '')}`),
    ...unverified.map((o) => `! ${safeText(o.key)}  UNVERIFIED, needs a human: ${safeText(o.detail ?? '')}`),
  ];
  const running = [...state.running].map(([key, entry]) => `${SPINNER[tick % SPINNER.length]} ${safeText(key)}  ${safeText(entry.action)}${entry.line ? `  ${safeText(entry.line)}` : ''}`);
  const room = Math.max(0, height - lines.length);
  const body = [...running, ...open];
  if (body.length > room) {
    lines.push(...body.slice(0, Math.max(0, room - 1)), `… and ${body.length - Math.max(0, room - 1)} more`);
  } else lines.push(...body);
  return lines.slice(0, Math.max(1, height)).map((line) => fit(line, width));
}

/** A stream the live view draws on: a TTY's size when it has one. */
export interface ProgressStream {
  write(chunk: string): unknown;
  columns?: number;
  rows?: number;
}

/**
 * The live progress view for a terminal. Redraws at most every `intervalMs` (default 250 ms:
 * 4 a second) and only when something changed or a key is running, in place (cursor up, clear
 * below). It never reprints the steps at the end: finish() clears the view, the command's
 * summary follows. Without a TTY runSession uses the line log (src/ui/lines.ts) instead.
 * (The file keeps its name from when listr2 drew this: a tree of every step did not fit
 * 80×24 and redrew 14 times a second.)
 */
export function listrReporter(options: { stream?: ProgressStream; intervalMs?: number } = {}): EventReporter {
  const stream: ProgressStream = options.stream ?? process.stderr;
  const state = emptyProgress();
  let drawn = 0;
  let dirty = false;
  let tick = 0;
  let lastDraw = 0;
  const interval = options.intervalMs ?? 250;

  const draw = () => {
    const width = Math.max(20, (stream.columns ?? 80) - 1);
    const height = Math.max(3, Math.min(12, (stream.rows ?? 24) - 6));
    const lines = progressFrame(state, width, height, tick++);
    stream.write(`${drawn > 0 ? `\x1b[${drawn}F\x1b[0J` : ''}${lines.join('\n')}\n`);
    drawn = lines.length;
    dirty = false;
    lastDraw = Date.now();
  };
  const timer = setInterval(() => {
    if (state.runId !== undefined && (dirty || state.running.size > 0)) draw();
  }, interval);
  timer.unref();

  return {
    onEvent(event) {
      applyEvent(state, event);
      dirty = true;
      // The first frame at once, so the header shows before the first step does anything.
      if (event.type === 'run-started' && Date.now() - lastDraw >= interval) draw();
    },
    async finish() {
      clearInterval(timer);
      if (drawn > 0) stream.write(`\x1b[${drawn}F\x1b[0J`);
      drawn = 0;
      for (const warning of state.warnings) stream.write(`warning: ${safeText(warning)}\n`);
    },
  };
}
