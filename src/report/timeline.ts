import type { JournalRecord } from '../engine/journal.js';
import { type Collected, collect, findingEventIds, findingUrl, isoOrUndefined } from './collect.js';
import { computeMetrics } from './metrics.js';
import { computeVerdict } from './verdict.js';
import { ExitCode } from '../engine/exit-codes.js';
import { formatDuration } from './format.js';
import { PLAN_ONLY_NOTICE, SEVERITIES, type Severity, type Timeline, type TimelineEntry, type Verdict } from './model.js';
import { scrubSecrets } from './scrub.js';

export interface BuildTimelineOptions {
  /** Run id when the journal is empty; otherwise taken from the records. */
  runId?: string;
  /** The report's `generatedAt` (tests pin it); default: now. */
  now?: Date;
  /** Also show read-only API calls (hunt pages, inventory reads). Default false: they drown the timeline. */
  includeReadCalls?: boolean;
  /** Warnings from reading the journal (torn line), carried into the report. */
  warnings?: string[];
}

/**
 * Builds the report from one run's journal: one chronological timeline merging what the
 * attacker (or the compromised pipeline) did, what was detected and what the responders did,
 * plus the metrics and the open items. Pure: same records, same report. Every string that
 * reaches the report passes through scrubSecrets() (redact() plus token shapes).
 */
export function buildTimeline(records: JournalRecord[], options: BuildTimelineOptions = {}): Timeline {
  const c = collect(records, options.runId);
  const entries = timelineEntries(c, options);
  const computed = computeMetrics(c);
  const verdict = computeVerdict(c, computed);
  const dryRun = c.runStart?.dryRun === true;
  // Never "contained in N s" when the verdict is not contained: the clock measured the containment steps only.
  const ttc = computed.timeToContain;
  const metrics =
    !dryRun && !verdict.contained && ttc.status === 'contained'
      ? { ...computed, timeToContain: { ...ttc, status: 'not-contained' as const, text: `not contained: ${verdict.blocking} open item(s)${ttc.durationMs !== undefined ? ` (containment steps verified ${formatDuration(ttc.durationMs)} after the first change)` : ''}` } }
      : computed;
  const report: Timeline = {
    schemaVersion: 1,
    runId: c.runId,
    ...(c.runStart ? { incident: c.runStart.incident, playbook: c.runStart.playbook } : {}),
    dryRun,
    status: reportStatus(c, verdict),
    verdict,
    ...(dryRun ? { notice: PLAN_ONLY_NOTICE } : {}),
    ...(isoOrUndefined(c.runStart?.at) ? { startedAt: isoOrUndefined(c.runStart?.at) } : {}),
    ...(isoOrUndefined(c.runEnd?.at) ? { endedAt: isoOrUndefined(c.runEnd?.at) } : {}),
    generatedAt: (options.now ?? new Date()).toISOString(),
    metrics,
    findings: c.findings.map(({ value: f, seq, at }) => ({
      kind: f.kind,
      severity: SEVERITIES.includes(f.severity) ? f.severity : 'info',
      resource: String(f.resource ?? ''),
      summary: f.summary,
      ...(isoOrUndefined(f.at ?? at) ? { at: isoOrUndefined(f.at ?? at) } : {}),
      journalSeq: seq,
    })),
    entries,
    warnings: [...(options.warnings ?? []), ...c.warnings],
  };
  return scrubDeep(report);
}

/** The run's status as the verdict reads it: never `succeeded` while something is open. */
function reportStatus(c: Collected, verdict: Verdict): Timeline['status'] {
  if (!c.runEnd) return 'incomplete';
  if (c.runEnd.status === 'planned' || verdict.status === 'plan-only') return c.runEnd.status;
  if (verdict.exitCode === ExitCode.StepFailed) return 'failed';
  if (verdict.exitCode === ExitCode.NeedsHuman) return 'needs-human';
  return verdict.contained ? 'succeeded' : c.runEnd.status;
}

/** Applies scrubSecrets to every string in a JSON value (keys included). */
function scrubDeep<T>(value: T): T {
  if (typeof value === 'string') return scrubSecrets(value) as T;
  if (Array.isArray(value)) return value.map(scrubDeep) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [scrubSecrets(k), scrubDeep(v)])) as T;
  }
  return value;
}

const RANK: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };

