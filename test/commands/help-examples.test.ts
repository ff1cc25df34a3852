import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Config, Parser } from '@oclif/core';
import { describe, expect, it } from 'vitest';
import { actions } from '../../src/actions/index.js';
import { loadPlaybook, resolveInputs } from '../../src/engine/playbook.js';
import { parseVars } from '../../src/ui/run-session.js';
import { repoRoot } from '../helpers/cli.js';

/** Shell words of an example: quotes removed, a `> file` redirection dropped, globs expanded in one folder. */
function words(example: string): string[] {
  const out: string[] = [];
  for (const match of example.split('>')[0]!.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)) {
    const word = match[1] ?? match[2] ?? match[3]!;
    const glob = /^(.*)\/\*(\.\w+)$/.exec(word);
    if (glob && match[3]) out.push(...readdirSync(join(repoRoot, glob[1]!)).filter((name) => name.endsWith(glob[2]!)).map((name) => `${glob[1]}/${name}`));
    else out.push(word);
  }
  return out;
}

describe('every help example of every command', async () => {
  const config = await Config.load({ root: repoRoot, devPlugins: false });
  const examples = config.commands.flatMap((command) =>
    (command.examples ?? []).map((example) => ({
      id: command.id,
      text: String(typeof example === 'string' ? example : example.command).replaceAll('<%= config.bin %>', 'cicd-ir').replaceAll('<%= command.id %>', command.id.replaceAll(':', ' ')),
    })),
  );

  it('has examples to check', () => expect(examples.length).toBeGreaterThan(20));

  it.each(examples)('$text parses: flags, arguments, and for run/plan the playbook inputs', async ({ id, text }) => {
    const argv = words(text).slice(1 + id.split(':').length);
    const command = await config.findCommand(id)!.load();
    // Flag and argument parsing as oclif does before run(): unknown flags, bad values, exclusive flags, missing args
    const { args, flags } = await Parser.parse(argv, { flags: { ...command.flags, json: { type: 'boolean', name: 'json', allowNo: false } as never }, args: command.args, strict: command.strict ?? true, context: {} as never });
    if (id === 'run' || id === 'plan') {
      const playbook = await loadPlaybook(join(repoRoot, String(args.playbook)), { registry: actions });
      if (!flags.latest) expect(() => resolveInputs(playbook, parseVars(flags.var as string[]))).not.toThrow();
    }
  });
});
