import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { EngineEvent, StepOutcome } from '../../src/engine/events.js';
import { lineReporter } from '../../src/ui/lines.js';
import { applyEvent, emptyProgress, listrReporter, progressFrame } from '../../src/ui/listr.js';

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
      'run 2026-11-25T16-40-12Z-abcd: steps failed; the containment verdict follows',
      '',
    ]);
  });
});

describe('live progress (TTY)', () => {
  it('draws a header, N/M and only running, failed and open work, within the terminal', () => {
    // Given the run's events folded into the progress state
    const state = emptyProgress();
    for (const event of events) applyEvent(state, event);
    // When a frame is drawn at 80x24
    const frame = progressFrame(state, 80, 18);
    // Then the header names the run and the mode, the counter counts steps, and only open work shows
    expect(frame[0]).toBe('cicd-ir run 2026-11-25T16-40-12Z-abcd · contain · LIVE');
    expect(frame[1]).toBe('3/3 steps done · 0 running · 1 failed · 1 need a human · 1 skipped');
    expect(frame.slice(2)).toEqual(['✖ a  FAILED: boom', '⚠ fan[1]  UNVERIFIED, needs a human: still active']);
    expect(frame.join('\n')).not.toContain('fan[0]'); // done and fine: counted, not drawn
    expect(frame.join('\n')).not.toContain('dependency a failed'); // a skip is not a warning
    for (const line of frame) expect(line.length).toBeLessThanOrEqual(80);
  });

  it('keeps a long fan-out inside the height, and a running key shows its latest line', () => {
    const state = emptyProgress();
    applyEvent(state, { type: 'run-started', runId: 'r', runDir: '/r', playbook: 'p', dryRun: true, resumed: false, steps: [{ id: 'rotate', action: 'github.rotate-secret', needs: [] }] });
    const keys = Array.from({ length: 40 }, (_, i) => `rotate[${i}]`);
    applyEvent(state, { type: 'step-expanded', step: 'rotate', keys });
    for (const key of keys) applyEvent(state, { type: 'step-started', step: 'rotate', key, action: 'github.rotate-secret', attempt: 1 });
    applyEvent(state, { type: 'log', level: 'info', step: 'rotate', key: 'rotate[0]', message: 'writing \u001b[2J secret' });
    const frame = progressFrame(state, 80, 10);
    expect(frame).toHaveLength(10);
    expect(frame[0]).toContain('DRY RUN');
    expect(frame[1]).toBe('0/1 steps done · 40 running');
    expect(frame[2]).toContain('rotate[0]  github.rotate-secret  writing \\x1b[2J secret');
    expect(frame[9]).toBe('… and 33 more');
  });

  it('redraws at most about 4 times a second however fast events come, and clears itself at the end', async () => {
    // Given a TTY-like stream
    let text = '';
    const stream = { columns: 80, rows: 24, write: (chunk: string) => ((text += chunk), true) };
    const reporter = listrReporter({ stream });
    // When 400 events arrive over about a second
    reporter.onEvent(events[0]!);
    const started = Date.now();
    for (let i = 0; i < 400; i++) {
      reporter.onEvent({ type: 'step-started', step: 'a', key: `a${i}`, action: 'test.probe', attempt: 1 });
      await new Promise((resolve) => setTimeout(resolve, 2.5));
    }
    const seconds = (Date.now() - started) / 1000;
    await reporter.finish();
    // Then the header was drawn at most ~4 times a second (plus the first frame)
    const frames = text.split('cicd-ir run ').length - 1;
    expect(frames).toBeGreaterThan(1);
    expect(frames).toBeLessThanOrEqual(Math.ceil(seconds * 4) + 2);
    // And finish() erased the view instead of reprinting every step
    expect(text.endsWith('\u001b[0J')).toBe(true);
  });
});
