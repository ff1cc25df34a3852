import type { JournalRecord } from '../engine/journal.js';
import { ExitCode } from '../engine/exit-codes.js';
import { type Collected, RUN_RESOURCE, collect, isoOrUndefined, lastPhase } from './collect.js';
import { formatDuration } from './format.js';
import { computeMetrics, matchesItem } from './metrics.js';
import { type Exposure, type Metrics, type OpenItem, SEVERITIES, type Severity, type Verdict } from './model.js';
import { secretReadOpenItems } from './reads.js';

/**
 * The containment verdict: ONE function decides whether a run contained the incident, what is
 * still open, and the exit code. The CLI summary of `contain` and `run`, report.md/html/json,
 * `--json` and `drill` all read this object; nothing else decides "contained".
 *
 * Exit 0 only when every item in the attacker's reach is closed and verified and no critical
 * finding is open. Anything not done is an open item with its reason and what to do:
 * - a step key (a fan-out item too: `restrict-trust[1]`) that failed, was compensated, ended
 *   unverified, was applied and never verified, or never finished;
 * - a step key skipped because something it depended on failed (a key skipped by its own
 *   `if:` being false had nothing to do, and is not open);
 * - a reachable credential not rotated or revoked, a job reaching every secret, a credential
 *   used after it was closed, an exposed credential still valid;
 * - AWS credentials in play and no CloudTrail hunt finished;
 * - a coverage gap: an account not searched or a region not hunted (evidence `coverage`, below);
 * - a critical finding (used after revocation, a `pull_request_target` run, a workflow file
 *   planted in the window, a credential printed in a public log and still alive...), and a
 *   live credential a log printed in a known format.
 * High findings (and a critical `generic-secret`, an entropy guess) are listed with what to do
 * but do not block: they are what happened, a human judges them.
 *
 * Coverage records (the contract for whoever searches accounts and regions): journal an
 * `evidence` record of kind `coverage` with data
 *   `{ scope: 'account' | 'region', id: string, status: 'searched' | 'gap', reason?: string }`
 * e.g. `{ scope: 'account', id: '222233334444', status: 'gap', reason: 'AssumeRole OrganizationAccountAccessRole: AccessDenied' }`
 * or `{ scope: 'region', id: '222233334444/eu-west-1', status: 'gap', reason: 'LookupEvents: throttled after 5 attempts' }`.
 * The last record per scope and id wins, so a resumed run that searched it after all closes the
 * gap with `status: 'searched'`. Each `gap` is a blocking open item.
 */
export function verdictOf(records: JournalRecord[], runIdFallback?: string): Verdict {
  const c = collect(records, runIdFallback);
  return computeVerdict(c, computeMetrics(c));
}

const RANK: Record<Severity, number> = Object.fromEntries(SEVERITIES.map((s, i) => [s, i])) as Record<Severity, number>;

const CLOSED_EXPOSURE = new Set<Exposure['status']>(['revoked', 'rotated', 'deactivated', 'deleted', 'expired']);

