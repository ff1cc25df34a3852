import { describe, expect, it } from 'vitest';
import type { JournalRecord } from '../../src/engine/journal.js';
import { parseJournalText } from '../../src/report/read.js';
import { buildTimeline } from '../../src/report/timeline.js';
import { CONTAIN, DRY_RUN, loadFixture, NOW } from './fixture.js';

const t0 = (hms: string) => `2025-03-14T${hms}.000Z`;

function evidence(records: JournalRecord[], kind: string): { data: any } {
  const r = records.find((x) => x.type === 'evidence' && x.kind === kind);
  if (!r) throw new Error(`no ${kind} evidence`);
  return r as unknown as { data: any };
}

function append(records: JournalRecord[], record: Record<string, unknown>): void {
  const last = records[records.length - 1]!;
  records.push({ v: 1, seq: last.seq + 1, at: last.at, runId: last.runId, ...record } as JournalRecord);
}

describe('buildTimeline on the tj-actions containment journal', () => {
  it('merges attacker, detection and responder activity into one chronological timeline', async () => {
    // Given the hand-written journal of a tj-actions/changed-files response
    const records = await loadFixture(CONTAIN);
    // When the timeline is built
    const t = buildTimeline(records, { now: NOW });
    // Then every run, job, CloudTrail event, finding, credential change, step phase and mutating call is an entry, in time order
    expect(t.entries).toHaveLength(55);
    const lanes = { attacker: 0, detection: 0, responder: 0 };
    for (const e of t.entries) lanes[e.lane]++;
    expect(lanes).toEqual({ attacker: 16, detection: 4, responder: 35 });
    const times = t.entries.map((e) => e.at);
    expect([...times].sort()).toEqual(times);
    expect(t.entries[0]).toMatchObject({ at: t0('16:05:12'), kind: 'workflow-run', source: 'github', actor: 'dev-alice', evidence: { url: 'https://github.com/acme/webapp/actions/runs/9001' } });
    expect(t.entries.at(-1)).toMatchObject({ kind: 'run-end', summary: 'Response ended: needs-human (exit 3)' });
    // And a CloudTrail event carries its event id and the severity of the finding that cites it
    const ct = t.entries.find((e) => e.evidence.cloudtrailEventId === 'c3d1e5f0-0004-4a6b-9c2d-000000000004');
    expect(ct).toMatchObject({ lane: 'attacker', source: 'cloudtrail', identity: 'ASIAEXAMPLESESSION01', severity: 'critical', at: t0('16:49:10') });
    // And a responder API call carries its outcome and request id
    const call = t.entries.find((e) => e.kind === 'api-call' && e.summary.includes('PutRolePolicy'));
    expect(call).toMatchObject({ at: t0('17:06:10'), summary: 'iam PutRolePolicy → 200 (111122223333)', evidence: { requestId: 'b1a7c0de-0000-4000-8000-000000000002', journalSeq: 25 } });
    // And read-only calls (hunt pages, run listings) are left out unless asked for
    expect(t.entries.some((e) => e.summary.includes('LookupEvents'))).toBe(false);
    expect(buildTimeline(records, { now: NOW, includeReadCalls: true }).entries).toHaveLength(58);
  });

  it('computes the metrics exactly', async () => {
    const t = buildTimeline(await loadFixture(CONTAIN), { now: NOW });
    const m = t.metrics;
    // Then the unverified npm rotation means "not contained", whatever the clock says
    expect(m.timeToContain).toEqual({
      status: 'not-contained',
      firstMutationAt: t0('17:05:20'),
      lastVerifiedAt: t0('17:09:00'),
      blocking: ['rotate[1]'],
      text: 'not contained: rotate[1] unverified',
    });
    expect(m.findingsBySeverity).toEqual({ critical: 1, high: 1, medium: 1, low: 0, info: 1 });
    expect(m.steps).toMatchObject({ total: 9, verified: 8, failed: [] });
    expect(m.steps.unverified).toEqual([
      { key: 'rotate[1]', action: 'github.rotate-secret', at: t0('17:10:30'), journalSeq: 44, detail: 'the old npm token still authenticates at registry.npmjs.org: revoke it at npm' },
    ]);
    // And rotated vs reachable lists the one credential nobody rotated as OPEN
    expect(m.credentials).toMatchObject({ reachable: 6, closed: 5, open: 1, everySecretReachableBy: [] });
    expect(m.credentials.items.map((i) => [i.name, i.status, i.at])).toEqual([
      ['AWS_ACCESS_KEY_ID', 'rotated', t0('17:08:05')],
      ['AWS_SECRET_ACCESS_KEY', 'rotated', t0('17:08:05')],
      ['NPM_TOKEN', 'rotated', t0('17:10:00')],
      ['COVERITY_API_TOKEN', 'open', undefined],
      ['arn:aws:iam::111122223333:role/gha-deploy', 'revoked', t0('17:06:10')],
      ['GITHUB_TOKEN', 'expired', t0('16:34:05')],
    ]);
    // And each exposure window runs from issue (or first job) to revoke/rotate/expiry
    expect(m.exposure.map((e) => [e.credential, e.fromBasis, e.from, e.to, e.status, e.durationMs, e.uses, e.usedAfterClose])).toEqual([
      ['GITHUB_TOKEN run 9001 job build', 'job-start', t0('16:05:20'), t0('16:09:02'), 'expired', 222_000, 0, 0],
      ['secret:acme/webapp/AWS_ACCESS_KEY_ID', 'job-start', t0('16:05:20'), t0('17:08:05'), 'rotated', 3_765_000, 0, 0],
      ['secret:acme/webapp/AWS_SECRET_ACCESS_KEY', 'job-start', t0('16:05:20'), t0('17:08:05'), 'rotated', 3_765_000, 0, 0],
      ['secret:acme/webapp/NPM_TOKEN', 'job-start', t0('16:05:20'), t0('17:10:00'), 'rotated', 3_880_000, 0, 0],
      ['GITHUB_TOKEN run 9001 job deploy', 'job-start', t0('16:09:10'), t0('16:12:40'), 'expired', 210_000, 0, 0],
      ['secret:acme/webapp:env:prod/COVERITY_API_TOKEN', 'job-start', t0('16:09:10'), undefined, 'open', undefined, 0, 0],
      ['ASIAEXAMPLESESSION01', 'issued', t0('16:09:15'), t0('17:06:10'), 'revoked', 3_415_000, 5, 0],
      ['GITHUB_TOKEN run 9002 job build', 'job-start', t0('16:31:48'), t0('16:34:05'), 'expired', 137_000, 0, 0],
      ['AKIAEXAMPLEOLDKEY001', 'first-seen', t0('16:55:03'), t0('17:08:10'), 'deactivated', 787_000, 1, 0],
    ]);
    // And the replacement key (only ever issued) is not an exposure
    expect(m.exposure.some((e) => e.credential === 'AKIAEXAMPLENEWKEY002')).toBe(false);
    // And the verdict's open items come blocking first, then most severe first, each with what to do
    expect(t.verdict.openItems.map((i) => [i.kind, i.severity, i.blocking])).toEqual([
      ['finding', 'critical', true],
      ['credential', 'high', true],
      ['finding', 'high', true],
      ['step', 'medium', true],
    ]);
    expect(t.verdict.openItems[1]!).toMatchObject({
      id: 'credential:environment-secret:env:acme/webapp/prod:COVERITY_API_TOKEN',
      summary: 'OPEN: COVERITY_API_TOKEN (environment-secret, env:acme/webapp/prod) is reachable by deploy.yml#deploy and was not rotated or revoked (rotation: manual)',
      action: 'rotate or revoke it: manual',
    });
    expect(t.verdict).toMatchObject({ contained: false, status: 'not-contained', exitCode: 3, blocking: 4, text: 'NOT CONTAINED: 4 open item(s) need a human' });
    expect(t).toMatchObject({ status: 'needs-human', dryRun: false, runId: 'run-20250314-1705-ir-2025-0314', generatedAt: NOW.toISOString(), warnings: [] });
    expect(t.notice).toBeUndefined();
  });

  it('measures time to contain once every containment step is verified', async () => {
    // Given the same journal where the npm rotation was verified at 17:10:40
    const records = await loadFixture(CONTAIN);
    const idx = records.findIndex((r) => r.type === 'step' && r.key === 'rotate[1]' && r.phase === 'unverified');
    records[idx] = { ...(records[idx] as any), at: t0('17:10:40'), phase: 'verified', verify: { verified: true, detail: 'old token revoked at npm' } };
    // When the timeline is built
    const ttc = buildTimeline(records, { now: NOW }).metrics.timeToContain;
    // Then the containment steps were verified 5 min 20 s after the first change (17:05:20 to 17:10:40)
    expect(ttc).toMatchObject({ firstMutationAt: t0('17:05:20'), lastVerifiedAt: t0('17:10:40'), durationMs: 320_000, blocking: [] });
    // But the verdict is not contained (COVERITY_API_TOKEN open, findings open), so the report never says "contained in"
    expect(ttc.status).toBe('not-contained');
    expect(ttc.text).toBe('not contained: 3 open item(s) (containment steps verified 5 min 20 s after the first change)');
    // And once nothing is open, it is contained in 5 min 20 s
    const closed = records
      .filter((r) => r.type !== 'finding' && !(r.type === 'evidence' && r.kind === 'inventory'))
      .map((r) => (r.type === 'run-end' ? { ...r, status: 'succeeded' as const, exitCode: 0 } : r));
    const t = buildTimeline(closed, { now: NOW });
    expect(t.verdict.openItems).toEqual([]);
    expect(t.verdict).toMatchObject({ contained: true, exitCode: 0, text: 'contained in 5 min 20 s', durationMs: 320_000 });
    expect(t.metrics.timeToContain).toMatchObject({ status: 'contained', text: 'contained in 5 min 20 s' });
  });

  it('flags a failed containment step and a session used after its revocation', async () => {
    // Given the revoke step failed after applying, and the session made a successful call after the cutoff
    const records = await loadFixture(CONTAIN);
    const idx = records.findIndex((r) => r.type === 'step' && r.key === 'revoke' && r.phase === 'verified');
    records[idx] = { ...(records[idx] as any), phase: 'failed', verify: undefined, error: { message: 'AWSRevokeOlderSessions not found after 3 reads' } };
    evidence(records, 'cloudtrail-events').data.events.push({
      eventID: 'c3d1e5f0-0099-4a6b-9c2d-000000000099',
      eventTime: '2025-03-14T17:09:30Z',
      eventSource: 's3.amazonaws.com',
      eventName: 'GetObject',
      awsRegion: 'eu-west-1',
      identity: 'arn:aws:sts::111122223333:assumed-role/gha-deploy/GitHubActions',
      accessKeyId: 'ASIAEXAMPLESESSION01',
      sourceIPAddress: '203.0.113.66',
    });
    // When the timeline is built
    const t = buildTimeline(records, { now: NOW });
    // Then the run is not contained, the step is failed, and the use after revocation is a critical open item
    expect(t.metrics.timeToContain.blocking).toEqual(['revoke', 'rotate[1]']);
    expect(t.metrics.steps.failed.map((s) => [s.key, s.detail])).toEqual([['revoke', 'AWSRevokeOlderSessions not found after 3 reads']]);
    const session = t.metrics.exposure.find((e) => e.credential === 'ASIAEXAMPLESESSION01');
    expect(session).toMatchObject({ status: 'revoked', uses: 6, usedAfterClose: 1, lastUsedAt: t0('17:09:30') });
    expect(t.verdict.openItems.filter((i) => i.severity === 'critical').map((i) => i.summary)).toContain(
      'ASIAEXAMPLESESSION01 was used successfully 1 time(s) after it was revoked',
    );
    expect(t.verdict.openItems).toContainEqual(expect.objectContaining({ id: 'step:revoke', kind: 'step', severity: 'high', blocking: true, summary: 'Step revoke (aws.revoke-role-sessions) failed: AWSRevokeOlderSessions not found after 3 reads' }));
    // And a failed step means exit 1, and the report status says failed
    expect(t.verdict.exitCode).toBe(1);
    expect(t.status).toBe('failed');
  });

  it('keeps a running job token and an every-secret job open', async () => {
    // Given a run still in progress when the evidence was taken, and a job that reaches every secret
    const records = await loadFixture(CONTAIN);
    evidence(records, 'workflow-runs').data.runs.push({
      id: 9003, actor: 'dev-alice', event: 'push', head_branch: 'main', head_sha: 'ffffffffffffffffffffffffffffffffffffffff', status: 'in_progress', conclusion: null,
      created_at: '2025-03-14T17:01:10Z', jobs: [{ id: 41004, name: 'build', started_at: '2025-03-14T17:01:20Z', completed_at: null, conclusion: null }],
    });
    evidence(records, 'inventory').data.items.push({ kind: 'all-secrets', name: '*', scope: 'repo:acme/webapp', jobs: ['deploy.yml#build'], rotation: 'manual' });
    // When the timeline is built
    const m = buildTimeline(records, { now: NOW }).metrics;
    // Then the job's token is "running", GITHUB_TOKEN is open, and the every-secret job is listed
    expect(m.exposure.find((e) => e.credential === 'GITHUB_TOKEN run 9003 job build')).toMatchObject({ status: 'running', from: t0('17:01:20') });
    expect(m.credentials.items.find((i) => i.name === 'GITHUB_TOKEN')).toMatchObject({ status: 'open', open: true });
    expect(m.credentials).toMatchObject({ reachable: 6, open: 2, everySecretReachableBy: ['deploy.yml#build'] });
  });

  it('marks a dry run as plan only', async () => {
    // Given the journal of a --dry-run
    const t = buildTimeline(await loadFixture(DRY_RUN), { now: NOW });
    // Then the report says nothing was changed and time to contain is not measured
    expect(t).toMatchObject({ dryRun: true, status: 'planned', notice: 'PLAN ONLY — nothing was changed' });
    expect(t.metrics.timeToContain).toEqual({ status: 'plan-only', blocking: [], text: 'PLAN ONLY — nothing was changed' });
    expect(t.entries.filter((e) => e.kind === 'step').map((e) => e.summary)).toEqual([
      'inventory (github.inventory) verified: 2 reachable credentials',
      'disable (github.disable-workflow) planned: 1 change(s) planned: disable github:acme/webapp/workflows/deploy.yml',
      'revoke (aws.revoke-role-sessions) planned: 1 change(s) planned: put-inline-policy arn:aws:iam::111122223333:role/gha-deploy',
    ]);
    // And both reachable credentials are open: nothing was rotated
    expect(t.metrics.credentials).toMatchObject({ reachable: 2, closed: 0, open: 2 });
  });

  it('turns malformed evidence into a warning instead of failing', async () => {
    // Given a credential record missing its fields and an empty journal run id
    const records = await loadFixture(CONTAIN);
    append(records, { type: 'evidence', kind: 'credential', data: { credential: 'x' } });
    append(records, { type: 'evidence', kind: 'log-excerpt', data: 'free text evidence' });
    // When the timeline is built
    const t = buildTimeline(records, { now: NOW });
    // Then the report is still produced and says what it skipped
    expect(t.entries).toHaveLength(55);
    expect(t.warnings).toEqual(['journal seq 56: evidence credential malformed at kind: Invalid option: expected one of "aws-access-key"|"aws-role-sessions"|"aws-user-sessions"|"github-secret"|"github-token"|"deploy-key"|"oidc-trust"|"npm-token"; skipped']);
    expect(buildTimeline([], { runId: 'empty', now: NOW })).toMatchObject({ runId: 'empty', status: 'incomplete', entries: [] });
    // And an empty journal is never an all-clear
    expect(buildTimeline([], { runId: 'empty', now: NOW }).verdict).toMatchObject({ contained: false, exitCode: 3, openItems: [{ id: 'run:missing', blocking: true }] });
  });
});

describe('parseJournalText', () => {
  it('ignores a torn last line with a warning and keeps every complete record', () => {
    // Given a journal whose writer died in the middle of a line
    const lines = [
      '{"v":1,"seq":1,"at":"2025-03-14T17:05:00.000Z","runId":"r","type":"run-start","playbook":"p","playbookHash":"h","inputs":{},"dryRun":false,"incident":"i"}',
      'not json at all',
      '{"v":1,"seq":3,"at":"2025-03-14T17:05:01.000Z","runId":"r","type":"run-end","status":"failed","exitCode":1}',
      '{"v":1,"seq":4,"at":"2025-03-14T17:0',
    ];
    // When it is read
    const { records, warnings } = parseJournalText(lines.join('\n'));
    // Then the complete records are kept and both bad lines are reported, the last one as torn
    expect(records.map((r) => r.seq)).toEqual([1, 3]);
    expect(warnings).toEqual([
      'journal line 2: not JSON, skipped',
      'journal line 4: torn last line ignored (the run was interrupted while writing it)',
    ]);
    // And a complete journal (ending in a newline) reads without warnings
    expect(parseJournalText(`${lines[0]}\n${lines[2]}\n`).warnings).toEqual([]);
  });
});
