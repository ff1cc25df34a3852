import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { findWorkflowUses } from '../../../src/actions/github/find-workflow-uses.js';
import { inventory } from '../../../src/actions/github/inventory.js';
import type { InventoryItem } from '../../../src/engine/evidence.js';
import type { GitHubWorld } from '../../../src/lab/scenario.js';
import { testContext } from '../../helpers/action-context.js';
import { sharedData } from '../../helpers/shared-data.js';
import { startGitHubLab, type GitHubLabHarness } from './lab.js';

const powertools = (file: string) => readFileSync(sharedData('workflows', 'powertools-lambda-python', file), 'utf8');
const zizmor = (file: string) => readFileSync(sharedData('workflows', 'zizmor-fixtures', file), 'utf8');
const PT = 'aws-powertools/powertools-lambda-python';

/** Real workflows in lab repositories, with the secrets they name defined in the scopes they live in. */
const world: z.input<typeof GitHubWorld> = {
  orgs: [
    {
      login: 'aws-powertools',
      secrets: [
        { name: 'AWS_DOCS_BUCKET', value: 'docs-bucket-name', visibility: 'selected', selected_repositories: [PT] },
        { name: 'ORG_WIDE_TOKEN', value: 'org-wide-token-1', visibility: 'all' },
        { name: 'PRIVATE_ONLY', value: 'private-only-1', visibility: 'private' },
      ],
    },
    { login: 'acme', secrets: [{ name: 'NPM_TOKEN', value: 'npm-token-value-1', visibility: 'all' }] },
    { login: 'octo-org' },
  ],
  repos: [
    {
      full_name: PT,
      private: false,
      default_branch: 'develop',
      workflows: [
        { path: '.github/workflows/publish_v3_layer.yml', content: powertools('publish_v3_layer.yml') },
        { path: '.github/workflows/reusable_deploy_v3_layer_stack.yml', content: powertools('reusable_deploy_v3_layer_stack.yml') },
        { path: '.github/workflows/reusable_publish_docs.yml', content: powertools('reusable_publish_docs.yml') },
      ],
      secrets: [{ name: 'UNUSED_REPO_SECRET', value: 'unused-repo-secret-1' }],
      environments: [
        { name: 'layer-beta', secrets: [{ name: 'AWS_LAYERS_ROLE_ARN', value: 'arn:aws:iam::111111111111:role/beta' }] },
        { name: 'layer-prod', secrets: [{ name: 'AWS_LAYERS_ROLE_ARN', value: 'arn:aws:iam::222222222222:role/prod' }] },
        { name: 'Docs', secrets: [{ name: 'AWS_DOCS_ROLE_ARN', value: 'arn:aws:iam::333333333333:role/docs' }] },
      ],
    },
    {
      full_name: 'acme/app',
      private: true,
      workflows: [
        { path: '.github/workflows/secrets-inherit.yml', content: zizmor('secrets-inherit.yml') },
        { path: '.github/workflows/overprovisioned.yml', content: zizmor('overprovisioned-secrets.yml') },
        {
          path: '.github/workflows/lint.yml',
          content: 'on: pull_request\njobs:\n  changed:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: tj-actions/changed-files@v45\n      - run: echo ${{ secrets.AWS_SECRET_ACCESS_KEY }}\n',
        },
      ],
      secrets: [
        { name: 'DEPLOY_TOKEN', value: 'deploy-token-value-1' },
        { name: 'AWS_SECRET_ACCESS_KEY', value: 'aws-secret-access-key-1' },
      ],
      environments: [{ name: 'foobar', secrets: [{ name: 'OTHERSTUFF', value: 'otherstuff-value-1' }] }],
    },
    {
      full_name: 'octo-org/example-repo',
      workflows: [
        {
          path: '.github/workflows/called-workflow.yml',
          content: 'on: workflow_call\njobs:\n  publish:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ secrets.DEPLOY_TOKEN }}\n',
        },
      ],
    },
    {
      full_name: 'acme/web',
      workflows: [{ path: '.github/workflows/ci.yml', content: 'on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@v4\n      - uses: TJ-Actions/changed-files@a284dc1814e3fd07f2e34267fc8f81227ed29fb8\n' }],
    },
    {
      full_name: 'acme/immutable',
      oidc: { use_default: true, use_immutable_subject: true },
      workflows: [{ path: '.github/workflows/deploy.yml', content: 'on: push\npermissions: { id-token: write }\njobs:\n  deploy:\n    runs-on: x\n    environment: prod\n    steps: [{ run: "true" }]\n' }],
    },
    {
      full_name: 'acme/custom',
      oidc: { use_default: false, include_claim_keys: ['repository_owner', 'context', 'job_workflow_ref'] },
      workflows: [{ path: '.github/workflows/deploy.yml', content: 'on: push\npermissions: { id-token: write }\njobs:\n  deploy:\n    runs-on: x\n    environment: prod\n    steps: [{ run: "true" }]\n' }],
    },
    { full_name: 'acme/docs', workflows: [{ path: '.github/workflows/ci.yml', content: 'on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@v4\n' }] },
  ],
};

