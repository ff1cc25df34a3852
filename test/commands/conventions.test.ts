import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';

/** The built CLI (npm run build), as a user runs it. */
function cli(args: string[]) {
  const child = spawnSync(process.execPath, [join(repoRoot, 'bin', 'run.js'), ...args], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 30_000 });
  return { status: child.status, stdout: child.stdout, stderr: child.stderr };
}

describe('one error shape and exit code for every command and flag error', () => {
  it.each([
    [['contain', '--dryrun', '--json'], /Nonexistent flag: --dryrun/, /did you mean --dry-run/],
    [['hunt', '--bogus', '--json'], /Nonexistent flag: --bogus/, /--help/],
    [['report', '--json'], /Missing 1 required arg/, /--help/],
    [['run', 'playbooks/contain-compromised-workflow.yaml', '--resume', 'a', '--latest', '--json'], /cannot also be provided/, /--help/],
    [['contian', '--json'], /command contian not found/, /did you mean: cicd-ir contain/],
  ])('%j: exit 2, {error: {name, message, exitCode, suggestions}} and nothing of oclif', (args, message, suggestion) => {
    const run = cli(args);
    expect(run.status).toBe(2);
    expect(run.stdout.length).toBeLessThan(2_000);
    const json = JSON.parse(run.stdout) as { error: Record<string, unknown> };
    expect(Object.keys(json.error).sort()).toEqual(['exitCode', 'message', 'name', 'suggestions']);
    expect(json.error.name).toBe('UsageError');
    expect(json.error.exitCode).toBe(2);
    expect(json.error.message).toMatch(message);
    expect((json.error.suggestions as string[]).join('\n')).toMatch(suggestion);
  });

  it('without --json the same error is text on stderr with the suggestion, exit 2', () => {
    const run = cli(['contain', '--dryrun']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('Nonexistent flag: --dryrun');
    expect(run.stderr).toContain('did you mean --dry-run?');
    expect(run.stderr).not.toContain('\u001b[');
  });

  it('`help contain` shows the help of contain', () => {
    const run = cli(['help', 'contain']);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('Contain a compromised GitHub Actions workflow');
    expect(run.stdout).toContain('$ cicd-ir contain');
  });
});
