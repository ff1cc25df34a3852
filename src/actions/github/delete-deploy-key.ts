import { z } from 'zod';
import { defineAction } from '../define.js';
import type { CredentialEvent } from '../../engine/evidence.js';
import { fingerprint } from '../../engine/secret.js';
import { isNotFound, RepoName, splitRepo } from '../../github/api.js';

const schema = z
  .object({
    repo: RepoName,
    id: z.number().int().positive().optional(),
    /** Every key with this exact title. */
    title: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    if ((value.id === undefined) === (value.title === undefined)) ctx.addIssue({ code: 'custom', message: 'give exactly one of `id` or `title`', path: ['id'] });
  });

type Input = z.infer<typeof schema>;

interface KeySummary {
  id: number;
  title: string;
  read_only: boolean;
  created_at: string;
  /** Fingerprint of the public key text: enough to match a report line, not a secret anyway. */
  key_fingerprint: string;
}

/**
 * Deletes a repository deploy key (by id, or every key with a title). An SSH deploy key
 * with write access is a push credential: a leaked one is deleted, not rotated. Already
 * gone is `changed: false`.
 */
export const deleteDeployKey = defineAction<Input>({
  id: 'github.delete-deploy-key',
  summary: 'Delete a repository deploy key by id or title. Irreversible.',
  schema,
  permissions: ['github:administration:write'],
  mutating: true,
  closesCredential: true,
  outputs: { deleted: 'ids of the keys this step deleted' },
  example: { repo: 'acme/app', title: 'ci-deploy' },

  async plan(ctx, input) {
    const { owner, repo } = splitRepo(input.repo);
    const github = await ctx.clients.github();
    const keys = await github.paginate(github.rest.repos.listDeployKeys, { owner, repo, per_page: 100 });
    const matching: KeySummary[] = keys
      .filter((key) => (input.id !== undefined ? key.id === input.id : key.title === input.title))
      .map((key) => ({ id: key.id, title: key.title, read_only: key.read_only, created_at: key.created_at, key_fingerprint: fingerprint(key.key) }));
    return {
      changes: matching.map((key) => ({
        resource: `github:${input.repo}/keys/${key.id}`,
        action: 'delete-deploy-key',
        summary: `delete deploy key ${key.id} "${key.title}" (${key.read_only ? 'read-only' : 'READ-WRITE'}, created ${key.created_at}); irreversible`,
        before: key,
        after: null,
      })),
      calls: [
        { service: 'github', operation: 'GET /repos/{owner}/{repo}/keys', params: { owner, repo }, mutating: false },
        ...matching.map((key) => ({ service: 'github', operation: 'DELETE /repos/{owner}/{repo}/keys/{key_id}', params: { owner, repo, key_id: key.id }, mutating: true })),
      ],
      state: { keys: matching },
    };
  },

  async apply(ctx, input, plan) {
    const { keys } = plan.state as { keys: KeySummary[] };
    const { owner, repo } = splitRepo(input.repo);
    const github = await ctx.clients.github();
    const deleted: number[] = [];
    for (const key of keys) {
      try {
        await github.rest.repos.deleteDeployKey({ owner, repo, key_id: key.id });
        deleted.push(key.id);
        ctx.evidence('credential', {
          credential: `github:${input.repo}/keys/${key.id}`,
          kind: 'deploy-key',
          event: 'deleted',
          at: ctx.now().toISOString(),
          fingerprint: key.key_fingerprint,
          detail: key.title,
        } satisfies CredentialEvent);
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
    return { changed: deleted.length > 0, outputs: { deleted } };
  },

  async verify(ctx, input) {
    const { owner, repo } = splitRepo(input.repo);
    const github = await ctx.clients.github();
    const keys = await github.paginate(github.rest.repos.listDeployKeys, { owner, repo, per_page: 100 });
    const left = keys.filter((key) => (input.id !== undefined ? key.id === input.id : key.title === input.title));
    return left.length === 0 ? { verified: true, detail: 'no matching deploy key left' } : { verified: false, detail: `still present: ${left.map((k) => k.id).join(', ')}` };
  },
});
