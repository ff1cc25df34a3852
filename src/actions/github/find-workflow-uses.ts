import { z } from 'zod';
import { defineAction } from '../define.js';
import { findWorkflowUses as find } from '../../github/workflow-uses.js';

const schema = z
  .object({
    org: z.string().regex(/^[A-Za-z0-9-]+$/, 'an organization login'),
    /** `owner/action@ref`; `*` matches anything: `tj-actions/changed-files@*`. */
    pattern: z.string().min(3),
    concurrency: z.number().int().min(1).max(16).default(4),
    include_archived: z.boolean().default(false),
  })
  .strict();

type Input = z.infer<typeof schema>;

/**
 * Finds every workflow in an organization that uses a compromised action or reusable
 * workflow, so a playbook can `for_each` over `workflows` and contain each. Read-only.
 */
export const findWorkflowUses = defineAction<Input>({
  id: 'github.find-workflow-uses',
  summary: "Find the org's workflows that use an action (e.g. a compromised tj-actions/changed-files@*).",
  schema,
  permissions: ['github:contents:read', 'github:actions:read', 'github:metadata:read'],
  mutating: false,
  outputs: {
    workflows: 'list of {repo, workflow} (unique), for for_each',
    repos: 'repositories with at least one match',
    matches: 'every match: {repo, workflow, job, uses}',
  },
  example: { org: 'acme', pattern: 'tj-actions/changed-files@*' },

  async plan(_ctx, input) {
    return {
      changes: [],
      calls: [
        { service: 'github', operation: 'GET /orgs/{org}/repos', params: { org: input.org }, mutating: false },
        { service: 'github', operation: 'GET /repos/{owner}/{repo}/actions/workflows', params: { each: 'repository' }, mutating: false },
        { service: 'github', operation: 'GET /repos/{owner}/{repo}/contents/{path}', params: { each: 'workflow' }, mutating: false },
      ],
    };
  },

  async apply(ctx, input) {
    const github = await ctx.clients.github();
    const matches = await find(github, { org: input.org, pattern: input.pattern, concurrency: input.concurrency, includeArchived: input.include_archived });
    const pairs = new Map(matches.map((m) => [`${m.repo} ${m.workflow}`, { repo: m.repo, workflow: m.workflow }]));
    return { changed: false, outputs: { workflows: [...pairs.values()], repos: [...new Set(matches.map((m) => m.repo))], matches } };
  },

  async verify(_ctx, _input, result) {
    return { verified: true, detail: `${(result.outputs['workflows'] as unknown[]).length} workflow(s) match` };
  },
});
