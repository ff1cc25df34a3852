import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { format } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import Contain, { CONTAIN_PLAYBOOK } from '../../src/commands/contain.js';
import Plan from '../../src/commands/plan.js';
import Run from '../../src/commands/run.js';
import { readJournal } from '../../src/engine/journal.js';
import { listRunIds } from '../../src/engine/run-dir.js';
import { commandRuntime } from '../../src/ui/runtime.js';
import { noClients, probeActions, recordAction, type ProbeBehaviour } from '../engine/fixtures/fake-actions.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const saved = { ...commandRuntime };
let dir: string;
let out: string;
let behaviour: ProbeBehaviour;
let stdout: string;
let stderr: string;
let configs: Array<{ dryRun: boolean; incident: string }>;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cicd-ir-cmd-'));
  out = join(dir, 'runs');
  behaviour = { log: [] };
  configs = [];
  commandRuntime.registry = [...probeActions(behaviour), recordAction];
  commandRuntime.createClients = (config) => {
    configs.push({ dryRun: config.dryRun, incident: config.incident });
    return noClients;
  };
  stdout = '';
  stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += chunk.toString();
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += chunk.toString();
    return true;
  });
  // oclif's this.log / logJson print through console.log, which vitest intercepts.
  vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    stdout += `${format(...args)}\n`;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
  Object.assign(commandRuntime, saved);
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const PROBE_PLAYBOOK = `name: probe
inputs:
  repos: { type: 'string[]', required: true }
  incident: { type: string, default: IR-7 }
steps:
  - id: inventory
    uses: test.read
    with: { label: inventory }
  - id: disable
    uses: test.probe
    for_each: \${{ inputs.repos }}
    with: { label: "\${{ item }}" }
`;

/** Runs a command class in-process; resolves to its exit code (oclif's ExitError carries it). */
async function exitCode(run: Promise<unknown>): Promise<number> {
  try {
    await run;
    return 0;
  } catch (error) {
    const code = (error as { oclif?: { exit?: number } }).oclif?.exit;
    if (code === undefined) throw error;
    return code;
  }
}

describe('cicd-ir run', () => {
  it('refuses a run that changes things without --yes when there is no terminal (exit 2)', async () => {
    // Given a playbook with a mutating step, and no TTY (vitest's stdin is not one)
    const file = write('p.yaml', PROBE_PLAYBOOK);
    // When it is run without --yes
    const code = await exitCode(Run.run([file, '--var', 'repos=acme/web', '--out', out], root));
    // Then nothing ran and the message says to pass --yes
    expect(code).toBe(2);
    expect(stderr).toMatch(/refusing to run probe for incident IR-7.*without confirmation/);
    expect(stderr).toMatch(/pass --yes/);
    expect(behaviour.log).toEqual([]);
    expect(listRunIds(out)).toEqual([]);
  });

  it('runs with --yes, prints a line per event and a summary, and journals the run', async () => {
    const file = write('p.yaml', PROBE_PLAYBOOK);
    const code = await exitCode(Run.run([file, '--var', 'repos=acme/web', '--var', 'repos=acme/api', '--out', out, '--yes'], root));
    expect(code).toBe(0);
    expect(stderr).toContain('[disable] fans out into 2: disable[0], disable[1]');
    expect(stderr).toContain('[disable[1]] verified: ok');
    expect(stdout).toMatch(/ok\s+disable\[0\]\s+test\.probe: ok/);
    expect(stdout).toMatch(/run \S+: succeeded \(exit 0\)/);
    expect(configs).toEqual([{ dryRun: false, incident: 'IR-7' }]);
    const [runId] = listRunIds(out);
    expect(readJournal(join(out, runId!, 'journal.jsonl')).records.at(-1)).toMatchObject({ type: 'run-end', status: 'succeeded' });
  });

  it('prints only JSON with --json and exits with the run exit code', async () => {
    // Given a step that fails
    behaviour.apply = async (input) => {
      if (input.label === 'acme/api') throw new Error('forbidden');
    };
    const file = write('p.yaml', PROBE_PLAYBOOK);
    // When run with --json
    const code = await exitCode(Run.run([file, '--var', 'repos=acme/web,acme/api', '--out', out, '--yes', '--json'], root));
    // Then exit 1, stdout is one JSON document, no progress lines
    expect(code).toBe(1);
    const json = JSON.parse(stdout) as { status: string; exitCode: number; steps: Array<{ key: string; status: string }> };
    expect(json).toMatchObject({ status: 'failed', exitCode: 1 });
    expect(json.steps.find((s) => s.key === 'disable[1]')).toMatchObject({ status: 'failed', detail: 'forbidden' });
    expect(stderr).toBe('');
  });

  it('reports a bad playbook as file:line:col with exit 2 and no stack trace', async () => {
    const file = write('bad.yaml', 'name: bad\nsteps:\n  - id: x\n    uses: test.nope\n');
    const code = await exitCode(Run.run([file, '--out', out, '--yes'], root));
    expect(code).toBe(2);
    expect(stderr).toMatch(/bad\.yaml:4:\d+: .*test\.nope/);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(configs).toEqual([]);
  });

  it('resumes the latest run, reusing its inputs', async () => {
    // Given a run whose second repo failed
    let fail = true;
    behaviour.apply = async (input) => {
      if (input.label === 'acme/api' && fail) throw new Error('flaky');
    };
    const file = write('p.yaml', PROBE_PLAYBOOK);
    expect(await exitCode(Run.run([file, '--var', 'repos=acme/web,acme/api', '--out', out, '--yes'], root))).toBe(1);
    expect(stdout).toMatch(/continue it with: --resume /);
    // When resumed with --latest and no --var
    fail = false;
    behaviour.log.length = 0;
    const code = await exitCode(Run.run([file, '--latest', '--out', out, '--yes'], root));
    // Then only the failed key was applied again; the completed ones were verified
    expect(code).toBe(0);
    expect(behaviour.log.filter((l) => l.startsWith('apply'))).toEqual(['apply disable[1]']);
    expect(behaviour.log).toEqual(expect.arrayContaining(['verify inventory', 'verify disable[0]']));
    expect(listRunIds(out)).toHaveLength(1);
  });
});

