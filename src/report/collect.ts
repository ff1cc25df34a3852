import { z } from 'zod';
import type { Finding } from '../actions/define.js';
import type { JournalRecord } from '../engine/journal.js';
import type { CredentialEvent, EvidenceByKind, InventoryItem } from '../engine/evidence.js';
import type { ApiCallRecord } from '../providers/config.js';

/**
 * Sorts a journal's records into what the timeline and metrics need. Evidence is data from
 * other parts of cicd-ir (and, through GitHub and CloudTrail, from the attacker): it is checked
 * against the shared evidence types at runtime and a malformed record becomes a warning, not
 * a crash, because a report is most needed when something went wrong.
 */

type WorkflowRunsEvidence = EvidenceByKind['workflow-runs'];
export type WorkflowRun = WorkflowRunsEvidence['runs'][number];
export type CloudTrailEvent = EvidenceByKind['cloudtrail-events']['events'][number];
export type StepRecord = Extract<JournalRecord, { type: 'step' }>;
export type ApiCallJournalRecord = JournalRecord & { type: 'api-call' } & ApiCallRecord;

const nullableString = z.string().nullable().optional();

const WorkflowRunsData = z.object({
  repo: z.string(),
  workflow: z.string(),
  runs: z.array(
    z.object({
      id: z.number(),
      html_url: z.string().optional(),
      actor: z.string().optional(),
      event: z.string(),
      head_branch: nullableString,
      head_sha: z.string(),
      status: z.string().nullable(),
      conclusion: z.string().nullable(),
      created_at: z.string(),
      updated_at: z.string().optional(),
      jobs: z.array(
        z.object({
          id: z.number(),
          name: z.string(),
          started_at: z.string().nullable(),
          completed_at: z.string().nullable(),
          conclusion: z.string().nullable(),
        }),
      ),
    }),
  ),
});

const InventoryData = z.object({
  repo: z.string(),
  workflow: z.string(),
  items: z.array(
    z.object({
      kind: z.enum(['repo-secret', 'environment-secret', 'org-secret', 'oidc-role', 'github-token', 'all-secrets']),
      name: z.string(),
      scope: z.string(),
      jobs: z.array(z.string()),
      rotation: z.string(),
    }),
  ),
});

/**
 * Every CredentialEvent kind, keyed by itself: a kind added to the type and not here fails to
 * compile, instead of its records being dropped as malformed (npm.revoke-token's `npm-token`
 * records were, while this list was a literal array).
 */
const CREDENTIAL_KINDS: { [K in CredentialEvent['kind']]: K } = {
  'aws-access-key': 'aws-access-key',
  'aws-role-sessions': 'aws-role-sessions',
  'aws-user-sessions': 'aws-user-sessions',
  'github-secret': 'github-secret',
  'github-token': 'github-token',
  'deploy-key': 'deploy-key',
  'oidc-trust': 'oidc-trust',
  'npm-token': 'npm-token',
};

const CredentialData = z.object({
  credential: z.string(),
  kind: z.enum(CREDENTIAL_KINDS),
  event: z.enum(['issued', 'rotated', 'revoked', 'deactivated', 'deleted', 'restricted']),
  at: z.string(),
  fingerprint: z.string().optional(),
  detail: z.string().optional(),
  subjects: z.array(z.string()).optional(),
});

/** `coverage` evidence: whether an account was searched or a region hunted (the contract is in src/report/verdict.ts). */
const CoverageData = z.object({
  scope: z.enum(['account', 'region']),
  id: z.string().min(1),
  status: z.enum(['searched', 'gap']),
  reason: z.string().optional(),
});

export type CoverageRecord = z.infer<typeof CoverageData>;

const CloudTrailData = z.object({
  events: z.array(
    z.object({
      eventID: z.string(),
      eventTime: z.string(),
      eventSource: z.string(),
      eventName: z.string(),
      awsRegion: z.string(),
      identity: z.string(),
      accessKeyId: z.string().optional(),
      sourceIPAddress: z.string().optional(),
      userAgent: z.string().optional(),
      errorCode: z.string().optional(),
    }),
  ),
});

/**
 * What the report reads of one `secret-in-log` evidence item (a PublicHit, src/scan/scanner.ts).
 * Other evidence shapes (a run's html_url) are not hits and are passed over.
 */
const LogHitData = z.object({ kind: z.string(), fingerprint: z.string().startsWith('sha256:'), name: z.string().min(1), keyId: z.string().regex(/^(AKIA|ASIA)[A-Z0-9]{12,}$/).optional() });

