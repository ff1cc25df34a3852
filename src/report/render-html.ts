import { safeBlock } from '../engine/safe-text.js';
import { formatDuration, safeUrl, shortTime } from './format.js';
import type { Exposure, Timeline, TimelineEntry } from './model.js';

/** Escapes text for HTML element content and quoted attribute values; control and bidi characters shown (safeBlock). */
export function escapeHtml(value: unknown): string {
  return safeBlock(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const h = escapeHtml;

/**
 * No fetch of any kind is allowed: a report is opened on an air-gapped responder laptop, and a
 * remote font or script would tell an attacker who watches the page's origin that we look.
 */
const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

const LANES: { lane: TimelineEntry['lane']; title: string }[] = [
  { lane: 'attacker', title: 'Attacker / pipeline' },
  { lane: 'detection', title: 'Detection' },
  { lane: 'responder', title: 'Responders (cicd-ir)' },
];

const CSS = `
:root{--bg:#fbfbfc;--fg:#1d2330;--muted:#5f6b7a;--line:#d9dee5;--att:#c0392b;--att-bg:#fdecea;--det:#b7791f;--det-bg:#fdf5e4;--res:#2563eb;--res-bg:#e9f0fe;--ok:#1e7d4f;--ok-bg:#e6f5ec;--crit:#8e1b12}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;background:var(--bg);color:var(--fg)}
main{max-width:1280px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:17px;margin:28px 0 10px;border-bottom:1px solid var(--line);padding-bottom:4px}
.meta{color:var(--muted);margin:0 0 12px}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
.banner{border:2px solid var(--det);background:var(--det-bg);color:#6b4210;font-weight:700;font-size:18px;padding:12px 16px;border-radius:8px;margin:12px 0}
.open{border:2px solid var(--att);background:var(--att-bg);border-radius:8px;padding:12px 16px;margin:16px 0}
.open h2{border:0;margin:0 0 8px;color:var(--crit)}
.open ul{margin:0;padding-left:20px}.open li{margin:4px 0}
.open.none{border-color:var(--ok);background:var(--ok-bg)}.open.none h2{color:var(--ok)}
.sev{display:inline-block;font-size:11px;font-weight:700;text-transform:uppercase;padding:1px 6px;border-radius:4px;color:#fff;background:#777;vertical-align:1px}
.sev-critical{background:var(--crit)}.sev-high{background:var(--att)}.sev-medium{background:var(--det)}.sev-low{background:#6b7280}.sev-info{background:#94a3b8}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(200px,1fr));gap:12px}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:12px}
.card .k{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card .v{font-size:20px;font-weight:700;margin-top:4px}
.card.bad .v{color:var(--att)}.card.good .v{color:var(--ok)}.verdict.bad b{color:var(--att)}.verdict.good b{color:var(--ok)}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid var(--line)}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{background:#f1f3f6;font-size:12px;text-transform:uppercase;letter-spacing:.03em;color:var(--muted)}
tr.is-open td{background:var(--att-bg)}tr.is-open td:first-child{font-weight:700;color:var(--att)}
.gantt{background:#fff;border:1px solid var(--line);border-radius:8px;padding:8px 12px}
.g-row{display:grid;grid-template-columns:290px 1fr 190px;gap:10px;align-items:center;padding:3px 0;border-bottom:1px dashed #eef0f3}
.g-label{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.g-track{position:relative;height:14px;background:#f3f5f8;border-radius:3px}
.g-bar{position:absolute;top:0;bottom:0;border-radius:3px;background:var(--res);min-width:3px}
.g-bar.st-open,.g-bar.st-running{background:var(--att)}.g-bar.st-expired{background:#94a3b8}
.g-dur{color:var(--muted);font-size:12px;text-align:right}
.axis{display:flex;justify-content:space-between;color:var(--muted);font-size:11px;margin-left:300px;margin-right:200px}
.tl{background:#fff;border:1px solid var(--line);border-radius:8px}
.tl-head,.tl-row{display:grid;grid-template-columns:150px repeat(3,1fr);gap:0}
.tl-head{position:sticky;top:0;background:#f1f3f6;border-bottom:1px solid var(--line);font-weight:700;font-size:12px;text-transform:uppercase;letter-spacing:.03em;z-index:1;border-radius:8px 8px 0 0}
.tl-head div{padding:8px}
.tl-head .attacker{color:var(--att)}.tl-head .detection{color:var(--det)}.tl-head .responder{color:var(--res)}
.tl-row{border-bottom:1px solid #f0f2f5}
.tl-time{padding:6px 8px;border-right:3px solid var(--line);position:relative;color:var(--muted);font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
.tl-time::after{content:"";position:absolute;right:-7px;top:13px;width:11px;height:11px;border-radius:50%;background:#fff;border:3px solid var(--line)}
.tl-row.attacker .tl-time::after{border-color:var(--att)}.tl-row.detection .tl-time::after{border-color:var(--det)}.tl-row.responder .tl-time::after{border-color:var(--res)}
.lane{padding:3px 8px;min-width:0}
.entry{border-left:4px solid;border-radius:6px;padding:4px 8px;line-height:1.35;word-wrap:break-word;overflow-wrap:anywhere}
.entry.attacker{border-color:var(--att);background:var(--att-bg)}.entry.detection{border-color:var(--det);background:var(--det-bg)}.entry.responder{border-color:var(--res);background:var(--res-bg)}
.entry .who{color:var(--muted);font-size:12px}
.entry .ev{font-size:11.5px;color:var(--muted);margin-top:3px}
.entry .ev a{color:inherit}
.gap{grid-column:1/-1;text-align:center;color:var(--muted);font-size:12px;padding:3px;background:repeating-linear-gradient(45deg,#fafbfc,#fafbfc 6px,#f3f5f8 6px,#f3f5f8 12px)}
.day{grid-column:1/-1;padding:6px 8px;font-weight:700;background:#eef1f5;font-size:12px}
.warn{color:#6b4210}
@media print{.tl-head{position:static}}
`;

function sevBadge(severity: string | undefined): string {
  return severity ? `<span class="sev sev-${h(severity)}">${h(severity)}</span> ` : '';
}

function evidenceHtml(e: TimelineEntry): string {
  const parts: string[] = [];
  const url = safeUrl(e.evidence.url);
  if (url) parts.push(`<a href="${h(url)}" rel="noreferrer noopener">GitHub run</a>`);
  if (e.evidence.cloudtrailEventId) parts.push(`CloudTrail <span class="mono">${h(e.evidence.cloudtrailEventId)}</span>`);
  if (e.evidence.requestId) parts.push(`request <span class="mono">${h(e.evidence.requestId)}</span>`);
  parts.push(`journal #${h(e.evidence.journalSeq)}`);
  return parts.join(' · ');
}

function timelineHtml(t: Timeline): string {
  const rows: string[] = [];
  let lastDay = '';
  let lastMs: number | undefined;
  for (const e of t.entries) {
    const day = e.at.slice(0, 10);
    const at = Date.parse(e.at);
    if (day !== lastDay) {
      rows.push(`<div class="tl-row"><div class="day">${h(day)}</div></div>`);
      lastDay = day;
    } else if (lastMs !== undefined && at - lastMs >= 15 * 60_000) {
      // Long quiet stretches are drawn as a gap so the axis stays readable without being to scale.
      rows.push(`<div class="tl-row"><div class="gap">… ${h(formatDuration(at - lastMs))} later …</div></div>`);
    }
    lastMs = at;
    const cells = LANES.map(({ lane }) =>
      lane === e.lane
        ? `<div class="lane"><div class="entry ${h(e.lane)}" id="${h(e.id)}" data-lane="${h(e.lane)}" data-kind="${h(e.kind)}">` +
          `<div>${sevBadge(e.severity)}${h(e.summary)}</div>` +
          `<div class="who">${h(e.source)}${e.actor !== e.source ? ` · ${h(e.actor)}` : ''}${e.identity ? ` · <span class="mono">${h(e.identity)}</span>` : ''}</div>` +
          `<div class="ev">${evidenceHtml(e)}</div></div></div>`
        : '<div class="lane"></div>',
    ).join('');
    rows.push(`<div class="tl-row ${h(e.lane)}"><div class="tl-time" title="${h(e.at)}">${h(e.at.slice(11, 19))}Z</div>${cells}</div>`);
  }
  return (
    `<div class="tl" role="table" aria-label="Timeline"><div class="tl-head" role="row"><div>Time (UTC)</div>` +
    LANES.map(({ lane, title }) => `<div class="${lane}">${h(title)}</div>`).join('') +
    `</div>${rows.join('\n')}</div>`
  );
}

function ganttHtml(exposure: Exposure[], t: Timeline): string {
  const times = exposure.flatMap((e) => [e.from, e.to]).filter((x): x is string => !!x).map(Date.parse);
  const end = Date.parse(t.endedAt ?? t.generatedAt);
  if (Number.isFinite(end)) times.push(end);
  if (times.length === 0) return '<p>No credential exposure recorded.</p>';
  const min = Math.min(...times);
  const max = Math.max(...times);
  const span = Math.max(1, max - min);
  const pct = (x: number) => (((x - min) / span) * 100).toFixed(2);
  const rows = exposure.map((e) => {
    const from = e.from ? Date.parse(e.from) : min;
    const to = e.to ? Date.parse(e.to) : max;
    const bar = `<div class="g-bar st-${h(e.status)}" style="left:${pct(from)}%;width:${(Number(pct(to)) - Number(pct(from))).toFixed(2)}%"></div>`;
    const label = `${e.credential}${e.fingerprint ? ` (${e.fingerprint})` : ''}`;
    const dur = e.durationMs !== undefined ? formatDuration(e.durationMs) : e.status === 'open' ? 'still open' : '—';
    return (
      `<div class="g-row"><div class="g-label mono" title="${h(label)}">${h(label)}</div>` +
      `<div class="g-track" title="${h(`${shortTime(e.from)} → ${shortTime(e.to)} (${e.status}, from ${e.fromBasis})`)}">${bar}</div>` +
      `<div class="g-dur">${h(e.status)} · ${h(dur)}${e.usedAfterClose ? ` · <b>${h(e.usedAfterClose)} used after close</b>` : ''}</div></div>`
    );
  });
  return `<div class="gantt"><div class="axis"><span>${h(shortTime(new Date(min).toISOString()))}</span><span>${h(shortTime(new Date(max).toISOString()))}</span></div>${rows.join('')}</div>`;
}

/**
 * One self-contained HTML page: inline CSS, no script, no external resource of any kind
 * (a CSP meta tag forbids them too), every value escaped. Open items first, then the metrics,
 * the credential exposure bars, and a vertical timeline with a lane per side.
 */
export function renderHtml(t: Timeline): string {
  const m = t.metrics;
  const ttc = m.timeToContain;
  const title = `Incident report: ${t.incident ?? t.runId}`;
  const v = t.verdict;
  const items = v.openItems;
  const itemHtml = (i: (typeof items)[number]) =>
    `<li>${sevBadge(i.severity)}${i.blocking ? '' : i.acknowledged ? '<i>acknowledged</i> ' : '<i>not blocking</i> '}${h(i.summary)}<br><span class="who">Do: ${h(i.action)}</span>${i.acknowledged ? `<br><span class="who">Acknowledged by ${h(i.acknowledged.by)} at ${h(shortTime(i.acknowledged.at))}: ${h(i.acknowledged.reason)}</span>` : ''}</li>`;
  const verdictLine = `<p class="verdict ${v.contained ? 'good' : v.status === 'plan-only' ? '' : 'bad'}" id="verdict"><b>${v.contained ? 'CONTAINED' : v.status === 'plan-only' ? 'PLAN ONLY' : 'NOT CONTAINED'}</b>: ${h(v.status === 'not-contained' ? `${v.blocking} open item(s) need a human${v.exitCode === 1 ? ', a step failed' : ''}` : v.text)} · exit ${h(v.exitCode)}</p>`;
  const openBlock =
    items.length === 0
      ? `<section class="open none" id="open-items"><h2>Open items</h2>${verdictLine}<p>Nothing open.</p></section>`
      : `<section class="open" id="open-items"><h2>Open items (${items.length}, ${v.blocking} blocking)</h2>${verdictLine}<ul>${items.map(itemHtml).join('')}</ul></section>`;
  const card = (k: string, v: string, cls = '') => `<div class="card ${cls}"><div class="k">${h(k)}</div><div class="v">${h(v)}</div></div>`;
  const f = m.findingsBySeverity;
  const cards = [
    card('Time to contain', v.contained && v.durationMs !== undefined ? formatDuration(v.durationMs) : v.status === 'plan-only' ? 'plan only' : v.contained ? 'contained' : 'NOT CONTAINED', v.contained ? 'good' : v.status === 'not-contained' ? 'bad' : ''),
    card('Credentials open', `${m.credentials.open} of ${m.credentials.reachable}`, m.credentials.open > 0 ? 'bad' : 'good'),
    card('Findings', `${f.critical} crit · ${f.high} high · ${f.medium} med · ${f.low + f.info} low/info`, f.critical + f.high > 0 ? 'bad' : ''),
    card(
      'Steps verified',
      `${m.steps.verified} of ${m.steps.total - m.steps.skipped}${m.steps.skipped ? ` (${m.steps.skipped} skipped)` : ''}`,
      m.steps.unverified.length + m.steps.failed.length > 0 ? 'bad' : m.steps.verified === m.steps.total - m.steps.skipped ? 'good' : '',
    ),
  ].join('');
  const credRows = [...m.credentials.items]
    .sort((a, b) => Number(b.open) - Number(a.open))
    .map(
      (i) =>
        `<tr class="${i.open ? 'is-open' : ''}"><td>${i.open ? 'OPEN' : h(i.status)}</td><td class="mono">${h(i.name)}</td><td>${h(i.kind)}</td><td class="mono">${h(i.scope)}</td><td>${h(i.jobs.join(', '))}</td><td>${h(shortTime(i.at))}</td><td>${h(i.note ?? '')}</td></tr>`,
    )
    .join('');
  const stepProblems = [...m.steps.failed.map((s) => ({ ...s, phase: 'failed' })), ...m.steps.unverified.map((s) => ({ ...s, phase: 'unverified' }))]
    .map((s) => `<li><b>${h(s.phase)}</b> <code>${h(s.key)}</code> (${h(s.action)}) at ${h(shortTime(s.at))}: ${h(s.detail)}</li>`)
    .join('');
  const findings = t.findings
    .map((x) => `<li>${sevBadge(x.severity)}<b>${h(x.kind)}</b> on <span class="mono">${h(x.resource)}</span> at ${h(shortTime(x.at))}: ${h(x.summary)} <span class="who">(journal #${h(x.journalSeq)})</span></li>`)
    .join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${h(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<h1>${h(title)}</h1>
<p class="meta">Run <code>${h(t.runId)}</code>${t.playbook ? ` · playbook <code>${h(t.playbook)}</code>` : ''} · status <b>${h(t.status)}</b> (exit ${h(t.verdict.exitCode)}) · ${h(shortTime(t.startedAt))} → ${h(shortTime(t.endedAt))} · generated ${h(shortTime(t.generatedAt))}</p>
${t.dryRun ? `<div class="banner" id="plan-only">${h(t.notice ?? 'PLAN ONLY — nothing was changed')}</div>` : ''}
${openBlock}
<section id="metrics"><h2>Metrics</h2><div class="cards">${cards}</div>
<p>Time to contain: <b>${h(ttc.text)}</b> (first change ${h(shortTime(ttc.firstMutationAt))}, last containment verified ${h(shortTime(ttc.lastVerifiedAt))})</p>
${stepProblems ? `<ul>${stepProblems}</ul>` : ''}</section>
<section id="credentials"><h2>Credentials: rotated vs reachable</h2>
${m.credentials.items.length ? `<table><thead><tr><th>Status</th><th>Credential</th><th>Kind</th><th>Scope</th><th>Reached by</th><th>Closed at</th><th>Note</th></tr></thead><tbody>${credRows}</tbody></table>` : '<p>No inventory was recorded: what the workflow could reach is unknown.</p>'}
</section>
<section id="exposure"><h2>Exposure window per credential</h2>${ganttHtml(m.exposure, t)}</section>
<section id="findings"><h2>Findings</h2>${findings ? `<ul>${findings}</ul>` : '<p>No findings.</p>'}</section>
<section id="timeline"><h2>Timeline (${t.entries.length} entries, UTC)</h2>${timelineHtml(t)}</section>
${t.warnings.length ? `<section id="warnings"><h2>Warnings</h2><ul class="warn">${t.warnings.map((w) => `<li>${h(w)}</li>`).join('')}</ul></section>` : ''}
</main>
</body>
</html>
`;
}