describe('cicd-ir plan', () => {
  it('prints the changes and exact API calls, making no mutating call and asking nothing', async () => {
    const file = write('p.yaml', PROBE_PLAYBOOK);
    const code = await exitCode(Plan.run([file, '--var', 'repos=acme/web', '--out', out], root));
    expect(code).toBe(0);
    expect(stdout).toContain('disable[0]  test.probe');
    expect(stdout).toContain('  would call  PUT /repos/acme/web/probe label=acme/web');
    expect(stdout).toContain('inventory  test.read (read-only: ran)');
    expect(stdout).toContain('1 mutating call(s) planned, none made.');
    expect(behaviour.log).not.toContain('apply disable[0]');
    expect(configs).toEqual([{ dryRun: true, incident: 'IR-7' }]);
  });

  it('--json gives the plan as data', async () => {
    const file = write('p.yaml', PROBE_PLAYBOOK);
    await Plan.run([file, '--var', 'repos=acme/web', '--out', out, '--json'], root);
    const json = JSON.parse(stdout) as { mutatingCalls: number; steps: Array<{ key: string; calls: Array<{ text: string }> }> };
    expect(json.mutatingCalls).toBe(1);
    expect(json.steps.find((s) => s.key === 'disable[0]')!.calls[0]!.text).toBe('PUT /repos/acme/web/probe label=acme/web');
  });
});

describe('cicd-ir contain', () => {
  it('runs the containment playbook with its flags as inputs', async () => {
    // Given a stand-in for the shipped playbook that declares the same inputs
    const file = write(
      'contain.yaml',
      `name: contain
inputs:
  repos: { type: 'string[]', required: true }
  workflow: { type: string, required: true }
  roles: { type: 'string[]' }
  since: { type: timestamp }
  incident: { type: string, required: true }
steps:
  - id: disable
    uses: test.probe
    for_each: \${{ inputs.repos }}
    with: { label: "\${{ item }}/\${{ inputs.workflow }}" }
  - id: revoke
    uses: test.probe
    for_each: \${{ inputs.roles }}
    with: { label: "\${{ item }} since \${{ inputs.since }}" }
`,
    );
    // When contain runs as a dry run
    const code = await exitCode(
      Contain.run(
        ['--playbook', file, '--repo', 'acme/web', '--repo', 'acme/api', '--workflow', 'deploy.yml', '--role', 'arn:aws:iam::111122223333:role/deploy',
          '--since', '2026-11-25T14:00:00+01:00', '--incident', 'IR-42', '--dry-run', '--out', out, '--json'],
        root,
      ),
    );
    // Then each flag reached the playbook as its input, and nothing was applied
    expect(code).toBe(0);
    const json = JSON.parse(stdout) as { status: string; steps: Array<{ key: string; plan: { changes: Array<{ summary: string }> } }> };
    expect(json.status).toBe('planned');
    expect(json.steps.map((s) => [s.key, s.plan.changes[0]!.summary])).toEqual([
      ['disable[0]', 'poke acme/web/deploy.yml'],
      ['disable[1]', 'poke acme/api/deploy.yml'],
      ['revoke[0]', 'poke arn:aws:iam::111122223333:role/deploy since 2026-11-25T13:00:00.000Z'],
    ]);
    expect(configs).toEqual([{ dryRun: true, incident: 'IR-42' }]);
  });

  it('resolves the shipped playbook from the package root', () => {
    expect(CONTAIN_PLAYBOOK).toBe(join(root, 'playbooks', 'contain-compromised-workflow.yaml'));
  });
});
