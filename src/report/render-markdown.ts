import { safeText } from '../engine/safe-text.js';
import { formatDuration, safeUrl, shortTime } from './format.js';
import type { Timeline, TimelineEntry } from './model.js';

/**
 * A table cell: one line, pipes escaped, Markdown/HTML control characters neutralised. Values
 * are attacker text (secret names, branch names, user agents): raw HTML (`<img>` tracking
 * pixels, `<script>`) is escaped, `](`, `]:`, `][` and `![` are escaped so `[x](javascript:...)`,
 * reference links and `![](https://tracker)` stay text (a step key `rotate[1]` reads as is), `&` so no entity spells a character back, and control
 * characters and bidi overrides are shown, not kept (safeText).
 */
function cell(text: string | undefined): string {
  return safeText((text ?? '').replace(/[\r\n]+/g, ' '))
    .replace(/\\/g, '\\\\')
    .replace(/&/g, '&amp;')
    .replace(/\|/g, '\\|')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/!\[/g, '!\\[')
    .replace(/\]([(:[])/g, ']\\$1')
    .replace(/`/g, "'");
}

/** Free text outside tables: same neutralising, newlines kept as spaces. */
const text = cell;

function evidenceCell(e: TimelineEntry): string {
  const parts: string[] = [];
  const url = safeUrl(e.evidence.url);
  if (url) parts.push(`[run](${url.replace(/\)/g, '%29')})`);
  if (e.evidence.cloudtrailEventId) parts.push(`CloudTrail ${cell(e.evidence.cloudtrailEventId)}`);
  if (e.evidence.requestId) parts.push(`req ${cell(e.evidence.requestId)}`);
  parts.push(`journal #${e.evidence.journalSeq}`);
  return parts.join('<br>');
}

/**
 * The ticket-ready Markdown report: what is still open first (a responder pastes it into the
 * incident ticket and acts on the top), then the metrics, the findings, and the timeline table.
 */
export function renderMarkdown(t: Timeline): string {
  const m = t.metrics;
  const out: string[] = [];
  out.push(`# Incident report: ${text(t.incident ?? t.runId)}`);
  out.push('');
  if (t.dryRun) {
    out.push(`> **${t.notice ?? 'PLAN ONLY — nothing was changed'}.** This report shows what the playbook would do.`);
    out.push('');
  }
  const v = t.verdict;
  const headline = v.status === 'not-contained' ? `${v.blocking} open item(s) need a human${v.exitCode === 1 ? ', a step failed' : ''}` : v.text;
  out.push(`- **${v.contained ? 'CONTAINED' : v.status === 'plan-only' ? 'PLAN ONLY' : 'NOT CONTAINED'}** (exit ${v.exitCode}): ${text(headline)}`);
  out.push(`- Run: \`${t.runId.replace(/`/g, "'")}\`${t.playbook ? ` · playbook ${text(t.playbook)}` : ''} · status **${t.status}**`);
  out.push(`- Started ${shortTime(t.startedAt)} · ended ${shortTime(t.endedAt)} · report generated ${shortTime(t.generatedAt)}`);
  out.push(`- Time to contain: **${text(m.timeToContain.text)}**`);
  out.push(
    `- Credentials: ${m.credentials.reachable} reachable, ${m.credentials.closed} closed, **${m.credentials.open} OPEN**` +
      ` · Findings: ${m.findingsBySeverity.critical} critical, ${m.findingsBySeverity.high} high, ${m.findingsBySeverity.medium} medium, ${m.findingsBySeverity.low} low, ${m.findingsBySeverity.info} info` +
      ` · Steps: ${m.steps.verified}/${m.steps.total} verified, ${m.steps.skipped ? `${m.steps.skipped} skipped, ` : ''}${m.steps.unverified.length} unverified, ${m.steps.failed.length} failed`,
  );
  out.push('');

  out.push('## Open items');
  out.push('');
  if (v.openItems.length === 0) out.push('Nothing open.');
  for (const item of v.openItems) {
    const ack = item.acknowledged;
    out.push(`- [${ack ? 'x' : ' '}] **${item.severity.toUpperCase()}**${item.blocking ? '' : ack ? ' (acknowledged)' : ' (not blocking)'} ${text(item.summary)}`);
    out.push(`  - Do: ${text(item.action)}`);
    if (ack) out.push(`  - Acknowledged by ${text(ack.by)} at ${shortTime(ack.at)}: ${text(ack.reason)}`);
  }
  out.push('');

  out.push('## Credentials: rotated vs reachable');
  out.push('');
  if (m.credentials.items.length === 0) out.push('No inventory was recorded: what the workflow could reach is unknown.');
  else {
    out.push('| Status | Credential | Kind | Scope | Reached by | Closed at | Note |');
    out.push('|---|---|---|---|---|---|---|');
    for (const i of [...m.credentials.items].sort((a, b) => Number(b.open) - Number(a.open))) {
      out.push(
        `| ${i.open ? '**OPEN**' : i.status} | ${cell(i.name)} | ${i.kind} | ${cell(i.scope)} | ${cell(i.jobs.join(', '))} | ${shortTime(i.at)} | ${cell(i.note)} |`,
      );
    }
  }
  out.push('');

  out.push('## Metrics');
  out.push('');
  const ttc = m.timeToContain;
  out.push(`- Time to contain: ${text(ttc.text)} (first change ${shortTime(ttc.firstMutationAt)}, last containment verified ${shortTime(ttc.lastVerifiedAt)})`);
  for (const s of m.steps.failed) out.push(`- Step failed: \`${s.key}\` (${text(s.action)}) at ${shortTime(s.at)}: ${text(s.detail)}`);
  for (const s of m.steps.unverified) out.push(`- Step unverified: \`${s.key}\` (${text(s.action)}) at ${shortTime(s.at)}: ${text(s.detail)}`);
  out.push('');
  out.push('### Exposure window per credential');
  out.push('');
  out.push('| Credential | Kind | From | To | Status | Window | Uses | Used after close |');
  out.push('|---|---|---|---|---|---|---|---|');
  for (const e of m.exposure) {
    out.push(
      `| ${cell(e.credential)}${e.fingerprint ? ` (${cell(e.fingerprint)})` : ''} | ${cell(e.kind)} | ${shortTime(e.from)} (${e.fromBasis}) | ${shortTime(e.to)} | ${e.status === 'open' ? '**open**' : e.status} | ${e.durationMs !== undefined ? formatDuration(e.durationMs) : '—'} | ${e.uses} | ${e.usedAfterClose ? `**${e.usedAfterClose}**` : 0} |`,
    );
  }
  out.push('');

  out.push('## Findings');
  out.push('');
  if (t.findings.length === 0) out.push('No findings.');
  for (const f of t.findings) out.push(`- **${f.severity}** ${text(f.kind)} on ${text(f.resource)} at ${shortTime(f.at)}: ${text(f.summary)} (journal #${f.journalSeq})`);
  out.push('');

  out.push('## Timeline (UTC)');
  out.push('');
  out.push('| Time | Lane | Source | Actor | Identity | What happened | Severity | Evidence |');
  out.push('|---|---|---|---|---|---|---|---|');
  for (const e of t.entries) {
    out.push(
      `| ${shortTime(e.at)} | ${e.lane} | ${e.source} | ${cell(e.actor)} | ${cell(e.identity)} | ${cell(e.summary)} | ${e.severity ?? ''} | ${evidenceCell(e)} |`,
    );
  }
  if (t.warnings.length) {
    out.push('');
    out.push('## Warnings');
    out.push('');
    for (const w of t.warnings) out.push(`- ${text(w)}`);
  }
  out.push('');
  return out.join('\n');
}
