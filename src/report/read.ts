import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JournalRecord } from '../engine/journal.js';

/** What the report read from a journal, and what it had to skip. */
export interface ReadJournalResult {
  records: JournalRecord[];
  warnings: string[];
}

/**
 * Reads `<runDir>/journal.jsonl` for the report. Tolerant on purpose: a report is most
 * needed after a crash, so a torn last line (the process died mid-append) is skipped with a
 * warning, and so is a line that is not a journal record; the report says what it skipped.
 * (The engine may have its own strict reader; this one belongs to the report.)
 */
export async function readJournalForReport(runDir: string): Promise<ReadJournalResult> {
  const text = await readFile(join(runDir, 'journal.jsonl'), 'utf8');
  return parseJournalText(text);
}

/** Parses JSONL journal text; see `readJournalForReport`. */
export function parseJournalText(text: string): ReadJournalResult {
  const records: JournalRecord[] = [];
  const warnings: string[] = [];
  const lines = text.split('\n');
  // A complete journal ends with '\n', so the last element is '' ; anything else there was cut off.
  const lastIndex = lines.length - 1;
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const lineNo = index + 1;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      warnings.push(
        index === lastIndex
          ? `journal line ${lineNo}: torn last line ignored (the run was interrupted while writing it)`
          : `journal line ${lineNo}: not JSON, skipped`,
      );
      return;
    }
    if (!isJournalRecord(value)) {
      warnings.push(`journal line ${lineNo}: not a journal record (needs v, seq, at, type), skipped`);
      return;
    }
    records.push(value);
  });
  records.sort((a, b) => a.seq - b.seq);
  return { records, warnings };
}

function isJournalRecord(value: unknown): value is JournalRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return typeof r.seq === 'number' && typeof r.at === 'string' && typeof r.type === 'string' && typeof r.runId === 'string';
}
