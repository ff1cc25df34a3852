import { Errors } from '@oclif/core';
import { CicdIrError, formatIssue, ValidationError } from '../engine/errors.js';
import { safeBlock, safeJson, safeText } from '../engine/safe-text.js';
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

/**
 * The human form: the message (one `file:line:col: message` per line for validation) and the
 * suggestions. Names in a message come from playbooks and APIs: each issue is one line with its
 * control characters shown (safeText), any other message a block (safeBlock).
 */
export function errorText(error: CicdIrError): string {
  const lines =
    error instanceof ValidationError && error.issues.length > 0
      ? error.issues.map((issue) => safeText(redact(formatIssue(issue))))
      : [safeBlock(redact(error.message))];
  if (error.suggestions.length === 1) lines.push(`Try: ${safeText(redact(error.suggestions[0]!))}`);
  else if (error.suggestions.length > 1) lines.push('Try:', ...error.suggestions.map((s) => `  * ${safeText(redact(s))}`));
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
  if (options.json) process.stdout.write(`${safeJson(errorJson(error))}\n`);
  else process.stderr.write(`${errorText(error)}\n`);
  throw new Errors.ExitError(error.exitCode);
}
