import type { ActionPlan } from '../actions/define.js';

/** How a step key ended. `planned`: a dry run stopped a mutating step after plan(). */
export type StepStatus = 'verified' | 'unverified' | 'planned' | 'failed' | 'skipped';

/** How a whole run ended. */
export type RunStatus = 'succeeded' | 'failed' | 'needs-human' | 'planned';

/** One step key's outcome, as RunResult and the `step-finished` event carry it. */
export interface StepOutcome {
  /** Step id plus for_each index: `revoke[1]`; the bare id when not fanned out. */
  key: string;
  step: string;
  action: string;
  status: StepStatus;
  changed?: boolean;
  verified?: boolean;
  /** Why: the verify detail, the error message, the skip reason. */
  detail?: string;
  plan?: ActionPlan;
  /** True when resume found it applied with the same input and only ran verify() again. */
  resumed?: boolean;
  /** A failure that `continue_on_error` let through. */
  continued?: boolean;
  /** Skipped because something it depends on failed (not by its own `if:`). */
  dependencyFailed?: boolean;
}

/**
 * What the engine tells its listeners (the listr2 UI, the line printer, tests). The engine
 * emits; it never imports a renderer. Every event of a step carries `step` (the playbook id)
 * and `key` (the id with its for_each index).
 */
export type EngineEvent =
  | {
      type: 'run-started';
      runId: string;
      runDir: string;
      playbook: string;
      dryRun: boolean;
      resumed: boolean;
      steps: Array<{ id: string; action: string; needs: string[] }>;
    }
  /** A for_each step fanned out into these keys (none: an empty list, the step has nothing to do). */
  | { type: 'step-expanded'; step: string; keys: string[] }
  | { type: 'step-started'; step: string; key: string; action: string; attempt: number }
  | { type: 'step-planned'; step: string; key: string; plan: ActionPlan }
  | { type: 'step-applied'; step: string; key: string; changed: boolean; reused: boolean }
  | { type: 'step-verified'; step: string; key: string; verified: boolean; detail: string }
  | { type: 'step-skipped'; step: string; key: string; reason: string }
  | { type: 'step-failed'; step: string; key: string; error: string; continued: boolean }
  /** A step ran on its dependencies' results without those of `missing` (failed or skipped items). */
  | { type: 'step-incomplete'; step: string; missing: string[] }
  | { type: 'step-retry'; step: string; key: string; attempt: number; delayMs: number; error: string }
  /** Terminal for a key: exactly one per key, after the phase events above. */
  | { type: 'step-finished'; step: string; key: string; outcome: StepOutcome }
  | { type: 'log'; level: 'debug' | 'info' | 'warn'; message: string; step?: string; key?: string }
  | { type: 'run-finished'; runId: string; runDir: string; status: RunStatus; exitCode: number };

/** A listener for engine events. It must not throw; a throwing listener is reported and ignored. */
export type EngineEventListener = (event: EngineEvent) => void;
