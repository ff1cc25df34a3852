import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { vi } from 'vitest';

/** The repository root: oclif reads package.json there. */
export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** What a command printed and how it ended. */
export interface CommandOutcome<T> {
  result?: T;
  stdout: string;
  stderr: string;
  /** The exit code oclif would give the process (0 when run() returned). */
  exitCode: number;
}

/**
 * Runs an oclif command class in this process, capturing stdout and stderr. A thrown oclif
 * error (ExitError from handleError, a flag error) is turned into its exit code, as oclif's
 * handler would; anything else is rethrown.
 */
export async function runCommand<T>(command: { run(argv: string[], root: string): Promise<unknown> }, argv: string[]): Promise<CommandOutcome<T>> {
  let stdout = '';
  let stderr = '';
  const spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true)),
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)),
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void (stdout += `${args.join(' ')}\n`)),
    vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void (stderr += `${args.join(' ')}\n`)),
  ];
  try {
    const result = (await command.run(argv, repoRoot)) as T;
    return { result, stdout, stderr, exitCode: 0 };
  } catch (error) {
    const exit = (error as { oclif?: { exit?: number } }).oclif?.exit;
    if (exit === undefined) throw error;
    return { stdout, stderr, exitCode: exit };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

/**
 * The CLI's entry point run from the TypeScript sources: oclif's `execute`, as bin/run.js calls
 * it, with the root plugin reading src/commands and ignoring any oclif.manifest.json. bin/dev.js
 * cannot be used for this: oclif 4.14 fails to register this tsx version and falls back to
 * dist/, and it prefers a leftover manifest (which lists dist/ files), so it runs whatever was
 * built last. Running from src needs no build and cannot race another test's `rm -rf dist`.
 */
const SOURCE_ENTRY = `
import { readFileSync } from 'node:fs';
import { execute, Plugin } from '@oclif/core';
const root = process.cwd();
const pjson = JSON.parse(readFileSync('package.json', 'utf8'));
pjson.oclif.commands = './src/commands';
const plugin = new Plugin({ root, isRoot: true, pjson, ignoreManifest: true });
await plugin.load();
await execute({ args: process.argv.slice(1), loadOptions: { root, pjson, plugins: new Map([[plugin.name, plugin]]) } });
`;

/** Runs the CLI as a real process, to prove the process exit code (in-process runs cannot). */
export function spawnCli(args: string[]): { stdout: string; stderr: string; status: number | null } {
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SOURCE_ENTRY, ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 60_000,
  });
  return { stdout: child.stdout, stderr: child.stderr, status: child.status };
}
