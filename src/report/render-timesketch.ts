import { safeJson, safeText } from '../engine/safe-text.js';
import type { Timeline, TimelineEntry } from './model.js';

/**
 * Timesketch import format (timesketch.org "Import from JSON or CSV"): each event needs
 * `message`, `datetime` (ISO 8601) and `timestamp_desc`; any other field becomes an attribute.
 * `timestamp` (microseconds since the epoch) is added because older importers expect it.
 */
export interface TimesketchEvent {
  message: string;
  datetime: string;
  timestamp: number;
  timestamp_desc: string;
  lane: string;
  source: string;
  kind: string;
  actor: string;
  identity: string;
  severity: string;
  url: string;
  cloudtrail_event_id: string;
  request_id: string;
  journal_seq: number;
  run_id: string;
  incident: string;
  data_type: string;
}

const COLUMNS: (keyof TimesketchEvent)[] = [
  'message',
  'datetime',
  'timestamp',
  'timestamp_desc',
  'lane',
  'source',
  'kind',
  'actor',
  'identity',
  'severity',
  'url',
  'cloudtrail_event_id',
  'request_id',
  'journal_seq',
  'run_id',
  'incident',
  'data_type',
];

const DESCRIPTIONS: Record<TimelineEntry['kind'], string> = {
  'workflow-run': 'Workflow run created',
  'job-started': 'Job started',
  'job-completed': 'Job completed',
  'cloudtrail-event': 'CloudTrail event time',
  credential: 'Credential changed',
  step: 'Response step',
  'api-call': 'Response API call',
  finding: 'Finding',
  'run-start': 'Response started',
  'run-end': 'Response ended',
};

/** One Timesketch event per timeline entry. */
export function toTimesketchEvents(t: Timeline): TimesketchEvent[] {
  return t.entries.map((e) => ({
    message: `[${e.lane}] ${e.summary}`,
    datetime: e.at,
    timestamp: Date.parse(e.at) * 1000,
    timestamp_desc: DESCRIPTIONS[e.kind],
    lane: e.lane,
    source: e.source,
    kind: e.kind,
    actor: e.actor,
    identity: e.identity ?? '',
    severity: e.severity ?? '',
    url: e.evidence.url ?? '',
    cloudtrail_event_id: e.evidence.cloudtrailEventId ?? '',
    request_id: e.evidence.requestId ?? '',
    journal_seq: e.evidence.journalSeq,
    run_id: t.runId,
    incident: t.incident ?? '',
    data_type: `cicd-ir:${e.kind}`,
  }));
}

/** JSON Lines: one event object a line (C1 and bidi characters as \\u escapes: safeJson). */
export function renderTimesketchJsonl(t: Timeline): string {
  return toTimesketchEvents(t)
    .map((e) => safeJson(e, 0))
    .join('\n')
    .concat('\n');
}

/**
 * RFC 4180 CSV with a header line. A cell that a spreadsheet would run as a formula (=, +, -,
 * @ first: branch names and actors are attacker-controlled) gets a leading apostrophe, since
 * responders open these files in spreadsheets as often as in Timesketch.
 */
export function renderTimesketchCsv(t: Timeline): string {
  const lines = [COLUMNS.join(',')];
  for (const e of toTimesketchEvents(t)) lines.push(COLUMNS.map((col) => csvCell(e[col])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

function csvCell(value: string | number): string {
  // Control characters (ESC sequences a `cat` of the file would run) shown, not kept.
  let s = safeText(String(value));
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
