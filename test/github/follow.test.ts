import { existsSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { capPermissions, followWorkflow, type WorkflowFetcher } from '../../src/github/follow.js';
import { analyzeWorkflow } from '../../src/github/reach.js';
import { sharedData } from '../helpers/shared-data.js';

const REPO = 'aws-powertools/powertools-lambda-python';

/** Serves the powertools files as the repository's .github/workflows folder; records what was fetched. */
function powertoolsFetcher(fetched: string[]): WorkflowFetcher {
  return async ({ repo, path, ref }) => {
    fetched.push(`${repo}/${path}${ref ? `@${ref}` : ''}`);
    if (repo !== REPO) return undefined;
    const file = sharedData('workflows', 'powertools-lambda-python', posix.basename(path));
    return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  };
}

function rootOf(file: string) {
  const text = readFileSync(sharedData('workflows', 'powertools-lambda-python', file), 'utf8');
  return analyzeWorkflow(text, { repo: REPO, path: `.github/workflows/${file}` });
}

describe('followWorkflow', () => {
  it('follows publish_v3_layer.yml into the layer stack with the environment its caller passes', async () => {
    // Given publish_v3_layer.yml calling reusable_deploy_v3_layer_stack.yml twice (secrets: inherit)
    const fetched: string[] = [];
    const graph = await followWorkflow(rootOf('publish_v3_layer.yml'), { fetch: powertoolsFetcher(fetched) });
    // Then the called job runs in layer-beta and layer-prod, reads the root's AWS_LAYERS_ROLE_ARN and mints OIDC tokens
    const beta = graph.jobs.find((j) => j.key === 'publish_v3_layer.yml#beta/reusable_deploy_v3_layer_stack.yml#deploy-cdk-stack')!;
    const prod = graph.jobs.find((j) => j.key === 'publish_v3_layer.yml#prod/reusable_deploy_v3_layer_stack.yml#deploy-cdk-stack')!;
    expect(beta.secrets).toEqual(['AWS_LAYERS_ROLE_ARN']);
    expect(beta.environment?.name).toBe('layer-beta');
    expect(beta.oidcSubjects).toEqual([`repo:${REPO}:environment:layer-beta`]);
    expect(prod.oidcSubjects).toEqual([`repo:${REPO}:environment:layer-prod`]);
    const docs = graph.jobs.find((j) => j.key === 'publish_v3_layer.yml#release_docs/reusable_publish_docs.yml#publish_docs')!;
    expect(docs.secrets).toEqual(['AWS_DOCS_BUCKET', 'AWS_DOCS_ROLE_ARN']);
    expect(docs.oidcSubjects).toEqual([`repo:${REPO}:environment:Docs`]);
    expect(graph.unresolved).toEqual([]);
    expect(fetched.sort()).toEqual([
      `${REPO}/.github/workflows/reusable_deploy_v3_layer_stack.yml`,
      `${REPO}/.github/workflows/reusable_deploy_v3_layer_stack.yml`,
      `${REPO}/.github/workflows/reusable_publish_docs.yml`,
    ]);
  });

  it('maps an explicitly passed secret back to the caller: token <- GITHUB_TOKEN reaches no repository secret', async () => {
    // Given label_pr_on_title.yml passing `token: ${{ secrets.GITHUB_TOKEN }}` to reusable_export_pr_details.yml
    const graph = await followWorkflow(rootOf('label_pr_on_title.yml'), { fetch: powertoolsFetcher([]) });
    // Then the callee's secrets.token is the caller's GITHUB_TOKEN, not a secret named TOKEN
    const callee = graph.jobs.find((j) => j.key.endsWith('reusable_export_pr_details.yml#export_pr_details'))!;
    expect(callee.secrets).toEqual([]);
    expect(callee.allSecrets).toBe(false);
  });

  it('treats an unreadable callee given `secrets: inherit` as reaching every secret, and lists it', async () => {
    // Given release.yml whose publish_layer inherits into publish_v2_layer.yml (not in the data set)
    const graph = await followWorkflow(rootOf('release.yml'), { fetch: powertoolsFetcher([]) });
    // Then both calls it cannot read are listed, and the inheriting one reaches all secrets with OIDC
    expect(graph.unresolved.map((u) => [u.job, u.reason.split(':')[0]])).toEqual([
      ['release.yml#provenance', `slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@v2.0.0 not found`],
      ['release.yml#publish_layer', `${REPO}/.github/workflows/publish_v2_layer.yml not found`],
    ]);
    const unknown = graph.jobs.find((j) => j.key === 'release.yml#publish_layer/?')!;
    expect(unknown.allSecrets).toBe(true);
    expect(unknown.idToken).toBe(true);
    expect(unknown.oidcSubjects).toContain(`repo:${REPO}:environment:*`);
    const provenance = graph.jobs.find((j) => j.key === 'release.yml#provenance/?')!;
    expect(provenance.allSecrets).toBe(false);
    expect(provenance.secrets).toEqual([]);
  });

  it('follows across repositories, renames explicit secrets, and stops at a cycle', async () => {
    // Given a caller in acme/app passing DEPLOY_KEY as `key` to acme/shared's deploy.yml, which calls itself back
    const files: Record<string, string> = {
      'acme/shared/.github/workflows/deploy.yml@v1': [
        'on: { workflow_call: { secrets: { key: { required: true } } } }',
        'jobs:',
        '  deploy:',
        '    runs-on: ubuntu-latest',
        '    environment: ${{ inputs.env }}',
        '    permissions: { id-token: write }',
        '    steps: [{ run: "echo ${{ secrets.key }} ${{ secrets.NOT_PASSED }}" }]',
        '  again:',
        '    uses: acme/shared/.github/workflows/deploy.yml@v1',
        '    secrets: inherit',
      ].join('\n'),
    };
    const caller = analyzeWorkflow(
      [
        'on: { push: { branches: [main] } }',
        'jobs:',
        '  ship:',
        '    permissions: { id-token: write }',
        '    uses: acme/shared/.github/workflows/deploy.yml@v1',
        '    with: { env: prod }',
        '    secrets: { key: "${{ secrets.DEPLOY_KEY }}" }',
      ].join('\n'),
      { repo: 'acme/app', path: '.github/workflows/ship.yml' },
    );
    const graph = await followWorkflow(caller, { fetch: async ({ repo, path, ref }) => files[`${repo}/${path}@${ref}`] });
    // Then the called job reads the caller's DEPLOY_KEY (and nothing it was not given) in env prod of acme/app
    const deploy = graph.jobs.find((j) => j.key === 'ship.yml#ship/deploy.yml#deploy')!;
    expect(deploy.secrets).toEqual(['DEPLOY_KEY']);
    expect(deploy.definedIn).toBe('acme/shared/.github/workflows/deploy.yml');
    expect(deploy.oidcSubjects).toEqual(['repo:acme/app:environment:prod']);
    // And the self-call is reported as a cycle instead of looping
    expect(graph.unresolved).toHaveLength(1);
    expect(graph.unresolved[0]!.reason).toMatch(/^cycle: /);
    expect(graph.jobs.find((j) => j.key === 'ship.yml#ship/deploy.yml#again/?')!.secrets).toEqual(['DEPLOY_KEY']);
  });

  it('caps a callee at its caller: no id-token in the caller job, no OIDC in the callee', async () => {
    const caller = analyzeWorkflow('on: push\njobs:\n  a:\n    uses: ./.github/workflows/b.yml\n', { repo: 'acme/app', path: '.github/workflows/a.yml' });
    const graph = await followWorkflow(caller, {
      fetch: async () => 'on: workflow_call\njobs:\n  b:\n    runs-on: x\n    permissions: { id-token: write }\n    steps: [{ run: "true" }]\n',
    });
    expect(graph.jobs).toEqual([expect.objectContaining({ key: 'a.yml#a/b.yml#b', idToken: false, oidcSubjects: [] })]);
  });
});

describe('capPermissions', () => {
  it('never gives a called job more than its caller has', () => {
    // A caller with `permissions: {}` leaves the callee nothing, whatever it asks for
    expect(capPermissions({ kind: 'scopes', scopes: { contents: 'write', 'id-token': 'write' } }, { kind: 'scopes', scopes: {} })).toEqual({
      kind: 'scopes',
      scopes: { contents: 'none', 'id-token': 'none' },
    });
    // A callee without a block inherits the caller's
    expect(capPermissions({ kind: 'default' }, { kind: 'all', level: 'read' })).toEqual({ kind: 'all', level: 'read' });
    // read-all caller, write callee: read
    expect(capPermissions({ kind: 'scopes', scopes: { contents: 'write' } }, { kind: 'all', level: 'read' })).toEqual({ kind: 'scopes', scopes: { contents: 'read' } });
    expect(capPermissions({ kind: 'all', level: 'write' }, { kind: 'scopes', scopes: { pages: 'write', contents: 'read' } })).toEqual({ kind: 'scopes', scopes: { pages: 'write', contents: 'read' } });
  });
});
