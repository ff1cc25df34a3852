import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cancelRuns } from '../../../src/actions/github/cancel-runs.js';
import { collectEvidence } from '../../../src/actions/github/collect-evidence.js';
import { disableActions } from '../../../src/actions/github/disable-actions.js';
import { disableWorkflow } from '../../../src/actions/github/disable-workflow.js';
import { testWorld } from '../../fixtures/github-world.js';
import { testContext } from '../../helpers/action-context.js';
import { expectIdempotent } from './idempotency.js';
import { startGitHubLab, type GitHubLabHarness } from './lab.js';

let harness: GitHubLabHarness;
beforeEach(async () => {
  harness = await startGitHubLab(testWorld);
});
afterEach(async () => {
  await harness.close();
});

describe('github.disable-workflow', () => {
  it('disables once, then reports no change; compensate enables it again', async () => {
    // Given the active deploy workflow of acme/api
    const ctx = testContext({ clients: harness.clients() });
    // When disabled twice
    const { first } = await expectIdempotent(disableWorkflow, ctx, { repo: 'acme/api', workflow: 'deploy.yml' });
    // Then the lab holds it disabled_manually, and the undo remembers it was active
    expect(harness.lab.state.workflow('acme/api', 'deploy.yml').state).toBe('disabled_manually');
    expect(first.outputs).toMatchObject({ workflow_id: 1001, previous_state: 'active', state: 'disabled_manually' });
    // When compensated / Then it is active again
    const undone = await disableWorkflow.compensate!(ctx, disableWorkflow.schema.parse({ repo: 'acme/api', workflow: 'deploy.yml' }), first);
    expect(undone.changed).toBe(true);
    expect(harness.lab.state.workflow('acme/api', 'deploy.yml').state).toBe('active');
  });
});

describe('github.disable-actions', () => {
  it('turns the repository kill switch on once and restores the previous setting', async () => {
    const ctx = testContext({ clients: harness.clients() });
    const { first } = await expectIdempotent(disableActions, ctx, { repo: 'acme/api' });
    expect(harness.lab.state.repo('acme/api').actionsEnabled).toBe(false);
    expect(first.undo).toEqual({ previous: { enabled: true, allowed_actions: 'all' } });
    await disableActions.compensate!(ctx, { repo: 'acme/api' }, first);
    expect(harness.lab.state.repo('acme/api').actionsEnabled).toBe(true);
  });
});

describe('github.cancel-runs', () => {
  it('cancels queued and in-progress runs, force-cancels the one that ignores cancel, and verifies none runs', async () => {
    // Given runs 9003 (in progress), 9004 (in progress, ignores cancel) and 9005 (queued)
    const ctx = testContext({ clients: harness.clients() });
    const withBlock = { repo: 'acme/api', workflow: 'deploy.yml', poll_interval_ms: 0, poll_attempts: 2 };
    const plan = await cancelRuns.plan(ctx, cancelRuns.schema.parse(withBlock));
    expect(plan.changes.map((c) => c.resource)).toEqual(['github:acme/api/actions/runs/9003', 'github:acme/api/actions/runs/9004', 'github:acme/api/actions/runs/9005']);
    // When cancelled (twice: idempotent)
    const { first } = await expectIdempotent(cancelRuns, ctx, withBlock);
    // Then all three got cancel, only 9004 needed force-cancel, none is still running
    expect(first.outputs).toEqual({ cancelled: [9003, 9004, 9005], force_cancelled: [9004], still_running: [] });
    for (const id of [9003, 9004, 9005]) expect(harness.lab.state.run('acme/api', id).status).toBe('completed');
    // And the completed runs were left alone
    expect(harness.lab.state.run('acme/api', 9001).conclusion).not.toBe('cancelled');
    expect(ctx.logs.some((l) => l.message.includes('run 9004 ignored cancel'))).toBe(true);
    // And verify says what it stopped, not only that nothing runs now
    const verdict = await cancelRuns.verify(ctx, cancelRuns.schema.parse(withBlock), first);
    expect(verdict).toEqual({ verified: true, detail: 'run(s) 9003, 9004, 9005 stopped; no unfinished run of deploy.yml in acme/api' });
  });

  it('reports a run that ignores cancel when force is off', async () => {
    const ctx = testContext({ clients: harness.clients() });
    const input = cancelRuns.schema.parse({ repo: 'acme/api', workflow: 'deploy.yml', poll_interval_ms: 0, poll_attempts: 1, force: false });
    const result = await cancelRuns.apply(ctx, input, await cancelRuns.plan(ctx, input));
    expect(result.outputs['still_running']).toEqual([9004]);
    expect(ctx.findings.map((f) => [f.kind, f.resource])).toEqual([['run-not-stopped', 'github:acme/api/actions/runs/9004']]);
    expect(await cancelRuns.verify(ctx, input, result)).toMatchObject({ verified: false });
  });
});

describe('github.collect-evidence', () => {
  it('records runs since a time with actor, event, sha and jobs, and outputs the latest completed_at', async () => {
    // Given runs of deploy.yml created 3 h, 95 min, 10 min, 5 min and 1 min ago
    const ctx = testContext({ clients: harness.clients() });
    const since = new Date(Date.now() - 2 * 3600_000).toISOString();
    const input = collectEvidence.schema.parse({ repo: 'acme/api', workflow: 'deploy.yml', since });
    const plan = await collectEvidence.plan(ctx, input);
    expect(plan.calls.every((c) => !c.mutating)).toBe(true);
    // When collected
    const result = await collectEvidence.apply(ctx, input, plan);
    // Then the four runs since then are evidence, the 3 h old one is not
    expect(result.changed).toBe(false);
    expect([...(result.outputs['runs'] as number[])].sort()).toEqual([9002, 9003, 9004, 9005]);
    expect(result.outputs['active_runs']).toBe(3);
    const job9002 = harness.lab.state.run('acme/api', 9002).jobs[0]!;
    expect(result.outputs['jobs_completed_at']).toBe(job9002.completedAt!.toISOString().replace(/\.\d{3}Z$/, 'Z'));
    expect(ctx.evidenceRecords).toHaveLength(1);
    const evidence = ctx.evidenceRecords[0]!;
    expect(evidence.kind).toBe('workflow-runs');
    const run = (evidence.data as { runs: Array<Record<string, unknown>> }).runs.find((r) => r['id'] === 9002)!;
    expect(run).toMatchObject({ actor: 'mallory', event: 'pull_request_target', head_sha: 'b'.repeat(40), status: 'completed' });
    expect((run['jobs'] as unknown[]).length).toBe(1);
  });
});
