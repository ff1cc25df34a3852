import { setTimeout as sleep } from 'node:timers/promises';
import { outsideSlot } from '../../engine/slots.js';
import { z } from 'zod';
import type { Octokit } from '@octokit/rest';
import { defineAction } from '../define.js';
import { ACTIVE_RUN_STATUSES, httpStatus, RepoName, splitRepo, WorkflowRef, workflowId } from '../../github/api.js';

const schema = z
  .object({
    repo: RepoName,
    workflow: WorkflowRef,
    /** How long to wait between reads after cancel before deciding a run ignores it. */
    poll_interval_ms: z.number().int().min(0).max(600_000).default(3_000),
    /** How many reads after cancel (and again after force-cancel). */
    poll_attempts: z.number().int().min(1).max(100).default(5),
    /** Force-cancel runs that are still running after the polls. */
    force: z.boolean().default(true),
  })
  .strict();

type Input = z.infer<typeof schema>;

interface RunSummary {
  id: number;
  status: string | null;
  event: string;
  head_sha: string;
  actor?: string;
}

async function activeRuns(github: Octokit, owner: string, repo: string, workflow: string | number): Promise<RunSummary[]> {
  const runs = new Map<number, RunSummary>();
  for (const status of ACTIVE_RUN_STATUSES) {
    const page = await github.paginate(github.rest.actions.listWorkflowRuns, { owner, repo, workflow_id: workflow, status, per_page: 100 });
    for (const run of page) {
      // A run can move between statuses while we page: keep the first sighting.
      if (!runs.has(run.id)) runs.set(run.id, { id: run.id, status: run.status, event: run.event, head_sha: run.head_sha, ...(run.actor ? { actor: run.actor.login } : {}) });
    }
  }
  return [...runs.values()].sort((a, b) => a.id - b.id);
}

async function stillRunning(github: Octokit, owner: string, repo: string, ids: number[]): Promise<number[]> {
  const running: number[] = [];
  for (const run_id of ids) {
    const { data } = await github.rest.actions.getWorkflowRun({ owner, repo, run_id });
    if (data.status !== 'completed') running.push(run_id);
  }
  return running;
}

async function pollUntilStopped(github: Octokit, owner: string, repo: string, ids: number[], input: Input, signal: AbortSignal): Promise<number[]> {
  let running = ids;
  for (let attempt = 0; attempt < input.poll_attempts && running.length > 0; attempt += 1) {
    // The poll interval holds no engine slot: 50 cancels polling must not starve the rest.
    if (input.poll_interval_ms > 0) await outsideSlot(() => sleep(input.poll_interval_ms, undefined, { signal }));
    running = await stillRunning(github, owner, repo, running);
  }
  return running;
}

/**
 * Cancels every unfinished run of a workflow (queued, in progress, waiting, requested,
 * pending), waits for them to stop, and force-cancels any run that ignores cancel (a runner
 * that does not answer). Verify re-lists the workflow's unfinished runs.
 */
export const cancelRuns = defineAction<Input>({
  id: 'github.cancel-runs',
  summary: 'Cancel the unfinished runs of a workflow, force-cancelling runs that ignore cancel.',
  schema,
  permissions: ['github:actions:write'],
  mutating: true,
  closesCredential: true,
  outputs: {
    cancelled: 'ids of the runs cancel was sent to',
    force_cancelled: 'ids of the runs that needed force-cancel',
    still_running: 'ids of runs still not completed after force-cancel (needs a human)',
  },
  example: { repo: 'acme/app', workflow: 'deploy.yml' },

  async plan(ctx, input) {
    const { owner, repo } = splitRepo(input.repo);
    const github = await ctx.clients.github();
    const runs = await activeRuns(github, owner, repo, workflowId(input.workflow));
    const reads = ACTIVE_RUN_STATUSES.map((status) => ({
      service: 'github',
      operation: 'GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs',
      params: { owner, repo, workflow_id: workflowId(input.workflow), status },
      mutating: false,
    }));
    return {
      changes: runs.map((run) => ({
        resource: `github:${input.repo}/actions/runs/${run.id}`,
        action: 'cancel',
        summary: `cancel run ${run.id} (${run.status}, ${run.event}${run.actor ? ` by ${run.actor}` : ''}, ${run.head_sha.slice(0, 7)})`,
        before: run.status,
        after: 'cancelled',
      })),
      calls: [
        ...reads,
        ...runs.map((run) => ({ service: 'github', operation: 'POST /repos/{owner}/{repo}/actions/runs/{run_id}/cancel', params: { owner, repo, run_id: run.id }, mutating: true })),
      ],
      state: { run_ids: runs.map((run) => run.id) },
    };
  },

  async apply(ctx, input, plan) {
    const { run_ids } = plan.state as { run_ids: number[] };
    if (run_ids.length === 0) return { changed: false, outputs: { cancelled: [], force_cancelled: [], still_running: [] } };
    const { owner, repo } = splitRepo(input.repo);
    const github = await ctx.clients.github();
    const cancelled: number[] = [];
    for (const run_id of run_ids) {
      try {
        await github.rest.actions.cancelWorkflowRun({ owner, repo, run_id });
        cancelled.push(run_id);
      } catch (error) {
        // 409: the run finished between plan and apply; nothing to cancel.
        if (httpStatus(error) !== 409) throw error;
      }
    }
    let running = await pollUntilStopped(github, owner, repo, cancelled, input, ctx.signal);
    const forceCancelled: number[] = [];
    if (running.length > 0 && input.force) {
      for (const run_id of running) {
        ctx.log(`run ${run_id} ignored cancel: force-cancelling`, 'warn');
        try {
          await github.rest.actions.forceCancelWorkflowRun({ owner, repo, run_id });
          forceCancelled.push(run_id);
        } catch (error) {
          if (httpStatus(error) !== 409) throw error;
        }
      }
      running = await pollUntilStopped(github, owner, repo, running, input, ctx.signal);
    }
    const findings = running.map((run_id) => ({
      kind: 'run-not-stopped',
      severity: 'high' as const,
      resource: `github:${input.repo}/actions/runs/${run_id}`,
      summary: `run ${run_id} is still running after cancel${input.force ? ' and force-cancel' : ''}`,
      at: ctx.now().toISOString(),
    }));
    findings.forEach((finding) => ctx.finding(finding));
    return { changed: cancelled.length > 0, outputs: { cancelled, force_cancelled: forceCancelled, still_running: running }, findings };
  },

  async verify(ctx, input, result) {
    const { owner, repo } = splitRepo(input.repo);
    const github = await ctx.clients.github();
    const runs = await activeRuns(github, owner, repo, workflowId(input.workflow));
    const stopped = [...new Set([...((result.outputs['cancelled'] as number[] | undefined) ?? []), ...((result.outputs['force_cancelled'] as number[] | undefined) ?? [])])];
    const what = stopped.length > 0 ? `run(s) ${stopped.join(', ')} stopped; ` : '';
    return runs.length === 0
      ? { verified: true, detail: `${what}no unfinished run of ${input.workflow} in ${input.repo}` }
      : { verified: false, detail: `still unfinished: ${runs.map((run) => `${run.id} (${run.status})`).join(', ')}` };
  },
});