/** The verdict of a collected journal and its metrics (buildTimeline calls this with the ones it already has). */
export function computeVerdict(c: Collected, metrics: Metrics): Verdict {
  const dryRun = c.runStart?.dryRun === true;
  const resume = `--resume ${c.runId}`;
  const items: OpenItem[] = [];
  let acknowledged = 0;
  const add = (item: OpenItem) => {
    if (items.some((i) => i.id === item.id)) return;
    const ack = c.acknowledged.get(item.id);
    if (ack && isAcknowledgeable(item)) {
      if (item.blocking) acknowledged++;
      items.push({ ...item, blocking: false, acknowledged: { by: ack.by, reason: ack.reason, at: ack.at, journalSeq: ack.seq } });
    } else items.push(item);
  };

  // Steps: every key's last phase.
  let failedSteps = 0;
  for (const [key, records] of c.steps) {
    const last = lastPhase(records);
    if (!last) continue;
    const base = { id: `step:${key}`, kind: 'step' as const, resource: key, journalSeq: last.seq };
    switch (last.phase) {
      case 'verified':
        break;
      case 'skipped': {
        const reason = last.reason ?? 'skipped';
        // `if: ... is false`: nothing to do. A failed dependency: the step's work was never done.
        if (reason.startsWith('if: ')) break;
        add({ ...base, severity: 'high', blocking: true, summary: `Step ${key} (${last.action}) did not run: ${reason}`, reason, action: `fix what made the dependency fail, then continue the run (${resume})` });
        break;
      }
      case 'failed':
      case 'compensated': {
        failedSteps++;
        const reason = last.phase === 'compensated' ? 'compensated (undone) after a failure' : (last.error?.message ?? 'failed');
        add({ ...base, severity: 'high', blocking: true, summary: `Step ${key} (${last.action}) failed: ${reason}`, reason, action: `fix the cause (${last.action}: permissions, input, service), then continue the run (${resume})` });
        break;
      }
      case 'unverified': {
        const reason = last.verify?.detail ?? 'verify did not confirm the change';
        add({ ...base, severity: 'medium', blocking: true, summary: `Step ${key} (${last.action}) unverified: ${reason}`, reason, action: `check by hand that ${last.action} took effect, or continue the run to verify it again: ${resume}` });
        break;
      }
      case 'applied':
        if (dryRun) break;
        add({ ...base, severity: 'medium', blocking: true, summary: `Step ${key} (${last.action}) applied, never verified`, reason: 'applied, never verified', action: `continue the run to verify it: ${resume}` });
        break;
      case 'start':
      case 'planned':
        // A wet run plans each key just before applying it: ending there, it was never applied.
        if (dryRun) break;
        add({ ...base, severity: 'high', blocking: true, summary: `Step ${key} (${last.action}) never finished`, reason: 'the run stopped while the step was running', action: `continue the run: ${resume}` });
        break;
    }
  }

  // Credentials in reach.
  for (const e of metrics.exposure) {
    if (e.usedAfterClose > 0) {
      add({
        id: `exposure:${e.credential}:used-after-close`,
        kind: 'exposure',
        severity: 'critical',
        blocking: true,
        resource: e.credential,
        summary: `${e.credential} was used successfully ${e.usedAfterClose} time(s) after it was ${e.status}`,
        reason: `CloudTrail shows successful calls after ${e.to ?? 'it was closed'}`,
        action: 'something else still holds a working credential: find what the calls came from (another key, a session issued before the revocation, another account), close it, and hunt again',
      });
    }
  }
  for (const i of metrics.credentials.items.filter((x) => x.open)) {
    add({
      id: `credential:${i.kind}:${i.scope}:${i.name}`,
      kind: 'credential',
      severity: 'high',
      blocking: true,
      resource: i.name,
      summary: `OPEN: ${i.name} (${i.kind}, ${i.scope}) is reachable by ${i.jobs.join(', ') || 'the workflow'} and was not rotated or revoked (rotation: ${i.rotation})${i.note ? `; ${i.note}` : ''}`,
      reason: i.note ?? 'no rotation, revocation or deletion names it',
      action: `rotate or revoke it: ${i.rotation}`,
    });
  }
  for (const job of metrics.credentials.everySecretReachableBy) {
    add({
      id: `credential:all-secrets:${job}`,
      kind: 'credential',
      severity: 'high',
      blocking: true,
      resource: job,
      summary: `${job} reaches every secret (toJSON(secrets) or a dynamic index): rotate all of them`,
      reason: 'the job can read every secret of the repository, its environments and its organization',
      action: 'rotate every secret the repository can read (repository, environment and organization secrets)',
    });
  }
  for (const e of metrics.exposure) {
    if (e.status === 'open' && !metrics.credentials.items.some((i) => matchesItem(i, e.credential))) {
      add({
        id: `exposure:${e.credential}`,
        kind: 'exposure',
        severity: 'high',
        blocking: true,
        resource: e.credential,
        summary: `${e.credential} (${e.kind}) exposed since ${e.from ?? 'an unknown time'} and still valid`,
        reason: 'no revocation, rotation or deletion names it',
        action: 'revoke or rotate it',
      });
    } else if (e.status === 'running') {
      add({
        id: `exposure:${e.credential}`,
        kind: 'exposure',
        severity: 'medium',
        blocking: true,
        resource: e.credential,
        summary: `${e.credential}: the job was still running when recorded; the token lives until it ends`,
        reason: 'the job had not ended when its runs were recorded',
        action: `cancel the run (or wait for the job to end), then continue the run: ${resume}`,
      });
    }
  }

  // What a hunted identity read (Secrets Manager, SSM, KMS, S3): the attacker holds those values.
  for (const item of secretReadOpenItems(c)) add(item);

  // The hunt: with AWS credentials in play, nothing says they were not used until a hunt finished.
  // A hunt step: aws.hunt-cloudtrail, or any step that journalled CloudTrail events.
  const huntedBy = new Set([...c.cloudtrail.values()].map((e) => e.step).filter((step): step is string => step !== undefined));
  const hunts = [...c.steps].filter(([key, records]) => records[0]?.action === 'aws.hunt-cloudtrail' || huntedBy.has(key) || huntedBy.has(records[0]?.step ?? ''));
  const huntDone = hunts.some(([, records]) => {
    const phase = lastPhase(records)?.phase;
    return phase === 'verified' || phase === 'unverified';
  });
  // A hunt step that failed or was blocked is open already, as that step.
  const huntListed = hunts.some(([key]) => items.some((i) => i.id === `step:${key}`));
  if (!dryRun && awsInPlay(c) && !huntDone && !huntListed) {
    add({
      id: 'hunt',
      kind: 'hunt',
      severity: 'high',
      blocking: true,
      resource: 'aws.hunt-cloudtrail',
      summary: 'No CloudTrail hunt ran: whether the AWS credentials in reach were used, or minted others, is unknown',
      reason: 'AWS credentials were in reach and no aws.hunt-cloudtrail step finished',
      action: `hunt them with cicd-ir hunt (--access-key-id, --role-arn, --oidc-subject, --since), or continue the run: ${resume}`,
    });
  }

  // Coverage gaps: accounts not searched, regions not hunted.
  for (const gap of coverageGaps(c)) {
    add({
      id: `coverage:${gap.scope}:${gap.id}`,
      kind: 'coverage',
      severity: 'high',
      blocking: true,
      resource: gap.id,
      summary: `${gap.scope === 'account' ? 'Account' : 'Region'} ${gap.id} was not ${gap.scope === 'account' ? 'searched' : 'hunted'}${gap.reason ? `: ${gap.reason}` : ''}`,
      reason: gap.reason ?? 'not searched',
      action:
        gap.scope === 'account'
          ? `give the responder a role it can assume in account ${gap.id} (--assume-role-name), then continue the run: ${resume}`
          : `hunt region ${gap.id} (--region), or continue the run once it is reachable: ${resume}`,
      journalSeq: gap.seq,
    });
  }

  // Findings: critical ones block until settled; high ones are listed with what to do.
  const settled = leakSettled(c, metrics);
  for (const { value: f, seq } of c.findings) {
    // `secret-read` findings are open above, one item per resource read.
    if ((f.severity !== 'critical' && f.severity !== 'high') || f.kind === 'secret-read') continue;
    if (settled(f)) continue;
    const leak = f.kind === 'secret-in-log';
    const guess = leak && f.summary.startsWith('generic-secret');
    // A `coverage-gap` finding (aws.discover-accounts, find-roles, the hunt: an account, the
    // organization's account list or a region that could not be read) is what was NOT looked at:
    // nothing there can be called contained, whatever its severity.
    const gap = f.kind === 'coverage-gap';
    // A session the attacker minted with AssumeRole (GetSessionToken, ...) from a hunted identity:
    // revoking the parent role's sessions does not reach it (FACTS: a chained role's session is
    // not revoked by the first role's policy), and no step of the playbook revokes the role it
    // assumed. It stays open until a human revokes that role's sessions or it expires.
    // (Not AssumeRoleWithWebIdentity: that role's trust admits the subject, so the playbook finds
    // it and revokes its sessions.)
    const mintedBy = (/minted credentials: ([A-Za-z, ]{0,300})/.exec(f.summary)?.[1] ?? '').split(/,\s*/).map((name) => name.trim());
    const mintedSession =
      f.kind === 'new-credentials-minted' &&
      mintedBy.some((name) => name === 'AssumeRole' || name === 'GetSessionToken' || name === 'GetFederationToken') &&
      /\bASIA[A-Z0-9]{12,}/.test(/new keys ([^)]{0,2000})\)/.exec(f.summary)?.[1] ?? '');
    const blocking = (f.severity === 'critical' && !guess) || (leak && !guess) || gap || mintedSession;
    add({
      id: `finding:${seq}`,
      kind: 'finding',
      severity: f.severity,
      blocking,
      resource: String(f.resource ?? ''),
      summary: `${f.kind}: ${f.summary}`,
      reason: gap
        ? 'not searched: what the attacker holds there is unknown'
        : mintedSession
          ? 'a session the attacker minted from a hunted identity: revoking the parent role does not end it'
          : leak ? 'a credential a log printed is still alive' : f.severity === 'critical' ? 'a critical finding is open until a human acts on it' : 'a high finding: what happened, for a human to judge',
      action: mintedSession ? 'revoke the sessions of the role it assumed (aws.revoke-role-sessions on that role, in its account; the session name and key are in the finding), then hunt what it did' : findingAction(f.kind, guess),
      journalSeq: seq,
    });
  }

  // The run itself.
  if (!c.runStart) {
    add({ id: 'run:missing', kind: 'run', severity: 'high', blocking: true, resource: c.runId, summary: 'The journal holds no run: nothing says what was contained', reason: 'no run-start record', action: 'run the containment (cicd-ir contain) and report on its journal' });
  } else if (!c.runEnd && !dryRun) {
    add({ id: 'run:incomplete', kind: 'run', severity: 'high', blocking: true, resource: c.runId, summary: 'The run did not finish (no run-end in the journal)', reason: 'crashed, interrupted or still running', action: `continue the run: ${resume}` });
  }
  if (c.runEnd && c.runEnd.exitCode === ExitCode.StepFailed && failedSteps === 0 && !dryRun) {
    add({ id: 'run:failed', kind: 'run', severity: 'high', blocking: true, resource: c.runId, summary: 'The run ended failed', reason: 'the engine reported a failure no step record explains', action: `read the journal, fix the cause, then continue the run: ${resume}` });
  }
  // (An acknowledged item explains an exit 3 too: the run ended needing the human who acknowledged it.)
  if (c.runEnd && c.runEnd.exitCode === ExitCode.NeedsHuman && !dryRun && !items.some((i) => i.blocking || i.acknowledged)) {
    add({ id: 'run:needs-human', kind: 'run', severity: 'medium', blocking: true, resource: c.runId, summary: 'The run ended needing a human', reason: 'the engine reported exit 3', action: 'read the journal and the run summary' });
  }

  const openItems = items
    .map((item, index) => ({ item, index }))
    .sort((a, b) => Number(b.item.blocking) - Number(a.item.blocking) || RANK[a.item.severity] - RANK[b.item.severity] || a.index - b.index)
    .map(({ item }) => item);
  const blocking = openItems.filter((i) => i.blocking);
  const criticalFindings = c.findings.filter((f) => f.value.severity === 'critical').length;
  const ttc = metrics.timeToContain;

  if (dryRun) {
    return { contained: false, status: 'plan-only', exitCode: c.runEnd?.exitCode ?? ExitCode.Ok, text: 'PLAN ONLY — nothing was changed', blocking: 0, openItems: [], criticalFindings };
  }
  const failed = failedSteps > 0 || c.runEnd?.exitCode === ExitCode.StepFailed;
  const exitCode = failed ? ExitCode.StepFailed : blocking.length > 0 ? ExitCode.NeedsHuman : ExitCode.Ok;
  const acks = acknowledged > 0 ? { acknowledged } : {};
  if (exitCode === ExitCode.Ok) {
    const base = ttc.status === 'contained' && ttc.durationMs !== undefined ? `contained in ${formatDuration(ttc.durationMs)}` : ttc.status === 'no-containment' ? 'nothing open (no containment step ran)' : 'contained';
    const text = acknowledged > 0 ? `${base}, with ${acknowledged} item(s) acknowledged by a human` : base;
    return { contained: true, status: 'contained', exitCode, text, ...(ttc.durationMs !== undefined ? { durationMs: ttc.durationMs } : {}), blocking: 0, openItems, criticalFindings, ...acks };
  }
  const text = `NOT CONTAINED: ${blocking.length} open item(s) need a human${failed ? ' (a step failed)' : ''}${acknowledged > 0 ? `; ${acknowledged} acknowledged` : ''}`;
  return { contained: false, status: 'not-contained', exitCode, text, blocking: blocking.length, openItems, criticalFindings, ...acks };
}

