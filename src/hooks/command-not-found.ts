import type { Hook } from '@oclif/core';
import { UsageError } from '../engine/errors.js';
import { closest } from '../ui/did-you-mean.js';
import { handleError } from '../ui/errors.js';

/**
 * An unknown command is bad input like any other: exit 2, the usual error shape (JSON under
 * --json), and the closest command when the name is a typo (`contian` -> `contain`).
 */
const hook: Hook<'command_not_found'> = async function (options) {
  const typed = options.id.replaceAll(':', ' ');
  const ids = options.config.commandIDs.map((id) => id.replaceAll(':', ' '));
  const match = closest(typed, ids);
  const error = new UsageError(`command ${typed} not found`, [
    ...(match ? [`did you mean: ${options.config.bin} ${match}`] : []),
    `see the commands with: ${options.config.bin} --help`,
  ]);
  handleError(error, { json: (options.argv ?? []).includes('--json') });
};

export default hook;
