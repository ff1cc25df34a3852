import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ActionDefinition } from '../../src/actions/define.js';
import type { EngineEvent } from '../../src/engine/events.js';
import { runPlaybook, type RunOptions } from '../../src/engine/execute.js';
import { readJournal } from '../../src/engine/journal.js';
import type { Playbook } from '../../src/engine/model.js';
import { noClients, playbook, probeActions, secretOutput, type ProbeBehaviour } from './fixtures/fake-actions.js';

let out: string;
let behaviour: ProbeBehaviour;
let registry: ActionDefinition[];
let events: EngineEvent[];

beforeEach(() => {
  out = mkdtempSync(join(tmpdir(), 'cicd-ir-exec-'));
  behaviour = { log: [] };
  registry = probeActions(behaviour);
  events = [];
});
afterEach(() => rmSync(out, { recursive: true, force: true }));

function run(book: Playbook, extra: Partial<RunOptions> = {}) {
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

/** Resolves when `count` callers have arrived: proves they were in flight at the same time. */
function barrier(count: number) {
  let arrived = 0;
  let release!: () => void;
  const all = new Promise<void>((resolve) => (release = resolve));
  return async () => {
    arrived++;
    if (arrived === count) release();
    await all;
  };
}

describe('runPlaybook', () => {
  it('runs independent steps concurrently', async () => {
    // Given two steps with no dependency whose applies each wait for the other to start
    const bothStarted = barrier(2);
    behaviour.apply = async () => {
      await bothStarted();
      return { value: 1 };
    };
    // (a timeout turns a sequential scheduler into a failure instead of a hang)
    const book = playbook([
      { id: 'a', uses: 'test.probe', timeoutMs: 2_000 },
      { id: 'b', uses: 'test.probe', timeoutMs: 2_000 },
    ]);
    // When the playbook runs
    const result = await run(book);
    // Then both finished verified: each apply was in flight while the other started
    expect(result.steps.map((s) => [s.key, s.status])).toEqual([
      ['a', 'verified'],
      ['b', 'verified'],
    ]);
    expect(result.exitCode).toBe(0);
    expect(result.status).toBe('succeeded');
  });

  it('bounds concurrency across fan-out keys', async () => {
    // Given a for_each over six items and a concurrency of 2
    let inFlight = 0;
    let peak = 0;
    behaviour.apply = async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
    };
    const book = playbook([{ id: 'fan', uses: 'test.probe', for_each: [1, 2, 3, 4, 5, 6], with: { value: '${{ item }}' } }]);
    // When it runs
    const result = await run(book, { concurrency: 2 });
    // Then never more than two applies overlapped, and two did
    expect(peak).toBe(2);
    expect(result.steps).toHaveLength(6);
  });

  it('lets a containment change ahead of queued read-only work when every slot is taken', async () => {
    // Given one slot, a read-only fan-out of four (a log scan per repository) and a mutating
    // step (disable) that becomes ready while three of the reads still wait for the slot
    behaviour.apply = async () => {
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    };
    const book = playbook([
      { id: 'scan', uses: 'test.read', for_each: [1, 2, 3, 4], with: { value: '${{ item }}' } },
      { id: 'disable', uses: 'test.probe' },
    ]);
    // When it runs
    await run(book, { concurrency: 1 });
    // Then the change went through at the first free slot, before the reads that queued ahead of it
    const applies = behaviour.log.filter((line) => line.startsWith('apply'));
    expect(applies[0]).toBe('apply scan[0]');
    expect(applies[1]).toBe('apply disable');
    expect(applies.slice(2)).toEqual(['apply scan[1]', 'apply scan[2]', 'apply scan[3]']);
  });

  it('runs dependent steps in order, with implicit dependencies from expressions', async () => {
    // Given c reads b's output (no needs) and b needs a
    behaviour.apply = async (input) => ({ value: `${input.label}-out` });
    const book = playbook([
      { id: 'c', uses: 'test.probe', with: { label: 'c', value: '${{ steps.b.outputs.value }}' } },
      { id: 'b', uses: 'test.probe', needs: ['a'], with: { label: 'b' } },
      { id: 'a', uses: 'test.probe', with: { label: 'a' } },
    ]);
    // When it runs
    await run(book);
    // Then a completes before b starts, and b before c; c saw b's output
    const order = behaviour.log.filter((line) => line.startsWith('apply') || line.startsWith('verify'));
    expect(order).toEqual(['apply a', 'verify a', 'apply b', 'verify b', 'apply c', 'verify c']);
    const journal = readJournal(join(out, (events[0] as { runId: string }).runId, 'journal.jsonl'));
    const cStart = journal.records.find((r) => r.type === 'step' && r.key === 'c' && r.phase === 'start');
    expect(cStart && cStart.type === 'step' ? cStart.input : undefined).toEqual({ label: 'c', value: 'b-out' });
  });

  it('fans out for_each into indexed keys whose outputs become lists', async () => {
    // Given a fan-out over the repos input and a step that reads its outputs
    behaviour.apply = async (input) => ({ value: `done:${String(input.label)}` });
    const book = playbook([
      { id: 'fan', uses: 'test.probe', for_each: '${{ inputs.repos }}', with: { label: '${{ item }}' } },
      { id: 'after', uses: 'test.probe', with: { value: '${{ steps.fan.outputs.value }}' } },
    ]);
    // When it runs with three repos
    const result = await run(book, { inputs: { repos: ['acme/web', 'acme/api', 'acme/ops'] } });
    // Then three keys ran and the dependent got one output per item, in order
    expect(result.steps.map((s) => s.key)).toEqual(['fan[0]', 'fan[1]', 'fan[2]', 'after']);
    expect(events.find((e) => e.type === 'step-expanded')).toMatchObject({ keys: ['fan[0]', 'fan[1]', 'fan[2]'] });
    const journal = readJournal(join(result.runDir, 'journal.jsonl'));
    const after = journal.records.find((r) => r.type === 'step' && r.key === 'after' && r.phase === 'start');
    expect(after && after.type === 'step' ? after.input : undefined).toEqual({ value: ['done:acme/web', 'done:acme/api', 'done:acme/ops'] });
  });

  it('skips a step whose if is false, and still runs its dependents', async () => {
    // Given b is conditional on an input that is false, and c needs b
    const book = playbook([
      { id: 'b', uses: 'test.probe', if: 'inputs.flag == true' },
      { id: 'c', uses: 'test.probe', needs: ['b'], if: "steps.b.status == 'skipped'" },
    ]);
    // When it runs
    const result = await run(book, { inputs: { flag: false } });
    // Then b is skipped with the condition as reason, and c ran
    expect(result.steps[0]).toMatchObject({ key: 'b', status: 'skipped', detail: 'if: inputs.flag == true is false' });
    expect(result.steps[1]).toMatchObject({ key: 'c', status: 'verified' });
    expect(behaviour.log).not.toContain('apply b');
    expect(result.exitCode).toBe(0);
  });

  it('skips the dependents of a failed step, runs the others and exits 1', async () => {
    // Given a fails, b needs a, c depends on b, d is independent
    behaviour.apply = async (input) => {
      if (input.label === 'a') throw new Error('boom');
    };
    const book = playbook([
      { id: 'a', uses: 'test.probe', with: { label: 'a' } },
      { id: 'b', uses: 'test.probe', needs: ['a'], with: { label: 'b' } },
      { id: 'c', uses: 'test.probe', needs: ['b'], with: { label: 'c' } },
      { id: 'd', uses: 'test.probe', with: { label: 'd' } },
    ]);
    // When it runs
    const result = await run(book);
    // Then a failed, b and c were skipped with their reasons, d ran, exit 1
    expect(result.steps.map((s) => [s.key, s.status, s.detail])).toEqual([
      ['a', 'failed', 'boom'],
      ['b', 'skipped', 'dependency a failed'],
      ['c', 'skipped', 'dependency b was skipped because its own dependency failed'],
      ['d', 'verified', 'ok'],
    ]);
    expect(result).toMatchObject({ status: 'failed', exitCode: 1 });
  });

  it('lets dependents run after a failure with continue_on_error, and exits 3', async () => {
    // Given a fails with continue_on_error and b needs a
    behaviour.apply = async (input) => {
      if (input.label === 'a') throw new Error('partial');
    };
    const book = playbook([
      { id: 'a', uses: 'test.probe', with: { label: 'a' }, continueOnError: true },
      { id: 'b', uses: 'test.probe', needs: ['a'], with: { label: 'b' } },
    ]);
    // When it runs
    const result = await run(book);
    // Then b ran and the run needs a human
    expect(result.steps.map((s) => [s.key, s.status, s.continued])).toEqual([
      ['a', 'failed', true],
      ['b', 'verified', undefined],
    ]);
    expect(result).toMatchObject({ status: 'needs-human', exitCode: 3 });
  });

  it('retries with backoff until an attempt succeeds', async () => {
    // Given an apply that fails twice
    let calls = 0;
    behaviour.apply = async () => {
      calls++;
      if (calls < 3) throw new Error(`transient ${calls}`);
      return { value: calls };
    };
    const book = playbook([{ id: 'flaky', uses: 'test.probe', retry: { attempts: 3, backoffMs: 1 } }]);
    // When it runs
    const result = await run(book);
    // Then the third attempt verified, after two retry events with growing delays
    expect(result.steps[0]).toMatchObject({ status: 'verified' });
    const retries = events.filter((e) => e.type === 'step-retry');
    expect(retries.map((e) => e.type === 'step-retry' && [e.attempt, e.delayMs, e.error])).toEqual([
      [1, 1, 'transient 1'],
      [2, 2, 'transient 2'],
    ]);
  });

  it('fails a step that runs past its timeout and aborts its signal', async () => {
    // Given an apply that waits for its signal
    let sawAbort = false;
    behaviour.apply = (_input, signal) =>
      new Promise((resolve) => {
        signal.addEventListener('abort', () => {
          sawAbort = true;
          resolve(undefined);
        });
      });
    const book = playbook([{ id: 'slow', uses: 'test.probe', timeoutMs: 20 }]);
    // When it runs
    const result = await run(book);
    // Then the step failed for the timeout and the action saw the abort
    expect(result.steps[0]).toMatchObject({ status: 'failed', detail: 'timed out after 20 ms' });
    expect(sawAbort).toBe(true);
    expect(result.exitCode).toBe(1);
  });

  it('reports an unverified step as needs-human (exit 3)', async () => {
    // Given verify reads back that the change did not take
    behaviour.verify = () => false;
    // When it runs
    const result = await run(playbook([{ id: 'x', uses: 'test.probe' }]));
    // Then
    expect(result.steps[0]).toMatchObject({ status: 'unverified', verified: false, detail: 'still there' });
    expect(result).toMatchObject({ status: 'needs-human', exitCode: 3 });
  });

  it('fails a step whose input breaks the action schema, without calling it', async () => {
    // Given an unknown key under with:
    const book = playbook([{ id: 'bad', uses: 'test.probe', with: { lable: 'typo' } }]);
    // When it runs
    const result = await run(book);
    // Then the step failed naming the schema problem, and no plan/apply ran
    expect(result.steps[0]!.status).toBe('failed');
    expect(result.steps[0]!.detail).toMatch(/input rejected by test\.probe: with: Unrecognized key/);
    expect(behaviour.log).toEqual([]);
  });

  it('refuses a playbook using an action not in the registry (exit 2) before anything runs', async () => {
    const book = playbook([{ id: 'x', uses: 'github.nope' }]);
    await expect(run(book)).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/test\.yaml:1:1: step x: unknown action github\.nope/) });
  });

  it('refuses a dependency cycle (exit 2) before anything runs', async () => {
    const book = playbook([
      { id: 'a', uses: 'test.probe', with: { value: '${{ steps.b.outputs.value }}' } },
      { id: 'b', uses: 'test.probe', needs: ['a'] },
    ]);
    await expect(run(book)).rejects.toMatchObject({ exitCode: 2, message: 'test.yaml:1:1: dependency cycle: a -> b -> a' });
    expect(behaviour.log).toEqual([]);
  });

  it('dry run: plans mutating steps without applying them, applies read-only ones', async () => {
    // Given a read-only step, a mutating step, and a mutating step that needs the latter's output
    behaviour.apply = async (input) => ({ value: `${input.label}-out` });
    const book = playbook([
      { id: 'inventory', uses: 'test.read', with: { label: 'inv' } },
      { id: 'disable', uses: 'test.probe', with: { label: 'dis', value: '${{ steps.inventory.outputs.value }}' } },
      { id: 'cancel', uses: 'test.probe', with: { label: 'can', value: '${{ steps.disable.outputs.value }}' } },
    ]);
    // When it runs as a dry run
    const result = await run(book, { dryRun: true });
    // Then only the read-only action applied; the mutating one was planned with the real input,
    // and the one needing an unknown output was reported planned without being called
    expect(behaviour.log).toEqual(['plan inventory', 'apply inventory', 'verify inventory', 'plan disable']);
    expect(result.steps.map((s) => [s.key, s.status])).toEqual([
      ['inventory', 'verified'],
      ['disable', 'planned'],
      ['cancel', 'planned'],
    ]);
    expect(result.steps[1]!.plan?.calls[0]).toMatchObject({ operation: 'PUT /repos/{owner}/{repo}/probe', params: { label: 'dis' } });
    expect(result.steps[2]!.detail).toBe('input needs ${{ steps.disable.outputs.value }}, known only after a real apply');
    expect(result).toMatchObject({ status: 'planned', exitCode: 0 });
    const phases = readJournal(join(result.runDir, 'journal.jsonl')).records.flatMap((r) => (r.type === 'step' ? [`${r.key}:${r.phase}`] : []));
    expect(phases.filter((p) => p.endsWith(':applied'))).toEqual(['inventory:applied']);
  });

  it('never writes a secret output value to the journal or events', async () => {
    // Given a step that returns a Secret and a step that receives it whole and logs about it
    const value = 'ghp_SuperSecretTokenValue1234567890';
    behaviour.apply = async (input) => (input.label === 'mint' ? secretOutput(value) : { value: 'used' });
    const book = playbook([
      { id: 'mint', uses: 'test.probe', with: { label: 'mint' } },
      { id: 'use', uses: 'test.probe', with: { label: 'use', value: '${{ steps.mint.outputs.token }}' } },
    ]);
    // When it runs
    const result = await run(book);
    // Then the journal holds the fingerprint, never the value
    const text = readFileSync(join(result.runDir, 'journal.jsonl'), 'utf8');
    expect(result.exitCode).toBe(0);
    expect(text).not.toContain(value);
    expect(text).toContain('"secret":true');
    expect(JSON.stringify(events)).not.toContain(value);
  });
});

describe('findings', () => {
  it('journals a finding once when the action both reports it through ctx.finding and returns it', async () => {
    // Given an action that does both (the two ways define.ts allows)
    const finding = { kind: 'trust-admits-any-repo', severity: 'high' as const, resource: 'arn:aws:iam::1:role/x', summary: 'repo:acme/*' };
    const other = { ...finding, resource: 'arn:aws:iam::1:role/y' };
    const reporter: ActionDefinition = {
      ...registry[0]!,
      id: 'test.reporter',
      async plan() {
        return { changes: [], calls: [], findings: [finding] };
      },
      async apply(ctx) {
        ctx.finding(finding);
        ctx.finding(other);
        return { changed: false, outputs: {}, findings: [finding, other] };
      },
    };
    registry.push(reporter);
    // When it runs
    const result = await run(playbook([{ id: 'a', uses: 'test.reporter' }]));
    // Then each distinct finding is in the journal exactly once
    const records = readJournal(join(result.runDir, 'journal.jsonl')).records.filter((record) => record.type === 'finding');
    expect(records.map((record) => (record as { finding: { resource: string } }).finding.resource)).toEqual(['arn:aws:iam::1:role/x', 'arn:aws:iam::1:role/y']);
  });
});
