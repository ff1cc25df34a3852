import { describe, expect, it } from 'vitest';
import { containSummary } from '../../src/commands/contain.js';
import type { JournalRecord } from '../../src/engine/journal.js';
import { renderReport } from '../../src/report/index.js';
import { buildTimeline } from '../../src/report/timeline.js';
import { verdictOf } from '../../src/report/verdict.js';
import { withVerdict } from '../../src/ui/run-verdict.js';
import { scoreTimeToContain } from '../../src/drill/score.js';

const RUN = 'run-verdict-1';
const at = (minute: number) => new Date(Date.UTC(2026, 10, 25, 10, minute)).toISOString();

/** A journal from bare records: seq, time and run id filled in, in order. */
function journal(records: Record<string, unknown>[]): JournalRecord[] {
  return records.map((r, i) => ({ v: 1, seq: i + 1, at: at(i), runId: RUN, ...r }) as JournalRecord);
}

const start = { type: 'run-start', playbook: 'contain', playbookHash: 'h', inputs: {}, dryRun: false, incident: 'IR-1' };
const end = (status: 'succeeded' | 'failed' | 'needs-human', exitCode: number) => ({ type: 'run-end', status, exitCode });

/** One step key through start, applied (a mutating change) and the given last phase. */
function step(key: string, action: string, last: Record<string, unknown>): Record<string, unknown>[] {
  const base = { type: 'step', step: key.replace(/\[\d+\]$/, ''), key, action, inputHash: 'x' };
  return [
    { ...base, phase: 'start' },
    { ...base, phase: 'applied', result: { changed: true, outputs: {} } },
    { ...base, ...last },
  ];
}

const inventory = (repo: string, items: Array<{ kind: string; scope: string; name: string }>) => ({
  type: 'evidence',
  step: 'inventory',
  kind: 'inventory',
  data: { repo, workflow: 'deploy.yml', items: items.map((i) => ({ ...i, jobs: ['deploy.yml#deploy'], rotation: 'github.rotate-secret' })) },
});

const rotated = (credential: string) => ({ type: 'evidence', step: 'store', kind: 'credential', data: { credential, kind: 'github-secret', event: 'rotated', at: at(30), fingerprint: 'sha256:abc' } });

