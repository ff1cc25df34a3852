import { describe, expect, it } from 'vitest';
import type { JournalRecord } from '../../src/engine/journal.js';
import { collect, stringLike } from '../../src/report/collect.js';
import { computeMetrics } from '../../src/report/metrics.js';

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
