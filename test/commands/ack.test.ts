import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import Ack, { type AckResult } from '../../src/commands/ack.js';
import { readJournal, type JournalRecord } from '../../src/engine/journal.js';
import { verdictOf } from '../../src/report/verdict.js';
import { runCommand } from '../helpers/cli.js';

const RUN = '2026-11-25T16-40-12Z-3fa9';
const at = (minute: number) => new Date(Date.UTC(2026, 10, 25, 16, minute)).toISOString();

/** A finished run with a critical finding (blocking), a high one (not blocking) and, optionally, a failed step. */
function runFolder(options: { failedStep?: boolean } = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'cicd-ir-ack-'));
  const dir = join(root, RUN);
  const step = (phase: string, extra: Record<string, unknown> = {}) => ({ type: 'step', step: 'disable', key: 'disable', action: 'github.disable-workflow', inputHash: 'x', phase, ...extra });
  const bare: Record<string, unknown>[] = [
    { type: 'run-start', playbook: 'contain', playbookHash: 'h', inputs: {}, dryRun: false, incident: 'IR-1' },
    step('start'),
    step('applied', { result: { changed: true, outputs: {} } }),
    options.failedStep ? step('failed', { error: { message: 'HTTP 403' } }) : step('verified', { verify: { verified: true } }),
    { type: 'finding', step: 'hunt', finding: { kind: 'new-workflow-file', severity: 'critical', resource: 'repo:acme/app', summary: '.github/workflows/discussion.yaml added on branch x' } },
    { type: 'finding', step: 'hunt', finding: { kind: 'unusual-source', severity: 'high', resource: 'AKIAEXAMPLE', summary: 'calls from 203.0.113.9' } },
    { type: 'run-end', status: options.failedStep ? 'failed' : 'needs-human', exitCode: options.failedStep ? 1 : 3 },
  ];
  const records = bare.map((r, i) => ({ v: 1, seq: i + 1, at: at(i), runId: RUN, ...r }));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'journal.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return dir;
}

const findingId = (dir: string) => verdictOf(readJournal(join(dir, 'journal.jsonl')).records).openItems.find((i) => i.blocking && i.kind === 'finding')!.id;

describe('cicd-ir ack', () => {
  it('turns a blocking finding into an acknowledged one: journalled who and why, reports rewritten, exit 0', async () => {
    // Given a run held at exit 3 by one critical finding
    const dir = runFolder();
    const id = findingId(dir);
    expect(verdictOf(readJournal(join(dir, 'journal.jsonl')).records).exitCode).toBe(3);
    // When a responder acknowledges it
    const out = await runCommand<AckResult>(Ack, [dir, id, '--by', 'alice', '--reason', 'branch x is the docs team test branch, reviewed', '--json']);
    // Then the verdict is contained, saying a human acknowledged it, and the journal has the record
    expect(out.exitCode).toBe(0);
    expect(out.result!.verdict).toMatchObject({ contained: true, exitCode: 0, acknowledged: 1 });
    expect(out.result!.verdict.text).toContain('1 item(s) acknowledged by a human');
    const item = out.result!.verdict.openItems.find((i) => i.id === id)!;
    expect(item).toMatchObject({ blocking: false, acknowledged: { by: 'alice', reason: 'branch x is the docs team test branch, reviewed' } });
    const last = readJournal(join(dir, 'journal.jsonl')).records.at(-1) as Extract<JournalRecord, { type: 'acknowledged' }>;
    expect(last).toMatchObject({ type: 'acknowledged', item: id, by: 'alice', seq: 8 });
    // And the report in the run folder says the same
    const md = readFileSync(join(dir, 'report.md'), 'utf8');
    expect(md).toContain('(acknowledged)');
    expect(md).toContain('Acknowledged by alice');
    expect(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')).verdict.contained).toBe(true);
    // And saying it again appends nothing
    const again = await runCommand<AckResult>(Ack, [dir, id, '--by', 'alice', '--reason', 'branch x is the docs team test branch, reviewed', '--json']);
    expect(again.result!.acknowledged).toEqual([]);
    expect(readJournal(join(dir, 'journal.jsonl')).records).toHaveLength(8);
  });

  it('refuses a failed step (exit 2, nothing written): it is closed by continuing the run, not by a signature', async () => {
    const dir = runFolder({ failedStep: true });
    const before = readFileSync(join(dir, 'journal.jsonl'), 'utf8');
    const out = await runCommand(Ack, [dir, 'step:disable', findingId(dir), '--reason', 'fine', '--by', 'bob']);
    expect(out.exitCode).toBe(2);
    expect(out.stderr).toContain('step:disable cannot be acknowledged');
    expect(readFileSync(join(dir, 'journal.jsonl'), 'utf8')).toBe(before);
  });

  it('refuses an unknown id with the open ids listed, and hostile --reason text, before writing', async () => {
    const dir = runFolder();
    const before = readFileSync(join(dir, 'journal.jsonl'), 'utf8');
    const unknown = await runCommand(Ack, [dir, 'finding:99', '--reason', 'x', '--by', 'bob']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain(findingId(dir));
    const hostile = await runCommand(Ack, [dir, findingId(dir), '--reason', 'ok\u001b[2J\u001b[32mALL CONTAINED', '--by', 'bob']);
    expect(hostile.exitCode).toBe(2);
    expect(hostile.stderr).not.toContain('\u001b[2J');
    expect(readFileSync(join(dir, 'journal.jsonl'), 'utf8')).toBe(before);
  });

  it('keeps the run failed (exit 1) when a step failed, even with the finding acknowledged', async () => {
    const dir = runFolder({ failedStep: true });
    const out = await runCommand<AckResult>(Ack, [dir, findingId(dir), '--reason', 'reviewed', '--by', 'bob']);
    expect(out.exitCode).toBe(1);
    expect(out.stdout).toContain('NOT CONTAINED YET');
    expect(out.stdout).toContain('acknowledged by bob: reviewed');
  });
});
