import { userInfo } from 'node:os';
import { join } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { UsageError } from '../engine/errors.js';
import { JournalWriter, readJournal } from '../engine/journal.js';
import { acquireRunLock } from '../engine/lock.js';
import { JOURNAL_FILE, runDirFromArg } from '../engine/run-dir.js';
import type { OpenItem, Verdict } from '../report/model.js';
import { isAcknowledgeable, verdictOf } from '../report/verdict.js';
import { writeReports } from '../report/index.js';
import { BaseCommand } from '../ui/base-command.js';
import { closest } from '../ui/did-you-mean.js';
import { verdictText } from '../ui/run-summary.js';

/** Who and why are shown in the terminal and the reports: one printable line each. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const MAX_TEXT = 500;

export interface AckResult {
  runId: string;
  runDir: string;
  /** Item ids acknowledged by this call (an item acknowledged before with the same words is not repeated). */
  acknowledged: string[];
  verdict: Verdict;
  reports: string[];
}

/**
 * `cicd-ir ack RUN ITEM...`: a human takes responsibility for open items the tool cannot close
 * (a persistence finding judged legitimate, a credential with no API, an account out of scope).
 * Each becomes an `acknowledged` journal record (append-only: who, why, when); the verdict
 * lists it as acknowledged and it stops blocking. A step that failed or never ran, a hunt that
 * never ran or an unfinished run cannot be acknowledged: continue the run instead.
 */
export default class Ack extends BaseCommand {
  static override summary = 'Acknowledge open items of a run: a human takes responsibility, and they stop blocking.';
  static override description =
    'ITEM is an open-item id as `report.json` (verdict.openItems[].id) or `contain --json` lists it, e.g. ' +
    '`finding:42` or `credential:github-pat:org:LUMEN_BOT_PAT`. Each acknowledgement is appended to the ' +
    "run's journal with --by and --reason, the reports in the run folder are written again, and the new " +
    'verdict is printed. Steps that failed or never ran, a hunt that never ran and an unfinished run cannot ' +
    'be acknowledged: continue the run with --resume instead. Exit 0 when nothing blocks any more, 3 when ' +
    'items still block, 1 when a step of the run failed, 2 bad input (an unknown or unacknowledgeable item).';
  static override examples = [
    "<%= config.bin %> <%= command.id %> 2026-11-25T16-40-12Z-3fa9 finding:42 --reason 'runner build-07 is ours: re-imaged 2026-11-25' --by alice",
    "<%= config.bin %> <%= command.id %> .cicd-ir/runs/2026-11-25T16-40-12Z-3fa9 credential:github-pat:org:LUMEN_BOT_PAT --reason 'PAT deleted by its owner in the UI' --json",
  ];
  static override strict = false;
  static override args = {
    run: Args.string({ description: 'run id (under --runs-dir) or the path of a run folder', required: true }),
    item: Args.string({ description: 'open-item id to acknowledge (repeatable: give several)', required: true }),
  };
  static override flags = {
    reason: Flags.string({ description: 'why it needs no further action (shown in the report)', required: true }),
    by: Flags.string({ description: 'who takes responsibility (default: the login name)' }),
    'runs-dir': Flags.string({ description: 'where run folders live', default: '.cicd-ir/runs' }),
  };

  async run(): Promise<AckResult | undefined> {
    const { argv, flags } = await this.parse(Ack);
    const [run, ...items] = argv as string[];
    if (!run || items.length === 0) throw new UsageError('give a run and at least one open-item id', ['e.g. cicd-ir ack RUN_ID finding:42 --reason "..."']);
    const by = flags.by ?? safeLogin();
    checkText('--by', by);
    checkText('--reason', flags.reason);
    const runDir = runDirFromArg(run, flags['runs-dir']);
    const lock = acquireRunLock(runDir);
    try {
      const result = acknowledge(runDir, [...new Set(items)], by, flags.reason);
      result.reports = await writeReports(runDir);
      if (!this.jsonEnabled()) {
        this.log(`run ${result.runId}: acknowledged ${result.acknowledged.length ? result.acknowledged.join(', ') : 'nothing new'} (by ${by})`);
        this.log(verdictText(result.verdict).join('\n'));
        for (const file of result.reports) if (/\.(md|html)$/.test(file)) this.log(`report: ${file}`);
      }
      if (result.verdict.exitCode === 0) return result;
      if (this.jsonEnabled()) this.logJson(result);
      this.exit(result.verdict.exitCode);
    } finally {
      lock.release();
    }
  }
}

function safeLogin(): string {
  try {
    return userInfo().username;
  } catch {
    throw new UsageError('no login name to record: pass --by NAME');
  }
}

function checkText(flag: string, value: string): void {
  if (value.trim() === '') throw new UsageError(`${flag} is empty`, [`say ${flag === '--by' ? 'who takes responsibility' : 'why the item needs no further action'}`]);
  if (value.length > MAX_TEXT) throw new UsageError(`${flag} is ${value.length} characters; at most ${MAX_TEXT}`);
  if (CONTROL.test(value)) throw new UsageError(`${flag} holds a control, line-break or bidi character`, ['give one printable line']);
}

/**
 * Appends one `acknowledged` record per item to the run's journal (the caller holds the run's
 * lock) and returns the verdict after them. Every id is checked before anything is written: an
 * unknown id, or one of a kind that cannot be acknowledged, writes nothing (exit 2).
 */
export function acknowledge(runDir: string, itemIds: string[], by: string, reason: string): AckResult {
  const path = join(runDir, JOURNAL_FILE);
  const { records } = readJournal(path);
  const before = verdictOf(records);
  const runId = records[0]?.runId ?? 'unknown';
  if (before.status === 'plan-only') throw new UsageError(`run ${runId} is a dry run: it has nothing to acknowledge`);
  const byId = new Map<string, OpenItem>(before.openItems.map((item) => [item.id, item]));
  const todo: string[] = [];
  for (const id of itemIds) {
    const item = byId.get(id);
    if (!item) {
      const guess = closest(id, byId.keys());
      throw new UsageError(`run ${runId} has no open item ${JSON.stringify(id)}`, [
        ...(guess ? [`did you mean ${guess}?`] : []),
        `its open items: ${[...byId.keys()].join(', ') || 'none'}`,
      ]);
    }
    if (!isAcknowledgeable(item)) {
      throw new UsageError(`${id} cannot be acknowledged: a ${item.kind} item is closed by doing the work, not by a signature`, [item.action]);
    }
    if (item.acknowledged?.by === by && item.acknowledged.reason === reason) continue; // said already
    todo.push(id);
  }
  if (todo.length > 0) {
    const nextSeq = records.reduce((max, record) => Math.max(max, record.seq), 0) + 1;
    const writer = JournalWriter.open(path, runId, { nextSeq });
    try {
      for (const item of todo) writer.append({ type: 'acknowledged', item, by, reason });
      writer.sync();
    } finally {
      writer.close();
    }
  }
  return { runId, runDir, acknowledged: todo, verdict: verdictOf(readJournal(path).records), reports: [] };
}
