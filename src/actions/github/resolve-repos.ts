import { z } from 'zod';
import { defineAction } from '../define.js';
import { CicdIrError } from '../../engine/errors.js';
import { isNotFound, RepoName, splitRepo } from '../../github/api.js';

const schema = z
  .object({
    /** Repositories as the responder typed them: `globexcorp/payments` for `GlobexCorp/Payments`. */
    repos: z.array(RepoName).min(1),
  })
  .strict();

type Input = z.infer<typeof schema>;

/** One repository as GitHub names it. */
interface Resolved {
  given: string;
  full_name: string;
  owner_id: number;
  repo_id: number;
}

/**
 * Resolves repository names to GitHub's own casing (`GET /repos/{owner}/{repo}` answers any
 * casing, and follows a rename, with `full_name`). OIDC `sub` claims carry that casing and IAM's
 * StringLike / StringEquals compare case-sensitively, so subjects and trust restrictions built
 * from `globexcorp/payments` would not match `repo:GlobexCorp/Payments:*`: later steps take these
 * names instead of the typed ones. Read-only.
 */
export const resolveRepos = defineAction<Input>({
  id: 'github.resolve-repos',
  summary: "Resolve repository names to GitHub's casing (full_name) before OIDC subjects are built from them.",
  schema,
  permissions: ['github:metadata:read'],
  mutating: false,
  outputs: {
    repos: 'owner/name of each repository as GitHub spells it (input order, duplicates once)',
    changed: 'list of {given, full_name} whose name GitHub spells differently (case or rename)',
    ids: 'list of {full_name, owner_id, repo_id}: the immutable ids of the owner@id/repo@id subject form',
  },
  example: { repos: ['acme/web'] },

  async plan(_ctx, input) {
    return {
      changes: [],
      calls: input.repos.map((repo) => ({ service: 'github', operation: 'GET /repos/{owner}/{repo}', params: splitRepo(repo), mutating: false })),
    };
  },

  async apply(ctx, input) {
    const github = await ctx.clients.github();
    const resolved: Resolved[] = [];
    for (const given of input.repos) {
      const { owner, repo } = splitRepo(given);
      try {
        const { data } = await github.rest.repos.get({ owner, repo });
        resolved.push({ given, full_name: data.full_name, owner_id: data.owner.id, repo_id: data.id });
      } catch (error) {
        if (!isNotFound(error)) throw error;
        throw new CicdIrError(`repository ${given} not found (or not visible to this token): its OIDC subjects cannot be named`, {
          suggestions: ['check the owner/name and the token’s access (metadata: read)'],
        });
      }
    }
    const repos = [...new Set(resolved.map((item) => item.full_name))];
    const changed = resolved.filter((item) => item.given !== item.full_name).map(({ given, full_name }) => ({ given, full_name }));
    for (const item of changed) ctx.log(`repository ${item.given} is ${item.full_name} on GitHub: subjects and trust use GitHub's spelling`, 'warn');
    const ids = [...new Map(resolved.map(({ full_name, owner_id, repo_id }) => [full_name, { full_name, owner_id, repo_id }])).values()];
    return { changed: false, outputs: { repos, changed, ids } };
  },

  async verify(_ctx, _input, result) {
    const repos = result.outputs['repos'] as string[];
    const changed = result.outputs['changed'] as unknown[];
    return { verified: repos.length > 0, detail: `${repos.join(', ')}${changed.length ? ` (${changed.length} spelled differently by GitHub)` : ''}` };
  },
});
