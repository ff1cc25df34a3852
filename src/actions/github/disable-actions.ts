import { z } from 'zod';
import { defineAction } from '../define.js';
import { RepoName, splitRepo } from '../../github/api.js';

const schema = z.object({ repo: RepoName }).strict();
type Input = z.infer<typeof schema>;

interface ActionsPermissions {
  enabled: boolean;
  allowed_actions?: 'all' | 'local_only' | 'selected';
}

/**
 * The repository kill switch: `PUT /repos/{o}/{r}/actions/permissions {"enabled": false}`
 * stops every workflow of the repository. The previous setting is journalled in `undo` so
 * compensate puts it back exactly.
 */
export const disableActions = defineAction<Input>({
  id: 'github.disable-actions',
  summary: 'Turn GitHub Actions off for a whole repository (undo: restore the previous setting).',
  schema,
  permissions: ['github:administration:write'],
  mutating: true,
  closesCredential: true,
  outputs: { enabled: 'Actions enabled after the step (false)', previous_enabled: 'Actions enabled before the step' },
  example: { repo: 'acme/app' },

  async plan(ctx, input) {
    const { owner, repo } = splitRepo(input.repo);
    const github = await ctx.clients.github();
    const { data } = await github.rest.actions.getGithubActionsPermissionsRepository({ owner, repo });
    const previous: ActionsPermissions = { enabled: data.enabled, ...(data.allowed_actions ? { allowed_actions: data.allowed_actions } : {}) };
    const read = { service: 'github', operation: 'GET /repos/{owner}/{repo}/actions/permissions', params: { owner, repo }, mutating: false };
    if (!data.enabled) return { changes: [], calls: [read], state: { previous } };
    return {
      changes: [{ resource: `github:${input.repo}/actions`, action: 'disable-actions', summary: `turn GitHub Actions off for ${input.repo}`, before: previous, after: { enabled: false } }],
      calls: [read, { service: 'github', operation: 'PUT /repos/{owner}/{repo}/actions/permissions', params: { owner, repo, enabled: false }, mutating: true }],
      state: { previous },
    };
  },

  async apply(ctx, input, plan) {
    const { previous } = plan.state as { previous: ActionsPermissions };
    const outputs = { enabled: false, previous_enabled: previous.enabled };
    if (plan.changes.length === 0) return { changed: false, outputs };
    const { owner, repo } = splitRepo(input.repo);
    const github = await ctx.clients.github();
    await github.rest.actions.setGithubActionsPermissionsRepository({ owner, repo, enabled: false });
    return { changed: true, outputs, undo: { previous } };
  },

  async verify(ctx, input) {
    const { owner, repo } = splitRepo(input.repo);
    const github = await ctx.clients.github();
    const { data } = await github.rest.actions.getGithubActionsPermissionsRepository({ owner, repo });
    return { verified: data.enabled === false, detail: `GitHub Actions ${data.enabled ? 'still enabled' : 'disabled'} for ${input.repo}` };
  },

  async compensate(ctx, input, result) {
    const undo = result.undo as { previous: ActionsPermissions } | undefined;
    if (!undo || !undo.previous.enabled) return { changed: false, outputs: result.outputs };
    const { owner, repo } = splitRepo(input.repo);
    const github = await ctx.clients.github();
    await github.rest.actions.setGithubActionsPermissionsRepository({
      owner,
      repo,
      enabled: true,
      ...(undo.previous.allowed_actions ? { allowed_actions: undo.previous.allowed_actions } : {}),
    });
    return { changed: true, outputs: { enabled: true, previous_enabled: false } };
  },
});
