import { z } from 'zod';
import { defineAction } from '../define.js';
import type { EvidenceByKind } from '../../engine/evidence.js';
import { RepoName, splitRepo, WorkflowRef } from '../../github/api.js';
import { buildInventory } from '../../github/inventory.js';

const schema = z
  .object({
    repo: RepoName,
    /** One workflow (file name, path or id); all workflows of the repository when omitted. */
    workflow: WorkflowRef.optional(),
  })
  .strict();

type Input = z.infer<typeof schema>;

/** `env:o/r/prod` -> { repo: 'o/r', environment: 'prod' }: the `with:` fields of the secret actions. */
function scopeFields(scope: string): { repo?: string; environment?: string; org?: string } {
  const [kind, rest = ''] = [scope.slice(0, scope.indexOf(':')), scope.slice(scope.indexOf(':') + 1)];
  if (kind === 'org') return { org: rest };
  if (kind === 'env') {
    const [owner, repo, ...env] = rest.split('/');
    return { repo: `${owner}/${repo}`, environment: env.join('/') };
  }
  return { repo: rest };
}

/**
 * What a workflow can reach (FACTS.md, "What a workflow can reach"): named and whole-context
 * secret reads, `secrets: inherit` followed through reusable workflows across repositories,
 * environment secrets, org secrets visible to the repository, GITHUB_TOKEN, and the OIDC
 * subjects of `id-token: write` jobs, each with the action that rotates or revokes it. The
 * AWS roles admitting those subjects are found by `aws.find-roles` from `oidc_subjects`.
 */
export const inventory = defineAction<Input>({
  id: 'github.inventory',
  summary: 'Map the secrets, tokens and OIDC identities a workflow can reach, with how to rotate each.',
  schema,
  permissions: ['github:actions:read', 'github:contents:read', 'github:secrets:read', 'github:environments:read', 'github:organization_secrets:read'],
  mutating: false,
  outputs: {
    secrets: 'list of {scope, name, repo?, environment?, org?, rotation} of the secrets reached (scope repo:o/r, env:o/r/ENV, org:ORG)',
    oidc_subjects: 'OIDC subjects the id-token jobs present (`*` = any value)',
    id_token_jobs: 'jobs that can mint OIDC tokens',
    items: 'every InventoryItem (kind, name, scope, jobs, rotation, opens, owner)',
  },
  example: { repo: 'acme/app', workflow: 'deploy.yml' },

  async plan(_ctx, input) {
    const { owner, repo } = splitRepo(input.repo);
    return {
      changes: [],
      calls: [
        { service: 'github', operation: 'GET /repos/{owner}/{repo}/contents/{path}', params: { owner, repo, workflow: input.workflow ?? 'all' }, mutating: false },
        { service: 'github', operation: 'GET /repos/{owner}/{repo}/actions/secrets', params: { owner, repo }, mutating: false },
        { service: 'github', operation: 'GET /orgs/{org}/actions/secrets', params: { org: owner }, mutating: false },
      ],
    };
  },

  async apply(ctx, input) {
    const github = await ctx.clients.github();
    const result = await buildInventory(github, { repo: input.repo, ...(input.workflow !== undefined ? { workflow: input.workflow } : {}) });
    for (const workflow of result.workflows) {
      ctx.evidence('inventory', { repo: input.repo, workflow: workflow.path, items: workflow.items } satisfies EvidenceByKind['inventory']);
    }
    result.findings.forEach((finding) => ctx.finding(finding));
    const secretKinds = new Set(['repo-secret', 'environment-secret', 'org-secret']);
    const secrets = result.items
      .filter((item) => secretKinds.has(item.kind) && !item.scope.startsWith('unknown:'))
      .map((item) => ({ scope: item.scope, name: item.name, ...scopeFields(item.scope), rotation: item.rotation }));
    const subjects = [...new Set(result.items.filter((item) => item.kind === 'oidc-role').map((item) => item.name))].sort();
    const idTokenJobs = [...new Set(result.workflows.flatMap((w) => w.graph?.jobs.filter((job) => job.idToken).map((job) => job.key) ?? []))];
    return {
      changed: false,
      outputs: { secrets, oidc_subjects: subjects, id_token_jobs: idTokenJobs, items: result.items },
      findings: result.findings,
    };
  },

  async verify(_ctx, _input, result) {
    return { verified: true, detail: `${(result.outputs['items'] as unknown[]).length} item(s) reached` };
  },
});
