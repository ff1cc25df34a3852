import { Errors } from '@oclif/core';
import { BaseCommand } from './base-command.js';
import { installInterruptHandler } from './signals.js';

/**
 * Base of the commands that end with a run's own exit code (run, plan, contain): they print
 * their result (JSON under --json) and then `this.exit(code)`. That ExitError must reach oclif
 * untouched; oclif's default catch would, under --json, print it as an error document and
 * swallow the code.
 */
export abstract class RunCommand extends BaseCommand {
  /** Ctrl-C / SIGTERM stop cleanly and say how to resume (src/ui/signals.ts). */
  override async init(): Promise<void> {
    await super.init();
    const positional = this.argv.filter((arg, index) => !arg.startsWith('-') && (index === 0 || !this.argv[index - 1]!.startsWith('-')));
    installInterruptHandler((runId) => `${this.config.bin} ${this.id}${this.id === 'run' && positional[0] ? ` ${positional[0]}` : ''} --resume ${runId}`);
  }

  protected override async catch(error: Error & { exitCode?: number }): Promise<unknown> {
    if (error instanceof Errors.ExitError) throw error;
    return super.catch(error);
  }
}