let harness: GitHubLabHarness;
beforeAll(async () => {
  harness = await startGitHubLab(world);
});
afterAll(async () => {
  await harness.close();
});

function byKey(items: InventoryItem[]) {
  return Object.fromEntries(items.map((item) => [`${item.kind} ${item.scope} ${item.name}`, { jobs: [...item.jobs].sort(), rotation: item.rotation }]));
}

describe('github.inventory', () => {
  it('follows publish_v3_layer.yml into its reusable workflows: environment secrets, the selected org secret, OIDC subjects', async () => {
    // Given powertools' publish_v3_layer.yml, whose beta/prod/release_docs jobs call reusable workflows with secrets: inherit
    const ctx = testContext({ clients: harness.clients() });
    const input = inventory.schema.parse({ repo: PT, workflow: 'publish_v3_layer.yml' });
    // When inventoried
    const result = await inventory.apply(ctx, input, await inventory.plan(ctx, input));
    // Then each called job reaches its own environment's role secret, the docs job the selected org secret
    const beta = 'publish_v3_layer.yml#beta/reusable_deploy_v3_layer_stack.yml#deploy-cdk-stack';
    const prod = 'publish_v3_layer.yml#prod/reusable_deploy_v3_layer_stack.yml#deploy-cdk-stack';
    const docs = 'publish_v3_layer.yml#release_docs/reusable_publish_docs.yml#publish_docs';
    const items = byKey(result.outputs['items'] as InventoryItem[]);
    expect(items[`environment-secret env:${PT}/layer-beta AWS_LAYERS_ROLE_ARN`]).toEqual({ jobs: [beta], rotation: 'manual' });
    expect(items[`environment-secret env:${PT}/layer-prod AWS_LAYERS_ROLE_ARN`]).toEqual({ jobs: [prod], rotation: 'manual' });
    expect(items[`environment-secret env:${PT}/Docs AWS_DOCS_ROLE_ARN`]).toEqual({ jobs: [docs], rotation: 'manual' });
    expect(items[`org-secret org:aws-powertools AWS_DOCS_BUCKET`]).toEqual({ jobs: [docs], rotation: 'github.rotate-secret' });
    // And secrets nobody reads (the unused repo secret, the all-visible org secret) are not listed
    expect(Object.keys(items).filter((k) => k.includes('UNUSED_REPO_SECRET') || k.includes('ORG_WIDE_TOKEN'))).toEqual([]);
    expect(result.outputs['secrets']).toEqual([
      { scope: `env:${PT}/Docs`, name: 'AWS_DOCS_ROLE_ARN', repo: PT, environment: 'Docs', rotation: 'manual' },
      { scope: `env:${PT}/layer-beta`, name: 'AWS_LAYERS_ROLE_ARN', repo: PT, environment: 'layer-beta', rotation: 'manual' },
      { scope: `env:${PT}/layer-prod`, name: 'AWS_LAYERS_ROLE_ARN', repo: PT, environment: 'layer-prod', rotation: 'manual' },
      { scope: 'org:aws-powertools', name: 'AWS_DOCS_BUCKET', org: 'aws-powertools', rotation: 'github.rotate-secret' },
    ]);
    // And the OIDC subjects: the called jobs' environments, build-layer's dispatched refs
    expect(result.outputs['oidc_subjects']).toEqual([
      `repo:${PT}:environment:Docs`,
      `repo:${PT}:environment:layer-beta`,
      `repo:${PT}:environment:layer-prod`,
      `repo:${PT}:ref:refs/heads/*`,
      `repo:${PT}:ref:refs/tags/*`,
    ]);
    expect(result.outputs['id_token_jobs']).toEqual(['publish_v3_layer.yml#build-layer', beta, prod, docs]);
    expect(ctx.evidenceRecords.map((e) => e.kind)).toEqual(['inventory']);
    expect(ctx.findings).toEqual([]);
  });

  it('zizmor secrets-inherit.yml across repositories: only the inheriting call reaches DEPLOY_TOKEN', async () => {
    const ctx = testContext({ clients: harness.clients() });
    const input = inventory.schema.parse({ repo: 'acme/app', workflow: 'secrets-inherit.yml' });
    const result = await inventory.apply(ctx, input, await inventory.plan(ctx, input));
    const items = byKey(result.outputs['items'] as InventoryItem[]);
    expect(items['repo-secret repo:acme/app DEPLOY_TOKEN']).toEqual({ jobs: ['secrets-inherit.yml#call-workflow-vulnerable-1/called-workflow.yml#publish'], rotation: 'github.rotate-secret' });
    // special-secret is passed explicitly but exists nowhere: listed as unknown, for a human
    expect(items['repo-secret unknown:acme/app SPECIAL-SECRET']).toEqual({ jobs: ['secrets-inherit.yml#call-workflow-not-vulnerable-2'], rotation: 'manual' });
    expect(result.outputs['oidc_subjects']).toEqual([]);
    // Every job that runs steps holds a GITHUB_TOKEN: the four called jobs (callers run no steps)
    expect(items['github-token repo:acme/app GITHUB_TOKEN']!.jobs).toEqual([
      'secrets-inherit.yml#call-workflow-not-vulnerable-2/called-workflow.yml#publish',
      'secrets-inherit.yml#call-workflow-not-vulnerable-3/called-workflow.yml#publish',
      'secrets-inherit.yml#call-workflow-not-vulnerable-4/called-workflow.yml#publish',
      'secrets-inherit.yml#call-workflow-vulnerable-1/called-workflow.yml#publish',
    ]);
  });

  it('toJSON(secrets) in an environment job reaches every repo, visible org and environment secret', async () => {
    const ctx = testContext({ clients: harness.clients() });
    const input = inventory.schema.parse({ repo: 'acme/app', workflow: 'overprovisioned.yml' });
    const result = await inventory.apply(ctx, input, await inventory.plan(ctx, input));
    const items = byKey(result.outputs['items'] as InventoryItem[]);
    const job = ['overprovisioned.yml#test'];
    expect(Object.keys(items).sort()).toEqual([
      'all-secrets repo:acme/app *',
      'environment-secret env:acme/app/foobar OTHERSTUFF',
      'github-token repo:acme/app GITHUB_TOKEN',
      'org-secret org:acme NPM_TOKEN',
      'repo-secret repo:acme/app AWS_SECRET_ACCESS_KEY',
      'repo-secret repo:acme/app DEPLOY_TOKEN',
      'repo-secret unknown:acme/app MORESTUFF',
    ]);
    expect(items['repo-secret repo:acme/app AWS_SECRET_ACCESS_KEY']).toEqual({ jobs: job, rotation: 'aws.rotate-access-key' });
  });

  it('inventories every workflow of a repository when none is named', async () => {
    const ctx = testContext({ clients: harness.clients() });
    const input = inventory.schema.parse({ repo: 'acme/app' });
    const result = await inventory.apply(ctx, input, await inventory.plan(ctx, input));
    expect(ctx.evidenceRecords.map((e) => (e.data as { workflow: string }).workflow)).toEqual([
      '.github/workflows/secrets-inherit.yml',
      '.github/workflows/overprovisioned.yml',
      '.github/workflows/lint.yml',
    ]);
    const items = result.outputs['items'] as InventoryItem[];
    expect(byKey(items)['repo-secret repo:acme/app AWS_SECRET_ACCESS_KEY']!.jobs).toEqual(['lint.yml#changed', 'overprovisioned.yml#test']);
    // One GITHUB_TOKEN row per permission set: `permissions: {}` jobs apart from the default-permission lint job
    const tokens = items.filter((item) => item.kind === 'github-token');
    expect(tokens.map((t) => [t.detail?.split('; ')[1], t.jobs.length])).toEqual([
      ['read-only or none', 5],
      ['default token permissions (repository or org setting)', 1],
    ]);
  });
});

