/**
 * A streaming splitter for CloudTrail files: finds each record's JSON text without parsing
 * the whole file, so memory stays bounded by the largest record, not the file.
 *
 * Understands the three shapes CloudTrail data comes in:
 * - `{"Records": [ {...}, ... ]}` (S3 delivery): the objects of the top-level `Records` array;
 * - `[ {...}, ... ]` (exports, Stratus Red Team): the elements of the top-level array;
 * - JSON lines / concatenated objects: every top-level object.
 *
 * It checks structure (balanced brackets, closed strings, nothing but separators between
 * records) and throws `SplitError` on a malformed or truncated input; it does not validate the
 * tokens inside a record (the caller parses the records it needs).
 */
export class SplitError extends Error {}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJ = 0x7b;
const CLOSE_OBJ = 0x7d;
const OPEN_ARR = 0x5b;
const CLOSE_ARR = 0x5d;

type Mode = 'start' | 'lines' | 'array' | 'records-seek' | 'records' | 'done';

export class RecordSplitter {
  #mode: Mode = 'start';
  /** Text of the record being assembled (or the head of a top-level object being inspected). */
  #buffer = '';
  #depth = 0;
  #inString = false;
  #escape = false;
  /** Where scanning resumes in `#buffer` (the unfinished record kept from the previous chunk). */
  #resume = 0;
  #line = 1;

  constructor(private readonly emit: (recordText: string) => void) {}

