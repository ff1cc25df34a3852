import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import Restore from '../../src/commands/restore.js';
import { actions } from '../../src/actions/index.js';
import { runPlaybook } from '../../src/engine/execute.js';
import { parsePlaybook } from '../../src/engine/playbook.js';
import type { RestoreResult } from '../../src/engine/restore.js';
import { createClients } from '../../src/providers/index.js';
import { commandRuntime } from '../../src/ui/runtime.js';
import { runCommand } from '../helpers/cli.js';
import { startFullLab, type FullLab } from '../helpers/full-lab.js';
import { restoreScenario } from '../engine/fixtures/restore-scenario.js';

/** The terminal the command sees: none by default (as in CI); a test makes it interactive with answers. */
const terminal = vi.hoisted(() => ({ interactive: false, answers: [] as string[], questions: [] as string[] }));
vi.mock('../../src/ui/confirm.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../src/ui/confirm.js')>()),
  processTerminal: () => ({
    interactive: terminal.interactive,
    ask: async (question: string) => {
      terminal.questions.push(question);
      return terminal.answers.shift() ?? '';
    },
  }),
}));

const saved = { ...commandRuntime };
let lab: FullLab;
let out: string;
let runId: string;

const workflowState = () => lab.github.state.workflow('acme/app', 'deploy.yml').state;

beforeAll(async () => {
  // Given a lab and a containment run that disabled the deploy workflow
  lab = await startFullLab(restoreScenario);
  out = mkdtempSync(join(tmpdir(), 'cicd-ir-restore-cmd-'));
  const playbook = parsePlaybook('name: c\nsteps:\n  - id: disable\n    uses: github.disable-workflow\n    with: { repo: acme/app, workflow: deploy.yml }\n', 'c.yaml', { registry: actions });
  const run = await runPlaybook({ playbook, inputs: {}, clients: createClients(lab.config()), dryRun: false, incident: 'IR-cmd', outDir: out, registry: actions });
  runId = run.runId;
  // The command builds its clients through commandRuntime, here pointed at the lab.
  commandRuntime.createClients = (config) => createClients({ ...lab.config({ dryRun: config.dryRun }), onApiCall: config.onApiCall });
});
afterAll(async () => {
  Object.assign(commandRuntime, saved);
  await lab?.close();
  rmSync(out, { recursive: true, force: true });
});

describe('cicd-ir restore', () => {
  it('refuses without --yes when there is no terminal (exit 2), before any request', async () => {
    const seen = lab.requests.length;
    const outcome = await runCommand(Restore, [runId, '--out', out]);
    expect(outcome.exitCode).toBe(2);
    expect(outcome.stderr).toMatch(/pass --yes/);
    expect(lab.requests.length).toBe(seen);
  });

  it('rejects a bad run id and a missing RUN with exit 2', async () => {
    expect((await runCommand(Restore, ['../etc', '--out', out])).exitCode).toBe(2);
    expect((await runCommand(Restore, ['--out', out])).exitCode).toBe(2);
  });

  it('--dry-run --json plans the undo and changes nothing', async () => {
    const seen = lab.requests.length;
    const outcome = await runCommand<RestoreResult>(Restore, ['--latest', '--out', out, '--dry-run', '--json']);
    expect(outcome.exitCode).toBe(0);
    expect(outcome.result!.sourceRunId).toBe(runId);
    expect(outcome.result!.items.map((item) => `${item.key}:${item.status}`)).toEqual(['disable:planned']);
    expect(lab.requests.length).toBe(seen);
    expect(workflowState()).toBe('disabled_manually');
  });

  it('on a terminal, asks before the undo; "no" leaves it as it is (exit 3)', async () => {
    terminal.interactive = true;
    terminal.answers = ['no'];
    try {
      const outcome = await runCommand<RestoreResult>(Restore, [runId, '--out', out]);
      expect(terminal.questions).toEqual([expect.stringMatching(/^Undo disable \(github\.disable-workflow\): .*\? \[yes\/no\] $/)]);
      expect(outcome.exitCode).toBe(3);
      expect(outcome.stdout).toMatch(/disable\s+github\.disable-workflow\s+declined/);
      expect(workflowState()).toBe('disabled_manually');
    } finally {
      terminal.interactive = false;
    }
  });

  it('--yes undoes it, prints the table, and a second --yes changes nothing', async () => {
    const outcome = await runCommand<RestoreResult>(Restore, [runId, '--out', out, '--yes']);
    expect(outcome.exitCode).toBe(0);
    expect(outcome.stdout).toMatch(/disable\s+github\.disable-workflow\s+restored/);
    expect(workflowState()).toBe('active');
    // --latest skips restore runs: it still means the containment run
    const again = await runCommand<RestoreResult>(Restore, ['--latest', '--out', out, '--yes', '--json']);
    expect(again.exitCode).toBe(0);
    expect(again.result!.items.map((item) => `${item.key}:${item.decision}`)).toEqual(['disable:already']);
  });
});
