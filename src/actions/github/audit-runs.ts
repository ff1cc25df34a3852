import type { Octokit } from '@octokit/rest';
import { z } from 'zod';
import { defineAction, type Finding } from '../define.js';
import { RepoName, splitRepo, WorkflowRef, workflowId } from '../../github/api.js';
import { createdFilter } from './scan-run-logs.js';

const Iso = z.string().datetime({ offset: true });

const schema = z
  .object({
    repo: RepoName,
    /** The deploy / publish workflows to audit (file names, paths or ids). */
    workflows: z.array(WorkflowRef).min(1),
    /** The window: runs created, and commits made, at or after `since` (and up to `until`). */
    since: Iso,
    until: Iso.optional(),
    /** Events a deploy/publish run may come from. `pull_request_target` is always suspect. */
    allowed_events: z.array(z.string().min(1)).default(['push', 'release', 'workflow_dispatch', 'schedule']),
    /** Branches a deploy/publish run may run on; default: the repository's default branch. */
    allowed_branches: z.array(z.string().min(1)).optional(),
    /** Actors allowed to trigger them; not checked when absent. */
    allowed_actors: z.array(z.string().min(1)).optional(),
    /** The commit of the workflow's last legitimate change: later changes of the file, and runs after them, are findings. */
    last_legitimate_sha: z.string().regex(/^[0-9a-f]{7,40}$/).optional(),
    /** Look for workflow files added in the window (Shai-Hulud planted `.github/workflows/shai-hulud-workflow.yml`). */
    check_new_workflows: z.boolean().default(true),
    max_runs: z.number().int().min(1).max(1000).default(500),
  })
  .strict();

type Input = z.infer<typeof schema>;

/** What classifyRun reads of a run (a subset of GitHub's workflow-run object). */
export interface AuditedRun {
  id: number;
  event: string;
  head_branch: string | null;
  created_at: string;
  html_url?: string;
  path?: string;
  actor?: { login: string } | null;
  repository?: { full_name: string };
  head_repository?: { full_name: string; fork?: boolean } | null;
}

export interface RunPolicy {
  repo: string;
  workflow: string;
  allowedEvents: string[];
  allowedBranches: string[];
  allowedActors?: string[];
  /** Runs created after this (ISO) ran a workflow changed after its last legitimate change. */
  changedAfter?: { at: string; sha: string };
}

/**
 * The seeds' signals for one run of a deploy/publish workflow. Pure, so the rules are tested
 * on their own: untrusted triggers (`pull_request_target`, `workflow_run` from a fork), an
 * unexpected event, branch or actor, and a run after an unvetted change of the workflow file.
 */
export function classifyRun(run: AuditedRun, policy: RunPolicy): Finding[] {
  const findings: Finding[] = [];
  const resource = `github:${policy.repo}/actions/runs/${run.id}`;
  const actor = run.actor?.login ?? 'unknown';
  const evidence = [{ run_id: run.id, workflow: policy.workflow, event: run.event, head_branch: run.head_branch, actor, head_repository: run.head_repository?.full_name ?? null, ...(run.html_url ? { html_url: run.html_url } : {}) }];
  const base = { resource, at: run.created_at, evidence };
  const fromFork = !!run.head_repository && (run.head_repository.fork === true || (run.repository !== undefined && run.head_repository.full_name !== run.repository.full_name));
  if (run.event === 'pull_request_target') {
    // Runs with the base repository's secrets and a write token on behalf of a pull request (nx, Ultralytics, TanStack).
    findings.push({ kind: 'untrusted-trigger', severity: 'critical', summary: `${policy.workflow} run ${run.id} was triggered by pull_request_target (actor ${actor}${fromFork ? `, from fork ${run.head_repository!.full_name}` : ''}): a deploy/publish workflow must not run for pull requests`, ...base });
  } else if (run.event === 'workflow_run' && fromFork) {
    findings.push({ kind: 'untrusted-trigger', severity: 'critical', summary: `${policy.workflow} run ${run.id} was triggered by workflow_run of fork ${run.head_repository!.full_name} (actor ${actor})`, ...base });
  } else if (!policy.allowedEvents.includes(run.event)) {
    findings.push({ kind: 'unexpected-event', severity: 'high', summary: `${policy.workflow} run ${run.id} came from event ${run.event}, not one of ${policy.allowedEvents.join(', ')}`, ...base });
  }
  if (run.head_branch !== null && !policy.allowedBranches.includes(run.head_branch)) {
    findings.push({ kind: 'unexpected-branch', severity: 'high', summary: `${policy.workflow} run ${run.id} ran on branch ${run.head_branch}, not ${policy.allowedBranches.join(', ')}`, ...base });
  }
  if (policy.allowedActors && !policy.allowedActors.includes(actor)) {
    findings.push({ kind: 'unexpected-actor', severity: 'high', summary: `${policy.workflow} run ${run.id} was triggered by ${actor}, not an allowed actor`, ...base });
  }
  if (policy.changedAfter && Date.parse(run.created_at) > Date.parse(policy.changedAfter.at)) {
    findings.push({ kind: 'run-after-workflow-change', severity: 'high', summary: `${policy.workflow} run ${run.id} started after ${policy.changedAfter.sha.slice(0, 7)} changed the workflow past its last legitimate version`, ...base });
  }
  return findings;
}

