/**
 * A streaming splitter for CloudTrail files that works on bytes: finds each record's JSON
 * text without decoding or parsing the file, so memory stays bounded by the largest record and
 * the records that cannot match are never turned into strings.
 *
 * Understands the three shapes CloudTrail data comes in:
 * - `{"Records": [ {...}, ... ]}` (S3 delivery): the objects of the top-level `Records` array;
 * - `[ {...}, ... ]` (exports, Stratus Red Team): the elements of the top-level array;
 * - JSON lines / concatenated objects: every top-level object (and concatenated `Records`
 *   wrappers, as `zcat *.json.gz` produces).
 *
 * It checks structure (balanced brackets, closed strings, nothing but separators between
 * records); it does not validate the tokens inside a record (the caller parses the records it
 * needs). Damage does not stop it: a structural error is reported (`onDamage`, with the
 * record's ordinal and byte offset) and the splitter resynchronises at the next `{` that
 * follows a `,` or `[`, so the records after the damage are still split. An input that ends
 * inside a record reports that record as truncated; the records before it were emitted.
 */
export interface Damage {
  /** 1-based ordinal of the damaged record in its file (records emitted or damaged before it + 1). */
  record: number;
  /** Byte offset (in the inflated stream) where the damaged record, or the bad byte, starts. */
  offset: number;
  reason: string;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJ = 0x7b;
const CLOSE_OBJ = 0x7d;
const OPEN_ARR = 0x5b;
const CLOSE_ARR = 0x5d;
const COMMA = 0x2c;
const RECORDS_KEY = Buffer.from('"Records"');
/** resync: a `}` then a newline were the last bytes (a JSON line may start). */
const NEWLINE_AFTER_CLOSE = -1;

/** A record larger than this is taken for damage (a lost quote swallowing the file); CloudTrail's own limit is far lower. */
export const MAX_RECORD_BYTES = 16 << 20;
/** Re-splits at the end of input after an unclosed record (each starts later; bounded for hostile input). */
const MAX_END_RESYNCS = 64;

/**
 * start: nothing seen yet; seek: inside a top-level object, looking for `"Records": [`;
 * lines: between top-level objects; array: inside the top-level (or Records) array;
 * trailer: after the Records array, until the wrapper closes; done: only whitespace may follow;
 * resync: after damage, looking for the next record start.
 */
type Mode = 'start' | 'seek' | 'lines' | 'array' | 'trailer' | 'done' | 'resync';

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function show(c: number): string {
  return c >= 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `byte 0x${c.toString(16).padStart(2, '0')}`;
}

/**
 * Called for each record: its bytes are `bytes[start, end)`; `offset` is `start` in the whole
 * stream. Returning false says the record is damaged (the caller reports it): splitting resumes
 * at the next record start after its first byte.
 */
export type RecordSink = (bytes: Buffer, start: number, end: number, ordinal: number, offset: number) => boolean | void;

export class ByteSplitter {
  #mode: Mode = 'start';
  #wrapped = false;
  /** Unfinished bytes kept from the previous chunk (a record, or the head of a top-level object). */
  #buffer: Buffer = Buffer.alloc(0);
  /** Stream offset of #buffer[0] (or of the next chunk when the buffer is empty). */
  #base = 0;
  #resume = 0;
  #depth = 0;
  #inString = false;
  /** resync: the last byte that was not whitespace. */
  #last = 0;
  /** Records emitted. */
  records = 0;
  /** Records emitted or damaged. */
  #ordinal = 0;
  /** Set at the first byte of input (a UTF-8 BOM is skipped). */
  #started = false;

  constructor(
    private readonly emit: RecordSink,
    private readonly onDamage: (damage: Damage) => void,
  ) {}

