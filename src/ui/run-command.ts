import { Errors } from '@oclif/core';
import { BaseCommand } from './base-command.js';

/**
 * Base of the commands that end with a run's own exit code (run, plan, contain): they print
 * their result (JSON under --json) and then `this.exit(code)`. That ExitError must reach oclif
 * untouched; oclif's default catch would, under --json, print it as an error document and
 * swallow the code.
 */
export abstract class RunCommand extends BaseCommand {
  protected override async catch(error: Error & { exitCode?: number }): Promise<unknown> {
    if (error instanceof Errors.ExitError) throw error;
    return super.catch(error);
  }
}
