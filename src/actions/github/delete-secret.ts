import { z } from 'zod';
import { defineAction } from '../define.js';
import type { CredentialEvent } from '../../engine/evidence.js';
import { checkScope, deleteSecret as deleteScopedSecret, getSecretMeta, scopeOf, secretPath, secretResource, secretScopeFields } from '../../github/secret-scope.js';

const schema = z.object({ ...secretScopeFields }).strict().superRefine(checkScope);
type Input = z.infer<typeof schema>;

/**
 * Deletes a repository, environment or organization secret (a leaked one nothing should
 * read any more). Already gone (404) is `changed: false`. Irreversible: the value cannot be
 * read back, so there is no compensate.
 */
export const deleteSecret = defineAction<Input>({
  id: 'github.delete-secret',
  summary: 'Delete a GitHub Actions secret (repo, environment or org). Irreversible.',
  schema,
  permissions: ['github:secrets:write', 'github:environments:write', 'github:organization_secrets:write'],
  mutating: true,
  outputs: { secret: 'the secret as secret:owner/repo/NAME', deleted: 'true when this step deleted it' },
  example: { repo: 'acme/app', name: 'NPM_TOKEN' },

  async plan(ctx, input) {
    const scope = scopeOf(input);
    const github = await ctx.clients.github();
    const meta = await getSecretMeta(github, scope, input.name);
    const resource = secretResource(scope, input.name);
    const read = { service: 'github', operation: `GET ${secretPath(scope)}`, params: { secret_name: input.name }, mutating: false };
    if (!meta) return { changes: [], calls: [read], state: { exists: false } };
    return {
      changes: [{ resource, action: 'delete-secret', summary: `delete ${resource} (irreversible; last updated ${meta.updated_at})`, before: { updated_at: meta.updated_at }, after: null }],
      calls: [read, { service: 'github', operation: `DELETE ${secretPath(scope)}`, params: { secret_name: input.name }, mutating: true }],
      state: { exists: true },
    };
  },

  async apply(ctx, input, plan) {
    const scope = scopeOf(input);
    const resource = secretResource(scope, input.name);
    if (plan.changes.length === 0) return { changed: false, outputs: { secret: resource, deleted: false } };
    const github = await ctx.clients.github();
    const deleted = await deleteScopedSecret(github, scope, input.name);
    if (deleted) {
      ctx.evidence('credential', { credential: resource, kind: 'github-secret', event: 'deleted', at: ctx.now().toISOString() } satisfies CredentialEvent);
    }
    return { changed: deleted, outputs: { secret: resource, deleted } };
  },

  async verify(ctx, input) {
    const scope = scopeOf(input);
    const github = await ctx.clients.github();
    const meta = await getSecretMeta(github, scope, input.name);
    return { verified: !meta, detail: `${secretResource(scope, input.name)} ${meta ? 'still exists' : 'is gone'}` };
  },
});
