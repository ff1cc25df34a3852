import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ActionDefinition } from '../../src/actions/define.js';
import type { EngineEvent } from '../../src/engine/events.js';
import { runPlaybook, type RunOptions } from '../../src/engine/execute.js';
import { readJournal } from '../../src/engine/journal.js';
import type { Playbook } from '../../src/engine/model.js';
import { newRunId } from '../../src/engine/run-dir.js';
import { isSecret, Secret } from '../../src/engine/secret.js';
import { defineAction } from '../../src/actions/define.js';
import { z } from 'zod';
import { crashPlaybook } from './fixtures/crash-run.js';
import { noClients, playbook, probeActions, recordAction, secretOutput, type ProbeBehaviour } from './fixtures/fake-actions.js';

let dir: string;
let out: string;
let events: EngineEvent[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cicd-ir-resume-'));
  out = join(dir, 'runs');
  events = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function run(book: Playbook, registry: readonly ActionDefinition[], extra: Partial<RunOptions> = {}) {
  return runPlaybook({
    playbook: book,
    inputs: {},
    clients: noClients,
    dryRun: false,
    incident: 'IR-1',
    outDir: out,
    registry,
    onEvent: (event) => events.push(event),
    ...extra,
  });
}

async function waitFor(path: string, child: { exitCode: number | null }): Promise<void> {
  while (!existsSync(path)) {
    if (child.exitCode !== null) throw new Error(`child exited (${child.exitCode}) before ${path} appeared`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function count(lines: string[], wanted: string): number {
  return lines.filter((line) => line === wanted).length;
}

describe('resume', () => {
  it('continues a run whose process was SIGKILLed mid-step, applying nothing twice', async () => {
    // Given a child process running the crash playbook, killed while step b is applying
    const runId = newRunId();
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/engine/fixtures/crash-run.ts', out, runId, dir], {
      env: { ...process.env, CICD_IR_TEST_HANG: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await waitFor(join(dir, 'marker'), child).catch((error: Error) => {
      throw new Error(`${error.message}\n${stderr}`);
    });
    const exited = new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const crashed = readJournal(join(out, runId, 'journal.jsonl'));
    expect(crashed.records.some((r) => r.type === 'run-end')).toBe(false);
    expect(crashed.records.some((r) => r.type === 'step' && r.key === 'a' && r.phase === 'applied')).toBe(true);

    // When the run is resumed (in this process; the dead child's lock is stale)
    const result = await run(crashPlaybook(dir), [recordAction], { runId, resume: true });

    // Then every side effect happened exactly once and a was not applied again, only verified
    expect(result).toMatchObject({ status: 'succeeded', exitCode: 0 });
    const effects = readFileSync(join(dir, 'effects.txt'), 'utf8').split('\n').filter(Boolean);
    expect([...effects].sort()).toEqual(['a', 'b', 'c', 'd', 'e-x', 'e-y']);
    const calls = readFileSync(join(dir, 'calls.txt'), 'utf8').split('\n').filter(Boolean);
    expect(count(calls, 'apply a')).toBe(1);
    expect(count(calls, 'verify a')).toBe(2);
    expect(count(calls, 'apply c')).toBe(1);
    expect(result.steps.find((s) => s.key === 'a')).toMatchObject({ status: 'verified', resumed: true });
    expect(events.find((e) => e.type === 'log' && e.message.includes('stale lock'))).toBeDefined();
    // And the journal parses whole: two run-starts, one run-end
    const journal = readJournal(join(out, runId, 'journal.jsonl'));
    expect(journal.skipped).toEqual([]);
    expect(journal.records.filter((r) => r.type === 'run-start')).toHaveLength(2);
    expect(journal.records.filter((r) => r.type === 'run-end')).toHaveLength(1);
    const seqs = journal.records.map((r) => r.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('re-applies failed steps and only verifies completed ones', async () => {
    // Given a run where b failed after a completed
    const behaviour: ProbeBehaviour = { log: [] };
    let failB = true;
    behaviour.apply = async (input) => {
      if (input.label === 'b' && failB) throw new Error('b broke');
    };
    const book = playbook([
      { id: 'a', uses: 'test.probe', with: { label: 'a' } },
      { id: 'b', uses: 'test.probe', needs: ['a'], with: { label: 'b' } },
    ]);
    const first = await run(book, probeActions(behaviour));
    expect(first.exitCode).toBe(1);
    // When it is resumed with b fixed
    failB = false;
    behaviour.log.length = 0;
    const second = await run(book, probeActions(behaviour), { runId: first.runId, resume: true });
    // Then a was verified only, b planned and applied again
    expect(second.exitCode).toBe(0);
    expect(behaviour.log).toEqual(['verify a', 'plan b', 'apply b', 'verify b']);
  });

  it('re-applies a completed step whose input changed', async () => {
    const behaviour: ProbeBehaviour = { log: [] };
    const book = playbook([{ id: 'a', uses: 'test.probe', with: { label: '${{ inputs.who }}' } }]);
    const first = await run(book, probeActions(behaviour), { inputs: { who: 'x' } });
    behaviour.log.length = 0;
    await run(book, probeActions(behaviour), { runId: first.runId, resume: true, inputs: { who: 'y' } });
    expect(behaviour.log).toEqual(['plan a', 'apply a', 'verify a']);
  });

  it('applies a completed step again when a step still to do needs its secret output', async () => {
    // Given mint completed with a Secret output and use (which receives it) failed
    const behaviour: ProbeBehaviour = { log: [] };
    let failUse = true;
    behaviour.apply = async (input) => {
      if (input.label === 'mint') return secretOutput('s3cr3t-value-for-resume');
      if (failUse) throw new Error('consumer down');
    };
    const book = playbook([
      { id: 'mint', uses: 'test.probe', with: { label: 'mint' } },
      { id: 'use', uses: 'test.probe', with: { label: 'use', value: '${{ steps.mint.outputs.token }}' } },
    ]);
    const first = await run(book, probeActions(behaviour));
    expect(first.exitCode).toBe(1);
    // When resumed
    failUse = false;
    behaviour.log.length = 0;
    const second = await run(book, probeActions(behaviour), { runId: first.runId, resume: true });
    // Then mint was applied again (the journal only has the fingerprint), saying why
    expect(second.exitCode).toBe(0);
    expect(behaviour.log).toEqual(['plan mint', 'apply mint', 'verify mint', 'plan use', 'apply use', 'verify use']);
    expect(events.some((e) => e.type === 'log' && /secret output token is not in the journal/.test(e.message))).toBe(true);
  });

  it('verifies a completed consumer of a secret without applying anything again', async () => {
    // Given mint (secret output) and put (whose schema wants a real Secret) completed, and a later step failed
    const log: string[] = [];
    let failLast = true;
    const mint = defineAction({
      id: 'test.mint',
      summary: 'mints a secret',
      schema: z.strictObject({}),
      permissions: ['test:mint'],
      mutating: true,
      outputs: { token: 'the secret' },
      secretOutputs: ['token'],
      example: {},
      plan: async () => ({ changes: [], calls: [] }),
      apply: async () => {
        log.push('apply mint');
        return { changed: true, outputs: { token: new Secret('minted-secret-value-42', 'token') } };
      },
      verify: async () => ({ verified: true, detail: 'minted' }),
    });
    const put = defineAction({
      id: 'test.put',
      summary: 'stores a secret',
      schema: z.strictObject({ token: z.custom<Secret>(isSecret, 'expected a Secret') }),
      permissions: ['test:put'],
      mutating: true,
      outputs: {},
      example: {},
      plan: async () => ({ changes: [], calls: [] }),
      apply: async (_ctx, input) => {
        log.push(`apply put ${input.token.fingerprint}`);
        return { changed: true, outputs: {} };
      },
      verify: async () => {
        log.push('verify put');
        return { verified: true, detail: 'stored' };
      },
    });
    const last = defineAction({ ...mint, id: 'test.last', secretOutputs: [], outputs: {}, apply: async () => {
      if (failLast) throw new Error('not yet');
      log.push('apply last');
      return { changed: true, outputs: {} };
    } });
    const book = playbook([
      { id: 'mint', uses: 'test.mint' },
      { id: 'put', uses: 'test.put', with: { token: '${{ steps.mint.outputs.token }}' } },
      { id: 'last', uses: 'test.last', needs: ['put'] },
    ]);
    const first = await run(book, [mint, put, last]);
    expect(first.exitCode).toBe(1);
    // When resumed
    failLast = false;
    log.length = 0;
    const second = await run(book, [mint, put, last], { runId: first.runId, resume: true });
    // Then nothing completed was applied again: put was verified with the journalled fingerprint
    expect(second.exitCode).toBe(0);
    expect(log).toEqual(['verify put', 'apply last']);
  });

  it('does not re-apply a producer for fanned-out consumer items that their own if: skipped', async () => {
    // Given mint (secret output) and a for_each consumer whose second item is skipped by if:,
    // both completed, and a later step that failed
    const log: string[] = [];
    let failLast = true;
    const mint = defineAction({
      id: 'test.mint',
      summary: 'mints a secret',
      schema: z.strictObject({}),
      permissions: ['test:mint'],
      mutating: true,
      outputs: { token: 'the secret' },
      secretOutputs: ['token'],
      example: {},
      plan: async () => ({ changes: [], calls: [] }),
      apply: async () => {
        log.push('apply mint');
        return { changed: true, outputs: { token: new Secret('minted-secret-value-43', 'token') } };
      },
      verify: async () => ({ verified: true, detail: 'minted' }),
    });
    const put = defineAction({
      ...mint,
      id: 'test.put',
      schema: z.strictObject({ token: z.custom<Secret>(isSecret, 'expected a Secret'), name: z.string() }),
      secretOutputs: [],
      outputs: {},
      apply: async (_ctx, input: { name: string }) => {
        log.push(`apply put ${input.name}`);
        return { changed: true, outputs: {} };
      },
      verify: async () => ({ verified: true, detail: 'stored' }),
    });
    const last = defineAction({ ...mint, id: 'test.last', secretOutputs: [], outputs: {}, apply: async () => {
      if (failLast) throw new Error('not yet');
      log.push('apply last');
      return { changed: true, outputs: {} };
    } });
    const book = playbook([
      { id: 'mint', uses: 'test.mint' },
      { id: 'put', uses: 'test.put', for_each: ['KEY', 'OTHER'], if: "${{ item == 'KEY' }}", with: { token: '${{ steps.mint.outputs.token }}', name: '${{ item }}' } },
      { id: 'last', uses: 'test.last', needs: ['put'] },
    ]);
    const first = await run(book, [mint, put, last]);
    expect(first.exitCode).toBe(1);
    // When resumed
    failLast = false;
    log.length = 0;
    const second = await run(book, [mint, put, last], { runId: first.runId, resume: true });
    // Then mint was not applied again (a second access key, in real life): the skipped item needs nothing
    expect(second.exitCode).toBe(0);
    expect(log).toEqual(['apply last']);
  });

  it('refuses to resume when the playbook changed (exit 2)', async () => {
    const behaviour: ProbeBehaviour = { log: [] };
    const first = await run(playbook([{ id: 'a', uses: 'test.probe' }], 'sha256:one'), probeActions(behaviour));
    await expect(
      run(playbook([{ id: 'a', uses: 'test.probe' }], 'sha256:two'), probeActions(behaviour), { runId: first.runId, resume: true }),
    ).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/playbook changed/) });
  });

  it('refuses to start a new run over an existing run id (exit 2)', async () => {
    const behaviour: ProbeBehaviour = { log: [] };
    const book = playbook([{ id: 'a', uses: 'test.probe' }]);
    const first = await run(book, probeActions(behaviour));
    await expect(run(book, probeActions(behaviour), { runId: first.runId })).rejects.toMatchObject({ exitCode: 2 });
  });
});