/** `github:<owner>/<repo>/actions/runs/<run_id>`: the resource of github.scan-run-logs' findings. */
/** `github:o/r/actions/runs/123`: the resource of a finding about one workflow run. */
export const RUN_RESOURCE = /^github:([^/]+\/[^/]+)\/actions\/runs\/(\d+)$/;

/** A value the log scan found under a secret's name: never the value, only its fingerprint. */
export interface LogHit {
  /** `o/r` of the run whose log showed it. */
  repo: string;
  run: number;
  /** The secret's name as the log gave it (`"NPM_TOKEN":{"value":...}`). */
  name: string;
  /** fingerprint() of the value: the same function credential events use. */
  fingerprint: string;
  /** The scanner's kind (`npm-token`, `github-pat`, ...). */
  kind: string;
  /** An AWS key id, or the key id of the pair a secret key belongs to: closing that key kills the value. */
  keyId?: string;
}

export interface Seq<T> {
  value: T;
  seq: number;
  /** Journal time of the record. */
  at: string;
  step?: string;
}

export interface RunInfo {
  repo: string;
  workflow: string;
  run: WorkflowRun;
  seq: number;
}

export interface Collected {
  runId: string;
  runStart?: Extract<JournalRecord, { type: 'run-start' }>;
  runEnd?: Extract<JournalRecord, { type: 'run-end' }>;
  firstAt?: string;
  lastAt?: string;
  /** By run id; a later evidence record replaces an earlier one (runs finish, jobs complete). */
  runs: Map<number, RunInfo>;
  /** By eventID: the hunt may report the same event twice (regions, pages, re-runs). */
  cloudtrail: Map<string, Seq<CloudTrailEvent>>;
  credentials: Seq<CredentialEvent>[];
  inventory: Seq<InventoryItem & { repo: string; workflow: string }>[];
  /**
   * Per inventory item (inventoryKey), every repository (lower case) whose inventory listed it:
   * `inventory` keeps one record per item, but an org secret is reachable only by the
   * repositories its visibility admits, which is each repository's inventory's to say.
   */
  inventoryRepos: Map<string, Set<string>>;
  findings: Seq<Finding>[];
  /** `coverage` evidence: accounts searched or not, regions hunted or not (see src/report/verdict.ts). */
  coverage: Seq<CoverageRecord>[];
  /** Named values github.scan-run-logs found in run logs, one per repo, run, name and value. */
  logHits: Seq<LogHit>[];
  /** Step records by key, in journal order. */
  steps: Map<string, StepRecord[]>;
  apiCalls: ApiCallJournalRecord[];
  /** Open items a human acknowledged (`cicd-ir ack`), by item id; the verdict decides which kinds may be. */
  acknowledged: Map<string, { by: string; reason: string; at: string; seq: number }>;
  warnings: string[];
}

/** One inventory item's identity: kind, scope and name. */
export function inventoryKey(item: { kind: string; scope: string; name: string }): string {
  return `${item.kind}|${item.scope}|${item.name}`;
}

