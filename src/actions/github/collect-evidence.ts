import { z } from 'zod';
import { defineAction } from '../define.js';
import type { EvidenceByKind } from '../../engine/evidence.js';
import { RepoName, splitRepo, WorkflowRef, workflowId } from '../../github/api.js';

const schema = z
  .object({
    repo: RepoName,
    workflow: WorkflowRef,
    /** Runs created at or after this time (ISO-8601). */
    since: z.string().datetime({ offset: true }),
    /** At most this many runs (newest first); GitHub returns at most 1,000 with a filter. */
    max_runs: z.number().int().min(1).max(1000).default(200),
  })
  .strict();

type Input = z.infer<typeof schema>;
type RunEvidence = EvidenceByKind['workflow-runs']['runs'][number];

/**
 * Records the workflow's recent runs (actor, event, head sha, times, and each job's
 * completed_at) as `workflow-runs` evidence, before any containment changes them. The hunt
 * uses jobs' completed_at to tell a token used after its job finished.
 */
export const collectEvidence = defineAction<Input>({
  id: 'github.collect-evidence',
  summary: "Record a workflow's recent runs and jobs as evidence before anything is changed.",
  schema,
  permissions: ['github:actions:read'],
  mutating: false,
  outputs: {
    runs: 'ids of the runs recorded',
    jobs_completed_at: 'latest completed_at over their jobs (ISO), or empty',
    active_runs: 'how many of them were not completed',
  },
  example: { repo: 'acme/app', workflow: 'deploy.yml', since: '2026-01-01T00:00:00Z' },

  async plan(_ctx, input) {
    const { owner, repo } = splitRepo(input.repo);
    return {
      changes: [],
      calls: [
        { service: 'github', operation: 'GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs', params: { owner, repo, workflow_id: workflowId(input.workflow), created: `>=${input.since}` }, mutating: false },
        { service: 'github', operation: 'GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs', params: { owner, repo, run_id: 'each run' }, mutating: false },
      ],
    };
  },

  async apply(ctx, input) {
    const { owner, repo } = splitRepo(input.repo);
    const github = await ctx.clients.github();
    const listed = [];
    for await (const page of github.paginate.iterator(github.rest.actions.listWorkflowRuns, {
      owner,
      repo,
      workflow_id: workflowId(input.workflow),
      created: `>=${input.since}`,
      per_page: 100,
    })) {
      listed.push(...page.data);
      if (listed.length >= input.max_runs) break;
    }
    const runs: RunEvidence[] = [];
    for (const run of listed.slice(0, input.max_runs)) {
      const jobs = await github.paginate(github.rest.actions.listJobsForWorkflowRun, { owner, repo, run_id: run.id, filter: 'all', per_page: 100 });
      runs.push({
        id: run.id,
        html_url: run.html_url,
        ...(run.actor ? { actor: run.actor.login } : {}),
        event: run.event,
        head_branch: run.head_branch,
        head_sha: run.head_sha,
        status: run.status,
        conclusion: run.conclusion,
        created_at: run.created_at,
        updated_at: run.updated_at,
        jobs: jobs.map((job) => ({ id: job.id, name: job.name, started_at: job.started_at, completed_at: job.completed_at ?? null, conclusion: job.conclusion })),
      });
    }
    ctx.evidence('workflow-runs', { repo: input.repo, workflow: String(input.workflow), runs } satisfies EvidenceByKind['workflow-runs']);
    const completed = runs.flatMap((run) => run.jobs.map((job) => job.completed_at)).filter((at): at is string => typeof at === 'string').sort();
    const active = runs.filter((run) => run.status !== 'completed');
    return {
      changed: false,
      outputs: { runs: runs.map((run) => run.id), jobs_completed_at: completed.at(-1) ?? '', active_runs: active.length },
    };
  },

  async verify(_ctx, _input, result) {
    const runs = result.outputs['runs'] as number[];
    return { verified: true, detail: `recorded ${runs.length} run(s)` };
  },
});