  push(chunk: string): void {
    let text = this.#buffer + chunk;
    let i = this.#resume;
    let start = this.#buffer.length ? 0 : -1;
    const n = text.length;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (this.#inString) {
        // Jump to the next quote and decide whether it is escaped.
        if (this.#escape) {
          this.#escape = false;
          i++;
          continue;
        }
        const q = text.indexOf('"', i);
        const b = text.indexOf('\\', i);
        if (b !== -1 && (q === -1 || b < q)) {
          this.#escape = true;
          i = b + 1;
          continue;
        }
        if (q === -1) {
          i = n;
          break;
        }
        this.#inString = false;
        i = q + 1;
        continue;
      }
      switch (this.#mode) {
        case 'start':
        case 'lines':
        case 'array':
        case 'records':
          if (this.#depth === 0 || (this.#mode !== 'lines' && this.#mode !== 'start' && this.#depth === 1 && start === -1)) {
            // Between records: only whitespace and separators are allowed.
            if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x2c || c === 0xfeff) {
              if (c === 0x0a) this.#line++;
              i++;
              continue;
            }
            if (this.#mode === 'start') {
              if (c === OPEN_ARR) {
                this.#mode = 'array';
                this.#depth = 1;
                i++;
                continue;
              }
              if (c === OPEN_OBJ) {
                // Could be `{"Records": [` or a JSON line: look at its head.
                this.#mode = 'records-seek';
                start = i;
                this.#depth = 1;
                i++;
                continue;
              }
              throw new SplitError(`line ${this.#line}: unexpected '${text[i]}' at the start of the file`);
            }
            if (this.#mode === 'lines') {
              if (c === OPEN_OBJ) {
                start = i;
                this.#depth = 1;
                i++;
                continue;
              }
              throw new SplitError(`line ${this.#line}: unexpected '${text[i]}' between JSON lines`);
            }
            // array / records: inside the top-level array (depth 1), expecting `{` or `]`.
            if (c === OPEN_OBJ) {
              start = i;
              this.#depth = 2;
              i++;
              continue;
            }
            if (c === CLOSE_ARR) {
              this.#depth = 0;
              this.#mode = 'done';
              // `{"Records":[...]}`: the wrapper's closing brace (and other keys) must follow.
              this.#trailerAllowed = this.#wrapped;
              i++;
              continue;
            }
            throw new SplitError(`line ${this.#line}: unexpected '${text[i]}' in the records array`);
          }
          // Inside a record.
          if (c === QUOTE) this.#inString = true;
          else if (c === OPEN_OBJ || c === OPEN_ARR) this.#depth++;
          else if (c === CLOSE_OBJ || c === CLOSE_ARR) {
            this.#depth--;
            const recordDepth = this.#mode === 'lines' ? 0 : 1;
            if (this.#depth === recordDepth) {
              this.emit(text.slice(start, i + 1));
              start = -1;
            }
          } else if (c === 0x0a) this.#line++;
          i++;
          continue;
        case 'records-seek': {
          // In a top-level object: at depth 1 a `"Records"` key followed by `[` switches to records mode.
          if (c === QUOTE) {
            if (this.#depth === 1 && n - i < 9 && '"Records"'.startsWith(text.slice(i))) {
              // The key may be split across chunks: resume at this quote with the next chunk.
              this.#buffer = text.slice(start);
              this.#resume = i - start;
              return;
            }
            if (this.#depth === 1 && text.startsWith('"Records"', i)) {
              let j = i + 9;
              while (j < n && /\s|:/.test(text[j]!)) j++;
              if (j >= n) {
                // Not enough text yet to decide: resume at this quote with the next chunk.
                this.#buffer = text.slice(start);
                this.#resume = i - start;
                return;
              }
              if (text.charCodeAt(j) === OPEN_ARR) {
                this.#mode = 'records';
                this.#wrapped = true;
                this.#depth = 1;
                start = -1;
                i = j + 1;
                continue;
              }
            }
            this.#inString = true;
            i++;
            continue;
          }
          if (c === OPEN_OBJ || c === OPEN_ARR) this.#depth++;
          else if (c === CLOSE_OBJ || c === CLOSE_ARR) {
            this.#depth--;
            if (this.#depth === 0) {
              // A whole top-level object with no Records array: JSON lines (or one object).
              this.emit(text.slice(start, i + 1));
              start = -1;
              this.#mode = 'lines';
            }
          } else if (c === 0x0a) this.#line++;
          i++;
          continue;
        }
        case 'done':
          if (this.#trailerAllowed && (c === CLOSE_OBJ || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09)) {
            if (c === CLOSE_OBJ) this.#trailerAllowed = false;
            if (c === 0x0a) this.#line++;
            i++;
            continue;
          }
          if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
            i++;
            continue;
          }
          if (this.#trailerAllowed && c === 0x2c) {
            // Other keys after Records (rare): skip the rest of the wrapper structurally.
            this.#mode = 'records-tail' as Mode;
            i++;
            continue;
          }
          throw new SplitError(`line ${this.#line}: unexpected '${text[i]}' after the records`);
        default: {
          // records-tail: consume the remainder of the wrapper object.
          if (c === QUOTE) this.#inString = true;
          else if (c === OPEN_OBJ || c === OPEN_ARR) this.#tailDepth++;
          else if (c === CLOSE_OBJ || c === CLOSE_ARR) {
            if (this.#tailDepth === 0) {
              this.#mode = 'done';
              this.#trailerAllowed = false;
              this.#wrapped = false;
            } else this.#tailDepth--;
          }
          i++;
          continue;
        }
      }
    }
    // Keep only the unfinished record.
    if (start >= 0) {
      this.#buffer = text.slice(start);
      this.#resume = i - start;
    } else {
      this.#buffer = '';
      this.#resume = 0;
    }
    text = '';
  }

  #wrapped = false;
  #trailerAllowed = false;
  #tailDepth = 0;

  /** Call at end of input: throws when the input stopped inside a record or array. */
  end(): void {
    if (this.#inString) throw new SplitError(`line ${this.#line}: the input ends inside a string (truncated?)`);
    if (this.#mode === 'records-seek' || this.#buffer.length) throw new SplitError(`line ${this.#line}: the input ends inside a record (truncated?)`);
    if (this.#mode === 'array' || this.#mode === 'records') throw new SplitError(`line ${this.#line}: the input ends before the records array closes (truncated?)`);
    if (this.#mode === 'done' && this.#trailerAllowed) throw new SplitError(`line ${this.#line}: the input ends before the Records wrapper closes (truncated?)`);
  }
}

/** Unwraps records that arrive inside an envelope (Panther test events: `{"_source": ..., "event": {...}}`). */
export function unwrapRecord(value: unknown): Record<string, any> | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const object = value as Record<string, any>;
  if (object.eventName === undefined && object.event && typeof object.event === 'object' && !Array.isArray(object.event)) return object.event;
  return object;
}
