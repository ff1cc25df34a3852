import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { constants, createGunzip, gunzipSync } from 'node:zlib';
import type { Readable } from 'node:stream';
import { ByteSplitter, unwrapRecord, type Damage } from '../json-splitter.js';
import { compileFilter, type ScanFilter } from '../predicate.js';
import type { TrailRecord } from '../model.js';

/** Damaged records listed per file (all are counted). */
export const DAMAGE_LISTED_PER_FILE = 10;

/** What scanning one file produced. */
export interface FileScanResult {
  records: number;
  matched: TrailRecord[];
  undated: number;
  /** Records skipped as damaged (first DAMAGE_LISTED_PER_FILE listed; `damagedRecords` counts all). */
  damaged: Damage[];
  damagedRecords: number;
  /**
   * Set when the file could not be read to its end (unreadable, not gzip, truncated or corrupt
   * gzip, a download that failed): the records read before the damage are kept.
   */
  error?: string;
  /** Sorted distinct hashes of the access key ids the file mentions (see keyHash), when indexing. */
  keys?: Uint32Array;
  /** The file holds `\u` escapes: a key id could be written escaped, so the index cannot rule it out. */
  opaque?: boolean;
}

export interface ScanOptions {
  /** Parse every record even when it cannot match (checks every record; slower). */
  validate?: boolean;
  /** Collect the key index (keys, opaque) for later rounds. */
  index?: boolean;
}

/**
 * Every literal a matching record must contain (key ids, ARNs, names, IPs), as a string. Time
 * bounds add no literal (they narrow, never widen).
 */
export function literalsOf(filter: ScanFilter): Array<{ text: string; quoted: boolean }> {
  return [
    ...filter.accessKeyIds.map((text) => ({ text, quoted: true })),
    ...filter.roles.map((role) => ({ text: role.arn, quoted: false })),
    ...filter.userNames.map((text) => ({ text, quoted: true })),
    ...filter.oidcSubjects.map((text) => ({ text, quoted: false })),
    ...filter.eventNames.map((text) => ({ text, quoted: true })),
    ...(filter.sourceIps ?? []).map((text) => ({ text, quoted: true })),
  ];
}

/**
 * The byte patterns that find every record that can match, without decoding it. A matching
 * record holds each literal as a JSON string value; JSON may write a character of it in more
 * than one way, so:
 * - each literal is looked for in its canonical JSON encoding (`JSON.stringify`: `"` as `\"`,
 *   `\` as `\\`, control characters as `\n` or `\u00XX`, anything else as its UTF-8 bytes);
 * - every other spelling uses `\u` (any character) or `\/` (a slash, PHP style): a record that
 *   holds either sequence anywhere is a candidate too, and is decided by parsing it.
 * So a record with no pattern in its bytes cannot match: the filter compares whole decoded
 * values, and each decoded value equal to a literal is spelt canonically or with an escape.
 */
export function patternsOf(filter: ScanFilter): Buffer[] {
  const patterns = literalsOf(filter).map(({ text, quoted }) => {
    const json = JSON.stringify(text);
    return Buffer.from(quoted ? json : json.slice(1, -1), 'utf8');
  });
  return [...patterns, Buffer.from('\\u'), Buffer.from('\\/')];
}

function hasPattern(bytes: Buffer, start: number, end: number, patterns: Buffer[]): boolean {
  const slice = bytes.subarray(start, end);
  return patterns.some((pattern) => slice.indexOf(pattern) !== -1);
}

const AKIA = Buffer.from('AKIA');
const ASIA = Buffer.from('ASIA');

/** FNV-1a over bytes [start, end): the hash of an access key id token in the key index. */
export function keyHashOf(bytes: Uint8Array, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  return hash >>> 0;
}

/** The hash of a key id string (the same as keyHashOf over its bytes: key ids are ASCII). */
export function keyHash(key: string): number {
  return keyHashOf(Buffer.from(key, 'latin1'), 0, key.length);
}

function isKeyByte(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a);
}

/** Adds the hash of every `AKIA…`/`ASIA…` token in bytes[start, end) (the token runs over A-Z0-9). */
function collectKeys(bytes: Buffer, start: number, end: number, out: number[]): void {
  for (const prefix of [AKIA, ASIA]) {
    for (let at = bytes.indexOf(prefix, start); at !== -1 && at < end; at = bytes.indexOf(prefix, at + 1)) {
      let stop = at + 4;
      while (stop < end && isKeyByte(bytes[stop]!)) stop++;
      out.push(keyHashOf(bytes, at, stop));
    }
  }
}

function sortedDistinct(values: number[]): Uint32Array {
  const sorted = Uint32Array.from(values).sort();
  let n = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[n++] = sorted[i]!;
  return sorted.slice(0, n);
}