async function workflowPath(github: Octokit, owner: string, repo: string, ref: string | number): Promise<{ id: number; path: string }> {
  const { data } = await github.rest.actions.getWorkflow({ owner, repo, workflow_id: workflowId(ref) });
  return { id: data.id, path: data.path };
}

/** Commits to `path` after the last legitimate one: the unvetted changes of the workflow. */
async function changesAfter(github: Octokit, owner: string, repo: string, path: string, legitimateSha: string) {
  const legitimate = await github.rest.repos.getCommit({ owner, repo, ref: legitimateSha });
  const since = legitimate.data.commit.committer?.date ?? legitimate.data.commit.author?.date;
  if (!since) return [];
  const commits = await github.paginate(github.rest.repos.listCommits, { owner, repo, path, since, per_page: 100 });
  return commits
    .filter((commit) => commit.sha !== legitimate.data.sha)
    .map((commit) => ({ sha: commit.sha, at: commit.commit.committer?.date ?? commit.commit.author?.date ?? since, author: commit.author?.login ?? commit.commit.author?.name ?? 'unknown', html_url: commit.html_url }))
    .sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

/**
 * Audits the runs of deploy/publish workflows in a window for the signals of the incidents in
 * the seeds: untrusted triggers, unexpected events, branches and actors, runs after an unvetted
 * change of the workflow file, and workflow files added in the window. Read-only: findings only.
 */
export const auditRuns = defineAction<Input>({
  id: 'github.audit-runs',
  summary: 'Flag suspicious runs of deploy/publish workflows (pull_request_target, forks, branches, actors) and workflow files added in the window.',
  schema,
  permissions: ['github:actions:read', 'github:contents:read', 'github:metadata:read'],
  mutating: false,
  outputs: {
    suspicious_runs: 'ids of runs with at least one finding',
    new_workflows: 'workflow files added in the window: [{path, sha, author, at}]',
    workflow_changes: 'commits that changed an audited workflow after its last legitimate change',
    audited_runs: 'how many runs were audited',
  },
  example: { repo: 'acme/app', workflows: ['publish.yml'], since: '2025-08-21T00:00:00Z', allowed_actors: ['release-bot'] },

  async plan(_ctx, input) {
    const { owner, repo } = splitRepo(input.repo);
    return {
      changes: [],
      calls: [
        { service: 'github', operation: 'GET /repos/{owner}/{repo}', params: { owner, repo }, mutating: false },
        ...input.workflows.map((workflow) => ({ service: 'github', operation: 'GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs', params: { owner, repo, workflow_id: workflowId(workflow), created: createdFilter(input.since, input.until) }, mutating: false })),
        ...(input.last_legitimate_sha ? [{ service: 'github', operation: 'GET /repos/{owner}/{repo}/commits', params: { owner, repo, path: 'each workflow' }, mutating: false }] : []),
        ...(input.check_new_workflows ? [{ service: 'github', operation: 'GET /repos/{owner}/{repo}/commits', params: { owner, repo, path: '.github/workflows', since: input.since }, mutating: false }] : []),
      ],
    };
  },

  async apply(ctx, input) {
    const { owner, repo } = splitRepo(input.repo);
    const github = await ctx.clients.github();
    const repository = (await github.rest.repos.get({ owner, repo })).data;
    const allowedBranches = input.allowed_branches ?? [repository.default_branch];
    const findings: Finding[] = [];
    const suspicious = new Set<number>();
    const workflowChanges: Array<{ workflow: string; sha: string; at: string; author: string }> = [];
    let audited = 0;

    for (const ref of input.workflows) {
      const workflow = await workflowPath(github, owner, repo, ref);
      let changedAfter: RunPolicy['changedAfter'];
      if (input.last_legitimate_sha) {
        const changes = await changesAfter(github, owner, repo, workflow.path, input.last_legitimate_sha);
        for (const change of changes) {
          workflowChanges.push({ workflow: workflow.path, sha: change.sha, at: change.at, author: change.author });
          findings.push({ kind: 'workflow-file-changed', severity: 'high', resource: `github:${input.repo}/${workflow.path}`, summary: `${workflow.path} changed by ${change.author} in ${change.sha.slice(0, 7)} after its last legitimate change ${input.last_legitimate_sha.slice(0, 7)}`, at: change.at, evidence: [change] });
        }
        if (changes[0]) changedAfter = { at: changes[0].at, sha: changes[0].sha };
      }
      const policy: RunPolicy = { repo: input.repo, workflow: workflow.path, allowedEvents: input.allowed_events, allowedBranches, ...(input.allowed_actors ? { allowedActors: input.allowed_actors } : {}), ...(changedAfter ? { changedAfter } : {}) };
      let seen = 0;
      for await (const page of github.paginate.iterator(github.rest.actions.listWorkflowRuns, { owner, repo, workflow_id: workflow.id, created: createdFilter(input.since, input.until), per_page: 100 })) {
        for (const run of page.data) {
          if (seen >= input.max_runs) break;
          seen += 1;
          const flagged = classifyRun(run as AuditedRun, policy);
          if (flagged.length > 0) suspicious.add(run.id);
          findings.push(...flagged);
        }
        if (seen >= input.max_runs) break;
      }
      audited += seen;
    }

    const newWorkflows: Array<{ path: string; sha: string; author: string; at: string }> = [];
    if (input.check_new_workflows) {
      let commits: Awaited<ReturnType<typeof github.rest.repos.listCommits>>['data'] = [];
      try {
        commits = await github.paginate(github.rest.repos.listCommits, { owner, repo, path: '.github/workflows', since: input.since, ...(input.until ? { until: input.until } : {}), per_page: 100 });
      } catch (error) {
        // 409: an empty repository has no history to audit.
        if ((error as { status?: number }).status !== 409) throw error;
      }
      for (const listed of commits) {
        const commit = (await github.rest.repos.getCommit({ owner, repo, ref: listed.sha })).data;
        for (const file of commit.files ?? []) {
          if (file.status !== 'added' || !file.filename.startsWith('.github/workflows/')) continue;
          const entry = { path: file.filename, sha: commit.sha, author: commit.author?.login ?? commit.commit.author?.name ?? 'unknown', at: commit.commit.committer?.date ?? commit.commit.author?.date ?? '' };
          newWorkflows.push(entry);
          findings.push({ kind: 'new-workflow-file', severity: 'critical', resource: `github:${input.repo}/${file.filename}`, summary: `workflow file ${file.filename} was added by ${entry.author} in ${commit.sha.slice(0, 7)} inside the window (persistence, as Shai-Hulud planted shai-hulud-workflow.yml)`, ...(entry.at ? { at: entry.at } : {}), evidence: [{ ...entry, html_url: commit.html_url }] });
        }
      }
    }

    for (const finding of findings) ctx.finding(finding);
    ctx.log(`audited ${audited} run(s): ${suspicious.size} suspicious; ${newWorkflows.length} workflow file(s) added in the window`);
    return { changed: false, outputs: { suspicious_runs: [...suspicious], new_workflows: newWorkflows, workflow_changes: workflowChanges, audited_runs: audited }, findings };
  },

  async verify(_ctx, _input, result) {
    return { verified: true, detail: `${(result.outputs['suspicious_runs'] as unknown[]).length} suspicious run(s)` };
  },
});
