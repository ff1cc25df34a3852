import { Listr, type ListrTask } from 'listr2';
import type { EngineEvent, StepOutcome } from '../engine/events.js';
import { safeText as t } from '../engine/safe-text.js';

/** A listener the engine feeds (`onEvent`), and `finish()` to await the last repaint. */
export interface EventReporter {
  onEvent(event: EngineEvent): void;
  finish(): Promise<void>;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** What a listr2 task wrapper offers that we use (typed loosely: the renderer varies). */
interface TaskHandle {
  title: string;
  output: string;
  skip(message?: string): void;
}

/** Per step: how it fans out (known at step-expanded, or at its first finish), and per key its end. */
class StepTrack {
  readonly shape = deferred<string[] | undefined>();
  readonly keys = new Map<string, { done: Deferred<StepOutcome>; task?: TaskHandle; lastOutput?: string }>();

  key(key: string) {
    let entry = this.keys.get(key);
    if (!entry) {
      entry = { done: deferred<StepOutcome>() };
      this.keys.set(key, entry);
    }
    return entry;
  }
}

function settle(task: TaskHandle, outcome: StepOutcome, base: string): void {
  switch (outcome.status) {
    case 'skipped':
      task.skip(t(outcome.detail ?? 'skipped'));
      return;
    case 'failed':
      throw new Error(`${t(outcome.detail ?? 'failed')}${outcome.continued ? ' (continue_on_error)' : ''}`);
    case 'planned':
      task.title = `${base}: planned${outcome.detail ? ` (${t(outcome.detail)})` : ` (${outcome.plan?.calls.length ?? 0} calls)`}`;
      return;
    case 'unverified':
      task.title = `${base}: UNVERIFIED, needs a human: ${t(outcome.detail ?? '')}`;
      return;
    case 'verified':
      task.title = `${base}: ${outcome.changed === false ? 'already done' : 'done'}${outcome.resumed ? ' (resumed, verified)' : ''}: ${t(outcome.detail ?? '')}`;
      return;
  }
}

/**
 * Renders engine events with listr2: one task per step, subtasks per for_each key, all
 * concurrent as the engine runs them. listr2 does not run anything here: each task waits for
 * the engine's `step-finished` event of its key and then shows the outcome.
 * `renderer` defaults to listr2's `default` (for a TTY); tests pass `test` or `simple`.
 */
export function listrReporter(options: { renderer?: 'default' | 'simple' | 'verbose' | 'test' | 'silent' } = {}): EventReporter {
  const steps = new Map<string, StepTrack>();
  const warnings: string[] = [];
  let running: Promise<unknown> = Promise.resolve();
  const track = (step: string) => {
    let entry = steps.get(step);
    if (!entry) {
      entry = new StepTrack();
      steps.set(step, entry);
    }
    return entry;
  };

  const keyTask = (step: StepTrack, key: string, title: string): ListrTask => ({
    title,
    task: async (_ctx, task) => {
      const entry = step.key(key);
      entry.task = task as unknown as TaskHandle;
      if (entry.lastOutput) task.output = entry.lastOutput;
      settle(task as unknown as TaskHandle, await entry.done.promise, title);
    },
  });

  return {
    onEvent(event) {
      switch (event.type) {
        case 'run-started': {
          const tasks: ListrTask[] = event.steps.map((step) => ({
            title: `${step.id} (${step.action})`,
            task: async (_ctx, task) => {
              const tracked = track(step.id);
              const keys = await tracked.shape.promise;
              if (keys) {
                task.title = `${step.id} (${step.action}) x${keys.length}`;
                return task.newListr(
                  keys.map((key) => keyTask(tracked, key, t(key))),
                  { concurrent: true, exitOnError: false },
                );
              }
              return keyTask(tracked, step.id, `${step.id} (${step.action})`).task(_ctx, task);
            },
          }));
          const list = new Listr(tasks, {
            concurrent: true,
            exitOnError: false,
            registerSignalListeners: false,
            renderer: options.renderer ?? 'default',
            rendererOptions: { collapseSubtasks: false, collapseSkips: false, showSkipMessage: true },
          } as never);
          running = list.run().catch(() => undefined);
          return;
        }
        case 'step-expanded':
          track(event.step).shape.resolve(event.keys);
          return;
        case 'step-planned': {
          const entry = track(event.step).key(event.key);
          entry.lastOutput = `planned: ${event.plan.changes.length} change(s), ${event.plan.calls.length} call(s)`;
          if (entry.task) entry.task.output = entry.lastOutput;
          return;
        }
        case 'step-retry':
        case 'log': {
          if (event.type === 'log' && !event.key) {
            // Run-level warnings (a stale lock taken over, a torn journal line): shown after the list.
            if (event.level === 'warn') warnings.push(t(event.message));
            return;
          }
          if (!event.key || !event.step) return;
          const entry = track(event.step).key(event.key);
          entry.lastOutput = t(event.type === 'log' ? event.message : `retry ${event.attempt} in ${event.delayMs} ms: ${event.error}`);
          if (entry.task) entry.task.output = entry.lastOutput;
          return;
        }
        case 'step-finished': {
          const tracked = track(event.step);
          tracked.shape.resolve(undefined); // first finish of an unexpanded step: a single key
          tracked.key(event.key).done.resolve(event.outcome);
          return;
        }
        default:
          return;
      }
    },
    async finish() {
      await running;
      // listr2 renders a failed task's message just after run() settles: let it flush.
      await new Promise((resolve) => setImmediate(resolve));
      for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`);
    },
  };
}
