import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import type { JournalRecord } from '../../src/engine/journal.js';
import { parseJournalText } from '../../src/report/read.js';

/** test/fixtures/journals/<name>.jsonl */
export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`../fixtures/journals/${name}.jsonl`, import.meta.url));
}

/** The records of a hand-written fixture journal (a fresh copy each call: tests mutate them). */
export async function loadFixture(name: string): Promise<JournalRecord[]> {
  const { records, warnings } = parseJournalText(await readFile(fixturePath(name), 'utf8'));
  if (warnings.length) throw new Error(`fixture ${name}: ${warnings.join('; ')}`);
  return records;
}

const made: string[] = [];
afterAll(async () => {
  await Promise.all(made.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A temporary run folder holding the fixture as journal.jsonl (removed after the test file). */
export async function runDirWith(name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cicd-ir-report-'));
  made.push(dir);
  await cp(fixturePath(name), join(dir, 'journal.jsonl'));
  return dir;
}

/** Pinned report time so outputs are reproducible. */
export const NOW = new Date('2025-03-14T17:15:00.000Z');

export const CONTAIN = 'tj-actions-contain';
export const DRY_RUN = 'tj-actions-dry-run';
