import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTAIN_PLAYBOOK } from '../../src/commands/contain.js';
import type { RunResult } from '../../src/engine/execute.js';
import { readJournal } from '../../src/engine/journal.js';
import type { RunningLab } from '../../src/lab/index.js';
import type { Timeline as Report } from '../../src/report/model.js';
import { containVars } from '../../src/ui/contain-session.js';
import { withLab } from '../../src/ui/lab-session.js';
import { runSession } from '../../src/ui/run-session.js';

/**
 * The report on REAL journals: `contain` runs in-process against the lab (the same session the
 * command builds, `report: true`), and every metric is checked against what the lab's state and
 * the journal say happened, not against a hand-written fixture.
 */

const SCENARIOS = new URL('../../scenarios/', import.meta.url);
/** A bare AWS access key id names a key and is not secret (src/engine/secret.ts): reports show it. */
const KEY_ID = /^(AKIA|ASIA)[A-Z0-9]{16}$/;

interface LabRun {
  result: RunResult;
  /** Every secret value the lab held or minted, read from its state while it ran. */
  secrets: Set<string>;
  /** Progress lines the run printed. */
  log: string;
  labState: {
    /** user name -> its access keys (id, status, origin) at the end. */
    keys: Map<string, { id: string; status: string; scenario: boolean; createdBy?: string }[]>;
    /** ASIA id -> issue time of the lab's session. */
    sessions: Map<string, Date>;
    /** Values of the npm tokens the registry revoked. */
    npmRevoked: string[];
  };
}

function labSecrets(lab: RunningLab): Set<string> {
  const out = new Set<string>([lab.github.token, lab.aws.responderCredentials.secretAccessKey]);
  const add = (value: string | undefined) => {
    if (value && !KEY_ID.test(value)) out.add(value);
  };
  // The scenario's GitHub secret values, and what the repos, environments and orgs hold now (the
  // plaintexts the lab decrypted from the sealed boxes cicd-ir sent).
  for (const org of lab.scenario.github.orgs ?? []) for (const s of org.secrets ?? []) add(s.value);
  for (const repo of lab.scenario.github.repos ?? []) {
    for (const s of repo.secrets ?? []) add(s.value);
    for (const env of repo.environments ?? []) for (const s of env.secrets ?? []) add(s.value);
  }
  for (const repo of lab.github.state.repos.values()) {
    for (const s of repo.secrets.values()) add(s.value.reveal());
    for (const env of repo.environments.values()) for (const s of env.secrets.values()) add(s.value.reveal());
  }
  for (const org of lab.github.state.orgs.values()) for (const s of org.secrets.values()) add(s.value.reveal());
  // Every IAM secret access key (the scenario's, the attacker's minted ones, the replacement cicd-ir created)
  // and every STS session's secret and token.
  for (const account of lab.aws.state.accounts.values()) for (const user of account.users.values()) for (const key of user.accessKeys) add(key.secret);
  for (const session of lab.aws.state.sessions.values()) {
    add(session.secret);
    add(session.sessionToken);
  }
  // The npm registry's tokens: the responder's and the project's (the leaked one among them).
  for (const token of lab.npm.tokens) add(token.value);
  return out;
}

/** Contains the scenario in the lab with the inputs `contain --lab` gives, less `omit` (a responder who misses something). */
async function containInLab(scenario: string, out: string, omit: string[] = []): Promise<LabRun> {
  return withLab(new URL(`${scenario}.yaml`, SCENARIOS).pathname, undefined, async (lab) => {
    const progress = new PassThrough();
    let log = '';
    progress.on('data', (chunk) => (log += chunk.toString()));
    const result = await runSession({
      playbookFile: CONTAIN_PLAYBOOK,
      // The inputs exactly as `contain --lab` gives them.
      vars: Object.fromEntries(Object.entries(containVars({}, lab, undefined).vars).filter(([name]) => !omit.includes(name))),
      dryRun: false,
      yes: true,
      json: false,
      out,
      progress,
      provider: lab!.providerConfig,
      report: true,
    });
    const keys: LabRun['labState']['keys'] = new Map();
    for (const account of lab!.aws.state.accounts.values()) {
      for (const user of account.users.values()) {
        keys.set(
          user.name,
          user.accessKeys.map((k) => ({ id: k.id, status: k.status, scenario: k.origin === 'scenario', ...(k.origin !== 'scenario' && { createdBy: k.origin.createdBy }) })),
        );
      }
    }
    const sessions = new Map([...lab!.aws.state.sessions.values()].map((s) => [s.accessKeyId, s.issuedAt]));
    const npmRevoked = lab!.npm.tokens.filter((token) => token.revokedAt).map((token) => token.value);
    return { result, secrets: labSecrets(lab!), log, labState: { keys, sessions, npmRevoked } };
  });
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else out.push(path);
  }
  return out;
}

