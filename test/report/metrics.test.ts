import { describe, expect, it } from 'vitest';
import { findingsFor } from '../../src/actions/github/scan-run-logs.js';
import type { JournalRecord } from '../../src/engine/journal.js';
import { fingerprint } from '../../src/engine/secret.js';
import { collect, stringLike } from '../../src/report/collect.js';
import { computeMetrics } from '../../src/report/metrics.js';
import { computeVerdict } from '../../src/report/verdict.js';
import { scanText } from '../../src/scan/index.js';
import { jobLog, planted, tjActionsDump } from '../scan/fixtures.js';

/** Just enough journal for the linking rules, in the shape the real producers write. */
function journal(extra: Record<string, unknown>[]): JournalRecord[] {
  const base = { v: 1, runId: 'r1' };
  return extra.map((r, i) => ({ ...base, seq: i + 1, at: `2026-11-25T10:00:${String(i).padStart(2, '0')}.000Z`, ...r }) as unknown as JournalRecord);
}

const inventory = (items: Record<string, unknown>[]) => ({ type: 'evidence', step: 'inventory[0]', kind: 'inventory', data: { repo: 'o/r', workflow: '.github/workflows/w.yml', items } });
const oidcItem = { kind: 'oidc-role', name: 'repo:o/r:environment:release', scope: 'oidc:token.actions.githubusercontent.com', jobs: ['w.yml#release'], rotation: 'aws.revoke-role-sessions' };
const restricted = (role: string, data: Record<string, unknown> = {}) => ({
  type: 'evidence',
  kind: 'credential',
  data: { credential: `arn:aws:iam::111122223333:role/${role}`, kind: 'oidc-trust', event: 'restricted', at: '2026-11-25T10:00:30.000Z', detail: 'denied repo:o/r:*: deny ...', ...data },
});
const revoked = (role: string) => ({
  type: 'evidence',
  kind: 'credential',
  data: { credential: `arn:aws:iam::111122223333:role/${role}`, kind: 'aws-role-sessions', event: 'revoked', at: '2026-11-25T10:00:40.000Z', detail: 'AWSRevokeOlderSessions: sessions issued before 2026-11-25T10:00:35.000Z are denied' },
});
const foundRoles = (patterns: Record<string, string[]>) => ({
  type: 'step',
  step: 'find-roles',
  key: 'find-roles[0]',
  action: 'aws.find-roles',
  phase: 'applied',
  result: { changed: false, outputs: { matches: Object.entries(patterns).map(([role, p]) => ({ role_arn: `arn:aws:iam::111122223333:role/${role}`, patterns: p })) } },
});
const oidcStatus = (records: Record<string, unknown>[]) => computeMetrics(collect(journal(records))).credentials.items.find((i) => i.kind === 'oidc-role')!;

describe('linking an OIDC subject to what closed it', () => {
  it('is revoked once every role admitting the subject had its trust restricted and sessions revoked', () => {
    // Given the subject, a role found admitting it, a repo-wide deny journalled with its patterns, and a revocation
    const s = oidcStatus([inventory([oidcItem]), foundRoles({ release: ['repo:o/r:environment:release'] }), restricted('release', { subjects: ['repo:o/r:*'] }), revoked('release')]);
    // Then the subject is closed at the revocation
    expect(s).toMatchObject({ status: 'revoked', open: false, at: '2026-11-25T10:00:40.000Z' });
  });

  it('stays OPEN while a role that admits the subject keeps its sessions', () => {
    // Given two roles admitting the subject, only one of them revoked
    const s = oidcStatus([inventory([oidcItem]), foundRoles({ release: ['repo:o/r:*'], other: ['repo:o/r:environment:*'] }), restricted('release'), revoked('release')]);
    // Then it is open and names the role left
    expect(s.status).toBe('open');
    expect(s.note).toContain('sessions of role(s) other not revoked');
  });

  it('stays OPEN when only the trust was restricted, and ignores a deny for another repository', () => {
    expect(oidcStatus([inventory([oidcItem]), restricted('release'), { ...restricted('x'), data: { ...restricted('x').data, subjects: ['repo:o/other:*'] } }]).note).toContain(
      'sessions of role(s) release not revoked',
    );
    // And a subject nobody restricted or found is open with the reason
    expect(oidcStatus([inventory([oidcItem])]).note).toBe('no role admitting this subject was found or restricted in this run');
  });

  it('matches IAM StringLike patterns', () => {
    expect(stringLike('repo:o/r:*', 'repo:o/r:ref:refs/heads/main')).toBe(true);
    expect(stringLike('repo:o/r:environment:?elease', 'repo:o/r:environment:release')).toBe(true);
    expect(stringLike('repo:o/r:*', 'repo:o/r2:ref:refs/heads/main')).toBe(false);
    expect(stringLike('repo:o/r.x:*', 'repo:o/rax:pull_request')).toBe(false);
  });
});

