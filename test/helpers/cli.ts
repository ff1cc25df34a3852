import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
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
 * The CLI run from the TypeScript sources: bin/dev.js registers tsx and points oclif's root
 * plugin at src/commands, ignoring any oclif.manifest.json. No build needed, and no race with a
 * test that rebuilds dist/.
 */
export const DEV_ENTRY = join(repoRoot, 'bin', 'dev.js');

/** Runs the CLI as a real process, to prove the process exit code (in-process runs cannot). */
export function spawnCli(args: string[]): { stdout: string; stderr: string; status: number | null } {
  const child = spawnSync(process.execPath, [DEV_ENTRY, ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 60_000,
  });
  return { stdout: child.stdout, stderr: child.stderr, status: child.status };
}
