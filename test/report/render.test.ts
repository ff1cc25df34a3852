import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import type { JournalRecord } from '../../src/engine/journal.js';
import { renderReport, writeReports } from '../../src/report/index.js';
import { reportJsonSchemaText } from '../../src/report/model.js';
import { buildTimeline } from '../../src/report/timeline.js';
import { CONTAIN, DRY_RUN, loadFixture, NOW, runDirWith } from './fixture.js';

const SCHEMA_FILE = fileURLToPath(new URL('../../docs/report.schema.json', import.meta.url));

/** RFC 4180 reader, enough for the CSV we write (quoted fields, doubled quotes, CRLF). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') row.push(field), (field = '');
    else if (ch === '\r' && text[i + 1] === '\n') row.push(field), rows.push(row), (row = []), (field = ''), i++;
    else field += ch;
  }
  if (field || row.length) row.push(field), rows.push(row);
  return rows;
}

function validator() {
  const ajv = new Ajv2020.default({ allErrors: true, strict: true });
  addFormats.default(ajv);
  return ajv;
}

describe('report.schema.json', () => {
  it('is the committed copy of the schema generated from the zod model', async () => {
    // Given the schema generated from src/report/model.ts
    const generated = reportJsonSchemaText();
    // (UPDATE_REPORT_SCHEMA=1 rewrites the committed file after a deliberate model change)
    if (process.env.UPDATE_REPORT_SCHEMA === '1') await writeFile(SCHEMA_FILE, generated);
    // Then docs/report.schema.json holds exactly that text
    expect(await readFile(SCHEMA_FILE, 'utf8')).toBe(generated);
  });

  it('accepts the rendered JSON reports and rejects a broken one', async () => {
    // Given the published schema compiled by ajv (draft 2020-12, formats checked)
    const validate = validator().compile(JSON.parse(await readFile(SCHEMA_FILE, 'utf8')));
    for (const name of [CONTAIN, DRY_RUN]) {
      // When a report is rendered as JSON
      const json = JSON.parse(renderReport(buildTimeline(await loadFixture(name), { now: NOW }), 'json'));
      // Then it validates
      expect(validate(json), JSON.stringify(validate.errors)).toBe(true);
    }
    // And so does the report of an empty journal (a run that crashed before its first record), in every format
    const empty = buildTimeline([], { runId: 'crashed', now: NOW });
    expect(validate(JSON.parse(renderReport(empty, 'json'))), JSON.stringify(validate.errors)).toBe(true);
    expect(renderReport(empty, 'md')).toContain('**NOT CONTAINED** (exit 3)');
    expect(renderReport(empty, 'md')).toContain('The journal holds no run');
    expect(renderReport(empty, 'html')).toContain('Timeline (0 entries, UTC)');
    expect(renderReport(empty, 'timesketch-csv').split('\r\n')).toHaveLength(2);
    // And a report with a bad time or a missing metric does not
    const json = JSON.parse(renderReport(buildTimeline(await loadFixture(CONTAIN), { now: NOW }), 'json'));
    expect(validate({ ...json, generatedAt: 'yesterday' })).toBe(false);
    delete json.metrics.timeToContain;
    expect(validate(json)).toBe(false);
  });
});

describe('renderReport', () => {
  it('writes ticket-ready Markdown with open items before the timeline', async () => {
    const md = renderReport(buildTimeline(await loadFixture(CONTAIN), { now: NOW }), 'md');
    // Then the sections come in the order a responder acts on them
    const order = ['## Open items', '## Credentials: rotated vs reachable', '## Metrics', '## Findings', '## Timeline (UTC)'].map((s) => md.indexOf(s));
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(md).toContain('- Time to contain: **not contained: rotate[1] unverified**');
    expect(md).toContain('- [ ] **HIGH** OPEN: COVERITY_API_TOKEN (environment-secret, env:acme/webapp/prod)');
    expect(md).toContain('| **OPEN** | COVERITY_API_TOKEN | environment-secret |');
    expect(md).toContain('| ASIAEXAMPLESESSION01 | aws-role-sessions | 2025-03-14 16:09:15Z (issued) | 2025-03-14 17:06:10Z | revoked | 56 min 55 s | 5 | 0 |');
    // And the timeline table has one row per entry, with evidence links
    const rows = md.split('\n').filter((l) => /^\| 2025-03-14 /.test(l));
    expect(rows).toHaveLength(55);
    expect(md).toContain('[run](https://github.com/acme/webapp/actions/runs/9001/job/41001)');
    expect(md).toContain('CloudTrail c3d1e5f0-0003-4a6b-9c2d-000000000003');
    expect(md).not.toContain('PLAN ONLY');
    // And a dry run says so at the top
    const plan = renderReport(buildTimeline(await loadFixture(DRY_RUN), { now: NOW }), 'md');
    expect(plan.split('\n').slice(0, 4).join('\n')).toContain('**PLAN ONLY — nothing was changed.**');
  });

  it('writes Timesketch CSV and JSONL with message, datetime and timestamp_desc', async () => {
    const t = buildTimeline(await loadFixture(CONTAIN), { now: NOW });
    // When both Timesketch formats are rendered
    const jsonl = renderReport(t, 'timesketch-jsonl').trimEnd().split('\n').map((l) => JSON.parse(l));
    const csv = parseCsv(renderReport(t, 'timesketch-csv'));
    // Then each has one event per entry with the mandatory fields and ISO 8601 times
    expect(jsonl).toHaveLength(55);
    expect(csv).toHaveLength(56);
    const header = csv[0]!;
    expect(header.slice(0, 4)).toEqual(['message', 'datetime', 'timestamp', 'timestamp_desc']);
    for (const event of jsonl) {
      expect(event.message).toBeTruthy();
      expect(event.datetime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(event.timestamp).toBe(Date.parse(event.datetime) * 1000);
      expect(event.timestamp_desc).toBeTruthy();
    }
    const byCsv = csv.slice(1).map((row) => Object.fromEntries(header.map((h, i) => [h, row[i]])));
    expect(byCsv.map((r) => r.message)).toEqual(jsonl.map((e) => e.message));
    expect(byCsv.find((r) => r.cloudtrail_event_id === 'c3d1e5f0-0005-4a6b-9c2d-000000000005')).toMatchObject({
      datetime: '2025-03-14T16:52:00.000Z',
      timestamp_desc: 'CloudTrail event time',
      severity: 'critical',
      lane: 'attacker',
      identity: 'ASIAEXAMPLESESSION01',
      journal_seq: '47',
    });
  });

  it('escapes attacker-controlled text in every format', async () => {
    // Given a workflow run whose actor, branch and URL were chosen by the attacker
    const records: JournalRecord[] = await loadFixture(CONTAIN);
    const ev = records.find((r) => r.type === 'evidence' && r.kind === 'workflow-runs') as any;
    ev.data.runs[0].actor = '<script>alert(1)</script>';
    ev.data.runs[0].head_branch = '=HYPERLINK("http://evil.example","x")|pipe';
    ev.data.runs[0].html_url = 'javascript:alert(2)';
    const t = buildTimeline(records, { now: NOW });
    // Then the HTML has no live markup or script link
    const html = renderReport(t, 'html');
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('javascript:');
    // And Markdown keeps the table intact and the CSV does not start a cell with a formula
    const md = renderReport(t, 'md');
    expect(md).not.toContain('<script');
    expect(md.split('\n').filter((l) => /^\| 2025-03-14 /.test(l)).every((l) => l.split(/(?<!\\)\|/).length === 10)).toBe(true);
    const csv = parseCsv(renderReport(t, 'timesketch-csv'));
    const actorCol = csv[0]!.indexOf('actor');
    expect(csv.slice(1).some((r) => r[actorCol] === '<script>alert(1)</script>')).toBe(true);
    expect(csv.slice(1).every((r) => r.every((cell) => !/^[=+\-@]/.test(cell)))).toBe(true);
  });
});

describe('writeReports', () => {
  it('writes every format into the run folder and returns the paths', async () => {
    // Given a run folder holding the journal
    const dir = await runDirWith(CONTAIN);
    // When all formats are written
    const paths = await writeReports(dir, ['md', 'html', 'json', 'timesketch'], { now: NOW });
    // Then the five files exist in the run folder
    expect(paths.map((p) => basename(p))).toEqual(['report.md', 'report.html', 'report.json', 'timesketch.jsonl', 'timesketch.csv']);
    const json = JSON.parse(await readFile(paths[2]!, 'utf8'));
    expect(json.metrics.credentials.open).toBe(1);
    // And asking for one format writes only that one
    expect((await writeReports(dir, ['md'], { now: NOW })).map((p) => basename(p))).toEqual(['report.md']);
  });
});