/** Whether a file's key index may hold one of these key hashes. */
export function mayHoldKey(keys: Uint32Array, hashes: number[]): boolean {
  for (const hash of hashes) {
    let lo = 0;
    let hi = keys.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid] === hash) return true;
      if (keys[mid]! < hash) lo = mid + 1;
      else hi = mid - 1;
    }
  }
  return false;
}

const BACKSLASH = 0x5c;
const QUOTE_BYTE = 0x22;
const EVENT_NAME_KEY = Buffer.from('"eventName"');
const KEY_ID = /^(AKIA|ASIA)[A-Z0-9]+$/;

function isSpaceByte(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** How whole-buffer mode finds a filter's candidates (see Scanner.whole). */
interface SearchPlan {
  /** Hunted key ids by hash (their bytes, to confirm a hash hit). */
  keys: Map<number, Buffer>;
  eventNames: Set<string>;
  /** Every other literal, in its canonical JSON spelling. */
  others: Buffer[];
}

function searchPlan(filter: ScanFilter): SearchPlan {
  const keys = new Map<number, Buffer>();
  const others: Buffer[] = [];
  for (const key of filter.accessKeyIds) {
    if (KEY_ID.test(key)) keys.set(keyHash(key), Buffer.from(key, 'latin1'));
    else others.push(Buffer.from(JSON.stringify(key)));
  }
  const eventNames = new Set<string>();
  for (const name of filter.eventNames) {
    // Names are plain ASCII words; any other is searched as a literal.
    if (/^[A-Za-z0-9]+$/.test(name)) eventNames.add(name);
    else others.push(Buffer.from(JSON.stringify(name)));
  }
  const rest = patternsOf({ ...filter, accessKeyIds: [], eventNames: [] });
  // patternsOf ends with the two escape patterns, found here by the backslash search.
  others.push(...rest.slice(0, -2));
  return { keys, eventNames, others };
}

/**
 * The per-file scanner: splits records on bytes; a record whose bytes hold no pattern is
 * counted and dropped undecoded; a candidate is decoded, parsed and checked against the
 * filter. A record that does not parse is reported as damaged and the others go on.
 */
class Scanner {
  readonly result: FileScanResult = { records: 0, matched: [], undated: 0, damaged: [], damagedRecords: 0 };
  readonly splitter: ByteSplitter;
  readonly #matches: (record: TrailRecord) => boolean;
  readonly #patterns: Buffer[];
  readonly #keys: number[] | undefined;
  /** Whole-buffer mode: every pattern offset in the buffer, and a cursor over them. */
  #hits: number[] | undefined;
  #hit = 0;
  /** Whole-buffer mode, a file with no candidate: its records counted by their eventName keys. */
  #counted: number | undefined;
  /** Records counted or reported so far: the next one's 1-based ordinal is this + 1. */
  #ordinal = 0;
  /** End offset of the last damaged record: what the splitter finds before it is suspect. */
  #suspectEnd = -1;
  readonly #plan: SearchPlan;

  constructor(filter: ScanFilter, private readonly options: ScanOptions) {
    this.#matches = compileFilter(filter);
    this.#patterns = patternsOf(filter);
    this.#keys = options.index ? [] : undefined;
    this.#plan = searchPlan(filter);
    this.splitter = new ByteSplitter(
      (bytes, start, end, ordinal, offset) => this.#record(bytes, start, end, ordinal, offset),
      (damage) => this.#damage(damage),
    );
  }

  /** Damage the splitter found (structure): reported unless it lies inside a record already reported. */
  #damage(damage: Damage): void {
    if (damage.offset < this.#suspectEnd) return;
    this.#report(damage.offset, damage.reason);
  }

  #report(offset: number, reason: string): void {
    this.#ordinal++;
    this.result.damagedRecords++;
    if (this.result.damaged.length < DAMAGE_LISTED_PER_FILE) this.result.damaged.push({ record: this.#ordinal, offset, reason });
  }

  /**
   * One record from the splitter. After a damaged record, the splitter looks for the next
   * record start inside it (a lost quote may have hidden the records after it in its bytes):
   * what it finds there before the damaged record's end is parsed, and kept only if it is a
   * record (not a fragment of the damaged one, which is neither counted nor reported again).
   */
  #record(bytes: Buffer, start: number, end: number, _ordinal: number, offset: number): boolean {
    let candidate: boolean;
    if (this.#hits) {
      // Hits are offsets in the whole buffer, as `offset` is (the splitter may have copied the bytes).
      const hits = this.#hits;
      while (this.#hit < hits.length && hits[this.#hit]! < offset) this.#hit++;
      candidate = this.#hit < hits.length && hits[this.#hit]! < offset + (end - start);
    } else {
      candidate = hasPattern(bytes, start, end, this.#patterns);
      if (this.#keys) collectKeys(bytes, start, end, this.#keys);
    }
    const suspect = offset < this.#suspectEnd;
    if (!candidate && !this.options.validate && !suspect) {
      this.#ordinal++;
      this.result.records++;
      return true;
    }
    let record: TrailRecord | undefined;
    let reason: string | undefined;
    try {
      record = unwrapRecord(JSON.parse(bytes.toString('utf8', start, end)));
      if (!record) reason = 'not a JSON object';
    } catch (error) {
      reason = `not valid JSON: ${(error as Error).message}`;
    }
    if (reason !== undefined || !record) {
      if (!suspect) this.#report(offset, reason!);
      this.#suspectEnd = Math.max(this.#suspectEnd, offset + (end - start));
      return false;
    }
    if (suspect && record.eventName === undefined && record.eventTime === undefined && record.eventVersion === undefined) return true;
    this.#ordinal++;
    this.result.records++;
    if (typeof record.eventTime !== 'string' || Number.isNaN(Date.parse(record.eventTime))) this.result.undated++;
    if (candidate && this.#matches(record)) this.result.matched.push(record);
    return true;
  }

  /**
   * Whole-buffer mode. The candidates are found over the whole buffer with a few native
   * searches, without decoding, each as complete as the patterns of patternsOf:
   * - a backslash followed by `u` or `/` (the other spellings of any literal);
   * - every `AKIA`/`ASIA` token: the hunted key ids among them (and the key index, in one go);
   * - every `"eventName"` key, whose value is compared with the watched names (one search for
   *   all names instead of one per name); a value with a backslash counts as a candidate;
   * - every other literal (ARNs, subjects, user names, IPs) searched as is.
   * A file with no candidate is not split at all: no record in it can match, whatever its
   * structure, so its damage cannot hide evidence. Its records are counted by their
   * `"eventName"` keys (every CloudTrail record has exactly one).
   */
  whole(bytes: Buffer): void {
    const plan = this.#plan;
    const hits: number[] = [];
    for (let at = bytes.indexOf(BACKSLASH); at !== -1; at = bytes.indexOf(BACKSLASH, at + 1)) {
      const next = bytes[at + 1];
      if (next === 0x75 || next === 0x2f) {
        hits.push(at);
        if (next === 0x75) this.result.opaque = true;
      }
    }
    for (const prefix of [AKIA, ASIA]) {
      for (let at = bytes.indexOf(prefix); at !== -1; at = bytes.indexOf(prefix, at + 1)) {
        let stop = at + 4;
        while (stop < bytes.length && isKeyByte(bytes[stop]!)) stop++;
        const hash = keyHashOf(bytes, at, stop);
        this.#keys?.push(hash);
        const key = plan.keys.get(hash);
        if (key && bytes[at - 1] === QUOTE_BYTE && bytes[stop] === QUOTE_BYTE && key.equals(bytes.subarray(at, stop))) hits.push(at);
      }
    }
    let names = 0;
    for (let at = bytes.indexOf(EVENT_NAME_KEY); at !== -1; at = bytes.indexOf(EVENT_NAME_KEY, at + EVENT_NAME_KEY.length)) {
      let j = at + EVENT_NAME_KEY.length;
      while (isSpaceByte(bytes[j])) j++;
      if (bytes[j] !== 0x3a) continue;
      names++;
      if (!plan.eventNames.size) continue;
      j++;
      while (isSpaceByte(bytes[j])) j++;
      if (bytes[j] !== QUOTE_BYTE) continue;
      const from = ++j;
      while (j < bytes.length && bytes[j] !== QUOTE_BYTE && bytes[j] !== BACKSLASH) j++;
      if (bytes[j] === BACKSLASH || plan.eventNames.has(bytes.toString('latin1', from, j))) hits.push(at);
    }
    for (const pattern of plan.others) {
      for (let at = bytes.indexOf(pattern); at !== -1; at = bytes.indexOf(pattern, at + 1)) hits.push(at);
    }
    if (!hits.length && !this.options.validate) {
      this.#counted = names;
      return;
    }
    this.#hits = hits.sort((a, b) => a - b);
    this.#hit = 0;
    this.splitter.push(bytes);
  }

  /** Streaming mode: records are tested one by one. */
  chunk(bytes: Buffer): void {
    if (this.#keys && !this.result.opaque && bytes.indexOf('\\u') !== -1) this.result.opaque = true;
    this.splitter.push(bytes);
  }

  finish(error?: unknown): FileScanResult {
    this.splitter.end();
    if (this.#counted !== undefined) this.result.records = this.#counted;
    if (error !== undefined) this.result.error = (error as Error).message ?? String(error);
    if (this.#keys) this.result.keys = sortedDistinct(this.#keys);
    return this.result;
  }
}

/**
 * Streams one file (gzip or plain) through the splitter and the filter. Memory is bounded by
 * one chunk plus the largest record. A stream that fails part-way keeps the records read
 * before the failure and says so in `error`.
 */
export async function scanStream(input: Readable, gzip: boolean, filter: ScanFilter, options: ScanOptions = {}): Promise<FileScanResult> {
  const scanner = new Scanner(filter, options);
  const stream = gzip ? input.pipe(createGunzip()) : input;
  let failure: unknown;
  let last = 0;
  try {
    if (gzip) input.on('error', (error) => stream.destroy(error));
    for await (const chunk of stream) {
      const bytes = chunk as Buffer;
      // A `\u` across two chunks: the byte before this chunk was a backslash.
      if (options.index && last === 0x5c && bytes[0] === 0x75) scanner.result.opaque = true;
      last = bytes[bytes.length - 1] ?? last;
      scanner.chunk(bytes);
    }
  } catch (error) {
    input.destroy();
    failure = new Error(`${(error as Error).message} (records before the damage were kept)`);
  }
  return scanner.finish(failure);
}

/** Files up to this size (compressed) are read and inflated in one go; larger ones stream. */
export const WHOLE_FILE_LIMIT = 4 << 20;
/** Inflated size a whole-file read may reach before it falls back to streaming (zip bombs, huge files). */
const WHOLE_FILE_INFLATED_LIMIT = 64 << 20;
const SLICE = 1 << 20;

/**
 * Scans a local file. CloudTrail delivers many small files (tens of KB): reading each whole
 * and inflating it synchronously saves the thread-pool round trips of a stream per chunk,
 * which dominate at that size. Larger files, and any whose inflated size passes the limit,
 * stream with bounded memory.
 */
export async function scanFile(path: string, gzip: boolean, filter: ScanFilter, options: ScanOptions = {}): Promise<FileScanResult> {
  let raw: Buffer;
  try {
    const size = (await stat(path)).size;
    if (size > WHOLE_FILE_LIMIT) return await scanStream(createReadStream(path, { highWaterMark: SLICE }), gzip, filter, options);
    raw = await readFile(path);
  } catch (error) {
    return new Scanner(filter, options).finish(error);
  }
  return scanBytes(raw, gzip, filter, options, () => scanStream(createReadStream(path, { highWaterMark: SLICE }), gzip, filter, options));
}

/**
 * Inflates what a damaged gzip still gives: a truncated one up to the cut (sync flush), a
 * corrupt one up to the corruption (streamed until the error).
 */
async function inflateDamaged(raw: Buffer): Promise<Buffer> {
  try {
    return gunzipSync(raw, { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: WHOLE_FILE_INFLATED_LIMIT });
  } catch {
    const chunks: Buffer[] = [];
    let size = 0;
    return new Promise((resolve) => {
      const gunzip = createGunzip({ finishFlush: constants.Z_SYNC_FLUSH });
      gunzip.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > WHOLE_FILE_INFLATED_LIMIT) gunzip.destroy();
        else chunks.push(chunk);
      });
      const done = () => resolve(Buffer.concat(chunks));
      gunzip.on('error', done);
      gunzip.on('close', done);
      gunzip.on('end', done);
      gunzip.end(raw);
    });
  }
}

/**
 * Scans a whole file's bytes (a small local file, or an S3 object downloaded by the main
 * thread). A gzip that inflates past the limit goes to `fallback` (streaming) when given. A
 * damaged gzip keeps the records before the damage and reports it in `error`.
 */
export async function scanBytes(raw: Buffer, gzip: boolean, filter: ScanFilter, options: ScanOptions = {}, fallback?: () => Promise<FileScanResult>): Promise<FileScanResult> {
  const scanner = new Scanner(filter, options);
  let data = raw;
  let failure: Error | undefined;
  if (gzip) {
    try {
      // Large output chunks: a few allocations per file instead of one per 16 KiB (less heap churn and fragmentation).
      data = gunzipSync(raw, { maxOutputLength: WHOLE_FILE_INFLATED_LIMIT, chunkSize: 1 << 20 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' && fallback) return fallback();
      data = await inflateDamaged(raw);
      failure = new Error(`gzip: ${(error as Error).message} after ${data.length} inflated bytes (records before the damage were kept)`);
    }
  }
  scanner.whole(data);
  return scanner.finish(failure);
}
