import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import Validate, { type ValidateResult } from '../../src/commands/validate.js';
import type { ErrorJson } from '../../src/ui/errors.js';
import { runCommand, spawnCli } from '../helpers/cli.js';

// The real registry fills up in other branches: in-process runs use the fake actions.
vi.mock('../../src/actions/index.js', async () => {
  const { fakeActions } = await import('../helpers/fake-actions.js');
  return { actions: fakeActions, findAction: (id: string) => fakeActions.find((action) => action.id === id) };
});

let dir: string;
let good: string;
let bad: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cicd-ir-validate-'));
  good = join(dir, 'good.yaml');
  bad = join(dir, 'bad.yaml');
  await writeFile(good, 'name: good\nsteps:\n  - id: a\n    uses: github.disable-workflow\n    with: { repo: a/b, workflow: w.yml }\n');
  await writeFile(bad, 'name: bad\nsteps:\n  - id: a\n    uses: github.disable-workflow\n    with: { repo: a/b, workflow: w.yml }\n    needs: [ghost]\n');
});

describe('cicd-ir validate', () => {
  it('prints file: ok for a valid playbook and exits 0', async () => {
    // Given a valid playbook; when validated
    const outcome = await runCommand<ValidateResult>(Validate, [good]);
    // Then it is reported ok
    expect(outcome.exitCode).toBe(0);
    expect(outcome.stdout).toBe(`${good}: ok\n`);
    expect(outcome.stderr).toBe('');
  });

  it('reports every issue of every file as file:line:col: message on stderr, exit 2', async () => {
    // Given a good file, a bad file and a missing file
    const missing = join(dir, 'missing.yaml');
    const outcome = await runCommand(Validate, [good, bad, missing]);
    // Then the good one is ok, the others are listed, and the exit code is 2
    expect(outcome.exitCode).toBe(2);
    expect(outcome.stdout).toBe(`${good}: ok\n`);
    expect(outcome.stderr).toBe(
      `${bad}:6:13: needs 'ghost': no such step (steps: a)\n${missing}:1:1: cannot read playbook ${missing}: no such file\n`,
    );
  });

  it('--json gives the files when all are valid, the issues when not', async () => {
    const ok = await runCommand<ValidateResult>(Validate, [good, '--json']);
    expect(ok.exitCode).toBe(0);
    expect(ok.result).toEqual({ files: [{ file: good, name: 'good', steps: 1 }] });
    expect(JSON.parse(ok.stdout)).toEqual(ok.result);

    const failed = await runCommand(Validate, [bad, '--json']);
    expect(failed.exitCode).toBe(2);
    const json = JSON.parse(failed.stdout) as ErrorJson;
    expect(json.error).toMatchObject({ name: 'ValidationError', exitCode: 2 });
    expect(json.error.issues).toEqual([{ file: bad, line: 6, col: 13, message: "needs 'ghost': no such step (steps: a)" }]);
  });

  it('needs at least one file', async () => {
    const outcome = await runCommand(Validate, []);
    expect(outcome.exitCode).toBe(2);
  });

  it('exits 2 as a real process, with no stack trace', async () => {
    // Given a playbook naming an action that is not registered (the real, separate process has no fakes)
    const unknown = join(dir, 'unknown-action.yaml');
    await writeFile(unknown, 'name: bad\nsteps:\n  - id: a\n    uses: github.no-such-action\n    with: { repo: a/b }\n');
    const { status, stderr, stdout } = spawnCli(['validate', unknown]);
    // Then the process exit code is 2 and stderr holds only the located message
    expect(status).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(new RegExp(`^${unknown.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4:11: unknown action 'github.no-such-action'`));
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
