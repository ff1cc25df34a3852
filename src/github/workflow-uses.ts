import type { Octokit } from '@octokit/rest';
import { isNotFound, splitRepo } from './api.js';
import { contentsFetcher } from './inventory.js';
import { analyzeWorkflow } from './reach.js';

/** One workflow that uses a matching action or reusable workflow. */
export interface WorkflowUse {
  repo: string;
  workflow: string;
  job: string;
  /** The `uses:` value as written. */
  uses: string;
}

/**
 * Compiles `tj-actions/changed-files@*` (or without `@`: any ref) to a matcher. `*` matches
 * any run of characters; owner and repository compare case-insensitively as GitHub does.
 */
export function usesMatcher(pattern: string): (uses: string) => boolean {
  const full = pattern.includes('@') ? pattern : `${pattern}@*`;
  const regex = new RegExp(`^${full.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');
  return (uses) => regex.test(uses.trim());
}

/** `uses:` values of a workflow text, even when it is not a valid workflow (a line scan then). */
function usesOf(text: string, repo: string, path: string): Array<{ job: string; uses: string }> {
  try {
    return analyzeWorkflow(text, { repo, path }).jobs.flatMap((job) => job.uses.map((uses) => ({ job: job.id, uses })));
  } catch {
    return [...text.matchAll(/^\s*-?\s*uses:\s*["']?([^"'\s#]+)/gm)].map((match) => ({ job: '?', uses: match[1]! }));
  }
}

async function pool<T, R>(items: T[], width: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  });
  await Promise.all(workers);
  return results;
}

/**
 * Every workflow of the org's repositories whose jobs use a matching action: lists the
 * repositories, their workflows, and reads each file. A few repositories at a time, so the
 * secondary rate limit (100 concurrent) is never near.
 */
export async function findWorkflowUses(github: Octokit, options: { org: string; pattern: string; concurrency?: number; includeArchived?: boolean }): Promise<WorkflowUse[]> {
  const matches = usesMatcher(options.pattern);
  const repos = (await github.paginate(github.rest.repos.listForOrg, { org: options.org, per_page: 100 })).filter((r) => options.includeArchived || !r.archived);
  const fetch = contentsFetcher(github);
  const perRepo = await pool(repos, options.concurrency ?? 4, async (repository) => {
    const { owner, repo } = splitRepo(repository.full_name);
    let workflows;
    try {
      workflows = await github.paginate(github.rest.actions.listRepoWorkflows, { owner, repo, per_page: 100 });
    } catch (error) {
      if (isNotFound(error)) return [];
      throw error;
    }
    const found: WorkflowUse[] = [];
    for (const workflow of workflows) {
      const text = await fetch({ repo: repository.full_name, path: workflow.path });
      if (text === undefined) continue;
      for (const use of usesOf(text, repository.full_name, workflow.path)) {
        if (matches(use.uses)) found.push({ repo: repository.full_name, workflow: workflow.path, job: use.job, uses: use.uses });
      }
    }
    return found;
  });
  return perRepo.flat().sort((a, b) => a.repo.localeCompare(b.repo) || a.workflow.localeCompare(b.workflow) || a.job.localeCompare(b.job));
}