describe('the containment verdict', () => {
  it('makes a failed step exit 1 and lists it identically in the CLI summary, report.md and report.json', () => {
    // Given a run whose trust restriction failed for one role (a fan-out item) while the other was verified
    const records = journal([
      start,
      ...step('restrict-trust[0]', 'aws.restrict-oidc-trust', { phase: 'verified', verify: { verified: true } }),
      ...step('restrict-trust[1]', 'aws.restrict-oidc-trust', { phase: 'failed', error: { message: 'AccessDenied: iam:UpdateAssumeRolePolicy' } }),
      end('failed', 1),
    ]);
    // When the verdict and the report are made from the journal
    const verdict = verdictOf(records);
    const report = buildTimeline(records, { now: new Date(at(59)) });
    const json = JSON.parse(renderReport(report, 'json'));
    const md = renderReport(report, 'md');
    const cli = containSummary(withVerdict({ runId: RUN, runDir: `/tmp/${RUN}`, status: 'failed', exitCode: 1, steps: [] }, verdict));
    // Then it is not contained, exit 1, and the failed item is an open item with its reason and what to do
    expect(verdict).toMatchObject({ contained: false, exitCode: 1, status: 'not-contained' });
    const failed = verdict.openItems.find((i) => i.id === 'step:restrict-trust[1]');
    expect(failed).toMatchObject({ kind: 'step', blocking: true, reason: 'AccessDenied: iam:UpdateAssumeRolePolicy' });
    expect(failed!.action).toContain('--resume run-verdict-1');
    // And the three outputs carry the same list
    expect(json.verdict).toEqual(verdict);
    expect(json.status).toBe('failed');
    for (const item of verdict.openItems) {
      expect(md).toContain(item.summary);
      expect(cli).toContain(item.summary);
      expect(cli).toContain(`do: ${item.action}`);
    }
    // (the failed step, and the hunt that never ran with AWS in play)
    expect(verdict.openItems.map((i) => i.id)).toEqual(['step:restrict-trust[1]', 'hunt']);
    expect(cli).toContain('NOT CONTAINED YET: 2 open item(s) need a human (exit 1):');
    expect(md).toContain('**NOT CONTAINED** (exit 1)');
  });

  it('never says succeeded or "contained in" while the exit is 3', () => {
    // Given a run the engine ended "succeeded" (every step verified) while an environment secret it reaches was never rotated
    const records = journal([
      start,
      inventory('acme/web', [{ kind: 'environment-secret', scope: 'env:acme/web/prod', name: 'DEPLOY_TOKEN' }]),
      ...step('disable[0]', 'github.disable-workflow', { phase: 'verified', verify: { verified: true } }),
      end('succeeded', 0),
    ]);
    // When the report is built
    const report = buildTimeline(records, { now: new Date(at(59)) });
    // Then the verdict is exit 3 and every line of the report agrees
    expect(report.verdict).toMatchObject({ contained: false, exitCode: 3 });
    expect(report.status).toBe('needs-human');
    expect(report.metrics.timeToContain.status).toBe('not-contained');
    for (const format of ['md', 'html', 'json'] as const) {
      const text = renderReport(report, format);
      expect(text).not.toMatch(/contained in \d/);
      expect(text).not.toMatch(/status (\*\*|<b>)succeeded/);
    }
    expect(renderReport(report, 'md')).toContain('OPEN: DEPLOY_TOKEN (environment-secret, env:acme/web/prod)');
  });

  it('does not open a step its own if: skipped, and opens one skipped because its dependency failed', () => {
    // Given one key skipped by its `if:` and one skipped because find-roles failed
    const skipped = (key: string, reason: string) => ({ type: 'step', step: key, key, action: 'aws.revoke-role-sessions', inputHash: '', phase: 'skipped', reason });
    const records = journal([
      start,
      skipped('rotate-key', "if: ${{ inputs.aws_user != '' }} is false"),
      skipped('revoke-sessions', 'dependency find-roles failed'),
      end('failed', 1),
    ]);
    // When the verdict is made
    const ids = verdictOf(records).openItems.map((i) => i.id);
    // Then only the blocked step is open
    expect(ids).toContain('step:revoke-sessions');
    expect(ids).not.toContain('step:rotate-key');
  });

  it('keeps a critical audit finding open (exit 3) with what to do, and lists a high one without blocking', () => {
    // Given a contained run, then an audit finding of a pull_request_target run
    const clean = [start, ...step('disable[0]', 'github.disable-workflow', { phase: 'verified', verify: { verified: true } }), end('succeeded', 0)];
    const prt = { type: 'finding', step: 'audit-runs[0]', finding: { kind: 'untrusted-trigger', severity: 'critical', resource: 'github:acme/web/actions/runs/7', summary: 'deploy.yml run 7 was triggered by pull_request_target' } };
    const branch = { type: 'finding', step: 'audit-runs[0]', finding: { kind: 'unexpected-branch', severity: 'high', resource: 'github:acme/web/actions/runs/8', summary: 'deploy.yml run 8 ran on branch x' } };
    expect(verdictOf(journal(clean))).toMatchObject({ contained: true, exitCode: 0, openItems: [] });
    // When the verdict is made with the high finding only, then with the critical one too
    const high = verdictOf(journal([...clean.slice(0, -1), branch, clean.at(-1)!]));
    const critical = verdictOf(journal([...clean.slice(0, -1), branch, prt, clean.at(-1)!]));
    // Then the high finding is listed, not blocking, and the run is contained
    expect(high).toMatchObject({ contained: true, exitCode: 0 });
    expect(high.openItems).toEqual([expect.objectContaining({ kind: 'finding', severity: 'high', blocking: false })]);
    // And the critical one blocks: exit 3, listed first, with what to do
    expect(critical).toMatchObject({ contained: false, exitCode: 3, blocking: 1 });
    expect(critical.openItems[0]).toMatchObject({ severity: 'critical', blocking: true, summary: 'untrusted-trigger: deploy.yml run 7 was triggered by pull_request_target' });
    expect(critical.openItems[0]!.action).toMatch(/pull_request_target/);
  });

  it('blocks on a live leaked credential of a known format, not on an entropy guess', () => {
    const leak = (kind: string) => ({
      type: 'finding',
      step: 'scan-logs[0]',
      finding: { kind: 'secret-in-log', severity: 'critical', resource: 'github:acme/web/actions/runs/7', summary: `${kind} X exposed in job "build"`, evidence: [{ kind, fingerprint: 'sha256:1', name: 'X' }] },
    });
    const clean = [start, ...step('disable[0]', 'github.disable-workflow', { phase: 'verified', verify: { verified: true } })];
    expect(verdictOf(journal([...clean, leak('npm-token'), end('succeeded', 0)])).exitCode).toBe(3);
    const guess = verdictOf(journal([...clean, leak('generic-secret'), end('succeeded', 0)]));
    expect(guess).toMatchObject({ exitCode: 0, openItems: [expect.objectContaining({ blocking: false })] });
  });

  it('opens an account not searched and a region not hunted until a later record says searched', () => {
    // Given coverage records: an account that could not be assumed, a region that was not hunted
    const gap = (scope: string, id: string, status: string) => ({ type: 'evidence', step: 'find-roles', kind: 'coverage', data: { scope, id, status, reason: status === 'gap' ? 'AccessDenied' : undefined } });
    const clean = [start, ...step('disable[0]', 'github.disable-workflow', { phase: 'verified', verify: { verified: true } })];
    const open = verdictOf(journal([...clean, gap('account', '222233334444', 'gap'), gap('region', '111122223333/eu-west-1', 'gap'), end('succeeded', 0)]));
    // Then each is a blocking open item
    expect(open.exitCode).toBe(3);
    expect(open.openItems.map((i) => i.id)).toEqual(['coverage:account:222233334444', 'coverage:region:111122223333/eu-west-1']);
    expect(open.openItems[0]!.summary).toBe('Account 222233334444 was not searched: AccessDenied');
    // And a resumed run that searched the account closes it
    const later = verdictOf(journal([...clean, gap('account', '222233334444', 'gap'), gap('account', '222233334444', 'searched'), end('succeeded', 0)]));
    expect(later).toMatchObject({ contained: true, exitCode: 0 });
  });

  it('blocks on the coverage-gap findings the AWS steps journal (an account, the organization list, a region)', () => {
    // Given a clean run whose account discovery could not get into a member account
    const clean = [start, ...step('disable[0]', 'github.disable-workflow', { phase: 'verified', verify: { verified: true } })];
    const gapFinding = { type: 'finding', step: 'accounts', finding: { kind: 'coverage-gap', severity: 'high', resource: 'aws:account/222233334444', summary: 'account 222233334444 was not searched: AccessDenied on sts:AssumeRole' } };
    const verdict = verdictOf(journal([...clean, gapFinding, end('succeeded', 0)]));
    // Then it is not contained: what was not looked at blocks, whatever its severity
    expect(verdict).toMatchObject({ contained: false, exitCode: 3, blocking: 1 });
    expect(verdict.openItems[0]).toMatchObject({ blocking: true, resource: 'aws:account/222233334444' });
    expect(verdict.openItems[0]!.action).toMatch(/--assume-role-name/);
  });

  it('blocks on a session the attacker minted with AssumeRole (a chained role), not on a minted key the run deactivated', () => {
    // Given a clean run whose hunt found the job's session assuming another role, and one creating a key
    const clean = [start, ...step('disable[0]', 'github.disable-workflow', { phase: 'verified', verify: { verified: true } })];
    const minted = (what: string, keys: string) => ({ type: 'finding', step: 'hunt[0]', finding: { kind: 'new-credentials-minted', severity: 'high', resource: 'aws:123456789012', summary: `ASIAPARENTSESSION0001 minted credentials: ${what} (new keys ${keys}, hunted too)` } });
    const chained = verdictOf(journal([...clean, minted('AssumeRole', 'ASIACHAINEDSESSION01'), end('succeeded', 0)]));
    // Then the chained session blocks (revoking the parent role does not end it), with what to do
    expect(chained).toMatchObject({ contained: false, exitCode: 3, blocking: 1 });
    expect(chained.openItems[0]!.summary).toContain('ASIACHAINEDSESSION01');
    expect(chained.openItems[0]!.action).toMatch(/revoke the sessions of the role it assumed/);
    // And a minted long-term key is listed, not blocking (the playbook deactivates minted AKIA keys)
    const key = verdictOf(journal([...clean, minted('CreateAccessKey', 'AKIAMINTEDKEY0000001'), end('succeeded', 0)]));
    expect(key).toMatchObject({ exitCode: 0, openItems: [expect.objectContaining({ blocking: false })] });
  });

  it('opens the hunt when AWS credentials were closed and no CloudTrail hunt ran', () => {
    // Given a run that revoked a role's sessions and never hunted
    const revoked = { type: 'evidence', step: 'revoke', kind: 'credential', data: { credential: 'arn:aws:iam::111122223333:role/deploy', kind: 'aws-role-sessions', event: 'revoked', at: at(5) } };
    const records = journal([start, ...step('revoke[0]', 'aws.revoke-role-sessions', { phase: 'verified', verify: { verified: true } }), revoked, end('succeeded', 0)]);
    // Then the missing hunt is open
    expect(verdictOf(records)).toMatchObject({ exitCode: 3, openItems: [expect.objectContaining({ id: 'hunt', blocking: true })] });
    // And a verified hunt closes it
    const hunted = journal([start, ...step('revoke[0]', 'aws.revoke-role-sessions', { phase: 'verified', verify: { verified: true } }), revoked, ...step('hunt', 'aws.hunt-cloudtrail', { phase: 'verified', verify: { verified: true } }), end('succeeded', 0)]);
    expect(verdictOf(hunted)).toMatchObject({ contained: true, exitCode: 0 });
  });
});