/**
 * Open-item kinds a human may acknowledge (`cicd-ir ack`): what happened or what is out of the
 * tool's reach (a finding, a credential with no API to close it, an account out of scope). Not a
 * step that failed or never ran, a hunt that never ran, or a run that did not finish: those are
 * fixed by continuing the run, never by a signature.
 */
export const NOT_ACKNOWLEDGEABLE: ReadonlySet<string> = new Set(['step', 'hunt', 'run']);

export function isAcknowledgeable(item: Pick<OpenItem, 'kind'>): boolean {
  return !NOT_ACKNOWLEDGEABLE.has(item.kind);
}

/** Whether the run found, touched or hunted AWS credentials: then a hunt must say whether they were used. */
function awsInPlay(c: Collected): boolean {
  if (c.credentials.some((e) => e.value.kind.startsWith('aws-') || e.value.kind === 'oidc-trust')) return true;
  if (c.logHits.some((h) => h.value.keyId !== undefined)) return true;
  return [...c.steps.values()].some((records) => records[0]?.action.startsWith('aws.') && lastPhase(records)?.phase !== 'skipped');
}

/** Coverage evidence (see the contract above): the last record per scope and id, kept when it is a gap. */
function coverageGaps(c: Collected): Array<{ scope: 'account' | 'region'; id: string; reason?: string; seq: number }> {
  const last = new Map<string, { scope: 'account' | 'region'; id: string; status: string; reason?: string; seq: number }>();
  for (const { value, seq } of c.coverage) last.set(`${value.scope}|${value.id}`, { ...value, seq });
  return [...last.values()].filter((v) => v.status === 'gap').map(({ scope, id, reason, seq }) => ({ scope, id, ...(reason ? { reason } : {}), seq }));
}

