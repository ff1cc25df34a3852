import { Errors } from '@oclif/core';
import { CicdIrError, ValidationError } from '../engine/errors.js';
import { redact } from '../engine/secret.js';

/** The JSON a command prints for a failure under `--json`. */
export interface ErrorJson {
  error: {
    name: string;
    message: string;
    exitCode: number;
    suggestions: string[];
    /** Validation issues (file, line, col, message), when the error is a ValidationError. */
    issues?: Array<{ file: string; line: number; col: number; message: string }>;
  };
}

/** The `--json` form of a cicd-ir error. Every string passes through redact(). */
export function errorJson(error: CicdIrError): ErrorJson {
  return {
    error: {
      name: error.name,
      message: redact(error.message),
      exitCode: error.exitCode,
      suggestions: error.suggestions.map(redact),
      ...(error instanceof ValidationError && {
        issues: error.issues.map((issue) => ({ ...issue, message: redact(issue.message) })),
      }),
    },
  };
}

/** The human form: the message (one `file:line:col: message` per line for validation) and the suggestions. */
export function errorText(error: CicdIrError): string {
  const lines = [redact(error.message)];
  if (error.suggestions.length === 1) lines.push(`Try: ${redact(error.suggestions[0]!)}`);
  else if (error.suggestions.length > 1) lines.push('Try:', ...error.suggestions.map((s) => `  * ${redact(s)}`));
  return lines.join('\n');
}

/**
 * Reports a cicd-ir error the way every command does and ends the command with its exit code:
 * the message and suggestions on stderr (JSON on stdout under `--json`), no stack trace. It
 * throws oclif's ExitError, which oclif turns into `process.exit(code)` without printing again;
 * `Command.run([...])` in tests sees that error with `oclif.exit` set. Anything that is not a
 * CicdIrError (a bug, an oclif flag error) is rethrown untouched for oclif to report.
 */
export function handleError(error: unknown, options: { json: boolean }): never {
  if (!(error instanceof CicdIrError)) throw error;
  if (options.json) process.stdout.write(`${JSON.stringify(errorJson(error), null, 2)}\n`);
  else process.stderr.write(`${errorText(error)}\n`);
  throw new Errors.ExitError(error.exitCode);
}
