import { Command } from '@oclif/core';
import { CicdIrError } from '../engine/errors.js';
import { handleError } from './errors.js';

/**
 * The base of cicd-ir commands: `--json` on, and a cicd-ir error ends the process with its own
 * exit code (2 bad input, 1 step failed, 3 needs a human) and a clean message instead of
 * oclif's default (exit 1 with a stack trace). Other errors (oclif flag errors, bugs) keep
 * oclif's handling.
 */
export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true;

  protected override async catch(error: Error & { exitCode?: number }): Promise<unknown> {
    if (error instanceof CicdIrError) handleError(error, { json: this.jsonEnabled() });
    return super.catch(error);
  }
}
