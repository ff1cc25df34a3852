import { createInterface } from 'node:readline/promises';
import { UsageError } from '../engine/errors.js';

/** Where confirmation comes from: a terminal, or nothing (CI, pipes). Injected in tests. */
export interface Terminal {
  interactive: boolean;
  ask(question: string): Promise<string>;
}

/** The process's terminal: interactive when both stdin and stderr are TTYs (the prompt goes to stderr). */
export function processTerminal(): Terminal {
  return {
    interactive: Boolean(process.stdin.isTTY && process.stderr.isTTY),
    async ask(question) {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return await rl.question(question);
      } finally {
        rl.close();
      }
    },
  };
}

/**
 * The non-interactive safety rule: a run that changes things needs a yes. Dry runs never ask;
 * `--yes` answers in advance; on a terminal the responder types `yes`; without a terminal the
 * run is refused (exit 2) so a script cannot change production by accident.
 */
export async function confirmDestructive(options: { dryRun: boolean; yes: boolean; what: string; terminal: Terminal }): Promise<void> {
  if (options.dryRun || options.yes) return;
  if (!options.terminal.interactive) {
    throw new UsageError(`refusing to ${options.what} without confirmation: no terminal to ask on`, [
      'pass --yes to confirm a run that changes things',
      'or --dry-run to see what it would do',
    ]);
  }
  const answer = await options.terminal.ask(`This will ${options.what}. Type "yes" to go on: `);
  if (answer.trim().toLowerCase() !== 'yes') {
    throw new UsageError('not confirmed: nothing was changed', ['pass --dry-run to see the plan first']);
  }
}