function timelineEntries(c: Collected, options: BuildTimelineOptions): TimelineEntry[] {
  const raw: Array<Omit<TimelineEntry, 'id'> & { order: number }> = [];
  let order = 0;
  const push = (entry: Omit<TimelineEntry, 'id'>) => raw.push({ ...entry, order: order++ });

  // Severity of a CloudTrail event: the worst finding that cites it.
  const eventSeverity = new Map<string, Severity>();
  for (const { value: f } of c.findings) {
    for (const id of findingEventIds(f, c.cloudtrail)) {
      const prev = eventSeverity.get(id);
      if (!prev || RANK[f.severity] < RANK[prev]) eventSeverity.set(id, f.severity);
    }
  }

  if (c.runStart) {
    const at = isoOrUndefined(c.runStart.at);
    if (at) {
      push({
        at,
        lane: 'responder',
        source: 'cicd-ir',
        kind: 'run-start',
        actor: 'cicd-ir',
        identity: c.runStart.incident,
        summary: `Response started: playbook ${c.runStart.playbook}, incident ${c.runStart.incident}${c.runStart.dryRun ? ` (${PLAN_ONLY_NOTICE})` : ''}`,
        evidence: { journalSeq: c.runStart.seq },
      });
    }
  }

  for (const { repo, workflow, run, seq } of c.runs.values()) {
    const created = isoOrUndefined(run.created_at);
    const url = run.html_url;
    if (created) {
      push({
        at: created,
        lane: 'attacker',
        source: 'github',
        kind: 'workflow-run',
        actor: run.actor ?? 'unknown',
        identity: `run ${run.id}`,
        summary: `${repo} ${workflow} run ${run.id} (${run.event} on ${run.head_branch ?? '?'} @ ${run.head_sha.slice(0, 7)}): ${run.conclusion ?? run.status ?? 'unknown'}`,
        evidence: { ...(url ? { url } : {}), journalSeq: seq },
      });
    }
    for (const job of run.jobs) {
      const jobUrl = url ? `${url}/job/${job.id}` : undefined;
      const started = isoOrUndefined(job.started_at);
      const completed = isoOrUndefined(job.completed_at);
      const identity = `run ${run.id} job ${job.name}`;
      if (started) {
        push({
          at: started,
          lane: 'attacker',
          source: 'github',
          kind: 'job-started',
          actor: run.actor ?? 'unknown',
          identity,
          summary: `Job ${job.name} of run ${run.id} started: its GITHUB_TOKEN and secrets are live`,
          evidence: { ...(jobUrl ? { url: jobUrl } : {}), journalSeq: seq },
        });
      }
      if (completed) {
        push({
          at: completed,
          lane: 'attacker',
          source: 'github',
          kind: 'job-completed',
          actor: run.actor ?? 'unknown',
          identity,
          summary: `Job ${job.name} of run ${run.id} finished (${job.conclusion ?? 'unknown'}): its GITHUB_TOKEN expires; later use of its AWS session is suspect`,
          evidence: { ...(jobUrl ? { url: jobUrl } : {}), journalSeq: seq },
        });
      }
    }
  }

  for (const { value: ev, seq } of c.cloudtrail.values()) {
    const at = isoOrUndefined(ev.eventTime);
    if (!at) continue;
    const severity = eventSeverity.get(ev.eventID);
    push({
      at,
      lane: 'attacker',
      source: 'cloudtrail',
      kind: 'cloudtrail-event',
      actor: ev.identity,
      ...(ev.accessKeyId ? { identity: ev.accessKeyId } : {}),
      summary: `${ev.eventName} (${ev.eventSource}, ${ev.awsRegion})${ev.sourceIPAddress ? ` from ${ev.sourceIPAddress}` : ''}${ev.errorCode ? `: ${ev.errorCode}` : ''}`,
      ...(severity ? { severity } : {}),
      evidence: { cloudtrailEventId: ev.eventID, journalSeq: seq },
    });
  }

  for (const { value: f, seq, at: recordAt } of c.findings) {
    const at = isoOrUndefined(f.at) ?? isoOrUndefined(recordAt);
    if (!at) continue;
    const eventId = findingEventIds(f, c.cloudtrail)[0];
    const url = findingUrl(f);
    push({
      at,
      lane: 'detection',
      source: 'cicd-ir',
      kind: 'finding',
      actor: 'cicd-ir',
      identity: String(f.resource ?? ''),
      summary: `${f.kind}: ${f.summary}`,
      severity: SEVERITIES.includes(f.severity) ? f.severity : 'info',
      evidence: { ...(url ? { url } : {}), ...(eventId ? { cloudtrailEventId: eventId } : {}), journalSeq: seq },
    });
  }

  for (const { value: e, seq, step } of c.credentials) {
    const at = isoOrUndefined(e.at);
    if (!at) continue;
    // A credential the hunt saw issued (a session minted for the pipeline, a key the attacker
    // created) is the other side's, as CloudTrail recorded it; everything else is ours.
    const byHunt = step !== undefined && c.steps.get(step)?.some((r) => r.action === 'aws.hunt-cloudtrail') === true;
    const attackerSide = e.event === 'issued' && (byHunt || e.credential.startsWith('ASIA'));
    push({
      at,
      lane: attackerSide ? 'attacker' : 'responder',
      source: e.kind.startsWith('aws') || e.kind === 'oidc-trust' ? 'aws' : 'github',
      kind: 'credential',
      actor: attackerSide ? (e.credential.startsWith('ASIA') ? 'sts' : 'iam') : step ? `cicd-ir ${step}` : 'cicd-ir',
      identity: e.credential,
      summary: `${e.kind} ${e.credential} ${e.event}${e.fingerprint ? ` (${e.fingerprint})` : ''}${e.detail ? `: ${e.detail}` : ''}`,
      evidence: { journalSeq: seq },
    });
  }

  for (const [key, records] of c.steps) {
    for (const r of records) {
      if (r.phase === 'start') continue;
      const at = isoOrUndefined(r.at);
      if (!at) continue;
      const requestId = r.result?.requestIds?.[0];
      push({
        at,
        lane: 'responder',
        source: 'cicd-ir',
        kind: 'step',
        actor: 'cicd-ir',
        identity: key,
        summary: stepSummary(key, r),
        ...(r.phase === 'failed' ? { severity: 'high' as const } : r.phase === 'unverified' ? { severity: 'medium' as const } : {}),
        evidence: { journalSeq: r.seq, ...(requestId ? { requestId } : {}) },
      });
    }
  }

  for (const call of c.apiCalls) {
    if (!call.mutating && !call.error && !options.includeReadCalls) continue;
    const at = isoOrUndefined(call.at);
    if (!at) continue;
    const outcome = call.error ? `error ${call.error}` : call.status !== undefined ? String(call.status) : 'ok';
    push({
      at,
      lane: 'responder',
      source: call.service === 'github' ? 'github' : 'aws',
      kind: 'api-call',
      actor: 'cicd-ir',
      identity: call.step ?? call.target ?? call.service,
      summary: `${call.service} ${call.operation} → ${outcome}${call.target ? ` (${call.target})` : ''}`,
      ...(call.error ? { severity: 'low' as const } : {}),
      evidence: { journalSeq: call.seq, ...(call.requestId ? { requestId: call.requestId } : {}) },
    });
  }

  if (c.runEnd) {
    const at = isoOrUndefined(c.runEnd.at);
    if (at) {
      push({
        at,
        lane: 'responder',
        source: 'cicd-ir',
        kind: 'run-end',
        actor: 'cicd-ir',
        summary: `Response ended: ${c.runEnd.status} (exit ${c.runEnd.exitCode})`,
        ...(c.runEnd.status === 'failed' ? { severity: 'high' as const } : c.runEnd.status === 'needs-human' ? { severity: 'medium' as const } : {}),
        evidence: { journalSeq: c.runEnd.seq },
      });
    }
  }

  raw.sort((a, b) => a.at.localeCompare(b.at) || a.evidence.journalSeq - b.evidence.journalSeq || a.order - b.order);
  return raw.map(({ order: _order, ...entry }, index) => ({ id: `e${index + 1}`, ...entry }));
}

function stepSummary(key: string, r: Extract<JournalRecord, { type: 'step' }>): string {
  const head = `${key} (${r.action}) ${r.phase}`;
  switch (r.phase) {
    case 'planned': {
      const changes = r.plan?.changes ?? [];
      return `${head}: ${changes.length} change(s) planned${changes.length ? `: ${changes.map((ch) => `${ch.action} ${ch.resource}`).join('; ')}` : ''}`;
    }
    case 'applied':
      return `${head}${r.result?.changed === false ? ': already as wanted, nothing changed' : ''}`;
    case 'verified':
    case 'unverified':
      return `${head}${r.verify?.detail ? `: ${r.verify.detail}` : ''}`;
    case 'failed':
      return `${head}${r.error?.message ? `: ${r.error.message}` : ''}`;
    default:
      return head;
  }
}
