import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auditPublishes, isStaticNpmToken, matchRun } from '../../../src/actions/npm/audit-publishes.js';
import { testContext } from '../../helpers/action-context.js';
import { startNpmLab, type NpmLabHarness } from './lab.js';

const sha = (digit: string) => digit.repeat(40);
const ago = (hours: number) => new Date(Date.now() - hours * 3_600_000).toISOString();

describe('npm.audit-publishes against the lab registry and GitHub', () => {
  let lab: NpmLabHarness;

  beforeEach(async () => {
    lab = await startNpmLab(
      {
        packages: [
          {
            name: '@acme/web',
            versions: [
              { version: '1.0.0', published_at: '-20d' },
              // Published 10 minutes into a successful release run.
              { version: '1.1.0', published_at: '-10h' },
              // Published with no release run at all (a stolen token, Shai-Hulud style).
              { version: '1.1.1', published_at: '-3h' },
              // Published after a release run that failed.
              { version: '1.1.2', published_at: '-1h' },
            ],
          },
          { name: 'acme-cli', versions: [{ version: '2.0.0', published_at: '-5h' }] },
        ],
      },
      {
        repos: [
          {
            full_name: 'acme/web',
            workflows: [{ path: '.github/workflows/release.yml', content: 'name: Release\non: push\njobs: {}\n' }],
            runs: [
              { id: 501, workflow: '.github/workflows/release.yml', actor: 'alice', head_sha: sha('1'), created_at: '-10h10m', conclusion: 'success' },
              { id: 502, workflow: '.github/workflows/release.yml', actor: 'alice', head_sha: sha('2'), created_at: '-5h20m', conclusion: 'success' },
              { id: 503, workflow: '.github/workflows/release.yml', actor: 'mallory', head_sha: sha('3'), created_at: '-1h5m', conclusion: 'failure' },
            ],
          },
        ],
      },
    );
  });

  afterEach(() => lab.close());

  it('flags every version in the window that no successful release run accounts for', async () => {
    // Given two packages, a 2-day window, and an inventory that reaches NPM_TOKEN
    const ctx = testContext({ clients: lab.clients({ dryRun: true }) });
    const input = auditPublishes.schema.parse({
      packages: ['@acme/web', 'acme-cli'],
      since: ago(48),
      repo: 'acme/web',
      release_workflow: 'release.yml',
      window_minutes: 30,
      inventory: [{ name: 'NPM_TOKEN', kind: 'repo-secret' }, { name: 'GITHUB_TOKEN', kind: 'github-token' }],
    });

    // When the audit runs (read-only: it runs in a dry run too)
    const result = await auditPublishes.apply(ctx, input, await auditPublishes.plan(ctx, input));

    // Then the versions published in the window are listed, matched to their runs where one exists
    const publishes = result.outputs['publishes'] as Array<{ package: string; version: string; run_id?: number }>;
    expect(publishes.map((p) => `${p.package}@${p.version}:${p.run_id ?? '-'}`).sort()).toEqual(['@acme/web@1.1.0:501', '@acme/web@1.1.1:-', '@acme/web@1.1.2:-', 'acme-cli@2.0.0:502'].sort());
    // And each unmatched one is a high finding, including the one after a failed run
    expect((result.outputs['unmatched'] as string[]).sort()).toEqual(['@acme/web@1.1.1', '@acme/web@1.1.2']);
    const rogue = result.findings!.filter((f) => f.kind === 'publish-without-release-run');
    expect(rogue.map((f) => f.resource).sort()).toEqual([expect.stringMatching(/\/@acme\/web@1\.1\.1$/), expect.stringMatching(/\/@acme\/web@1\.1\.2$/)]);
    expect(rogue.every((f) => f.severity === 'high' && f.at)).toBe(true);
    // And the static token gets the trusted-publishing recommendation
    expect(result.findings!.find((f) => f.kind === 'static-publish-token')?.summary).toMatch(/NPM_TOKEN.*trusted publishing/);
    // And nothing was written anywhere
    expect(lab.requests.filter((r) => r.mutating)).toEqual([]);
    expect(ctx.evidenceRecords.map((r) => r.kind)).toEqual(['npm-publishes']);
  });

  it('finds nothing to flag when every publish follows a successful run, and no token finding without a static token', async () => {
    // Given a window that only holds the legitimate 1.1.0 publish
    const ctx = testContext({ clients: lab.clients() });
    const input = auditPublishes.schema.parse({ packages: ['@acme/web'], since: ago(12), until: ago(6), repo: 'acme/web', release_workflow: 'release.yml' });
    // When the audit runs
    const result = await auditPublishes.apply(ctx, input, await auditPublishes.plan(ctx, input));
    // Then there are no findings
    expect(result.outputs['unmatched']).toEqual([]);
    expect(result.findings).toEqual([]);
  });

  it('reports a package the registry does not know', async () => {
    const ctx = testContext({ clients: lab.clients() });
    const input = auditPublishes.schema.parse({ packages: ['@acme/typo'], since: ago(12), repo: 'acme/web', release_workflow: 'release.yml' });
    const result = await auditPublishes.apply(ctx, input, await auditPublishes.plan(ctx, input));
    expect(result.findings!.map((f) => f.kind)).toEqual(['package-not-found']);
  });
});

describe('matchRun and isStaticNpmToken', () => {
  it('matches only a successful run that started at most the window before the publish', () => {
    const runs = [
      { id: 1, created_at: '2025-01-01T10:00:00Z', conclusion: 'success' },
      { id: 2, created_at: '2025-01-01T11:00:00Z', conclusion: 'failure' },
    ];
    expect(matchRun(new Date('2025-01-01T10:20:00Z'), runs, 30 * 60_000)?.id).toBe(1);
    expect(matchRun(new Date('2025-01-01T10:40:00Z'), runs, 30 * 60_000)).toBeUndefined();
    expect(matchRun(new Date('2025-01-01T09:59:00Z'), runs, 30 * 60_000)).toBeUndefined();
    expect(matchRun(new Date('2025-01-01T11:10:00Z'), runs, 30 * 60_000)).toBeUndefined();
  });

  it('recognises static npm token names and items that open the registry', () => {
    for (const name of ['NPM_TOKEN', 'NODE_AUTH_TOKEN', 'NPM_PUBLISH_TOKEN', 'npm_token']) expect(isStaticNpmToken({ name }), name).toBe(true);
    expect(isStaticNpmToken({ name: 'RELEASE_KEY', opens: 'npm:registry.npmjs.org' })).toBe(true);
    for (const name of ['GITHUB_TOKEN', 'NPM_CONFIG', 'SNPM_TOKENIZER']) expect(isStaticNpmToken({ name }), name).toBe(false);
  });
});