/** What a responder does about a finding of this kind. */
function findingAction(kind: string, guess: boolean): string {
  switch (kind) {
    case 'secret-in-log':
      return guess
        ? 'judge whether the printed value is a credential (an entropy guess); if it is, rotate it at its issuer, then delete the log'
        : 'revoke or rotate the printed credential at its issuer (the finding names its kind and where it showed); the log is deleted by the playbook unless --keep-logs';
    case 'used-after-revocation':
      return 'containment failed for this credential: find what still issues or holds it (a session issued before revocation, another trust path or account), close it, and hunt again';
    case 'untrusted-trigger':
      return 'remove the pull_request_target / fork workflow_run trigger (or stop the job checking out the PR head) before the workflow is enabled again; treat every secret the run could reach as stolen';
    case 'new-workflow-file':
      return 'delete the planted workflow file, review the commit and its author, and rotate what that workflow could reach';
    case 'workflow-file-changed':
    case 'run-after-workflow-change':
      return 'review the workflow change; revert it before the workflow is enabled again';
    case 'unexpected-event':
    case 'unexpected-branch':
    case 'unexpected-actor':
      return 'confirm with the owners whether the run was legitimate; if not, treat everything it could reach as stolen';
    case 'new-credentials-minted':
      return 'deactivate and delete the minted credential (the playbook deactivates minted AKIA keys), and hunt what it did';
    case 'used-after-job-end':
      return 'the credential was used after its job ended: confirm it is closed now and review the calls it made';
    case 'defense-evasion':
      return 'review the logging or detection change in CloudTrail and undo it';
    case 'unusual-source':
      return 'review the calls from that source address';
    case 'coverage-gap':
      return 'give the responder a way in (--account with --assume-role-name, organizations:ListAccounts, or --region), then run contain again or continue the run';
    case 'trust-admits-any-repo':
      return 'narrow the trust policy to the repositories and environments that need the role (sub names repo and environment or branch)';
    case 'publish-without-release-run':
      return 'deprecate or unpublish the version, tell its users, and revoke the token that published it';
    default:
      return 'review the finding and act on it';
  }
}