describe('github.inventory: the subject form the repository presents', () => {
  it('uses the immutable repo:org@id/repo@id prefix for an opted-in repository', async () => {
    const ctx = testContext({ clients: harness.clients() });
    const input = inventory.schema.parse({ repo: 'acme/immutable', workflow: 'deploy.yml' });
    const result = await inventory.apply(ctx, input, await inventory.plan(ctx, input));
    const orgId = harness.lab.state.orgs.get('acme')!.id;
    const repoId = harness.lab.state.repo('acme/immutable').id;
    expect(result.outputs['oidc_subjects']).toEqual([`repo:acme@${orgId}/immutable@${repoId}:environment:prod`]);
  });

  it('builds the subject from custom claim keys, run-time values as *', async () => {
    const ctx = testContext({ clients: harness.clients() });
    const input = inventory.schema.parse({ repo: 'acme/custom', workflow: 'deploy.yml' });
    const result = await inventory.apply(ctx, input, await inventory.plan(ctx, input));
    expect(result.outputs['oidc_subjects']).toEqual(['repository_owner:acme:environment:prod:job_workflow_ref:*']);
  });
});

describe('github.find-workflow-uses', () => {
  it('finds every workflow of the org using tj-actions/changed-files at any ref, case-insensitively', async () => {
    const ctx = testContext({ clients: harness.clients() });
    const input = findWorkflowUses.schema.parse({ org: 'acme', pattern: 'tj-actions/changed-files@*' });
    const result = await findWorkflowUses.apply(ctx, input, await findWorkflowUses.plan(ctx, input));
    expect(result.outputs['workflows']).toEqual([
      { repo: 'acme/app', workflow: '.github/workflows/lint.yml' },
      { repo: 'acme/web', workflow: '.github/workflows/ci.yml' },
    ]);
    expect(result.outputs['repos']).toEqual(['acme/app', 'acme/web']);
    expect((result.outputs['matches'] as Array<{ uses: string }>).map((m) => m.uses)).toEqual(['tj-actions/changed-files@v45', 'TJ-Actions/changed-files@a284dc1814e3fd07f2e34267fc8f81227ed29fb8']);
  });

  it('matches a pinned ref only when asked for it', async () => {
    const ctx = testContext({ clients: harness.clients() });
    const input = findWorkflowUses.schema.parse({ org: 'acme', pattern: 'tj-actions/changed-files@v45' });
    const result = await findWorkflowUses.apply(ctx, input, await findWorkflowUses.plan(ctx, input));
    expect(result.outputs['repos']).toEqual(['acme/app']);
  });
});
