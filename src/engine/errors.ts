import { ExitCode, type ExitCodeValue } from './exit-codes.js';

/** A place in a source file, 1-based like editors show it. */
export interface SourceLocation {
  file: string;
  line: number;
  col: number;
}

/** One problem found by validation, with where it is. */
export interface ValidationIssue extends SourceLocation {
  message: string;
}

/** Formats an issue as `file:line:col: message`, the form editors and CI annotations parse. */
export function formatIssue(issue: ValidationIssue): string {
  return `${issue.file}:${issue.line}:${issue.col}: ${issue.message}`;
}

/** The base of every error cicd-ir throws on purpose. */
export class CicdIrError extends Error {
  readonly exitCode: ExitCodeValue;
  readonly suggestions: string[];

  constructor(message: string, options: { exitCode?: ExitCodeValue; suggestions?: string[]; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = options.exitCode ?? ExitCode.StepFailed;
    this.suggestions = options.suggestions ?? [];
  }
}

/** Bad input (playbook, flags, scenario): exit 2, always raised before any API call. */
export class ValidationError extends CicdIrError {
  readonly issues: ValidationIssue[];

  constructor(issues: ValidationIssue[], options: { suggestions?: string[] } = {}) {
    super(issues.map(formatIssue).join('\n'), { exitCode: ExitCode.BadInput, ...options });
    this.issues = issues;
  }
}

/** Bad input that has no file position (a flag, an environment variable): exit 2. */
export class UsageError extends CicdIrError {
  constructor(message: string, suggestions: string[] = []) {
    super(message, { exitCode: ExitCode.BadInput, suggestions });
  }
}

/** A step failed while running: exit 1. */
export class StepFailedError extends CicdIrError {
  readonly stepId: string;

  constructor(stepId: string, message: string, options: { cause?: unknown; suggestions?: string[] } = {}) {
    super(`step ${stepId}: ${message}`, { exitCode: ExitCode.StepFailed, ...options });
    this.stepId = stepId;
  }
}

/** Finished, but a human must look (unverified containment, partial result): exit 3. */
export class NeedsHumanError extends CicdIrError {
  constructor(message: string, suggestions: string[] = []) {
    super(message, { exitCode: ExitCode.NeedsHuman, suggestions });
  }
}

/** A mutating call was attempted during a dry run: the second safety net tripped. Always a bug. */
export class DryRunViolation extends CicdIrError {
  constructor(what: string) {
    super(`refused mutating call during dry run: ${what}`, { exitCode: ExitCode.StepFailed });
  }
}

/** Something that should not happen: a bug in cicd-ir. */
export class BugError extends CicdIrError {
  constructor(message: string, cause?: unknown) {
    super(`internal error (please report): ${message}`, { exitCode: ExitCode.StepFailed, cause });
  }
}
