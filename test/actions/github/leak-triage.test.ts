import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import type { ActionDefinition } from '../../../src/actions/define.js';
import { auditRuns, classifyRun } from '../../../src/actions/github/audit-runs.js';
import { deleteRunLogs, runEvidenceDir } from '../../../src/actions/github/delete-run-logs.js';
import { purgeCaches } from '../../../src/actions/github/purge-caches.js';
import { scanRunLogs } from '../../../src/actions/github/scan-run-logs.js';
import { DryRunViolation } from '../../../src/engine/errors.js';
import { fingerprint, isSecret, type Secret } from '../../../src/engine/secret.js';
import type { GitHubWorld } from '../../../src/lab/scenario.js';
import { testContext, type TestContext } from '../../helpers/action-context.js';
import { sharedData } from '../../helpers/shared-data.js';
import { compromisedJobLog, jobLog, planted, secretValues } from '../../scan/fixtures.js';
import { expectIdempotent } from './idempotency.js';
import { startGitHubLab, type GitHubLabHarness } from './lab.js';

const sha = (digit: string) => digit.repeat(40);
const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000).toISOString();

function leakWorld(): z.input<typeof GitHubWorld> {
  const job = (name: string, at: string) => [{ name, started_at: at, completed_at: at }];
  return {
    repos: [
      {
        full_name: 'acme/site',
        private: false,
        workflows: [
          { path: '.github/workflows/ci.yml', content: 'name: CI\non: push\njobs: {}\n' },
          { path: '.github/workflows/publish.yml', content: 'name: Publish\non: [push, pull_request_target]\njobs: {}\n' },
          // The real nx workflow that ran attacker-controlled titles with pull_request_target (INCIDENT_TIMELINES.md #6).
          { path: '.github/workflows/pr-title-validation.yml', content: readFileSync(sharedData('workflows', 'nx', 'nx_pr-title-validation_VULNERABLE_c9163491.yml'), 'utf8') },
        ],
        runs: [
          { id: 7001, workflow: '.github/workflows/ci.yml', actor: 'alice', head_sha: sha('1'), created_at: '-20h', jobs: job('build', '-20h'), logs: { build: compromisedJobLog(), lint: jobLog(['eslint .', 'ok']) } },
          { id: 7002, workflow: '.github/workflows/ci.yml', actor: 'alice', head_sha: sha('2'), created_at: '-10h', jobs: job('build', '-10h'), logs: { build: jobLog(['npm test', 'GITHUB_TOKEN: ***', 'ok']) } },
          // Outside the window: not scanned although it leaks.
          { id: 7000, workflow: '.github/workflows/ci.yml', actor: 'alice', head_sha: sha('3'), created_at: '-40d', jobs: job('build', '-40d'), logs: { build: jobLog([`token=${planted.ghp}`]) } },
          { id: 8001, workflow: '.github/workflows/publish.yml', event: 'push', actor: 'alice', head_sha: sha('4'), created_at: '-30h', jobs: job('publish', '-30h') },
          { id: 8002, workflow: '.github/workflows/publish.yml', event: 'pull_request_target', head_branch: 'fix-title', actor: 'attacker', head_sha: sha('5'), created_at: '-5h', jobs: job('publish', '-5h') },
          { id: 8101, workflow: '.github/workflows/pr-title-validation.yml', event: 'pull_request_target', head_branch: 'feat', actor: 'attacker', head_sha: sha('6'), created_at: '-4h', jobs: job('validate', '-4h') },
        ],
        caches: [
          { id: 31, key: 'pnpm-store-Linux-aaa', ref: 'refs/heads/main' },
          { id: 32, key: 'pnpm-store-Linux-bbb', ref: 'refs/pull/9/merge' },
          { id: 33, key: 'node-modules-ccc', ref: 'refs/heads/main' },
        ],
        commits: [
          { sha: sha('a'), author: 'alice', at: '-40d', message: 'publish workflow', files: [{ path: '.github/workflows/publish.yml', status: 'added' }] },
          { sha: sha('b'), author: 'mallory', at: '-6h', message: 'ci: speed up', files: [{ path: '.github/workflows/publish.yml' }] },
          { sha: sha('c'), author: 'mallory', at: '-3h', message: 'ci', files: [{ path: '.github/workflows/shai-hulud-workflow.yml', status: 'added' }] },
        ],
      },
      {
        full_name: 'acme/internal',
        private: true,
        runs: [{ id: 9101, workflow: '.github/workflows/ci.yml', actor: 'bob', head_sha: sha('7'), created_at: '-2h', jobs: job('build', '-2h'), logs: { build: jobLog([`NPM_TOKEN=${planted.npm}`, 'Assumed role: AccessKeyId ASIAQ3EGRWNZTEXAMPLE']) } }],
      },
    ],
  };
}