describe('secret scope accounting', () => {
  const open = (records: Record<string, unknown>[]) =>
    buildTimeline(journal([start, ...records, end('succeeded', 0)]), { now: new Date(at(59)) })
      .metrics.credentials.items.filter((i) => i.open)
      .map((i) => `${i.scope}/${i.name}`);

  it('closes an environment secret when that environment secret was rotated, and not the same-named repository secret', () => {
    // Given a repository and an environment secret of one name, and only the environment one rotated
    const items = [
      { kind: 'repo-secret', scope: 'repo:acme/web', name: 'DEPLOY_TOKEN' },
      { kind: 'environment-secret', scope: 'env:acme/web/prod', name: 'DEPLOY_TOKEN' },
    ];
    // Then the environment secret is closed and the repository one stays OPEN
    expect(open([inventory('acme/web', items), rotated('secret:acme/web:env:prod/DEPLOY_TOKEN')])).toEqual(['repo:acme/web/DEPLOY_TOKEN']);
    // And GitHub's case-insensitive names still match
    expect(open([inventory('acme/web', items), rotated('secret:Acme/Web:env:prod/deploy_token'), rotated('secret:acme/web/DEPLOY_TOKEN')])).toEqual([]);
  });

  it('closes an org secret only when that organization\'s own secret was written', () => {
    const items = [{ kind: 'org-secret', scope: 'org:acme', name: 'NPM_TOKEN' }];
    // Given a same-named secret of another organization (acme-evil contains "acme") or of a repository of acme was written: still OPEN
    expect(open([inventory('acme/web', items), rotated('secret:org:acme-evil/NPM_TOKEN')])).toEqual(['org:acme/NPM_TOKEN']);
    expect(open([inventory('acme/web', items), rotated('secret:acme/web/NPM_TOKEN')])).toEqual(['org:acme/NPM_TOKEN']);
    // Given acme's own org secret was written: closed
    expect(open([inventory('acme/web', items), rotated('secret:org:acme/NPM_TOKEN')])).toEqual([]);
  });
});

describe('drill time-to-contain from the verdict', () => {
  it('fails on any blocking item the scenario does not expect, and passes when only expected ones are open', () => {
    // Given a contained run but for a critical pull_request_target finding
    const prt = { type: 'finding', step: 'audit-runs[0]', finding: { kind: 'untrusted-trigger', severity: 'critical', resource: 'github:acme/web/actions/runs/7', summary: 'run 7 was triggered by pull_request_target' } };
    const report = buildTimeline(journal([start, ...step('disable[0]', 'github.disable-workflow', { phase: 'verified', verify: { verified: true } }), prt, end('succeeded', 0)]), { now: new Date(at(59)) });
    // When scored without, then with, the scenario expecting that finding
    const strict = scoreTimeToContain(report, 600_000);
    const expected = scoreTimeToContain(report, 600_000, [], ['untrusted-trigger']);
    // Then only the second passes, and a finding expected but not listed fails
    expect(strict).toMatchObject({ passed: false, reason: 'not contained (exit 3): untrusted-trigger: run 7 was triggered by pull_request_target' });
    expect(expected.passed).toBe(true);
    expect(scoreTimeToContain(report, 600_000, [], ['new-workflow-file']).passed).toBe(false);
  });
});
