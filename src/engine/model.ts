import type { SourceLocation } from './errors.js';

/**
 * The parsed playbook, as src/engine/playbook.ts returns it after validation and the
 * execution side (plan.ts, execute.ts) consumes it. Values under `with`, `if` and `for_each`
 * are still unevaluated: strings may hold `${{ ... }}` expressions.
 */
export interface Playbook {
  /** Path as given on the command line (messages use it for file:line:col). */
  file: string;
  /** sha256 of the file text: resume refuses a run whose playbook changed. */
  hash: string;
  name: string;
  description: string;
  inputs: Record<string, InputSpec>;
  steps: Step[];
}

export type InputType = 'string' | 'string[]' | 'boolean' | 'duration' | 'timestamp';

export interface InputSpec {
  type: InputType;
  description?: string;
  required: boolean;
  default?: unknown;
  location: SourceLocation;
}

export interface Step {
  id: string;
  name?: string;
  /** Action id from the registry: `github.disable-workflow`. */
  uses: string;
  with: Record<string, unknown>;
  needs: string[];
  if?: string;
  /** A list, or an expression string that evaluates to one; each element is `${{ item }}`. */
  for_each?: unknown;
  retry?: { attempts: number; backoffMs: number };
  timeoutMs?: number;
  continueOnError: boolean;
  location: SourceLocation;
}

/**
 * Input values after coercion: string, string[], boolean, duration (milliseconds, number),
 * timestamp (ISO-8601 string, UTC).
 */
export type InputValues = Record<string, string | string[] | boolean | number | undefined>;