/** Parses an ISO-ish time; undefined when it is not a time. Output is always `toISOString()`. */
export function isoOrUndefined(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/** Sorts the records of one journal into evidence, steps, calls and findings. */
export function collect(records: JournalRecord[], runIdFallback = 'unknown'): Collected {
  const out: Collected = {
    runId: records[0]?.runId ?? runIdFallback,
    runs: new Map(),
    cloudtrail: new Map(),
    credentials: [],
    inventory: [],
    inventoryRepos: new Map(),
    findings: [],
    coverage: [],
    logHits: [],
    steps: new Map(),
    apiCalls: [],
    acknowledged: new Map(),
    warnings: [],
  };
  const findingKeys = new Set<string>();
  const logHitKeys = new Set<string>();
  const inventoryKeys = new Set<string>();
  const sorted = [...records].sort((a, b) => a.seq - b.seq);
  for (const record of sorted) {
    const at = isoOrUndefined(record.at);
    if (at) {
      if (!out.firstAt || at < out.firstAt) out.firstAt = at;
      if (!out.lastAt || at > out.lastAt) out.lastAt = at;
    }
    switch (record.type) {
      case 'run-start':
        out.runStart ??= record;
        break;
      case 'run-end':
        out.runEnd = record;
        break;
      case 'step': {
        const list = out.steps.get(record.key) ?? [];
        list.push(record);
        out.steps.set(record.key, list);
        break;
      }
      case 'api-call':
        out.apiCalls.push(record as ApiCallJournalRecord);
        break;
      case 'finding': {
        const f = record.finding;
        if (!f || typeof f.summary !== 'string' || typeof f.kind !== 'string') {
          out.warnings.push(`journal seq ${record.seq}: malformed finding, skipped`);
          break;
        }
        // Before the dedup below, which compares summaries only: two findings may read alike and hold different values.
        if (f.kind === 'secret-in-log') collectLogHits(out, record, logHitKeys);
        const key = `${f.kind}|${f.resource}|${f.at ?? ''}|${f.summary}`;
        if (findingKeys.has(key)) break;
        findingKeys.add(key);
        out.findings.push({ value: f, seq: record.seq, at: record.at, step: record.step });
        break;
      }
      case 'evidence':
        collectEvidence(out, record, inventoryKeys);
        break;
      case 'acknowledged':
        // The last acknowledgement of an item wins (a second `cicd-ir ack` restates who and why).
        if (typeof record.item === 'string' && typeof record.by === 'string' && typeof record.reason === 'string') {
          out.acknowledged.set(record.item, { by: record.by, reason: record.reason, at: record.at, seq: record.seq });
        } else out.warnings.push(`journal seq ${record.seq}: malformed acknowledgement, skipped`);
        break;
      default:
        break;
    }
  }
  return out;
}

function collectLogHits(out: Collected, record: Extract<JournalRecord, { type: 'finding' }>, keys: Set<string>): void {
  const m = RUN_RESOURCE.exec(record.finding.resource ?? '');
  if (!m || !Array.isArray(record.finding.evidence)) return;
  const repo = m[1]!;
  const run = Number(m[2]);
  for (const item of record.finding.evidence) {
    const parsed = LogHitData.safeParse(item);
    if (!parsed.success) continue;
    const { kind, fingerprint, name, keyId } = parsed.data;
    const key = `${repo.toLowerCase()}|${run}|${name}|${fingerprint}`;
    if (keys.has(key)) continue;
    keys.add(key);
    out.logHits.push({ value: { repo, run, name, fingerprint, kind, ...(keyId ? { keyId } : {}) }, seq: record.seq, at: record.at, step: record.step });
  }
}

function collectEvidence(out: Collected, record: Extract<JournalRecord, { type: 'evidence' }>, inventoryKeys: Set<string>): void {
  const where = `journal seq ${record.seq}: evidence ${record.kind}`;
  const bad = (error: z.ZodError) => {
    const issue = error.issues[0];
    out.warnings.push(`${where} malformed at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}; skipped`);
  };
  switch (record.kind) {
    case 'workflow-runs': {
      const parsed = WorkflowRunsData.safeParse(record.data);
      if (!parsed.success) return bad(parsed.error);
      for (const run of parsed.data.runs) {
        out.runs.set(run.id, { repo: parsed.data.repo, workflow: parsed.data.workflow, run, seq: record.seq });
      }
      return;
    }
    case 'inventory': {
      const parsed = InventoryData.safeParse(record.data);
      if (!parsed.success) return bad(parsed.error);
      for (const item of parsed.data.items) {
        const key = inventoryKey(item);
        const repos = out.inventoryRepos.get(key) ?? new Set<string>();
        repos.add(parsed.data.repo.toLowerCase());
        out.inventoryRepos.set(key, repos);
        if (inventoryKeys.has(key)) continue;
        inventoryKeys.add(key);
        out.inventory.push({ value: { ...item, repo: parsed.data.repo, workflow: parsed.data.workflow }, seq: record.seq, at: record.at, step: record.step });
      }
      return;
    }
    case 'credential': {
      const parsed = CredentialData.safeParse(record.data);
      if (!parsed.success) return bad(parsed.error);
      out.credentials.push({ value: parsed.data, seq: record.seq, at: record.at, step: record.step });
      return;
    }
    case 'coverage': {
      const parsed = CoverageData.safeParse(record.data);
      if (!parsed.success) return bad(parsed.error);
      out.coverage.push({ value: parsed.data, seq: record.seq, at: record.at, step: record.step });
      return;
    }
    case 'cloudtrail-events': {
      const parsed = CloudTrailData.safeParse(record.data);
      if (!parsed.success) return bad(parsed.error);
      for (const event of parsed.data.events) {
        if (!out.cloudtrail.has(event.eventID)) out.cloudtrail.set(event.eventID, { value: event, seq: record.seq, at: record.at, step: record.step });
      }
      return;
    }
    default:
      // Other evidence kinds (logs, snapshots) are for humans reading the run folder, not the timeline.
      return;
  }
}

/** The last record of a step key (its current phase). */
export function lastPhase(records: StepRecord[]): StepRecord | undefined {
  return records[records.length - 1];
}

/**
 * Whether a step changes the world: its plan lists a mutating call, a mutating API call was
 * journalled for it, or apply reported a change. Read-only steps (evidence, inventory, hunt)
 * are not containment.
 */
export function isMutatingStep(key: string, records: StepRecord[], apiCalls: ApiCallJournalRecord[]): boolean {
  const stepId = records[0]?.step;
  return (
    records.some((r) => r.plan?.calls?.some((c) => c.mutating) || r.result?.changed === true) ||
    apiCalls.some((c) => c.mutating && c.step !== undefined && (c.step === key || c.step === stepId))
  );
}

/**
 * The OIDC subject patterns an `oidc-trust` record says the trust policy no longer admits: its
 * `subjects` field, or (journals written before that field existed) the patterns named in its
 * detail, `denied repo:o/r:*, ...: notes`.
 */
export function deniedSubjects(event: CredentialEvent): string[] {
  if (event.subjects && event.subjects.length > 0) return event.subjects;
  const m = /^(?:denied|removed allows for) (.+?): /.exec(event.detail ?? '');
  return m ? m[1]!.split(', ').filter((s) => s.length > 0) : [];
}

/** IAM StringLike: `*` any run of characters, `?` exactly one; everything else literal, case-sensitive. */
export function stringLike(pattern: string, value: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 's').test(value);
}

