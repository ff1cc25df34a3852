import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { GitHubWorld } from '../scenario.js';
import type { LabContext, LabHttpRequest } from '../types.js';
import { error, json, noContent, notFound, paginate, route, validationFailed, type Reply, type Route } from './http.js';
import { nodeId, simpleUser, type UrlBase } from './shapes.js';
import { isoSeconds, stableId, type GitHubLabState, type RepoState } from './world.js';

/**
 * The lab endpoints leak triage needs beside the core emulator: Actions caches (list, delete by
 * key / ref / id), run-log deletion, and the commit history that tells when a workflow file was
 * last changed and which workflow files were added. Shapes follow GitHub's OpenAPI description
 * (the lab tests check every answer against it).
 */

export interface CacheState {
  id: number;
  key: string;
  ref: string;
  version: string;
  sizeInBytes: number;
  createdAt: Date;
  lastAccessedAt: Date;
  deletedAt?: Date;
}

export interface CommitState {
  sha: string;
  message: string;
  author: string;
  at: Date;
  files: Array<{ path: string; status: 'added' | 'modified' | 'removed' }>;
}

/** What tests assert on: caches still there and deleted, and run logs deleted. */
export interface LeakTriageLabState {
  /** Live caches of a repository. */
  caches(fullName: string): CacheState[];
  deletedCaches(fullName: string): CacheState[];
  /** Runs whose logs a client deleted, in order. */
  deletedRunLogs: Array<{ repo: string; runId: number; at: Date }>;
}

/** The part of the emulator's call a handler here reads (index.ts passes its own, a superset). */
export interface LeakTriageCall {
  request: LabHttpRequest;
  params: Record<string, string>;
  base: UrlBase;
  docs: string;
}

type Handler = (call: LeakTriageCall) => Reply;

const SORTS = ['created_at', 'last_accessed_at', 'size_in_bytes'] as const;

function commitShape(base: UrlBase, repo: RepoState, commit: CommitState, parent: CommitState | undefined, withFiles: boolean) {
  const url = `${base.api}/repos/${repo.fullName}/commits/${commit.sha}`;
  const person = { name: commit.author, email: `${commit.author}@users.noreply.github.com`, date: isoSeconds(commit.at) };
  const tree = createHash('sha1').update(`tree:${commit.sha}`).digest('hex');
  return {
    url,
    sha: commit.sha,
    node_id: nodeId('Commit', parseInt(commit.sha.slice(0, 8), 16)),
    html_url: `${base.html}/${repo.fullName}/commit/${commit.sha}`,
    comments_url: `${url}/comments`,
    commit: {
      url: `${base.api}/repos/${repo.fullName}/git/commits/${commit.sha}`,
      author: person,
      committer: person,
      message: commit.message,
      comment_count: 0,
      tree: { sha: tree, url: `${base.api}/repos/${repo.fullName}/git/trees/${tree}` },
    },
    author: simpleUser(base, commit.author),
    committer: simpleUser(base, commit.author),
    parents: parent ? [{ sha: parent.sha, url: `${base.api}/repos/${repo.fullName}/commits/${parent.sha}`, html_url: `${base.html}/${repo.fullName}/commit/${parent.sha}` }] : [],
    ...(withFiles
      ? {
          stats: { total: commit.files.length, additions: commit.files.length, deletions: 0 },
          files: commit.files.map((file) => {
            const sha = createHash('sha1').update(`blob:${commit.sha}:${file.path}`).digest('hex');
            return {
              sha,
              filename: file.path,
              status: file.status,
              additions: file.status === 'removed' ? 0 : 1,
              deletions: file.status === 'added' ? 0 : 1,
              changes: file.status === 'modified' ? 2 : 1,
              blob_url: `${base.html}/${repo.fullName}/blob/${commit.sha}/${file.path}`,
              raw_url: `${base.html}/${repo.fullName}/raw/${commit.sha}/${file.path}`,
              contents_url: `${base.api}/repos/${repo.fullName}/contents/${file.path}?ref=${commit.sha}`,
            };
          }),
        }
      : {}),
  };
}