describe("a job's GITHUB_TOKEN", () => {
  const runs = (job: Record<string, unknown>) => ({
    type: 'evidence',
    kind: 'workflow-runs',
    data: {
      repo: 'o/r',
      workflow: '.github/workflows/w.yml',
      runs: [{ id: 7, event: 'push', head_sha: 'abc', status: 'in_progress', conclusion: null, created_at: '2026-11-25T09:00:00Z', jobs: [{ id: 1, name: 'Validate PR Title', started_at: '2026-11-25T09:00:10Z', completed_at: null, conclusion: null, ...job }] }],
    },
  });
  const tokenItem = { kind: 'github-token', name: 'GITHUB_TOKEN', scope: 'repo:o/r', jobs: ['w.yml#validate-pr-title'], rotation: 'github.cancel-runs' };

  it('is found by the job id when the run shows the job by its display name', () => {
    const m = computeMetrics(collect(journal([inventory([tokenItem]), runs({ completed_at: '2026-11-25T09:02:10Z', conclusion: 'success' })])));
    expect(m.credentials.items[0]).toMatchObject({ status: 'expired', at: '2026-11-25T09:02:10.000Z', open: false });
  });

  it('ends when a verified cancel-runs step stopped its run, and not before', () => {
    const cancel = (phase: string, outputs: Record<string, unknown> = {}) => ({ type: 'step', step: 'cancel', key: 'cancel[0]', action: 'github.cancel-runs', phase, result: { changed: true, outputs } });
    // Given the run was running when recorded, then cancelled and verified
    const done = computeMetrics(collect(journal([inventory([tokenItem]), runs({}), cancel('applied', { cancelled: [7], force_cancelled: [], still_running: [] }), cancel('verified')])));
    expect(done.credentials.items[0]).toMatchObject({ status: 'expired', at: '2026-11-25T10:00:02.000Z', open: false });
    expect(done.exposure.find((e) => e.kind === 'github-token')).toMatchObject({ status: 'expired', to: '2026-11-25T10:00:02.000Z' });
    // When the cancel reported the run still running / Then the token stays open
    const still = computeMetrics(collect(journal([inventory([tokenItem]), runs({}), cancel('applied', { cancelled: [7], still_running: [7] }), cancel('verified')])));
    expect(still.credentials.items[0]).toMatchObject({ status: 'open', open: true });
  });
});

