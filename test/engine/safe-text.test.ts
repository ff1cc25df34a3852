import { describe, expect, it } from 'vitest';
import { safeBlock, safeJson, safeText } from '../../src/engine/safe-text.js';
import { ValidationError, UsageError } from '../../src/engine/errors.js';
import { renderReport } from '../../src/report/index.js';
import { buildTimeline } from '../../src/report/timeline.js';
import type { JournalRecord } from '../../src/engine/journal.js';
import { eventLine } from '../../src/ui/lines.js';
import { errorJson, errorText } from '../../src/ui/errors.js';
import { runSummary } from '../../src/ui/run-summary.js';
import { formatTable } from '../../src/ui/table.js';
import { formatFindings } from '../../src/hunt/format.js';
import { containSummary } from '../../src/commands/contain.js';
import { CONTAIN, loadFixture, NOW } from '../report/fixture.js';

/** A secret name a crafted log dump could hold: clear the screen, home, print a green all-clear, hide the rest. */
const HOSTILE =
  'X\u001b[2J\u001b[H\u001b[32mALL CONTAINED\u001b[0m\r\u0008\u0008\n[x](javascript:alert(1))![p](https://t.example/p.gif)<img src=x>\u202eevil\u009b31m\u001b]8;;https://e.example\u0007link\u001b]8;;\u0007';

/** What must never reach a terminal or a report raw: ESC, C1 (CSI 0x9b), BEL, CR, backspace, bidi override. */
const RAW = /[\u001b\u009b\u0007\u0008\r\u202e]/;

describe('safeText / safeBlock / safeJson', () => {
  it('shows every control, escape and bidi character as visible text', () => {
    expect(safeText('a\u001b[2Jb')).toBe('a\\x1b[2Jb');
    expect(safeText('a\nb\rc\u0008d\te')).toBe('a\\x0ab\\x0dc\\x08d\te');
    expect(safeText('\u009b31m \u202eabc \u2066x\u2069 \u0085')).toBe('\\x9b31m \\u202eabc \\u2066x\\u2069 \\x85');
    expect(safeBlock('line 1\nline\u001b 2\r')).toBe('line 1\nline\\x1b 2\\x0d');
    // Ordinary text, accents, CJK and emoji pass untouched
    expect(safeText('café 東京 🔥 acme/web AWS_KEY')).toBe('café 東京 🔥 acme/web AWS_KEY');
  });

  it('keeps JSON the same document while escaping what JSON.stringify leaves raw', () => {
    const value = { name: HOSTILE, list: ['\u2028', '\u009b'] };
    const text = safeJson(value);
    expect(text).not.toMatch(RAW);
    expect(text).not.toMatch(/[\u2028\u0085]/);
    expect(JSON.parse(text)).toEqual(value);
  });

  it('runs in linear time on a long hostile input', () => {
    const big = '\u001b['.repeat(200_000) + 'x'.repeat(200_000);
    const started = performance.now();
    const out = safeText(big);
    // Generous bound: a quadratic pass over 600k characters would take minutes.
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(out).not.toMatch(RAW);
  });
});

describe('attacker text never reaches the terminal raw', () => {
  it('event lines, the run summary, errors, tables, hunt findings and the contain summary', () => {
    const outputs = [
      eventLine({ type: 'step-skipped', step: 'rotate', key: `rotate[${HOSTILE}]`, reason: HOSTILE }),
      eventLine({ type: 'step-verified', step: 'rotate', key: 'rotate[0]', verified: true, detail: HOSTILE }),
      eventLine({ type: 'log', level: 'warn', message: HOSTILE, step: 's', key: 's' }),
      runSummary({ runId: 'r1', runDir: '/tmp/r1', status: 'succeeded', exitCode: 0, steps: [{ key: HOSTILE, step: 's', action: 'a.b', status: 'verified', detail: HOSTILE }] } as never),
      errorText(new ValidationError([{ file: 'p.yaml', line: 1, col: 2, message: `unknown step ${HOSTILE}` }])),
      formatTable(['name'], [[HOSTILE]]),
      formatFindings({ findings: [{ severity: 'high', kind: 'k', identity: HOSTILE, at: '2026-01-01T00:00:00Z', summary: `user agent ${HOSTILE}` }], identities: [], stats: { recordsRead: 1, recordsMatched: 1, rounds: 1, damaged: { files: 1, records: 0 }, skipped: [{ path: HOSTILE, reason: HOSTILE }] } } as never),
      containSummary({ runId: 'r1', runDir: '/tmp/r1', status: 'needs-human', exitCode: 3, steps: [], verdict: { contained: false, status: 'needs-human', exitCode: 3, text: 'not contained', blocking: 1, criticalFindings: 0, openItems: [{ id: 'x', severity: 'high', kind: 'credential', blocking: true, resource: HOSTILE, summary: HOSTILE, reason: HOSTILE, action: HOSTILE }] } } as never),
    ];
    for (const text of outputs) {
      expect(text).not.toMatch(RAW);
      // A field cannot start a line of its own: the fake all-clear stays inside its line.
      expect(text!.split('\n').some((line) => line.startsWith('[x](javascript'))).toBe(false);
      expect(text).toContain('\\x1b[2J');
    }
    // A message of our own may span lines; the control characters in it are still shown
    expect(errorText(new UsageError(`bad --repo: ${HOSTILE}`, [HOSTILE]))).not.toMatch(RAW);
    expect(safeJson(errorJson(new UsageError(HOSTILE)))).not.toMatch(/[\u001b\u009b\u202e]/);
  });
});

describe('attacker text never reaches the reports raw', () => {
  it('a hostile secret name and CloudTrail user agent are shown, not run, in every format', async () => {
    // Given the tj-actions journal with a secret name and a user agent replaced by a crafted dump
    const text = (await loadFixture(CONTAIN)).map((record) => JSON.stringify(record)).join('\n');
    const hostile = JSON.stringify(HOSTILE).slice(1, -1);
    expect(text).toContain('COVERITY_API_TOKEN');
    expect(text).toContain('aws-cli/2.15.30');
    expect(text).toContain('gha-deploy/GitHubActions');
    const records = text.replaceAll('COVERITY_API_TOKEN', hostile).replaceAll('aws-cli/2.15.30', hostile).replaceAll('gha-deploy/GitHubActions', `gha-deploy/${hostile}`).split('\n').map((line) => JSON.parse(line) as JournalRecord);
    const timeline = buildTimeline(records, { now: NOW });
    // When every format is rendered
    for (const format of ['md', 'html', 'json', 'timesketch-jsonl', 'timesketch-csv'] as const) {
      const out = renderReport(timeline, format);
      // Then the payload is in it (escaped), and none of its control characters is raw
      expect(out, format).toContain('ALL CONTAINED');
      const body = format === 'timesketch-csv' ? out.replaceAll('\r\n', '\n') : out;
      expect(body, format).not.toMatch(RAW);
      expect(body, format).not.toMatch(/[\u0085\u2028]/);
    }
    const md = renderReport(timeline, 'md');
    // Brackets are escaped: no link or image syntax survives (`\]` is a literal bracket)
    expect(md).not.toMatch(/(?<!\\)\]\(javascript:/);
    expect(md).not.toMatch(/!\[p\]\(/);
    expect(md).not.toContain('<img');
    expect(md).toContain('[x]\\(javascript:alert(1))!\\[p]\\(https');
    const html = renderReport(timeline, 'html');
    expect(html).not.toContain('<img src=x>');
  });
});
