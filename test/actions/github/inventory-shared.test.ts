import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inventory } from '../../../src/actions/github/inventory.js';
import type { InventoryItem } from '../../../src/engine/evidence.js';
import { testContext } from '../../helpers/action-context.js';
import { sharedData } from '../../helpers/shared-data.js';
import { startGitHubLab, type GitHubLabHarness } from './lab.js';

const root = sharedData('workflows');
const folders = readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
let harness: GitHubLabHarness;

beforeAll(async () => {
  // Given one lab repository per shared folder holding its real workflow files (no secrets defined)
  harness = await startGitHubLab({
    repos: folders.map((folder) => ({
      full_name: `shared/${folder}`,
      workflows: readdirSync(join(root, folder))
        .filter((file) => /\.ya?ml$/.test(file))
        .map((file) => ({ path: `.github/workflows/${file}`, file: join(root, folder, file) })),
    })),
  });
});
afterAll(async () => {
  await harness.close();
});

describe('github.inventory over every shared workflow, through the lab', () => {
  it('inventories every file of every repository, reporting what it cannot follow', async () => {
    const ctx = testContext({ clients: harness.clients() });
    const files = folders.flatMap((folder) => readdirSync(join(root, folder)).filter((f) => /\.ya?ml$/.test(f)).map((f) => `shared/${folder} .github/workflows/${f}`));
    const all: Record<string, InventoryItem[]> = {};
    for (const folder of folders) {
      const input = inventory.schema.parse({ repo: `shared/${folder}` });
      const result = await inventory.apply(ctx, input, await inventory.plan(ctx, input));
      all[folder] = result.outputs['items'] as InventoryItem[];
    }
    // Then each workflow file got its inventory evidence
    const recorded = ctx.evidenceRecords.map((e) => `${(e.data as { repo: string }).repo} ${(e.data as { workflow: string }).workflow}`);
    expect(recorded.sort()).toEqual(files.sort());
    // And with no secret defined in the lab, every named secret is listed as unknown for a human
    const pt = all['powertools-lambda-python']!;
    expect(pt.find((i) => i.name === 'AWS_LAYERS_ROLE_ARN')).toMatchObject({ kind: 'repo-secret', scope: 'unknown:shared/powertools-lambda-python', rotation: 'manual' });
    // And publish_layer's callee (publish_v2_layer.yml, not in the repo) is a finding, inheriting every secret
    expect(ctx.findings.some((f) => f.kind === 'reusable-workflow-unresolved' && f.summary.includes('release.yml#publish_layer'))).toBe(true);
    expect(pt.find((i) => i.kind === 'all-secrets')!.jobs).toContain('release.yml#publish_layer/?');
    // And the local reusable layer stack is followed with the environment its caller passes (layer_rename.yml names it directly)
    expect([...pt.find((i) => i.name === 'repo:shared/powertools-lambda-python:environment:layer-prod')!.jobs].sort()).toEqual([
      'layer_rename.yml#download',
      'publish_v3_layer.yml#prod/reusable_deploy_v3_layer_stack.yml#deploy-cdk-stack',
    ]);
    // And the nx s1ngularity entry workflow reaches only its GITHUB_TOKEN (default permissions)
    expect(all['nx']!.map((i) => [i.kind, i.name])).toEqual([['github-token', 'GITHUB_TOKEN']]);
  });
});
