import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JournalWriter, readJournal } from '../../src/engine/journal.js';
import { isRunId, latestRunId, listRunIds, newRunId } from '../../src/engine/run-dir.js';
import { Secret } from '../../src/engine/secret.js';
import { mkdirSync, writeFileSync } from 'node:fs';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cicd-ir-journal-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const at = () => new Date('2026-11-25T16:40:12.000Z');

describe('journal', () => {
  it('stamps records with a sequence, time and run id, one JSON line each', () => {
    const path = join(dir, 'journal.jsonl');
    const writer = JournalWriter.open(path, 'r1', { now: at });
    writer.append({ type: 'evidence', kind: 'note', data: { n: 1 } });
    writer.append({ type: 'run-end', status: 'succeeded', exitCode: 0 });
    writer.close();
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      { v: 1, seq: 1, at: '2026-11-25T16:40:12.000Z', runId: 'r1', type: 'evidence', kind: 'note', data: { n: 1 } },
      { v: 1, seq: 2, at: '2026-11-25T16:40:12.000Z', runId: 'r1', type: 'run-end', status: 'succeeded', exitCode: 0 },
    ]);
  });

  it('tolerates a torn last line, reports it, and appends after it cleanly', () => {
    // Given a journal whose last write was cut short by a crash
    const path = join(dir, 'journal.jsonl');
    const writer = JournalWriter.open(path, 'r1', { now: at });
    writer.append({ type: 'evidence', kind: 'note', data: 1 });
    writer.close();
    appendFileSync(path, '{"v":1,"seq":2,"at":"2026-11-25T16:4');
    // When it is read
    const torn = readJournal(path);
    // Then the intact record is there and the fragment is reported, not fatal
    expect(torn.records).toHaveLength(1);
    expect(torn.torn).toEqual({ line: 2, reason: 'torn last line (crash mid-write), ignored' });
    // And a resumed writer starts on a fresh line, so its record parses
    const again = JournalWriter.open(path, 'r1', { now: at, nextSeq: 2 });
    again.append({ type: 'run-end', status: 'succeeded', exitCode: 0 });
    again.close();
    const after = readJournal(path);
    expect(after.records.map((r) => r.seq)).toEqual([1, 2]);
    expect(after.torn).toBeUndefined();
    expect(after.skipped).toEqual([{ line: 2, reason: expect.stringMatching(/^unparsable line ignored/) }]);
  });

  it('writes Secret objects as fingerprints and redacts escaped secret strings', () => {
    const path = join(dir, 'journal.jsonl');
    const secret = new Secret('AKIAEXAMPLESECRETVALUE42', 'test key');
    const writer = JournalWriter.open(path, 'r1', { now: at });
    writer.append({ type: 'evidence', kind: 'k', data: { key: secret, leaked: `oops AKIAEXAMPLESECRETVALUE42 oops` } });
    writer.close();
    const text = readFileSync(path, 'utf8');
    expect(text).not.toContain('AKIAEXAMPLESECRETVALUE42');
    expect(text).toContain(secret.fingerprint);
  });
});

describe('run ids', () => {
  it('are sortable by start time and shaped for folder names', () => {
    const early = newRunId(new Date('2026-11-25T16:40:12.345Z'));
    const late = newRunId(new Date('2026-11-25T16:40:13.000Z'));
    expect(early).toMatch(/^2026-11-25T16-40-12Z-[0-9a-f]{4}$/);
    expect(isRunId(early)).toBe(true);
    expect(isRunId('../etc')).toBe(false);
    expect([late, early].sort()).toEqual([early, late]);
  });

  it('--latest picks the newest run that has a journal', () => {
    for (const id of ['2026-11-25T10-00-00Z-aaaa', '2026-11-25T12-00-00Z-bbbb', '2026-11-25T13-00-00Z-cccc']) {
      mkdirSync(join(dir, id));
      if (!id.includes('cccc')) writeFileSync(join(dir, id, 'journal.jsonl'), '');
    }
    expect(listRunIds(dir)).toEqual(['2026-11-25T10-00-00Z-aaaa', '2026-11-25T12-00-00Z-bbbb']);
    expect(latestRunId(dir)).toBe('2026-11-25T12-00-00Z-bbbb');
    expect(() => latestRunId(join(dir, 'none'))).toThrow(/no runs to resume/);
  });
});