/**
 * A `secret-in-log` finding needs nothing more when every credential it names is dead: a value
 * whose fingerprint a revocation, deactivation or deletion carries; an AWS key id (or the secret
 * key next to it) whose key was closed; a job's installation token (`ghs_`) once every job of the
 * run has ended. It stays in the findings (it happened); it leaves the open items.
 */
function leakSettled(c: Collected, metrics: Metrics): (f: { kind: string; resource?: string; evidence?: unknown }) => boolean {
  const killed = new Set(c.credentials.filter((e) => ['revoked', 'deactivated', 'deleted'].includes(e.value.event) && e.value.fingerprint).map((e) => e.value.fingerprint!));
  const closedKeys = new Set(metrics.exposure.filter((e) => CLOSED_EXPOSURE.has(e.status)).map((e) => e.credential));
  return (f) => {
    if (f.kind !== 'secret-in-log' || !Array.isArray(f.evidence) || f.evidence.length === 0) return false;
    const run = Number(RUN_RESOURCE.exec(f.resource ?? '')?.[2]);
    const jobs = c.runs.get(run)?.run.jobs;
    const runEnded = jobs !== undefined && jobs.length > 0 && jobs.every((job) => isoOrUndefined(job.completed_at) !== undefined);
    return f.evidence.every((hit: unknown) => {
      if (typeof hit !== 'object' || hit === null) return false;
      const { kind, fingerprint: fp, keyId } = hit as { kind?: unknown; fingerprint?: unknown; keyId?: unknown };
      if (typeof fp === 'string' && killed.has(fp)) return true;
      if (typeof keyId === 'string' && closedKeys.has(keyId)) return true;
      return kind === 'github-app-token' && runEnded;
    });
  };
}
