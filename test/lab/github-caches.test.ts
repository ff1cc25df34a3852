import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Octokit } from '@octokit/rest';
import type { z } from 'zod';
import type { GitHubWorld } from '../../src/lab/scenario.js';
import { startLab, statusOf, type LabHarness } from './github-harness.js';

const sha = (digit: string) => digit.repeat(40);
const repo = { owner: 'acme', repo: 'web' };

const world: z.input<typeof GitHubWorld> = {
  repos: [
    {
      full_name: 'acme/web',
      workflows: [{ path: '.github/workflows/release.yml', content: 'name: Release\non: push\njobs: {}\n' }],
      caches: [
        { id: 11, key: 'pnpm-store-Linux-abc', ref: 'refs/heads/main', size_in_bytes: 5000, created_at: '-3d' },
        { id: 12, key: 'pnpm-store-Linux-def', ref: 'refs/pull/7/merge', size_in_bytes: 9000, created_at: '-2h' },
        { id: 13, key: 'node-modules-xyz', ref: 'refs/heads/main', size_in_bytes: 100, created_at: '-1d' },
      ],
      commits: [
        { sha: sha('1'), author: 'alice', at: '-30d', message: 'add release', files: [{ path: '.github/workflows/release.yml', status: 'added' }] },
        { sha: sha('2'), author: 'bob', at: '-5d', message: 'docs', files: [{ path: 'README.md' }] },
        { sha: sha('3'), author: 'mallory', at: '-2h', message: 'ci', files: [{ path: '.github/workflows/shai-hulud-workflow.yml', status: 'added' }] },
      ],
      runs: [
        { id: 501, workflow: '.github/workflows/release.yml', actor: 'alice', head_sha: sha('2'), created_at: '-1h', jobs: [{ name: 'publish', started_at: '-1h', completed_at: '-50m' }], logs: { publish: 'hello\n' } },
        { id: 502, workflow: '.github/workflows/release.yml', actor: 'alice', head_sha: sha('2'), status: 'in_progress', created_at: '-5m', jobs: [{ name: 'publish', status: 'in_progress', started_at: '-5m' }], logs: { publish: 'running\n' } },
      ],
    },
  ],
};

describe('GitHub lab: caches, run-log deletion, commits', () => {
  let h: LabHarness;
  let gh: Octokit;

  beforeAll(async () => {
    h = await startLab({ world });
    gh = h.github;
  });

  afterAll(async () => {
    // Then every answer matched GitHub's OpenAPI description
    expect(h.fidelityErrors).toEqual([]);
    await h.close();
  });

  it('lists caches by key prefix and ref, sorted as asked', async () => {
    // Given three caches, two of the pnpm store
    // When listed with a key prefix, then with a ref, then by size ascending
    const byKey = await gh.rest.actions.getActionsCacheList({ ...repo, key: 'pnpm-store-' });
    const byRef = await gh.rest.actions.getActionsCacheList({ ...repo, ref: 'refs/pull/7/merge' });
    const bySize = await gh.rest.actions.getActionsCacheList({ ...repo, sort: 'size_in_bytes', direction: 'asc' });
    // Then the prefix and the ref filter, and the order follows size
    expect(byKey.data.actions_caches.map((c) => c.id).sort()).toEqual([11, 12]);
    expect(byRef.data.actions_caches.map((c) => c.key)).toEqual(['pnpm-store-Linux-def']);
    expect(bySize.data.actions_caches.map((c) => c.id)).toEqual([13, 11, 12]);
    expect(await statusOf(gh.request('GET /repos/{owner}/{repo}/actions/caches', { ...repo, sort: 'name' }))).toBe(422);
  });

  it('deletes a cache by exact key (not prefix) and by id; a second delete is 404', async () => {
    // When deleting by a prefix only / Then nothing matches exactly
    expect(await statusOf(gh.rest.actions.deleteActionsCacheByKey({ ...repo, key: 'pnpm-store-' }))).toBe(404);
    // When deleting by key and by id
    const byKey = await gh.rest.actions.deleteActionsCacheByKey({ ...repo, key: 'node-modules-xyz' });
    const byId = await gh.rest.actions.deleteActionsCacheById({ ...repo, cache_id: 12 });
    // Then both are gone from the list and recorded as deleted
    expect(byKey.data.actions_caches.map((c) => c.id)).toEqual([13]);
    expect(byId.status).toBe(204);
    expect(h.lab.leak.caches('acme/web').map((c) => c.id)).toEqual([11]);
    expect(h.lab.leak.deletedCaches('acme/web').map((c) => c.id)).toEqual([13, 12]);
    expect(await statusOf(gh.rest.actions.deleteActionsCacheById({ ...repo, cache_id: 12 }))).toBe(404);
  });

  it('deletes the logs of a completed run; the download then 404s; an in-progress run refuses', async () => {
    // When the completed run's logs are deleted
    const deleted = await gh.rest.actions.deleteWorkflowRunLogs({ ...repo, run_id: 501 });
    // Then 204, the lab holds no logs for it, and the download answers 404
    expect(deleted.status).toBe(204);
    expect(h.lab.state.run('acme/web', 501).logs).toBeUndefined();
    expect(h.lab.leak.deletedRunLogs.map((d) => d.runId)).toEqual([501]);
    expect(await statusOf(gh.rest.actions.downloadWorkflowRunLogs({ ...repo, run_id: 501 }))).toBe(404);
    expect(await statusOf(gh.rest.actions.deleteWorkflowRunLogs({ ...repo, run_id: 501 }))).toBe(404);
    // And a run still in progress keeps its logs
    expect(await statusOf(gh.rest.actions.deleteWorkflowRunLogs({ ...repo, run_id: 502 }))).toBe(403);
    expect(h.lab.state.run('acme/web', 502).logs).toBeDefined();
  });

  it('lists commits by path and window, newest first, and gets one with its files', async () => {
    // When the history of the workflow folder is listed, then since 3 days ago
    const folder = await gh.rest.repos.listCommits({ ...repo, path: '.github/workflows' });
    const recent = await gh.rest.repos.listCommits({ ...repo, since: new Date(Date.now() - 3 * 86_400_000).toISOString() });
    const file = await gh.rest.repos.listCommits({ ...repo, path: '.github/workflows/release.yml', per_page: 1 });
    // Then path and since filter, newest first, with parents
    expect(folder.data.map((c) => c.sha)).toEqual([sha('3'), sha('1')]);
    expect(recent.data.map((c) => c.commit.author?.name)).toEqual(['mallory']);
    expect(file.data.map((c) => c.sha)).toEqual([sha('1')]);
    expect(folder.data[0]!.parents.map((p) => p.sha)).toEqual([sha('2')]);
    // When one commit is fetched / Then its files say which workflow was added
    const planted = await gh.rest.repos.getCommit({ ...repo, ref: sha('3').slice(0, 7) });
    expect(planted.data.files?.map((f) => [f.filename, f.status])).toEqual([['.github/workflows/shai-hulud-workflow.yml', 'added']]);
    expect(await statusOf(gh.rest.repos.getCommit({ ...repo, ref: 'f'.repeat(40) }))).toBe(422);
  });
});