let harness: GitHubLabHarness;
let runDir: string;
beforeEach(async () => {
  harness = await startGitHubLab(leakWorld());
  runDir = mkdtempSync(join(tmpdir(), 'cicd-ir-leak-'));
});
afterEach(async () => {
  await harness.close();
  rmSync(runDir, { recursive: true, force: true });
});

/** Everything an action left that could be printed, journalled or reported. */
function everythingPrintable(ctx: TestContext, ...more: unknown[]): string {
  return JSON.stringify({ findings: ctx.findings, evidence: ctx.evidenceRecords, logs: ctx.logs, more });
}

function expectNoValue(text: string) {
  for (const value of secretValues()) expect(text.includes(value), `a planted value (${value.slice(0, 5)}…) was echoed`).toBe(false);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

describe('github.scan-run-logs', () => {
  it('finds the clear and double-base64 credentials of the window, routes them, and echoes no value anywhere', async () => {
    // Given CI runs of a public repo 20 h ago (tj-actions dump), 10 h ago (clean) and 40 days ago (leaky, outside)
    const ctx = testContext({ clients: harness.clients(), runDir });
    const input = scanRunLogs.schema.parse({ repo: 'acme/site', workflow: 'ci.yml', since: hoursAgo(48) });
    // When scanned
    const plan = await scanRunLogs.plan(ctx, input);
    const result = await scanRunLogs.apply(ctx, input, plan);
    // Then only the two runs of the window were scanned and only 7001 exposed credentials
    expect((result.outputs['scanned_runs'] as number[]).sort()).toEqual([7001, 7002]);
    expect(result.outputs['exposed_runs']).toEqual([{ repo: 'acme/site', run_id: 7001, private: false }]);
    // And each credential is one critical finding (public repo) on run 7001, the encoded ones included
    const summaries = ctx.findings.map((f) => f.summary);
    expect(ctx.findings.every((f) => f.kind === 'secret-in-log' && f.severity === 'critical' && f.resource === 'github:acme/site/actions/runs/7001')).toBe(true);
    expect(summaries.filter((s) => s.includes('base64-encoded 2x')).length).toBe(5);
    expect(summaries.some((s) => s.startsWith('github-app-token GITHUB_TOKEN ghs_****…(40) exposed in job "build" step "Run tj-actions/changed-files@v45"'))).toBe(true);
    expect(summaries.some((s) => s.startsWith('npm-token NPM_TOKEN npm_****…(40)'))).toBe(true);
    expect(summaries.some((s) => s.startsWith('private-key DEPLOY_KEY'))).toBe(true);
    expect(summaries.some((s) => s.startsWith('github-pat ghp_****…(40) exposed in job "build" step "Run ./deploy.sh"'))).toBe(true);
    // And GitHub tokens go out as Secrets for github.revoke-tokens, the AWS key id for rotation, the rest for manual rotation
    const tokens = result.outputs['github_tokens'] as Secret[];
    expect(tokens.every(isSecret)).toBe(true);
    // (not the ghs_ installation token: /credentials/revoke refuses those; it dies with its job)
    expect(tokens.map((t) => t.fingerprint)).toEqual([fingerprint(planted.ghp)]);
    expect(tokens.map((t) => t.reveal())).toEqual([planted.ghp]);
    expect(summaries.some((s) => s.startsWith('github-app-token') && s.endsWith('it expires when its job ends (github.cancel-runs) or within 1 h'))).toBe(true);
    expect((result.outputs['npm_tokens'] as Secret[]).map((t) => t.reveal())).toEqual([planted.npm]);
    expect(result.outputs['aws_access_key_ids']).toEqual([planted.awsKeyId]);
    expect(result.outputs['aws_session_key_ids']).toEqual([]);
    const manual = result.outputs['manual_rotation'] as Array<{ kind: string; name?: string }>;
    expect(manual.map((m) => m.kind).sort()).toEqual(['aws-secret-access-key', 'private-key', 'runner-secret']);
    // And no finding, output, evidence, log line or plan holds any planted value
    expectNoValue(everythingPrintable(ctx, plan, result));
    expect(scanRunLogs.mutating).toBe(false);
    expect(harness.requests.filter((r) => r.mutating)).toEqual([]);
  });

  it('marks a private repository\'s exposure high rather than critical', async () => {
    const ctx = testContext({ clients: harness.clients(), runDir });
    const input = scanRunLogs.schema.parse({ repo: 'acme/internal', since: hoursAgo(24) });
    const result = await scanRunLogs.apply(ctx, input, await scanRunLogs.plan(ctx, input));
    expect(result.outputs['exposed_runs']).toEqual([{ repo: 'acme/internal', run_id: 9101, private: true }]);
    expect(ctx.findings.map((f) => [f.severity, f.summary.split(' ')[0]]).sort()).toEqual([['high', 'aws-access-key-id'], ['high', 'npm-token']]);
    // And a role session's key id is for the hunt, not for key deactivation
    expect(result.outputs['aws_session_key_ids']).toEqual(['ASIAQ3EGRWNZTEXAMPLE']);
    expect(result.outputs['aws_access_key_ids']).toEqual([]);
    expect(ctx.findings.find((f) => f.summary.startsWith('aws-access-key-id'))!.summary).toContain('a role session: aws.revoke-role-sessions on its role');
    expectNoValue(everythingPrintable(ctx, result));
  });
});

describe('github.delete-run-logs', () => {
  it('keeps a redacted copy and the hash, deletes public logs first, and is idempotent', async () => {
    // Given the original archive of run 7001, as GitHub serves it
    const clients = harness.clients();
    const github = await clients.github();
    const original = Buffer.from((await github.rest.actions.downloadWorkflowRunLogs({ owner: 'acme', repo: 'site', run_id: 7001 })).data as ArrayBuffer);
    const originalSha = createHash('sha256').update(original).digest('hex');
    const ctx = testContext({ clients, runDir });
    // When the exposed runs of a private and a public repository are deleted (twice)
    const { first } = await expectIdempotent(deleteRunLogs, ctx, { runs: [{ repo: 'acme/internal', run_id: 9101, private: true }, { repo: 'acme/site', run_id: 7001 }] });
    // Then the public one went first, and the lab holds no logs for either
    expect(harness.lab.leak.deletedRunLogs.map((d) => d.runId)).toEqual([7001, 9101]);
    expect(harness.lab.state.run('acme/site', 7001).logs).toBeUndefined();
    expect(harness.lab.state.run('acme/internal', 9101).logs).toBeUndefined();
    expect(first.outputs['deleted']).toEqual([{ repo: 'acme/site', run_id: 7001 }, { repo: 'acme/internal', run_id: 9101 }]);
    // And the evidence holds the hash of the original archive and a redacted copy of every log file
    const dir = runEvidenceDir(runDir, 'acme/site', 7001);
    expect(readFileSync(join(dir, 'original.zip.sha256'), 'utf8')).toBe(`${originalSha}  logs_7001.zip\n`);
    const redactedBuild = readFileSync(join(dir, 'redacted', '0_build.txt'), 'utf8');
    expect(redactedBuild).toContain('##[group]Run tj-actions/changed-files@v45');
    expect(redactedBuild).toMatch(/\[base64 \*\*\*\*…\(\d+\) holding 5 credential\(s\), redacted\]/);
    expect(redactedBuild.split('\n').length).toBe(compromisedJobLog().split('\n').length);
    expect(existsSync(join(dir, 'redacted', '1_lint.txt'))).toBe(true);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { sha256: string; hits: unknown[] };
    expect(manifest.sha256).toBe(originalSha);
    expect(manifest.hits.length).toBe(8);
    // And nothing kept or printed holds a planted value
    expectNoValue(filesUnder(runDir).map((file) => readFileSync(file, 'utf8')).join('\n'));
    expectNoValue(everythingPrintable(ctx, first));
  });

  it('refuses bare run ids without a repo before any call', () => {
    expect(deleteRunLogs.schema.safeParse({ runs: [7001] }).success).toBe(false);
    expect(deleteRunLogs.schema.safeParse({ runs: [7001], repo: 'acme/site' }).success).toBe(true);
  });
});

describe('github.purge-caches', () => {
  it('deletes the caches of a key prefix, lists them in the plan, and is idempotent', async () => {
    const ctx = testContext({ clients: harness.clients(), runDir });
    const plan = await purgeCaches.plan(ctx, purgeCaches.schema.parse({ repo: 'acme/site', key_prefix: 'pnpm-store-' }));
    expect(plan.changes.map((c) => c.summary)).toEqual(expect.arrayContaining([expect.stringContaining('pnpm-store-Linux-aaa'), expect.stringContaining('pnpm-store-Linux-bbb')]));
    const { first } = await expectIdempotent(purgeCaches, ctx, { repo: 'acme/site', key_prefix: 'pnpm-store-' });
    expect((first.outputs['deleted'] as number[]).sort()).toEqual([31, 32]);
    expect(harness.lab.leak.caches('acme/site').map((c) => c.key)).toEqual(['node-modules-ccc']);
  });

  it('purges by ref, or all when said so, and refuses an unscoped purge', async () => {
    const ctx = testContext({ clients: harness.clients(), runDir });
    await expectIdempotent(purgeCaches, ctx, { repo: 'acme/site', ref: 'refs/pull/9/merge' });
    expect(harness.lab.leak.caches('acme/site').map((c) => c.id).sort()).toEqual([31, 33]);
    await expectIdempotent(purgeCaches, ctx, { repo: 'acme/site', all: true });
    expect(harness.lab.leak.caches('acme/site')).toEqual([]);
    expect(purgeCaches.schema.safeParse({ repo: 'acme/site' }).success).toBe(false);
    expect(purgeCaches.schema.safeParse({ repo: 'acme/site', all: true, key_prefix: 'x' }).success).toBe(false);
  });
});

describe('github.audit-runs', () => {
  it('flags the pull_request_target run of the publish workflow, the unvetted change before it, and the planted workflow', async () => {
    // Given publish.yml (changed by mallory 6 h ago), a push run 30 h ago and a pull_request_target run 5 h ago
    const ctx = testContext({ clients: harness.clients(), runDir });
    const input = auditRuns.schema.parse({ repo: 'acme/site', workflows: ['publish.yml', '.github/workflows/pr-title-validation.yml'], since: hoursAgo(48), allowed_actors: ['alice'], last_legitimate_sha: sha('a') });
    // When audited
    const result = await auditRuns.apply(ctx, input, await auditRuns.plan(ctx, input));
    // Then the pull_request_target runs are critical untrusted triggers (the real nx workflow's included), the push run is clean
    const byRun = (id: number) => ctx.findings.filter((f) => f.resource === `github:acme/site/actions/runs/${id}`).map((f) => `${f.severity}:${f.kind}`).sort();
    expect(byRun(8002)).toEqual(['critical:untrusted-trigger', 'high:run-after-workflow-change', 'high:unexpected-actor', 'high:unexpected-branch']);
    expect(byRun(8101)).toEqual(['critical:untrusted-trigger', 'high:unexpected-actor', 'high:unexpected-branch']);
    expect(byRun(8001)).toEqual([]);
    expect((result.outputs['suspicious_runs'] as number[]).sort()).toEqual([8002, 8101]);
    // And mallory's change of publish.yml after the last legitimate commit, and the planted workflow file, are findings
    expect(ctx.findings.filter((f) => f.kind === 'workflow-file-changed').map((f) => f.summary)).toEqual([expect.stringContaining(`changed by mallory in bbbbbbb after its last legitimate change aaaaaaa`)]);
    expect(result.outputs['new_workflows']).toEqual([expect.objectContaining({ path: '.github/workflows/shai-hulud-workflow.yml', sha: sha('c'), author: 'mallory' })]);
    expect(ctx.findings.find((f) => f.kind === 'new-workflow-file')?.severity).toBe('critical');
    // And it changed nothing
    expect(harness.requests.filter((r) => r.mutating)).toEqual([]);
  });

  it('classifies workflow_run from a fork as untrusted, and from the repo itself by the event allow-list', () => {
    const policy = { repo: 'acme/site', workflow: 'publish.yml', allowedEvents: ['push'], allowedBranches: ['main'] };
    const run = { id: 1, event: 'workflow_run', head_branch: 'main', created_at: hoursAgo(1), actor: { login: 'alice' }, repository: { full_name: 'acme/site' } };
    expect(classifyRun({ ...run, head_repository: { full_name: 'evil/site', fork: true } }, policy).map((f) => f.kind)).toEqual(['untrusted-trigger']);
    expect(classifyRun({ ...run, head_repository: { full_name: 'acme/site' } }, policy).map((f) => f.kind)).toEqual(['unexpected-event']);
    expect(classifyRun({ ...run, event: 'push', head_repository: { full_name: 'acme/site' } }, policy)).toEqual([]);
  });
});

describe('dry run', () => {
  const inputs: Record<string, Record<string, unknown>> = {
    'github.scan-run-logs': { repo: 'acme/site', workflow: 'ci.yml', since: hoursAgo(48) },
    'github.delete-run-logs': { repo: 'acme/site', runs: [7001] },
    'github.purge-caches': { repo: 'acme/site', all: true },
    'github.audit-runs': { repo: 'acme/site', workflows: ['publish.yml'], since: hoursAgo(48) },
  };
  for (const action of [scanRunLogs, deleteRunLogs, purgeCaches, auditRuns] as ActionDefinition[]) {
    it(`${action.id}: plans without a mutating request; a mutating apply is refused`, async () => {
      const ctx = testContext({ clients: harness.clients({ dryRun: true }), dryRun: true, runDir });
      const input = action.schema.parse(inputs[action.id]);
      const plan = await action.plan(ctx, input);
      if (action.mutating) {
        expect(plan.changes.length).toBeGreaterThan(0);
        await expect(action.apply(ctx, input, plan)).rejects.toThrow(DryRunViolation);
      } else {
        await action.apply(ctx, input, plan);
      }
      expect(harness.requests.filter((r) => r.mutating)).toEqual([]);
    });
  }
});
