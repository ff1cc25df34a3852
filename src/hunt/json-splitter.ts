/**
 * A streaming splitter for CloudTrail files: finds each record's JSON text without parsing
 * the whole file, so memory stays bounded by the largest record, not the file.
 *
 * Understands the three shapes CloudTrail data comes in:
 * - `{"Records": [ {...}, ... ]}` (S3 delivery): the objects of the top-level `Records` array;
 * - `[ {...}, ... ]` (exports, Stratus Red Team): the elements of the top-level array;
 * - JSON lines / concatenated objects: every top-level object (and concatenated `Records`
 *   wrappers, as `zcat *.json.gz` produces).
 *
 * It checks structure (balanced brackets, closed strings, nothing but separators between
 * records) and throws `SplitError` on a malformed or truncated input; it does not validate the
 * tokens inside a record (the caller parses the records it needs).
 *
 * Speed matters (it sees every byte of the corpus): strings are skipped with indexOf to the
 * next quote, whose escaping is decided by counting the backslashes before it.
 */
export class SplitError extends Error {}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJ = 0x7b;
const CLOSE_OBJ = 0x7d;
const OPEN_ARR = 0x5b;
const CLOSE_ARR = 0x5d;
const COMMA = 0x2c;

/**
 * start: nothing seen yet; seek: inside a top-level object, looking for `"Records": [`;
 * lines: between top-level objects; array: inside the top-level (or Records) array;
 * trailer: after the Records array, until the wrapper closes; done: only whitespace may follow.
 */
type Mode = 'start' | 'seek' | 'lines' | 'array' | 'trailer' | 'done';

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0xfeff;
}

/** Index of the quote that closes the string whose body starts at `from`, or -1 if not in `text` yet. */
function closingQuote(text: string, from: number): number {
  let q = text.indexOf('"', from);
  while (q !== -1) {
    let backslashes = 0;
    for (let j = q - 1; text.charCodeAt(j) === BACKSLASH; j--) backslashes++;
    if (backslashes % 2 === 0) return q;
    q = text.indexOf('"', q + 1);
  }
  return -1;
}

export class RecordSplitter {
  #mode: Mode = 'start';
  #wrapped = false;
  /** Unfinished text kept from the previous chunk (a record, or the head of a top-level object). */
  #buffer = '';
  #resume = 0;
  #depth = 0;
  #inString = false;
  /** Depth inside the trailer (other keys after `Records`). */
  #records = 0;

  constructor(private readonly emit: (recordText: string) => void) {}

  push(chunk: string): void {
    const text = this.#buffer.length ? this.#buffer + chunk : chunk;
    const n = text.length;
    let i = this.#resume;
    let start = this.#buffer.length ? 0 : -1;
    let depth = this.#depth;
    let mode = this.#mode;
    // The depth at which a record object sits: 0 for JSON lines, 1 inside an array.
    let recordDepth = mode === 'lines' || mode === 'seek' || mode === 'start' ? 0 : mode === 'array' ? 1 : Number.MAX_SAFE_INTEGER;

    const keep = (at: number) => {
      this.#buffer = start >= 0 ? text.slice(start) : '';
      this.#resume = start >= 0 ? at - start : 0;
      this.#depth = depth;
      this.#mode = mode;
    };

    while (i < n) {
      if (this.#inString) {
        const q = closingQuote(text, i);
        if (q === -1) {
          // The string goes on in the next chunk: keep from the record (or string) start and rescan then.
          keep(i);
          return;
        }
        this.#inString = false;
        // A string in the wrapper's trailer was kept only so its escapes could be read.
        if (mode === 'trailer') start = -1;
        i = q + 1;
        continue;
      }
      const c = text.charCodeAt(i);

      // Inside a record (or the head of a top-level object): track strings and depth only.
      if (depth > recordDepth || mode === 'seek') {
        if (c === QUOTE) {
          if (mode === 'seek' && depth === 1) {
            // A key of the top-level object: is it "Records" followed by `[`?
            if (n - i < 12 && '"Records"'.startsWith(text.slice(i, i + 9)) && !/^"Records"\s*:\s*\[/.test(text.slice(i))) {
              keep(i);
              return;
            }
            const head = /^"Records"\s*:\s*\[/.exec(text.slice(i, i + 64));
            if (head) {
              mode = 'array';
              this.#wrapped = true;
              recordDepth = 1;
              depth = 1;
              start = -1;
              i += head[0].length;
              continue;
            }
          }
          this.#inString = true;
          i++;
          continue;
        }
        if (c === OPEN_OBJ || c === OPEN_ARR) depth++;
        else if (c === CLOSE_OBJ || c === CLOSE_ARR) {
          depth--;
          if (depth === recordDepth) {
            this.emit(text.slice(start, i + 1));
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
          } else throw new SplitError(`unexpected '${text[i]}' at the start of the input`);
          i++;
          continue;
        case 'lines':
          if (c !== OPEN_OBJ) throw new SplitError(`unexpected '${text[i]}' between JSON lines`);
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
          throw new SplitError(`unexpected '${text[i]}' in the records array (record ${this.#records + 1})`);
        case 'trailer':
          // After `"Records": [...]`: other keys of the wrapper may follow, then its `}`.
          if (c === QUOTE) {
            this.#inString = true;
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
          throw new SplitError(`unexpected '${text[i]}' after the records`);
      }
    }
    keep(n);
  }

  /** Call at end of input: throws when the input stopped inside a record, string or array. */
  end(): void {
    if (this.#inString) throw new SplitError('the input ends inside a string (truncated?)');
    if (this.#buffer.length || this.#mode === 'seek') throw new SplitError('the input ends inside a record (truncated?)');
    if (this.#mode === 'array') throw new SplitError('the input ends before the records array closes (truncated?)');
    if (this.#mode === 'trailer') throw new SplitError('the input ends before the Records wrapper closes (truncated?)');
  }
}

/** Unwraps records that arrive inside an envelope (Panther test events: `{"_source": ..., "event": {...}}`). */
export function unwrapRecord(value: unknown): Record<string, any> | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const object = value as Record<string, any>;
  if (object.eventName === undefined && object.event && typeof object.event === 'object' && !Array.isArray(object.event)) return object.event;
  return object;
}