const cacheShape = (cache: CacheState) => ({
  id: cache.id,
  ref: cache.ref,
  key: cache.key,
  version: cache.version,
  last_accessed_at: isoSeconds(cache.lastAccessedAt),
  created_at: isoSeconds(cache.createdAt),
  size_in_bytes: cache.sizeInBytes,
});

/**
 * Builds the leak-triage routes over the emulator's state. `index.ts` appends them to its route
 * table, so they get the same authentication, rate budget and request log as every other route.
 */
export function leakTriageRoutes(world: z.input<typeof GitHubWorld>, ctx: LabContext, state: GitHubLabState, labSecret: string): { routes: Route<Handler>[]; state: LeakTriageLabState } {
  const parsed = GitHubWorld.parse(world);
  const caches = new Map<string, CacheState[]>();
  const commits = new Map<string, CommitState[]>();
  for (const repo of parsed.repos) {
    const key = repo.full_name.toLowerCase();
    caches.set(
      key,
      repo.caches.map((cache) => ({
        id: cache.id ?? stableId(labSecret, `cache:${repo.full_name}:${cache.key}:${cache.ref}`, 1, 90_000),
        key: cache.key,
        ref: cache.ref,
        version: createHash('sha256').update(`${cache.key}:${cache.ref}`).digest('hex'),
        sizeInBytes: cache.size_in_bytes,
        createdAt: ctx.at(cache.created_at),
        lastAccessedAt: ctx.at(cache.last_accessed_at ?? cache.created_at),
      })),
    );
    // Oldest first: a commit's parent is the one before it.
    commits.set(
      key,
      repo.commits
        .map((commit) => ({ sha: commit.sha, message: commit.message, author: commit.author, at: ctx.at(commit.at), files: commit.files }))
        .sort((a, b) => a.at.getTime() - b.at.getTime()),
    );
  }
  const deleted = new Map<string, CacheState[]>();
  const labState: LeakTriageLabState = {
    caches: (fullName) => (caches.get(fullName.toLowerCase()) ?? []).filter((cache) => !cache.deletedAt),
    deletedCaches: (fullName) => deleted.get(fullName.toLowerCase()) ?? [],
    deletedRunLogs: [],
  };

  const withRepo = (handler: (call: LeakTriageCall, repo: RepoState) => Reply): Handler => (call) => {
    const repo = state.repos.get(`${call.params.owner}/${call.params.repo}`.toLowerCase());
    return repo ? handler(call, repo) : notFound(call.docs);
  };
  const removeCaches = (repo: RepoState, doomed: CacheState[]) => {
    const now = ctx.now();
    const list = deleted.get(repo.fullName.toLowerCase()) ?? [];
    for (const cache of doomed) {
      cache.deletedAt = now;
      list.push(cache);
    }
    deleted.set(repo.fullName.toLowerCase(), list);
  };

  const routes: Route<Handler>[] = [
    route('GET', '/repos/{owner}/{repo}/actions/caches', 'actions/cache#list-github-actions-caches-for-a-repository', withRepo((call, repo) => {
      const query = call.request.query;
      const sort = query.get('sort') ?? 'last_accessed_at';
      const direction = query.get('direction') ?? 'desc';
      if (!(SORTS as readonly string[]).includes(sort)) return validationFailed(call.docs, [{ resource: 'ActionsCache', field: 'sort', code: 'invalid' }]);
      if (direction !== 'asc' && direction !== 'desc') return validationFailed(call.docs, [{ resource: 'ActionsCache', field: 'direction', code: 'invalid' }]);
      // Docs: `key` is "an explicit key or prefix"; `ref` is the full ref (`refs/heads/main`, `refs/pull/1/merge`).
      const key = query.get('key');
      const ref = query.get('ref');
      const value = (cache: CacheState) => (sort === 'size_in_bytes' ? cache.sizeInBytes : sort === 'created_at' ? cache.createdAt.getTime() : cache.lastAccessedAt.getTime());
      const listed = labState
        .caches(repo.fullName)
        .filter((cache) => (key === null || cache.key.startsWith(key)) && (ref === null || cache.ref === ref))
        .sort((a, b) => (direction === 'asc' ? value(a) - value(b) : value(b) - value(a)) || a.id - b.id);
      const { page, headers } = paginate(listed, call.request, call.base.api);
      return json(200, { total_count: listed.length, actions_caches: page.map(cacheShape) }, headers);
    })),
    route('DELETE', '/repos/{owner}/{repo}/actions/caches', 'actions/cache#delete-github-actions-caches-for-a-repository-using-a-cache-key', withRepo((call, repo) => {
      const key = call.request.query.get('key');
      const ref = call.request.query.get('ref');
      if (!key) return validationFailed(call.docs, [{ resource: 'ActionsCache', field: 'key', code: 'missing_field' }]);
      // Unlike the list, deletion by key matches the key exactly (docs: "Deletes one or more caches using a key").
      const doomed = labState.caches(repo.fullName).filter((cache) => cache.key === key && (ref === null || cache.ref === ref));
      if (doomed.length === 0) return notFound(call.docs);
      removeCaches(repo, doomed);
      return json(200, { total_count: doomed.length, actions_caches: doomed.map(cacheShape) });
    })),
    route('DELETE', '/repos/{owner}/{repo}/actions/caches/{cache_id}', 'actions/cache#delete-a-github-actions-cache-for-a-repository-using-a-cache-id', withRepo((call, repo) => {
      const cache = labState.caches(repo.fullName).find((candidate) => String(candidate.id) === call.params.cache_id);
      if (!cache) return notFound(call.docs);
      removeCaches(repo, [cache]);
      return noContent();
    })),
    route('DELETE', '/repos/{owner}/{repo}/actions/runs/{run_id}/logs', 'actions/workflow-runs#delete-workflow-run-logs', withRepo((call, repo) => {
      const run = repo.runs.find((candidate) => String(candidate.id) === call.params.run_id);
      // Logs already deleted (or never kept) answer 404 like the download does (lab choice: GitHub does not document it).
      if (!run || !run.logs) return notFound(call.docs);
      // The docs list 403 for this operation; a run still writing its logs is the lab's case for it.
      if (run.status !== 'completed') return error(403, 'Cannot delete logs of a workflow run that is not completed.', call.docs);
      delete run.logs;
      labState.deletedRunLogs.push({ repo: repo.fullName, runId: run.id, at: ctx.now() });
      return noContent();
    })),
    route('GET', '/repos/{owner}/{repo}/commits', 'commits/commits#list-commits', withRepo((call, repo) => {
      const query = call.request.query;
      const history = commits.get(repo.fullName.toLowerCase()) ?? [];
      const bound = (name: string) => {
        const raw = query.get(name);
        return raw === null ? undefined : Date.parse(raw);
      };
      const since = bound('since');
      const until = bound('until');
      if (Number.isNaN(since) || Number.isNaN(until)) return error(400, 'Invalid date', call.docs);
      // Only a repository with nothing in it is empty; one with workflow files has a history the
      // scenario simply did not spell out: no commit of it matches.
      if (history.length === 0 && repo.workflows.length === 0) return error(409, 'Git Repository is empty.', call.docs);
      // `path`: commits that touch the file, or anything under the folder.
      const path = query.get('path')?.replace(/^\/+|\/+$/g, '');
      const touches = (commit: CommitState) => !path || commit.files.some((file) => file.path === path || file.path.startsWith(`${path}/`));
      const listed = history
        .filter((commit) => touches(commit) && (since === undefined || commit.at.getTime() >= since) && (until === undefined || commit.at.getTime() <= until) && (!query.has('author') || commit.author === query.get('author')))
        .reverse();
      const { page, headers } = paginate(listed, call.request, call.base.api);
      return json(200, page.map((commit) => commitShape(call.base, repo, commit, history[history.indexOf(commit) - 1], false)), headers);
    })),
    route('GET', '/repos/{owner}/{repo}/commits/{ref}', 'commits/commits#get-a-commit', withRepo((call, repo) => {
      const history = commits.get(repo.fullName.toLowerCase()) ?? [];
      const ref = call.params.ref!;
      const index = ref === repo.defaultBranch ? history.length - 1 : history.findIndex((commit) => ref.length >= 7 && commit.sha.startsWith(ref));
      if (index < 0) return validationFailed(call.docs, [], `No commit found for SHA: ${ref}`);
      return json(200, commitShape(call.base, repo, history[index]!, history[index - 1], true));
    })),
  ];
  return { routes, state: labState };
}
