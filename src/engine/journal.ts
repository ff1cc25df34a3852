import type { ActionPlan, Finding, VerifyResult } from '../actions/define.js';
import { closeSync, fstatSync, fsyncSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import type { ApiCallRecord } from '../providers/config.js';
import { redact } from './secret.js';

/**
 * The journal: `.cicd-ir/runs/<run-id>/journal.jsonl`, one JSON record a line, appended and
 * fsynced in groups (JournalWriter). The report, hunt, restore and resume read these records; secrets appear
 * only as fingerprints (Secret.toJSON) and every line passes through redact().
 */
export type JournalRecord = JournalBase &
  (
    | {
        type: 'run-start';
        playbook: string;
        playbookHash: string;
        inputs: Record<string, unknown>;
        dryRun: boolean;
        incident: string;
        /** Where the run's calls go; resume refuses other endpoints (src/ui/run-target.ts). */
        target?: RunTarget;
      }
    | {
        type: 'step';
        /** Step id as written in the playbook. */
        step: string;
        /** Step id plus for_each index: `rotate[1]`. */
        key: string;
        action: string;
        phase: 'start' | 'planned' | 'applied' | 'verified' | 'unverified' | 'failed' | 'skipped' | 'compensated';
        /** sha256 of the evaluated input: resume re-applies nothing whose hash matches a completed apply. */
        inputHash: string;
        input?: unknown;
        plan?: ActionPlan;
        result?: { changed: boolean; outputs: Record<string, unknown>; undo?: unknown; requestIds?: string[] };
        verify?: VerifyResult;
        error?: { message: string; name?: string };
        /** Why a key was skipped: `if: ... is false`, or the failed dependency. */
        reason?: string;
        durationMs?: number;
        /** Restore runs only: the run whose step this record undoes (`key` is that run's step key). */
        restoreOf?: { runId: string; seq: number };
      }
    | ({ type: 'api-call'; step?: string } & ApiCallRecord)
    | { type: 'evidence'; step?: string; kind: string; data: unknown }
    | { type: 'finding'; step?: string; finding: Finding }
    | {
        /**
         * A step ran without the results of some keys it reads (they failed, or were skipped
         * because what they needed failed): its own result covers only what succeeded. The
         * verdict lists each missing key as an open item.
         */
        type: 'incomplete';
        step: string;
        missing: Array<{ key: string; status: 'failed' | 'skipped'; reason: string }>;
      }
    | { type: 'run-end'; status: 'succeeded' | 'failed' | 'needs-human' | 'planned'; exitCode: number }
    | {
        /**
         * A human took responsibility for an open item (`cicd-ir ack`): it stops blocking and is
         * listed as acknowledged, by whom and why. `item` is the verdict's open-item id.
         */
        type: 'acknowledged';
        item: string;
        by: string;
        reason: string;
      }
  );

/**
 * The endpoints a run was made against: a lab run can never be resumed against the real world,
 * nor a real run in the lab. `aws` is the endpoint overrides (`iam=URL sts=URL`) or
 * "aws default chain"; `lab` names the scenario file, its sha256 and the lab instance.
 */
export interface RunTarget {
  github: string;
  aws: string;
  npm: string;
  lab?: { scenario: string; sha256: string; instance: string };
}

export interface JournalBase {
  v: 1;
  seq: number;
  at: string;
  runId: string;
}

/** A record before the writer stamps it with `v`, `seq`, `at` and `runId`. */
export type JournalEntry = JournalRecord extends infer R ? (R extends unknown ? Omit<R, keyof JournalBase> : never) : never;

/**
 * Appends records to a journal file, one JSON line each, written with a single `writeSync` (so
 * a crash of the process never loses an appended record: it is in the kernel's page cache) and
 * made durable on disk by a group fsync: every record appended in one turn of the event loop
 * shares one fsync. `durable()` resolves once everything appended so far is fsynced; the engine
 * awaits it before it reports an action done. After a power loss, at worst the last line is torn
 * (the reader ignores it).
 */
export class JournalWriter {
  readonly path: string;
  readonly runId: string;
  #fd: number | undefined;
  #seq: number;
  readonly #now: () => Date;
  /** Records written since the last fsync. */
  #dirty = 0;
  #scheduled: Promise<void> | undefined;
  /** How many fsyncs this writer made (the bench reports it). */
  fsyncs = 0;
  appended = 0;

  private constructor(path: string, runId: string, fd: number, nextSeq: number, now: () => Date) {
    this.path = path;
    this.runId = runId;
    this.#fd = fd;
    this.#seq = nextSeq;
    this.#now = now;
  }

  /**
   * Opens (creating if needed) a journal for appending. `nextSeq` continues a resumed run's
   * numbering. A file whose last line is torn gets a newline first, so the next record starts
   * on a line of its own instead of being glued to the fragment.
   */
  static open(path: string, runId: string, options: { nextSeq?: number; now?: () => Date } = {}): JournalWriter {
    const fd = openSync(path, 'a', 0o600); // the journal names the incident's secrets and accounts: owner only
    const size = fstatSync(fd).size;
    if (size > 0) {
      const last = Buffer.alloc(1);
      const readFd = openSync(path, 'r');
      try {
        readSync(readFd, last, 0, 1, size - 1);
      } finally {
        closeSync(readFd);
      }
      if (last.toString('utf8') !== '\n') {
        writeSync(fd, '\n');
        fsyncSync(fd);
      }
    }
    return new JournalWriter(path, runId, fd, options.nextSeq ?? 1, options.now ?? (() => new Date()));
  }

  /** Stamps, redacts and writes one record (fsynced with its batch); returns it as written (before redaction). */
  append(entry: JournalEntry): JournalRecord {
    if (this.#fd === undefined) throw new Error(`journal ${this.path} is closed`);
    const record = { v: 1, seq: this.#seq++, at: this.#now().toISOString(), runId: this.runId, ...entry } as JournalRecord;
    // Secret objects serialise as fingerprints (toJSON); redact() catches a value that escaped as a string.
    const line = `${redact(JSON.stringify(record))}\n`;
    writeSync(this.#fd, line);
    this.appended++;
    this.#dirty++;
    this.#schedule();
    return record;
  }

  /** One fsync for everything appended in this turn of the event loop. */
  #schedule(): Promise<void> {
    this.#scheduled ??= new Promise<void>((resolve) =>
      setImmediate(() => {
        this.#scheduled = undefined;
        this.sync();
        resolve();
      }),
    );
    return this.#scheduled;
  }

  /** fsyncs now if anything was written since the last fsync. */
  sync(): void {
    if (this.#fd === undefined || this.#dirty === 0) return;
    fsyncSync(this.#fd);
    this.fsyncs++;
    this.#dirty = 0;
  }

  /** Resolves once every record appended so far is on disk. */
  durable(): Promise<void> {
    if (this.#fd === undefined || this.#dirty === 0) return Promise.resolve();
    return this.#schedule();
  }

  close(): void {
    if (this.#fd !== undefined) {
      this.sync();
      closeSync(this.#fd);
      this.#fd = undefined;
    }
  }
}

/** A line the reader could not use, with why. */
export interface JournalProblem {
  line: number;
  reason: string;
}

/** What `readJournal` found. */
export interface JournalContents {
  records: JournalRecord[];
  /** The last line, when it was cut short by a crash mid-write (ignored). */
  torn?: JournalProblem;
  /** Other lines that did not parse (a torn line from an earlier crash, followed by a resume). */
  skipped: JournalProblem[];
}

/**
 * Reads a journal. Lines that do not parse as a record are skipped and reported rather than
 * fatal: a crash can only tear the line being written, and everything before it is intact.
 */
export function readJournal(path: string): JournalContents {
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const records: JournalRecord[] = [];
  const skipped: JournalProblem[] = [];
  let torn: JournalProblem | undefined;
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const isLast = index === lines.length - 1; // no newline after it: the write never finished
    try {
      const parsed = JSON.parse(line) as JournalRecord;
      if (parsed === null || typeof parsed !== 'object' || parsed.v !== 1 || typeof parsed.type !== 'string') {
        throw new Error('not a journal record');
      }
      records.push(parsed);
    } catch (error) {
      const problem = { line: index + 1, reason: isLast ? 'torn last line (crash mid-write), ignored' : `unparsable line ignored: ${(error as Error).message}` };
      if (isLast) torn = problem;
      else skipped.push(problem);
    }
  });
  return { records, torn, skipped };
}
