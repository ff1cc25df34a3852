import { Command, ux } from '@oclif/core';
import { CicdIrError, UsageError } from '../engine/errors.js';
import { closest } from './did-you-mean.js';
import { safeBlock, safeJson } from '../engine/safe-text.js';
import { handleError } from './errors.js';

/**
 * The base of cicd-ir commands: `--json` on, and a cicd-ir error ends the process with its own
 * exit code (2 bad input, 1 step failed, 3 needs a human) and a clean message instead of
 * oclif's default (exit 1 with a stack trace). Other errors (oclif flag errors, bugs) keep
 * oclif's handling.
 *
 * Everything a command prints goes through here, and all of it may hold attacker text (secret
 * names, user agents, branch names): log() shows control characters and escape sequences as
 * visible escapes (safeBlock), logJson() writes C1 and bidi characters as \u escapes.
 */
export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true;

  override log(message = '', ...args: unknown[]): void {
    if (!this.jsonEnabled()) ux.stdout(safeBlock(typeof message === 'string' ? message : String(message)), ...(args.map((arg) => safeBlock(arg)) as string[]));
  }

  override logToStderr(message = '', ...args: unknown[]): void {
    if (!this.jsonEnabled()) ux.stderr(safeBlock(typeof message === 'string' ? message : String(message)), ...(args.map((arg) => safeBlock(arg)) as string[]));
  }

  protected override logJson(json: unknown): void {
    ux.stdout(safeJson(json));
  }

  override warn(input: Error | string): Error | string {
    return super.warn(typeof input === 'string' ? safeBlock(input) : input);
  }

  protected override async catch(error: Error & { exitCode?: number }): Promise<unknown> {
    if (error instanceof CicdIrError) handleError(error, { json: this.jsonEnabled() });
    // oclif's flag and argument errors are bad input like any other: the same shape and exit 2
    // (under --json oclif would print its whole parser state, 122 KB, and exit 1).
    const usage = flagErrorAsUsage(error, Object.keys(this.ctor.flags ?? {}));
    if (usage) handleError(usage, { json: this.jsonEnabled() });
    return super.catch(error);
  }
}

/** oclif's messages are coloured; the colour codes are ours to drop, not to show. */
const ANSI_COLOUR = /\x1b\[[0-9;]*m/g;

/**
 * A parse error of oclif (unknown flag, bad value, missing argument, exclusive flags) as a
 * UsageError with a did-you-mean for a misspelt flag (`--dryrun` -> `--dry-run`), or undefined
 * for any other error.
 */
export function flagErrorAsUsage(error: unknown, flagNames: readonly string[]): UsageError | undefined {
  if (!(error instanceof Error) || !('parse' in error) || (error as { oclif?: { exit?: number } }).oclif?.exit !== 2) return undefined;
  const message = error.message.replace(ANSI_COLOUR, '').replace(/\n*See more help with --help\s*$/, '').trim();
  const unknown = (error as { flags?: unknown }).flags;
  const suggestions = Array.isArray(unknown)
    ? unknown.flatMap((flag) => {
        const match = closest(String(flag).replace(/^-+/, '').replace(/=.*$/, ''), flagNames);
        return match ? [`did you mean --${match}? (not ${String(flag)})`] : [];
      })
    : [];
  return new UsageError(message, [...suggestions, 'see the flags with --help']);
}
