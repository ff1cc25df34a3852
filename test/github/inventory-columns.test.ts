import { afterEach, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import type { InventoryItem } from '../../src/engine/evidence.js';
import { buildInventory } from '../../src/github/inventory.js';
import type { GitHubWorld } from '../../src/lab/scenario.js';
import { startGitHubLab, type GitHubLabHarness } from '../actions/github/lab.js';

const release = `name: Release
on: push
permissions:
  id-token: write
  contents: read
jobs:
  publish:
    runs-on: ubuntu-latest
    steps:
      - uses: aws-actions/configure-aws-credentials@v4
        with:
          role-to-assume: arn:aws:iam::111122223333:role/release
          aws-region: us-east-1
      - uses: actions/setup-node@v4
        with:
          registry-url: https://registry.npmjs.org
      - run: npm publish
        env:
          NODE_AUTH_TOKEN: \${{ secrets.NPM_TOKEN }}
          GH_TOKEN: \${{ secrets.RELEASE_PAT }}
          AWS_SECRET_ACCESS_KEY: \${{ secrets.AWS_SECRET_ACCESS_KEY }}
          SLACK: \${{ secrets.SLACK_WEBHOOK }}
`;

const ci = `name: CI
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: npm test
        env:
          NPM_TOKEN: \${{ secrets.NPM_TOKEN }}
`;

function world(files: Record<string, string>): z.input<typeof GitHubWorld> {
  return {
    orgs: [{ login: 'acme' }],
    repos: [
      {
        full_name: 'acme/web',
        workflows: [
          { path: '.github/workflows/release.yml', content: release },
          { path: '.github/workflows/ci.yml', content: ci },
        ],
        secrets: [
          { name: 'NPM_TOKEN', value: 'npm_' + 'k'.repeat(36) },
          { name: 'RELEASE_PAT', value: 'ghp_' + 'p'.repeat(36) },
          { name: 'AWS_SECRET_ACCESS_KEY', value: 's'.repeat(40) },
          { name: 'SLACK_WEBHOOK', value: 'https://hooks.slack.test/x' },
        ],
        files,
      },
    ],
  };
}

const byName = (items: InventoryItem[]) => Object.fromEntries(items.map((item) => [item.kind === 'oidc-role' ? 'OIDC' : item.name, item]));

describe('inventory OPENS and OWNER columns, through the lab', () => {
  let lab: GitHubLabHarness | undefined;
  afterEach(async () => {
    await lab?.close();
    lab = undefined;
  });

  it('takes owners from CODEOWNERS of each workflow file (last match wins) and names what each credential opens', async () => {
    // Given a repository whose CODEOWNERS gives workflows to platform and release.yml to the release team
    lab = await startGitHubLab(world({ '.github/CODEOWNERS': '*  @acme/everyone\n.github/workflows/  @acme/platform\n/.github/workflows/release.yml  @acme/release\n' }));
    const github = await lab.clients({ dryRun: true }).github();

    // When the whole repository is inventoried
    const result = await buildInventory(github, { repo: 'acme/web' });
    const items = byName(result.items);

    // Then each credential names the external system it opens
    expect(items['NPM_TOKEN']).toMatchObject({ opens: 'npm:registry.npmjs.org' });
    expect(items['AWS_SECRET_ACCESS_KEY']).toMatchObject({ opens: 'aws:111122223333' });
    expect(items['OIDC']).toMatchObject({ opens: 'aws:111122223333' });
    expect(items['RELEASE_PAT']).toMatchObject({ opens: 'github:acme' });
    expect(items['SLACK_WEBHOOK']).toMatchObject({ opens: 'unknown' });
    // And owners come from the CODEOWNERS rule of the workflow that reaches it; one reached by two workflows has both
    expect(items['AWS_SECRET_ACCESS_KEY']!.owner).toBe('@acme/release');
    expect(items['NPM_TOKEN']!.owner).toBe('@acme/release,@acme/platform');
    expect(result.workflows.find((w) => w.path.endsWith('ci.yml'))!.items.every((item) => item.owner === '@acme/platform')).toBe(true);
  });

  it('prefers the owners file, falls back to CODEOWNERS for names it does not list, and to unknown without either', async () => {
    // Given an owners file for NPM_TOKEN and AWS_*, and CODEOWNERS at the root
    lab = await startGitHubLab(
      world({
        '.github/cicd-ir-owners.yml': 'owners:\n  NPM_TOKEN: "@acme/release"\n  "AWS_*": "@acme/platform"\n',
        CODEOWNERS: '.github/ @alice\n',
      }),
    );
    const github = await lab.clients({ dryRun: true }).github();
    const items = byName((await buildInventory(github, { repo: 'acme/web', workflow: 'release.yml' })).items);
    expect(items['NPM_TOKEN']!.owner).toBe('@acme/release');
    expect(items['AWS_SECRET_ACCESS_KEY']!.owner).toBe('@acme/platform');
    expect(items['SLACK_WEBHOOK']!.owner).toBe('@alice');
    await lab.close();

    // Given no owners file and no CODEOWNERS
    lab = await startGitHubLab(world({}));
    const bare = byName((await buildInventory(await lab.clients({ dryRun: true }).github(), { repo: 'acme/web', workflow: 'release.yml' })).items);
    // Then the owner is unknown, and nothing was written
    expect(bare['NPM_TOKEN']!.owner).toBe('unknown');
    expect(lab.requests.filter((r) => r.mutating)).toEqual([]);
  });

  it('reports an invalid owners file as a finding and falls back to CODEOWNERS', async () => {
    lab = await startGitHubLab(world({ '.github/cicd-ir-owners.yml': 'owner: {}\n', 'docs/CODEOWNERS': '* @bob\n' }));
    const result = await buildInventory(await lab.clients({ dryRun: true }).github(), { repo: 'acme/web', workflow: 'release.yml' });
    expect(result.findings.map((f) => f.kind)).toContain('owners-file-invalid');
    expect(byName(result.items)['NPM_TOKEN']!.owner).toBe('@bob');
  });
});
