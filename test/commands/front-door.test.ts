import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';

const runJs = join(repoRoot, 'bin', 'run.js');
const node = (args: string[]) => spawnSync(process.execPath, args, { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 30_000 });
/** oclif's own answer, bypassing the front door. */
const oclif = (args: string[]) => node(['-e', `import('@oclif/core').then((m) => m.execute({ dir: ${JSON.stringify(pathToFileURL(runJs).href)}, args: ${JSON.stringify(args)} }))`]);

describe('manifest-only front door (bin/front-door.js)', () => {
  it.each([['--help'], ['--version'], []])('answers %j exactly as oclif does', (...flag) => {
    const fast = node([runJs, ...flag]);
    expect(fast.status).toBe(0);
    expect(fast.stdout).toBe(oclif(flag).stdout);
    expect(fast.stdout.length).toBeGreaterThan(10);
  });

  it('hands everything else to oclif (a command help, an unknown flag)', () => {
    expect(node([runJs, 'contain', '--help']).stdout).toContain('$ cicd-ir contain');
    expect(node([runJs, '--nope']).status).not.toBe(0);
  });
});