describe('a secret closed through the log scan\'s fingerprint', () => {
  const otherNpm = 'npm_' + 'Zy9Xw7Vu5Ts3Rq1Po9Nm7Lk5Ji3Hg1Fe9Dc7';
  const at = '2026-11-25T09:00:00Z';
  const secretItem = (kind: string, scope: string, name: string) => ({ kind, name, scope, jobs: ['ci.yml#build'], rotation: 'github.rotate-secret' });
  const inventoryOf = (repo: string, items: Record<string, unknown>[]) => ({ type: 'evidence', step: 'inventory', kind: 'inventory', data: { repo, workflow: '.github/workflows/ci.yml', items } });
  // The finding github.scan-run-logs journals for a run whose log carried the tj-actions dump.
  const scanFinding = (repo: string, run: number, secrets: Record<string, string>) => {
    const hits = scanText(jobLog(['##[group]Run tj-actions/changed-files@v45', tjActionsDump(secrets)]), { source: 'build/3_changed-files.txt', run, job: 'build' });
    const [finding, ...more] = findingsFor(repo, false, run, hits, at);
    expect(more).toHaveLength(Object.keys(secrets).length - 1);
    // Through JSON, as the journal writes it.
    return [finding, ...more].map((f) => JSON.parse(JSON.stringify({ type: 'finding', step: 'scan', finding: f })) as Record<string, unknown>);
  };
  const npmRevoked = (value: string) => ({
    type: 'evidence',
    step: 'revoke-npm',
    kind: 'credential',
    data: { credential: 'npm:registry.npmjs.org/token/a1b2c3d4e5f6', kind: 'npm-token', event: 'revoked', at: '2026-11-25T10:05:00.000Z', fingerprint: fingerprint(value), detail: 'registry registry.npmjs.org; found in build logs' },
  });
  const runs = (repo: string, id: number) => ({
    type: 'evidence',
    kind: 'workflow-runs',
    data: { repo, workflow: '.github/workflows/ci.yml', runs: [{ id, event: 'push', head_sha: 'abc', status: 'completed', conclusion: 'success', created_at: at, jobs: [{ id: 1, name: 'build', started_at: '2026-11-25T09:00:10Z', completed_at: '2026-11-25T09:03:00Z', conclusion: 'success' }] }] },
  });
  const metricsOf = (records: Record<string, unknown>[]) => {
    const c = collect(journal(records));
    expect(c.warnings).toEqual([]);
    return computeMetrics(c);
  };
  const item = (m: ReturnType<typeof computeMetrics>, scope: string, name = 'NPM_TOKEN') => m.credentials.items.find((i) => i.scope === scope && i.name === name)!;

  it('closes the secret whose value the log showed under its name once that value is revoked', () => {
    // Given NPM_TOKEN of acme/app, the scan finding its value in run 9123456701 of acme/app
    const given = [inventoryOf('acme/app', [secretItem('repo-secret', 'repo:acme/app', 'NPM_TOKEN')]), runs('acme/app', 9123456701), ...scanFinding('acme/app', 9123456701, { NPM_TOKEN: planted.npm })];
    const before = metricsOf(given);
    expect(item(before, 'repo:acme/app')).toMatchObject({ status: 'open', open: true, note: `the log scan found its value ${fingerprint(planted.npm)} in the log of run 9123456701, and no revocation names that value` });
    // When npm.revoke-token revokes that value
    const m = metricsOf([...given, npmRevoked(planted.npm)]);
    // Then the secret is closed at the revocation, and the note says how and what is left to do
    expect(item(m, 'repo:acme/app')).toEqual({
      ...secretItem('repo-secret', 'repo:acme/app', 'NPM_TOKEN'),
      status: 'revoked',
      at: '2026-11-25T10:05:00.000Z',
      open: false,
      note: `revoked as npm token ${fingerprint(planted.npm)} found in the log of run 9123456701; the secret still holds the revoked value: replace it (npm: trusted publishing)`,
    });
    expect(m.credentials.open).toBe(before.credentials.open - 1);
    expect(computeVerdict(collect(journal([...given, npmRevoked(planted.npm)])), m).openItems.filter((o) => o.kind !== 'finding' && o.summary.includes('NPM_TOKEN'))).toEqual([]);
    // And its exposure is the revoked token's, from the job that could read it, not an open secret
    expect(m.exposure.filter((e) => e.credential.includes('NPM_TOKEN'))).toEqual([]);
    expect(m.exposure.find((e) => e.kind === 'npm-token')).toMatchObject({ status: 'revoked', from: '2026-11-25T09:00:10.000Z', fromBasis: 'job-start', to: '2026-11-25T10:05:00.000Z' });
  });

  it('keeps a log finding among the open items until what it exposed is dead, then only among the findings', () => {
    // Given the scan's findings for an npm token and a GitHub PAT printed in run 9123456701 (its job ended)
    const given = [runs('acme/app', 9123456701), ...scanFinding('acme/app', 9123456701, { NPM_TOKEN: planted.npm, GH_PAT: planted.ghp })];
    const leaks = (records: Record<string, unknown>[]) => {
      const c = collect(journal(records));
      return computeVerdict(c, computeMetrics(c)).openItems.filter((o) => o.summary.startsWith('secret-in-log'));
    };
    expect(leaks(given)).toHaveLength(2);
    // When only the npm token is revoked, the PAT's finding stays open
    const npmOnly = leaks([...given, npmRevoked(planted.npm)]);
    expect(npmOnly).toHaveLength(1);
    expect(npmOnly[0]!.summary).toContain('GH_PAT');
    // And when the PAT is revoked too, neither is an open item, and both are still findings
    const ghRevoked = { type: 'evidence', step: 'revoke-tokens', kind: 'credential', data: { credential: fingerprint(planted.ghp), kind: 'github-token', event: 'revoked', at: '2026-11-25T10:06:00.000Z', fingerprint: fingerprint(planted.ghp) } };
    const all = [...given, npmRevoked(planted.npm), ghRevoked];
    expect(leaks(all)).toEqual([]);
    expect(collect(journal(all)).findings.filter((f) => f.value.kind === 'secret-in-log')).toHaveLength(2);
  });

  it('closes an AWS key pair\'s secrets when the key the log printed is deactivated by id', () => {
    // Given the key pair printed in run 9123456701 and both secrets of acme/app in the inventory
    const keyId = 'AKIAQ3EGRWNZTEXAMPLE';
    const given = [
      inventoryOf('acme/app', [secretItem('repo-secret', 'repo:acme/app', 'AWS_ACCESS_KEY_ID'), secretItem('repo-secret', 'repo:acme/app', 'AWS_SECRET_ACCESS_KEY')]),
      runs('acme/app', 9123456701),
      ...scanFinding('acme/app', 9123456701, { AWS_ACCESS_KEY_ID: keyId, AWS_SECRET_ACCESS_KEY: planted.awsSecret }),
    ];
    expect(metricsOf(given).credentials.open).toBe(2);
    // When aws.deactivate-access-key switches that key off (its event names the key id, no fingerprint)
    const deactivated = { type: 'evidence', step: 'deactivate-leaked-keys[0]', kind: 'credential', data: { credential: keyId, kind: 'aws-access-key', event: 'deactivated', at: '2026-11-25T10:07:00.000Z' } };
    const m = metricsOf([...given, deactivated]);
    // Then both secrets are closed at that time, the key named by its id
    expect(m.credentials.open).toBe(0);
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
      expect(item(m, 'repo:acme/app', name)).toMatchObject({ status: 'deactivated', at: '2026-11-25T10:07:00.000Z', open: false });
      expect(item(m, 'repo:acme/app', name).note).toContain(`deactivated as AWS access key ${keyId}`);
    }
    // And another key's deactivation closes neither
    const other = { ...deactivated, data: { ...deactivated.data, credential: 'AKIAOTHERKEY0EXAMPLE' } };
    expect(metricsOf([...given, other]).credentials.open).toBe(2);
  });

  it('stays OPEN when the revoked token is another value, or only some of the values found were revoked', () => {
    // Given the scan found one value and another npm token was revoked
    const found = [inventoryOf('acme/app', [secretItem('repo-secret', 'repo:acme/app', 'NPM_TOKEN')]), ...scanFinding('acme/app', 9123456701, { NPM_TOKEN: planted.npm })];
    expect(item(metricsOf([...found, npmRevoked(otherNpm)]), 'repo:acme/app')).toMatchObject({ status: 'open', open: true });
    // Given the secret held a second value in a later run, never revoked
    const twoValues = [...found, ...scanFinding('acme/app', 9123456702, { NPM_TOKEN: otherNpm }), npmRevoked(planted.npm)];
    const m = metricsOf(twoValues);
    expect(item(m, 'repo:acme/app')).toMatchObject({ status: 'open', open: true, note: `the log scan found its value ${fingerprint(otherNpm)} in the log of run 9123456702, and no revocation names that value` });
    expect(m.exposure.find((e) => e.credential === 'secret:acme/app/NPM_TOKEN')).toMatchObject({ status: 'open' });
  });

  it('links a run only to a secret its repository can read, the most specific one of that name', () => {
    const repoItem = secretItem('repo-secret', 'repo:acme/app', 'NPM_TOKEN');
    const orgItem = secretItem('org-secret', 'org:acme', 'NPM_TOKEN');
    const revoked = npmRevoked(planted.npm);
    // Given the value showed in a run of other/app: neither acme secret held it
    const elsewhere = metricsOf([inventoryOf('acme/app', [repoItem, orgItem]), ...scanFinding('other/app', 7001, { NPM_TOKEN: planted.npm }), revoked]);
    expect([item(elsewhere, 'repo:acme/app').status, item(elsewhere, 'org:acme').status]).toEqual(['open', 'open']);
    // Given it showed in a run of acme/web, which has no NPM_TOKEN of its own and whose inventory lists the org secret (its visibility admits web): the org secret held it
    const web = metricsOf([inventoryOf('acme/app', [repoItem, orgItem]), inventoryOf('acme/web', [orgItem]), ...scanFinding('acme/web', 7002, { NPM_TOKEN: planted.npm }), revoked]);
    expect(item(web, 'org:acme')).toMatchObject({ status: 'revoked', open: false, at: '2026-11-25T10:05:00.000Z' });
    expect(item(web, 'repo:acme/app').open).toBe(true);
    // Given no inventory says acme/web can read the org secret (visibility `selected` or `private` may exclude it): the value is not the org secret's, which stays OPEN
    const hidden = metricsOf([inventoryOf('acme/app', [repoItem, orgItem]), ...scanFinding('acme/web', 7002, { NPM_TOKEN: planted.npm }), revoked]);
    expect(item(hidden, 'org:acme')).toMatchObject({ status: 'open', open: true });
    // Given it showed in a run of acme/app: the repository's secret overrides the org's, so only it is closed
    const app = metricsOf([inventoryOf('acme/app', [repoItem, orgItem]), ...scanFinding('acme/app', 7003, { NPM_TOKEN: planted.npm }), revoked]);
    expect([item(app, 'repo:acme/app').status, item(app, 'org:acme').status]).toEqual(['revoked', 'open']);
    // Given a repository and an environment secret of that name: which one the job read is unknown, both stay open
    const envItem = secretItem('environment-secret', 'env:acme/app/prod', 'NPM_TOKEN');
    const both = metricsOf([inventoryOf('acme/app', [repoItem, envItem]), ...scanFinding('acme/app', 7004, { NPM_TOKEN: planted.npm }), revoked]);
    expect([item(both, 'repo:acme/app').open, item(both, 'env:acme/app/prod').open]).toEqual([true, true]);
    // And an environment secret alone is closed by a run of its repository
    const env = metricsOf([inventoryOf('acme/app', [envItem]), ...scanFinding('acme/app', 7005, { NPM_TOKEN: planted.npm }), revoked]);
    expect(item(env, 'env:acme/app/prod')).toMatchObject({ status: 'revoked', open: false });
  });

  it('closes a GH_PAT secret through github.revoke-tokens, and never through a rotation record', () => {
    const fp = fingerprint(planted.ghp);
    const given = [inventoryOf('acme/app', [secretItem('repo-secret', 'repo:acme/app', 'GH_PAT'), secretItem('repo-secret', 'repo:acme/app', 'NPM_TOKEN')]), ...scanFinding('acme/app', 9123456701, { GH_PAT: planted.ghp, NPM_TOKEN: planted.npm })];
    // Given github.revoke-tokens revoked the PAT the scan found
    const m = metricsOf([...given, { type: 'evidence', step: 'revoke-tokens', kind: 'credential', data: { credential: fp, kind: 'github-token', event: 'revoked', at: '2026-11-25T10:06:00.000Z', fingerprint: fp } }]);
    // Then GH_PAT is closed and NPM_TOKEN, found in the same log but not revoked, is not
    expect(item(m, 'repo:acme/app', 'GH_PAT')).toMatchObject({
      status: 'revoked',
      at: '2026-11-25T10:06:00.000Z',
      open: false,
      note: `revoked as GitHub token ${fp} found in the log of run 9123456701; the secret still holds the revoked value: replace it`,
    });
    expect(item(m, 'repo:acme/app').open).toBe(true);
    // Given only a rotation record with that fingerprint: it names the value put in place, so the leaked one is not dead
    const rotated = metricsOf([...given, { type: 'evidence', kind: 'credential', data: { credential: 'secret:acme/lib/GH_PAT', kind: 'github-secret', event: 'rotated', at: '2026-11-25T10:06:00.000Z', fingerprint: fp } }]);
    expect(item(rotated, 'repo:acme/app', 'GH_PAT')).toMatchObject({ status: 'open', open: true });
  });
});
