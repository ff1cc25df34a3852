import type { Octokit } from '@octokit/rest';
import { z } from 'zod';
import { defineAction } from '../define.js';
import { httpStatus, RepoName, splitRepo } from '../../github/api.js';

const schema = z
  .object({
    repo: RepoName,
    /** Caches whose key starts with this (`pnpm-store-`, `Linux-node-`). */
    key_prefix: z.string().min(1).optional(),
    /** Caches of this ref only (`refs/heads/main`, `refs/pull/7/merge`). */
    ref: z.string().regex(/^refs\//, 'a full ref such as refs/heads/main').optional(),
    /** Every cache of the repository: must be said explicitly. */
    all: z.boolean().default(false),
  })
  .strict()
  .superRefine((input, ctx) => {
    const filtered = input.key_prefix !== undefined || input.ref !== undefined;
    if (filtered === input.all) {
      ctx.addIssue({ code: 'custom', path: ['all'], message: 'give key_prefix and/or ref, or all: true (not both)' });
    }
  });

type Input = z.infer<typeof schema>;

interface CacheRef {
  id: number;
  key: string;
  ref: string;
  size_in_bytes?: number;
  last_accessed_at?: string;
}

async function listCaches(github: Octokit, input: Input): Promise<CacheRef[]> {
  const { owner, repo } = splitRepo(input.repo);
  const caches = await github.paginate(github.rest.actions.getActionsCacheList, {
    owner,
    repo,
    per_page: 100,
    ...(input.key_prefix !== undefined ? { key: input.key_prefix } : {}),
    ...(input.ref !== undefined ? { ref: input.ref } : {}),
  });
  return caches
    .filter((cache): cache is typeof cache & { id: number; key: string; ref: string } => cache.id !== undefined && cache.key !== undefined && cache.ref !== undefined)
    .map((cache) => ({ id: cache.id, key: cache.key, ref: cache.ref, ...(cache.size_in_bytes !== undefined ? { size_in_bytes: cache.size_in_bytes } : {}), ...(cache.last_accessed_at ? { last_accessed_at: cache.last_accessed_at } : {}) }));
}

/**
 * Deletes a repository's GitHub Actions caches (all, or by key prefix and/or ref) when a
 * workflow shared a cache with untrusted code: a poisoned cache restored by a release job is
 * how Ultralytics and TanStack were published. Deletes by id, so exactly what the plan listed
 * goes; a cache already gone is not an error. Not reversible (caches rebuild on the next run).
 */
export const purgeCaches = defineAction<Input>({
  id: 'github.purge-caches',
  summary: "Delete the repository's Actions caches (all, or by key prefix / ref) that untrusted code could have poisoned.",
  schema,
  permissions: ['github:actions:write'],
  mutating: true,
  outputs: {
    deleted: 'ids of the caches deleted',
    keys: 'their keys',
  },
  example: { repo: 'acme/app', key_prefix: 'pnpm-store-' },

  async plan(ctx, input) {
    const { owner, repo } = splitRepo(input.repo);
    const caches = await listCaches(await ctx.clients.github(), input);
    return {
      changes: caches.map((cache) => ({
        resource: `github:${input.repo}/actions/caches/${cache.id}`,
        action: 'delete-cache',
        summary: `delete cache ${cache.key} (${cache.ref}${cache.size_in_bytes !== undefined ? `, ${cache.size_in_bytes} bytes` : ''})`,
        before: cache,
        after: null,
      })),
      calls: [
        { service: 'github', operation: 'GET /repos/{owner}/{repo}/actions/caches', params: { owner, repo, key: input.key_prefix, ref: input.ref }, mutating: false },
        ...caches.map((cache) => ({ service: 'github', operation: 'DELETE /repos/{owner}/{repo}/actions/caches/{cache_id}', params: { owner, repo, cache_id: cache.id }, mutating: true })),
      ],
      state: { caches },
    };
  },

  async apply(ctx, input, plan) {
    const { caches } = plan.state as { caches: CacheRef[] };
    const { owner, repo } = splitRepo(input.repo);
    const github = await ctx.clients.github();
    const deleted: CacheRef[] = [];
    for (const cache of caches) {
      ctx.signal.throwIfAborted();
      try {
        await github.rest.actions.deleteActionsCacheById({ owner, repo, cache_id: cache.id });
        deleted.push(cache);
      } catch (error) {
        // Evicted or deleted since the plan: the wanted state already holds.
        if (httpStatus(error) !== 404) throw error;
      }
    }
    if (deleted.length > 0) {
      ctx.evidence('caches-purged', { repo: input.repo, caches: deleted, at: ctx.now().toISOString() });
      ctx.log(`deleted ${deleted.length} cache(s) of ${input.repo}`);
    }
    return { changed: deleted.length > 0, outputs: { deleted: deleted.map((cache) => cache.id), keys: deleted.map((cache) => cache.key) } };
  },

  async verify(ctx, input, result) {
    const deleted = new Set(result.outputs['deleted'] as number[]);
    const remaining = (await listCaches(await ctx.clients.github(), input)).filter((cache) => deleted.has(cache.id));
    return remaining.length === 0
      ? { verified: true, detail: `${deleted.size} cache(s) deleted and no longer listed` }
      : { verified: false, detail: `still listed: ${remaining.map((cache) => cache.key).join(', ')}` };
  },
});