  push(chunk: Buffer): void {
    if (!this.#started && chunk.length) {
      this.#started = true;
      if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) {
        chunk = chunk.subarray(3);
        this.#base += 3;
      }
    }
    const kept = this.#buffer.length;
    const text = kept ? Buffer.concat([this.#buffer, chunk]) : chunk;
    const base = this.#base;
    const n = text.length;
    let i = this.#resume;
    let start = kept ? 0 : -1;
    let depth = this.#depth;
    let mode = this.#mode;
    let inString = this.#inString;
    let last = this.#last;
    // The depth at which a record object sits: 0 for JSON lines, 1 inside an array.
    let recordDepth = mode === 'lines' || mode === 'seek' || mode === 'start' ? 0 : mode === 'array' ? 1 : Number.MAX_SAFE_INTEGER;

    const keep = (at: number) => {
      if (start >= 0) {
        this.#buffer = Buffer.from(text.subarray(start));
        this.#base = base + start;
        this.#resume = at - start;
      } else {
        this.#buffer = Buffer.alloc(0);
        this.#base = base + n;
        this.#resume = at - n;
      }
      this.#depth = depth;
      this.#mode = mode;
      this.#inString = inString;
      this.#last = last;
    };
    /** Reports damage and resumes looking for a record start after `from`. */
    const damage = (at: number, reason: string) => {
      const from = start >= 0 ? start : at;
      this.#ordinal++;
      this.onDamage({ record: this.#ordinal, offset: base + from, reason });
      mode = 'resync';
      recordDepth = Number.MAX_SAFE_INTEGER;
      inString = false;
      depth = 0;
      last = 0;
      start = -1;
      return from + 1;
    };

    while (i < n) {
      if (inString) {
        // The hot loop: most bytes of a CloudTrail file are inside strings.
        let c = text[i]!;
        while (c !== QUOTE && c !== BACKSLASH) {
          if (++i === n) break;
          c = text[i]!;
        }
        if (i === n) break;
        if (c === BACKSLASH) {
          i += 2;
          continue;
        }
        inString = false;
        // A string in the wrapper's trailer was kept only so its escapes could be read.
        if (mode === 'trailer') start = -1;
        i++;
        continue;
      }
      const c = text[i]!;

      if (mode === 'resync') {
        // A record starts at a `{` after `,` or `[` (an array of records) or after `}` and a newline (JSON lines).
        if (c === OPEN_OBJ && (last === COMMA || last === OPEN_ARR)) {
          mode = 'array';
          this.#wrapped = true;
          recordDepth = 1;
          depth = 2;
          start = i;
        } else if (c === OPEN_OBJ && last === NEWLINE_AFTER_CLOSE) {
          mode = 'seek';
          recordDepth = 0;
          depth = 1;
          start = i;
        } else if (c === 0x0a && last === CLOSE_OBJ) last = NEWLINE_AFTER_CLOSE;
        else if (!isSpace(c)) last = c;
        i++;
        continue;
      }

      // Inside a record (or the head of a top-level object): track strings and depth only.
      if (depth > recordDepth || mode === 'seek') {
        if (c === QUOTE) {
          if (mode === 'seek' && depth === 1) {
            // A key of the top-level object: is it "Records" followed by `[`?
            const head = recordsHead(text, i);
            if (head === undefined) {
              keep(i);
              return;
            }
            if (head > 0) {
              mode = 'array';
              this.#wrapped = true;
              recordDepth = 1;
              depth = 1;
              start = -1;
              i += head;
              continue;
            }
          }
          inString = true;
          i++;
          continue;
        }
        if (c === OPEN_OBJ || c === OPEN_ARR) depth++;
        else if (c === CLOSE_OBJ || c === CLOSE_ARR) {
          depth--;
          if (depth === recordDepth) {
            this.#ordinal++;
            this.records++;
            if (this.emit(text, start, i + 1, this.#ordinal, base + start) === false) {
              // The caller found the record damaged (it does not parse): its bytes may hide the
              // start of the next records (a lost quote flips strings and structure), so the
              // search for a record start resumes just after its first byte.
              i = start + 1;
              mode = 'resync';
              recordDepth = Number.MAX_SAFE_INTEGER;
              depth = 0;
              last = 0;
              start = -1;
              continue;
            }
            start = -1;
            if (mode === 'seek') mode = 'lines';
          }
        }
        i++;
        continue;
      }

      // Between records.
      if (isSpace(c)) {
        i++;
        continue;
      }
      switch (mode) {
        case 'start':
          if (c === OPEN_ARR) {
            mode = 'array';
            recordDepth = 1;
            depth = 1;
          } else if (c === OPEN_OBJ) {
            mode = 'seek';
            start = i;
            depth = 1;
          } else {
            i = damage(i, `unexpected ${show(c)} at the start of the input`);
            continue;
          }
          i++;
          continue;
        case 'lines':
          if (c !== OPEN_OBJ) {
            i = damage(i, `unexpected ${show(c)} between JSON lines`);
            continue;
          }
          mode = 'seek';
          start = i;
          depth = 1;
          i++;
          continue;
        case 'array':
          if (c === COMMA) {
            i++;
            continue;
          }
          if (c === OPEN_OBJ) {
            start = i;
            depth = 2;
            i++;
            continue;
          }
          if (c === CLOSE_ARR) {
            depth = 0;
            mode = this.#wrapped ? 'trailer' : 'done';
            recordDepth = Number.MAX_SAFE_INTEGER;
            i++;
            continue;
          }
          i = damage(i, `unexpected ${show(c)} in the records array`);
          continue;
        case 'trailer':
          // After `"Records": [...]`: other keys of the wrapper may follow, then its `}`.
          if (c === QUOTE) {
            inString = true;
            start = i;
          } else if (c === OPEN_OBJ || c === OPEN_ARR) depth++;
          else if (c === CLOSE_OBJ || c === CLOSE_ARR) {
            if (depth === 0) {
              // The wrapper closed. Another may follow: `zcat *.json.gz` concatenates them.
              mode = 'lines';
              recordDepth = 0;
              this.#wrapped = false;
            } else depth--;
          }
          i++;
          continue;
        case 'done':
          i = damage(i, `unexpected ${show(c)} after the records`);
          continue;
      }
    }
    // A record that never closes (a lost quote swallowing the rest): damage, then resync inside it.
    if (start >= 0 && n - start > MAX_RECORD_BYTES) {
      i = damage(n, `a record runs past ${MAX_RECORD_BYTES >> 20} MiB without closing (damaged?)`);
      this.#resyncFrom(text.subarray(i), base + i);
      return;
    }
    keep(i);
  }

  /** Splits `rest` (which starts at byte `base` of the input) again, looking for the next record start. */
  #resyncFrom(rest: Buffer, base: number): void {
    this.#buffer = Buffer.alloc(0);
    this.#base = base;
    this.#resume = 0;
    this.#depth = 0;
    this.#mode = 'resync';
    this.#inString = false;
    this.#last = 0;
    this.push(rest);
  }

  /**
   * Call at end of input. A record left open is reported (truncated, or damage that kept it
   * from closing, such as a lost quote) and the bytes after its start are split again from the
   * next record start, so the records after a mid-file damage are not lost with it.
   */
  end(): void {
    for (let attempt = 0; ; attempt++) {
      const open = this.#buffer.length > 0;
      const mode = this.#mode;
      const inString = this.#inString;
      if (open && mode !== 'trailer') {
        this.#ordinal++;
        this.onDamage({ record: this.#ordinal, offset: this.#base, reason: inString ? 'the input ends inside a string of this record (truncated or damaged)' : 'this record does not close before the end of the input (truncated or damaged)' });
        if (attempt >= MAX_END_RESYNCS) break;
        this.#resyncFrom(this.#buffer.subarray(1), this.#base + 1);
        continue;
      }
      if (mode === 'array' || mode === 'trailer' || (mode === 'seek' && open)) {
        this.#ordinal++;
        this.onDamage({
          record: this.#ordinal,
          offset: this.#base,
          reason: mode === 'array' ? 'the input ends before the records array closes (truncated?)' : 'the input ends before the Records wrapper closes (truncated?)',
        });
      }
      break;
    }
    this.#buffer = Buffer.alloc(0);
  }
}

/**
 * At a quote of a top-level key: the length of `"Records" : [` when that is what starts here,
 * 0 when it is another key, undefined when the bytes so far cannot tell.
 */
function recordsHead(text: Buffer, at: number): number | undefined {
  const n = text.length;
  for (let k = 0; k < RECORDS_KEY.length; k++) {
    if (at + k >= n) return undefined;
    if (text[at + k] !== RECORDS_KEY[k]) return 0;
  }
  let j = at + RECORDS_KEY.length;
  while (j < n && isSpace(text[j]!)) j++;
  if (j >= n) return undefined;
  if (text[j] !== 0x3a) return 0;
  j++;
  while (j < n && isSpace(text[j]!)) j++;
  if (j >= n) return undefined;
  return text[j] === OPEN_ARR ? j + 1 - at : 0;
}

/** Unwraps records that arrive inside an envelope (Panther test events: `{"_source": ..., "event": {...}}`). */
export function unwrapRecord(value: unknown): Record<string, any> | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const object = value as Record<string, any>;
  if (object.eventName === undefined && object.event && typeof object.event === 'object' && !Array.isArray(object.event)) return object.event;
  return object;
}
