import { Command, ux } from '@oclif/core';
import { CicdIrError } from '../engine/errors.js';
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
    return super.catch(error);
  }
}