/** Every secret value, plain or JSON-escaped, in every file of the run folder and in the log. */
async function leaks(run: LabRun): Promise<string[]> {
  const found: string[] = [];
  const texts: [string, string][] = [['progress log', run.log]];
  for (const path of await filesUnder(run.result.runDir)) {
    if (path.endsWith('.png')) continue;
    texts.push([path, await readFile(path, 'utf8')]);
  }
  for (const [where, text] of texts) {
    for (const secret of run.secrets) {
      const escaped = JSON.stringify(secret).slice(1, -1);
      if (text.includes(secret) || text.includes(escaped) || text.includes(secret.replace(/\//g, '&#x2F;'))) found.push(`${where}: ${secret.slice(0, 4)}…`);
    }
  }
  return found;
}

async function reportOf(run: LabRun): Promise<Report> {
  return JSON.parse(await readFile(join(run.result.runDir, 'report.json'), 'utf8')) as Report;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cicd-ir-report-lab-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('report of a real contain run in the lab', () => {
  it('tj-actions-log-leak: closes the leaked and minted keys, the OIDC subject and the npm token the log printed, shows in Chromium, leaks nothing', async () => {
    // Given the tj-actions scenario contained in-process, reports written at the end
    const run = await containInLab('tj-actions-log-leak', join(dir, 'tj'));
    expect(run.result.exitCode).toBe(0);
    const report = await reportOf(run);
    const journal = readJournal(join(run.result.runDir, 'journal.jsonl')).records;
    const m = report.metrics;

    // Then every format was written into the run folder
    const files = (await readdir(run.result.runDir)).sort();
    expect(files).toEqual(expect.arrayContaining(['journal.jsonl', 'report.html', 'report.json', 'report.md', 'timesketch.csv', 'timesketch.jsonl']));
    // And every evidence record of the real producers was understood
    expect(report.warnings).toEqual([]);

    // And rotated vs reachable: the AWS key pair stored into the secrets counts as rotated, the
    // OIDC subject as revoked (trust restricted for repo:...:* and the role's sessions revoked),
    // the running job's token ended with the cancelled run, and NPM_TOKEN is revoked: the log scan
    // found its value (base64 twice) and npm.revoke-token revoked exactly that token on the registry
    const status = Object.fromEntries(m.credentials.items.map((i) => [i.name, i.status]));
    expect(status).toEqual({
      AWS_ACCESS_KEY_ID: 'rotated',
      AWS_SECRET_ACCESS_KEY: 'rotated',
      NPM_TOKEN: 'revoked',
      GITHUB_TOKEN: 'expired',
      'repo:acme-robotics/fleet-api:ref:refs/heads/main': 'revoked',
    });
    expect(m.credentials).toMatchObject({ reachable: 5, closed: 5, open: 0 });
    expect(run.labState.npmRevoked).toEqual(['npm_nDuvW4yrW81Aq1fEbVId8woPeX9PcWb8pm1b']);
    expect(m.credentials.items.find((i) => i.name === 'NPM_TOKEN')!.note).toContain('found in the log of run 9123456701');
    // And nothing is left open: the log's findings stay findings, but every value they name is dead
    // (the hunt's findings, what the attacker did, stay for a human to review)
    // (but the secret the minted key read: its value is the attacker's, nobody rotated it)
    expect(report.verdict.openItems.filter((i) => i.kind !== 'finding' || i.summary.startsWith('secret-in-log'))).toEqual([
      expect.objectContaining({ kind: 'credential', severity: 'high', blocking: true, summary: expect.stringMatching(/^rotate prod\/fleet\/db-credentials: read by AKIA[A-Z0-9]{16} at /) }),
    ]);
    // (trust-admits-any-repo: the staging account's deploy role trusts repo:acme-robotics/*, found through the organization)
    expect(report.verdict.openItems.map((i) => i.summary.split(':')[0]).sort()).toEqual(['new-credentials-minted', 'rotate prod/fleet/db-credentials', 'trust-admits-any-repo', 'used-after-job-end', 'used-after-job-end']);
    // And so the verdict is not contained (exit 3) for that one item; the high findings are listed to act on, none blocks
    expect(report.verdict).toMatchObject({ contained: false, exitCode: 3, blocking: 1 });
    expect(report.verdict.openItems.filter((i) => i.kind === 'finding').every((i) => !i.blocking && i.action.length > 0)).toBe(true);
    expect(report.status).toBe('needs-human');
    expect(report.findings.filter((f) => f.kind === 'secret-in-log')).toHaveLength(4);
    // And the exposing run's log is gone from GitHub, a redacted copy kept in the run folder
    const deleted = journal.find((r) => r.type === 'step' && r.key === 'delete-logs' && r.phase === 'verified');
    expect(deleted).toBeDefined();

    // And the exposure windows match the lab: the static key the log leaked (fleet-ci's scenario
    // key) and the key the attacker minted are closed, named by key id, not by a fingerprint
    const fleetKeys = run.labState.keys.get('fleet-ci')!;
    const leaked = fleetKeys.find((k) => k.scenario)!;
    const replacement = fleetKeys.find((k) => !k.scenario)!;
    expect(leaked.status).toBe('Inactive');
    const minted = [...run.labState.keys].filter(([user]) => user !== 'fleet-ci').flatMap(([, keys]) => keys).find((k) => !k.scenario)!;
    expect(minted.status).toBe('Inactive');
    const exposure = (id: string) => m.exposure.find((e) => e.credential === id);
    // (the leaked key was readable from the first job that could read the secret its replacement went into)
    const runsRecord = journal.find((r) => r.type === 'evidence' && r.kind === 'workflow-runs') as any;
    const firstJobStart = runsRecord.data.runs.flatMap((r: any) => r.jobs.map((j: any) => new Date(j.started_at).toISOString())).sort()[0];
    expect(exposure(leaked.id)).toMatchObject({ kind: 'aws-access-key', status: 'deactivated', from: firstJobStart, fromBasis: 'job-start' });
    expect(exposure(minted.id)).toMatchObject({ kind: 'aws-access-key', status: 'deactivated', uses: 1, usedAfterClose: 0 });
    expect(m.exposure.some((e) => e.credential.includes('[secret'))).toBe(false);
    // The replacement key was only issued and nobody used it: not an exposure
    expect(exposure(replacement.id)).toBeUndefined();
    // And the job's role session ends when the deploy role's sessions were revoked, a session the
    // lab issued before the revocation cutoff
    const session = m.exposure.find((e) => e.kind === 'aws-role-sessions')!;
    const revoke = journal.find((r) => r.type === 'evidence' && r.kind === 'credential' && (r.data as any).kind === 'aws-role-sessions' && (r.data as any).credential === 'arn:aws:iam::123456789012:role/deploy');
    const cutoff = /issued before (\S+) are denied/.exec((revoke as any).data.detail)![1]!;
    expect(session).toMatchObject({ status: 'revoked', to: (revoke as any).data.at, usedAfterClose: 0 });
    const issuedAt = run.labState.sessions.get(session.credential)!.toISOString();
    expect(issuedAt < cutoff).toBe(true);
    // And it is exposed from when it was issued: the hunt followed the OIDC subject to the
    // AssumeRoleWithWebIdentity event and journalled its time, the lab's real issue time (CloudTrail
    // keeps whole seconds)
    expect(session.fromBasis).toBe('issued');
    expect(Date.parse(session.from!)).toBe(Math.floor(Date.parse(issuedAt) / 1000) * 1000);
    // And the key the attacker minted is exposed from its CreateAccessKey, not its first use
    const mintedEvent = journal.find((r) => r.type === 'evidence' && r.kind === 'credential' && (r.data as any).credential === minted.id && (r.data as any).event === 'issued');
    expect(mintedEvent).toBeDefined();
    expect(exposure(minted.id)).toMatchObject({ fromBasis: 'issued', from: new Date((mintedEvent as any).data.at).toISOString() });
    // (on the attacker's lane of the timeline, as IAM recorded it, not as something cicd-ir did)
    expect(report.entries.find((e) => e.kind === 'credential' && e.identity === minted.id && e.summary.includes(' issued'))).toMatchObject({ lane: 'attacker', actor: 'iam' });

    // And findings by severity count the hunt's findings as journalled
    const findings = journal.filter((r) => r.type === 'finding');
    expect(findings.length).toBeGreaterThan(0);
    const bySeverity = { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
    for (const f of new Map(findings.map((r) => [JSON.stringify((r as any).finding), (r as any).finding])).values()) bySeverity[f.severity as keyof typeof bySeverity]++;
    expect(m.findingsBySeverity).toEqual(bySeverity);
    expect(m.findingsBySeverity.high).toBeGreaterThanOrEqual(2);

    // And steps: every step that ran was verified; time to contain spans the first mutating call
    // to the last verify of a containment step
    const lastPhase = new Map<string, string>();
    for (const r of journal) if (r.type === 'step') lastPhase.set(r.key, r.phase);
    expect(m.steps).toMatchObject({ total: lastPhase.size, verified: [...lastPhase.values()].filter((p) => p === 'verified').length, unverified: [], failed: [] });
    const firstMutation = journal.filter((r) => r.type === 'api-call' && (r as any).mutating && !(r as any).error).map((r) => r.at).sort()[0];
    // (the containment steps were verified, but the verdict is not contained: the secret the minted key read is open)
    expect(m.timeToContain).toMatchObject({ status: 'not-contained', firstMutationAt: firstMutation });
    expect(m.timeToContain.durationMs).toBeGreaterThan(0);

    // When the HTML is opened in headless Chromium
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(pathToFileURL(join(run.result.runDir, 'report.html')).href, { waitUntil: 'load' });
      // Then every timeline entry is visible and no credential row is open
      const entries = page.locator('#timeline .entry');
      expect(await entries.count()).toBe(report.entries.length);
      expect(await entries.last().isVisible()).toBe(true);
      expect(await page.locator('#credentials tr.is-open').count()).toBe(0);
      expect(await page.locator('#credentials').innerText()).toContain('NPM_TOKEN');
      // And a screenshot is written to the run folder
      const png = join(run.result.runDir, 'report.png');
      await page.screenshot({ path: png, fullPage: true });
      expect((await stat(png)).size).toBeGreaterThan(10_000);
    } finally {
      await browser.close();
    }

    // And no secret the lab held or minted is in any report, the journal or the log
    expect(run.secrets.size).toBeGreaterThan(5);
    expect(await leaks(run)).toEqual([]);
  }, 90_000);

  it('grafana-missed-credential: the OIDC subject is closed, the missed org key pair stays OPEN, nothing leaks', async () => {
    // Given the Grafana scenario contained in-process (no aws_user: the org key pair is not rotated)
    const run = await containInLab('grafana-missed-credential', join(dir, 'grafana'), ['aws_user', 'aws_key_id_secret', 'aws_secret_key_secret', 'tokens_file']);
    expect(run.result.exitCode).toBe(0);
    const report = await reportOf(run);
    expect(report.warnings).toEqual([]);
    const m = report.metrics;

    // Then the release environment's OIDC subject is revoked, the org's artifacts key pair and the
    // environment's NPM_TOKEN are the open items
    const status = Object.fromEntries(m.credentials.items.map((i) => [i.name, i.status]));
    expect(status).toEqual({
      NPM_TOKEN: 'open',
      ARTIFACTS_AWS_ACCESS_KEY_ID: 'open',
      ARTIFACTS_AWS_SECRET_ACCESS_KEY: 'open',
      GITHUB_TOKEN: 'expired',
      'repo:lumen-labs/lumen:environment:release': 'revoked',
    });
    // And the verdict says so whatever the engine's exit was: not contained, exit 3, the report's status needs-human
    expect(report.verdict).toMatchObject({ contained: false, exitCode: 3 });
    expect(report.verdict.openItems.filter((i) => i.blocking && i.kind === 'credential').map((i) => i.resource).sort()).toEqual(['ARTIFACTS_AWS_ACCESS_KEY_ID', 'ARTIFACTS_AWS_SECRET_ACCESS_KEY', 'NPM_TOKEN']);
    expect(report.status).toBe('needs-human');
    // And the steps the playbook skipped (no aws_user: no key rotation) are counted as skipped,
    // neither verified nor unverified, as the journal says
    const lastPhase = new Map<string, string>();
    for (const r of readJournal(join(run.result.runDir, 'journal.jsonl')).records) if (r.type === 'step') lastPhase.set(r.key, r.phase);
    const skipped = [...lastPhase.values()].filter((p) => p === 'skipped').length;
    expect(skipped).toBeGreaterThan(0);
    expect(m.steps).toMatchObject({ total: lastPhase.size, skipped, verified: lastPhase.size - skipped, unverified: [], failed: [] });
    // And nothing secret is anywhere
    expect(await leaks(run)).toEqual([]);
  }, 90_000);
});
