import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { EngineEvent, StepOutcome } from '../../src/engine/events.js';
import { lineReporter } from '../../src/ui/lines.js';
import { listrReporter } from '../../src/ui/listr.js';

const outcome = (key: string, step: string, status: StepOutcome['status'], detail: string): StepOutcome => ({ key, step, action: 'test.probe', status, detail });

/** A run as the engine reports it: a fan-out, a failure, a skip because of it, and an unverified key. */
const events: EngineEvent[] = [
  {
    type: 'run-started',
    runId: '2026-11-25T16-40-12Z-abcd',
    runDir: '/runs/x',
    playbook: 'contain',
    dryRun: false,
    resumed: false,
    steps: [
      { id: 'a', action: 'test.probe', needs: [] },
      { id: 'fan', action: 'test.probe', needs: [] },
      { id: 'b', action: 'test.probe', needs: ['a'] },
    ],
  },
  { type: 'step-expanded', step: 'fan', keys: ['fan[0]', 'fan[1]'] },
  { type: 'step-started', step: 'a', key: 'a', action: 'test.probe', attempt: 1 },
  {
    type: 'step-planned',
    step: 'a',
    key: 'a',
    plan: { changes: [{ resource: 'github:acme/web', action: 'disable', summary: 'disable deploy.yml' }], calls: [{ service: 'github', operation: 'PUT /repos/{owner}/{repo}/actions/workflows/{workflow_id}/disable', params: { owner: 'acme', repo: 'web', workflow_id: 'deploy.yml' }, mutating: true }] },
  },
  { type: 'step-failed', step: 'a', key: 'a', error: 'boom', continued: false },
  { type: 'step-finished', step: 'a', key: 'a', outcome: outcome('a', 'a', 'failed', 'boom') },
  { type: 'step-finished', step: 'fan', key: 'fan[0]', outcome: { ...outcome('fan[0]', 'fan', 'verified', 'disabled_manually'), changed: true } },
  { type: 'step-finished', step: 'fan', key: 'fan[1]', outcome: outcome('fan[1]', 'fan', 'unverified', 'still active') },
  { type: 'step-skipped', step: 'b', key: 'b', reason: 'dependency a failed' },
  { type: 'step-finished', step: 'b', key: 'b', outcome: outcome('b', 'b', 'skipped', 'dependency a failed') },
  { type: 'run-finished', runId: '2026-11-25T16-40-12Z-abcd', runDir: '/runs/x', status: 'failed', exitCode: 1 },
];

afterEach(() => vi.restoreAllMocks());

describe('line reporter (no TTY)', () => {
  it('writes one line per event, with the exact calls of a plan', () => {
    let text = '';
    const sink = new Writable({
      write(chunk, _encoding, done) {
        text += chunk.toString();
        done();
      },
    });
    const reporter = lineReporter(sink);
    for (const event of events) reporter.onEvent(event);
    expect(text.split('\n')).toEqual([
      'run 2026-11-25T16-40-12Z-abcd started: contain -> /runs/x',
      '[fan] fans out into 2: fan[0], fan[1]',
      '[a] started test.probe',
      '[a] planned: 1 change(s)',
      '[a]   change disable github:acme/web: disable deploy.yml',
      '[a]   call PUT /repos/acme/web/actions/workflows/deploy.yml/disable',
      '[a] FAILED: boom',
      '[b] skipped: dependency a failed',
      'run 2026-11-25T16-40-12Z-abcd failed (exit 1)',
      '',
    ]);
  });
});

describe('listr2 reporter', () => {
  it('turns engine events into tasks and subtasks with their end states, and finishes', async () => {
    // Given listr2's test renderer, which serialises every task event to stdout
    let text = '';
    const capture = (chunk: string | Uint8Array) => {
      text += chunk.toString();
      return true;
    };
    vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    vi.spyOn(console, 'log').mockImplementation((line: string) => capture(`${line}\n`));
    const reporter = listrReporter({ renderer: 'test' });
    // When the engine's events arrive
    for (const event of events) reporter.onEvent(event);
    await reporter.finish();
    // Then each step is a task, fan-out keys are subtasks, and each ends as the engine said
    const records = text
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { event: string; data: unknown; task: { title: string; path: string[] } });
    const final = (title: RegExp) => records.filter((r) => r.event === 'STATE' && title.test(r.task.title)).at(-1)?.data;
    expect(final(/^a \(test\.probe\)/)).toBe('FAILED');
    expect(final(/^b \(test\.probe\)/)).toBe('SKIPPED');
    expect(final(/^fan\[0\]: done: disabled_manually/)).toBe('COMPLETED');
    expect(final(/^fan\[1\]: UNVERIFIED, needs a human: still active/)).toBe('COMPLETED');
    expect(records.some((r) => r.task.path.join(' > ') === 'fan (test.probe) x2 > fan[0]')).toBe(true);
    expect(records.find((r) => r.event === 'MESSAGE' && JSON.stringify(r.data).includes('dependency a failed'))).toBeDefined();
  });
});
