import { z } from 'zod';
import { defineAction } from '../define.js';
import { RepoName, splitRepo, WorkflowRef, workflowId } from '../../github/api.js';

const schema = z
  .object({
    repo: RepoName,
    /** File name (`deploy.yml`), path or numeric id. */
    workflow: WorkflowRef,
  })
  .strict();

type Input = z.infer<typeof schema>;

/** Stops a workflow from starting new runs (state `disabled_manually`); compensate enables it again. */
export const disableWorkflow = defineAction<Input>({
  id: 'github.disable-workflow',
  summary: 'Disable a GitHub Actions workflow so no new run starts (undo: enable).',
  schema,
  permissions: ['github:actions:write'],
  mutating: true,
  closesCredential: true,
  outputs: {
    workflow_id: 'numeric id of the workflow',
    path: 'path of the workflow file',
    state: 'state after the step (disabled_manually)',
    previous_state: 'state before the step',
  },
  example: { repo: 'acme/app', workflow: 'deploy.yml' },

  async plan(ctx, input) {
    const { owner, repo } = splitRepo(input.repo);
    const github = await ctx.clients.github();
    const { data } = await github.rest.actions.getWorkflow({ owner, repo, workflow_id: workflowId(input.workflow) });
    const state = { workflow_id: data.id, path: data.path, previous_state: data.state };
    const calls = [{ service: 'github', operation: 'GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}', params: { owner, repo, workflow_id: data.id }, mutating: false }];
    if (data.state === 'disabled_manually') return { changes: [], calls, state };
    return {
      changes: [
        {
          resource: `github:${input.repo}/${data.path}`,
          action: 'disable',
          summary: `disable workflow ${data.path} (now ${data.state})`,
          before: data.state,
          after: 'disabled_manually',
        },
      ],
      calls: [...calls, { service: 'github', operation: 'PUT /repos/{owner}/{repo}/actions/workflows/{workflow_id}/disable', params: { owner, repo, workflow_id: data.id }, mutating: true }],
      state,
    };
  },

  async apply(ctx, input, plan) {
    const state = plan.state as { workflow_id: number; path: string; previous_state: string };
    const outputs = { workflow_id: state.workflow_id, path: state.path, state: 'disabled_manually', previous_state: state.previous_state };
    if (plan.changes.length === 0) return { changed: false, outputs };
    const { owner, repo } = splitRepo(input.repo);
    const github = await ctx.clients.github();
    await github.rest.actions.disableWorkflow({ owner, repo, workflow_id: state.workflow_id });
    return { changed: true, outputs, undo: { workflow_id: state.workflow_id, previous_state: state.previous_state } };
  },

  async verify(ctx, input) {
    const { owner, repo } = splitRepo(input.repo);
    const github = await ctx.clients.github();
    const { data } = await github.rest.actions.getWorkflow({ owner, repo, workflow_id: workflowId(input.workflow) });
    return { verified: data.state === 'disabled_manually', detail: `workflow ${data.path} is ${data.state}` };
  },

  async compensate(ctx, input, result) {
    const undo = result.undo as { workflow_id: number; previous_state: string } | undefined;
    // Only re-enable what this step disabled: a workflow already off before stays off.
    if (!undo || undo.previous_state !== 'active') return { changed: false, outputs: result.outputs };
    const { owner, repo } = splitRepo(input.repo);
    const github = await ctx.clients.github();
    await github.rest.actions.enableWorkflow({ owner, repo, workflow_id: undo.workflow_id });
    return { changed: true, outputs: { ...result.outputs, state: 'active' } };
  },
});