/** Roles aws.find-roles reported (ARN and the subject patterns their trust admits), from its applied outputs. */
export function foundRoles(c: Collected): { arn: string; patterns: string[] }[] {
  const out = new Map<string, string[]>();
  for (const records of c.steps.values()) {
    for (const r of records) {
      if (r.action !== 'aws.find-roles' || r.phase !== 'applied') continue;
      const matches = r.result?.outputs?.matches;
      if (!Array.isArray(matches)) continue;
      for (const m of matches) {
        const arn = (m as Record<string, unknown>)?.role_arn;
        const patterns = (m as Record<string, unknown>)?.patterns;
        if (typeof arn !== 'string' || !Array.isArray(patterns)) continue;
        out.set(arn, [...(out.get(arn) ?? []), ...patterns.filter((p): p is string => typeof p === 'string')]);
      }
    }
  }
  return [...out].map(([arn, patterns]) => ({ arn, patterns }));
}

/**
 * Runs a github.cancel-runs step stopped, with when: the applied record's time (apply waits
 * until the runs are no longer running), only for a step whose last phase is verified and only
 * runs it did not report as still running. A cancelled job's GITHUB_TOKEN ends with it.
 */
export function cancelledRuns(c: Collected): Map<number, { at: string; step: string }> {
  const out = new Map<number, { at: string; step: string }>();
  for (const [key, records] of c.steps) {
    if (records[0]?.action !== 'github.cancel-runs' || lastPhase(records)?.phase !== 'verified') continue;
    const applied = records.find((r) => r.phase === 'applied');
    const at = isoOrUndefined(applied?.at);
    const outputs = applied?.result?.outputs ?? {};
    if (!at) continue;
    const ids = (v: unknown): number[] => (Array.isArray(v) ? v.filter((x): x is number => typeof x === 'number') : []);
    const still = new Set(ids(outputs.still_running));
    for (const id of [...ids(outputs.cancelled), ...ids(outputs.force_cancelled)]) {
      if (!still.has(id) && !out.has(id)) out.set(id, { at, step: key });
    }
  }
  return out;
}

/** CloudTrail event ids a finding's evidence points at (objects with eventID, or the ids themselves). */
export function findingEventIds(finding: Finding, known: Map<string, unknown>): string[] {
  const ids: string[] = [];
  for (const item of finding.evidence ?? []) {
    if (typeof item === 'string' && known.has(item)) ids.push(item);
    else if (item && typeof item === 'object') {
      const id = (item as Record<string, unknown>).eventID ?? (item as Record<string, unknown>).eventId;
      if (typeof id === 'string') ids.push(id);
    }
  }
  return ids;
}

/** A web link a finding's evidence carries (a run's html_url), if any. */
export function findingUrl(finding: Finding): string | undefined {
  for (const item of finding.evidence ?? []) {
    if (item && typeof item === 'object') {
      const r = item as Record<string, unknown>;
      const url = r.html_url ?? r.url;
      if (typeof url === 'string' && /^https?:\/\//.test(url)) return url;
    }
  }
  return undefined;
}
