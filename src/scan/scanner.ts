import { fingerprint, Secret } from '../engine/secret.js';
import {
  AWS_SECRET_CANDIDATE,
  AWS_SECRET_CONTEXT,
  familyOf,
  findAssignments,
  INLINE_PRIVATE_KEY,
  KNOWN_DETECTORS,
  previewOf,
  PRIVATE_KEY_BEGIN,
  PRIVATE_KEY_END,
  RUNNER_SECRET,
  shannonEntropy,
  type HitFamily,
  type HitKind,
} from './detectors.js';

/**
 * One exposed credential at one place of a log. It never holds the value in a form that prints:
 * `secret` is a Secret (serialises as its fingerprint), `preview` keeps only the format's prefix
 * and the length. Use `publicHit()` for anything that is journalled or reported.
 */
export interface Hit {
  kind: HitKind;
  family: HitFamily;
  /** The file or stream scanned (`3_build.txt`, a path). */
  source: string;
  run?: number;
  job?: string;
  /** The step, from the file name or the `##[group]Run ...` markers GitHub writes. */
  step?: string;
  /** 1-based line in the source (for an encoded dump, the line of the outer blob). */
  line: number;
  fingerprint: string;
  /** 0: in clear; n: found after decoding base64 n times (the tj-actions payload is 2). */
  depth: number;
  /** `ghp_****…(40)`. */
  preview: string;
  /** The secret's name when the log gives it (`"NPM_TOKEN":{"value":...}`, `API_KEY=...`). */
  name?: string;
  /** The AWS access key id (not secret) of a key id hit, or of the key id next to a secret key. */
  keyId?: string;
  /**
   * The value, as a Secret. Absent for AWS access key ids: they are not secret, and a Secret
   * would register them with redact(), which would then scrub the ids key rotation needs.
   */
  secret?: Secret;
}

/** A hit without its Secret: what findings, evidence and outputs carry. */
export type PublicHit = Omit<Hit, 'secret'>;

export function publicHit(hit: Hit): PublicHit {
  const { secret: _secret, ...rest } = hit;
  return rest;
}

export interface ScanOptions {
  /** Name of what is scanned, copied into each hit. */
  source: string;
  run?: number;
  job?: string;
  step?: string;
  /** Bits per character a generic `SECRET=...` value needs to count (default 3.5). */
  entropyThreshold?: number;
  /** How many base64 layers to peel (default 3). */
  maxDepth?: number;
}

/** A credential found in a piece of text, before it is placed (line, step) and wrapped. */
interface Found {
  kind: HitKind;
  value: string;
  prefix: string;
  depth: number;
  name?: string;
  keyId?: string;
}

/** A stretch of a line to replace in the redacted copy. */
interface Span {
  start: number;
  end: number;
  replacement: string;
}

/** GitHub prefixes every log line with an ISO timestamp and a space. */
/** Shorter base64 runs cannot hold a token worth finding. */
const BASE64_MIN_RUN = 24;
const TIMESTAMP = /^\uFEFF?\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z /;
const GROUP = /^##\[group\](.*)$/;
/** How many lines after an AWS key id a 40-character string still counts as its secret. */
const AWS_WINDOW_LINES = 5;
/** A line without any of these cannot hold a known token format. */
const KNOWN_GUARD = /gh[pousr]_|github_pat_|npm_|AKIA|ASIA|xox[bpars]-|AIza|k_live_|eyJ|pypi-|dckr_pat_|gl(?:pat|dt|rt|ptt|cbt|oas)-|sk-|sig=/;
/** A line without any of these cannot hold a generic secret assignment. */
const GENERIC_GUARD = /secret|token|passw|pwd|api[_-]?key|access[_-]?key|credential|auth/i;
const PRIVATE_KEY_MAX_LINES = 200;
/** Decoded bytes must be this printable to be text worth rescanning (not compressed data). */
const PRINTABLE_RATIO = 0.95;

const BASE64_CHAR = new Uint8Array(128);
for (const char of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-') BASE64_CHAR[char.charCodeAt(0)] = 1;

/**
 * Runs of base64 characters (standard or URL-safe, `=` padding kept) of at least
 * BASE64_MIN_RUN characters, found in one pass: a regex like `[A-Za-z0-9+/]{24,}` restarts at
 * every position and was most of the scanner's time on ordinary log lines.
 */
function* base64Runs(text: string): Generator<{ index: number; run: string }> {
  let start = -1;
  for (let i = 0; i <= text.length; i += 1) {
    const code = i < text.length ? text.charCodeAt(i) : 0;
    if (code < 128 && BASE64_CHAR[code] === 1) {
      if (start < 0) start = i;
      continue;
    }
    if (start >= 0 && i - start >= BASE64_MIN_RUN) {
      let end = i;
      while (end < text.length && end - i < 2 && text.charCodeAt(end) === 61) end += 1;
      yield { index: start, run: text.slice(start, end) };
    }
    start = -1;
  }
}

/**
 * The spans of one line kept sorted by start, so "does this overlap one already found" is a
 * binary search: a line of thousands of tokens made the linear check quadratic. Spans never
 * overlap each other (each is added only after that check, runner entries come from one
 * non-overlapping match), so their ends are sorted too and the span starting last before `end`
 * is the only one that can reach past `start`.
 */
function overlaps(spans: Span[], start: number, end: number): boolean {
  const index = firstStartingAtOrAfter(spans, end);
  return index > 0 && spans[index - 1]!.end > start;
}

function firstStartingAtOrAfter(spans: Span[], position: number): number {
  let low = 0;
  let high = spans.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (spans[mid]!.start < position) low = mid + 1;
    else high = mid;
  }
  return low;
}

function insertSpan(spans: Span[], span: Span): void {
  spans.splice(firstStartingAtOrAfter(spans, span.start), 0, span);
}

function unescapeJsonString(escaped: string): string {
  try {
    return JSON.parse(`"${escaped}"`) as string;
  } catch {
    return escaped;
  }
}

/** Base64 body of a PEM block, whatever its line breaks became: the fingerprinted value. */
function pemBody(block: string): string {
  return block
    .replace(/-----(?:BEGIN|END) (?:[A-Z0-9]+ )*PRIVATE KEY-----/g, '')
    .replace(/\\[nr]/g, '')
    .replace(/\s+/g, '');
}

function isPrintable(bytes: Buffer): boolean {
  if (bytes.length === 0) return false;
  let printable = 0;
  for (const byte of bytes) if ((byte >= 0x20 && byte < 0x7f) || byte === 0x09 || byte === 0x0a || byte === 0x0d) printable += 1;
  return printable / bytes.length >= PRINTABLE_RATIO;
}

/** Decodes a base64 run (standard or URL-safe) to text when it is text; else undefined. */
function decodeBase64Text(run: string): string | undefined {
  const body = run.replace(/=+$/, '');
  if (body.length % 4 === 1) return undefined;
  // A run of only hex digits or only letters is a hash or a word, not an encoding.
  if (/^[0-9a-f]+$/i.test(body) || /^[A-Za-z]+$/.test(body)) return undefined;
  const bytes = Buffer.from(body.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (!isPrintable(bytes)) return undefined;
  return bytes.toString('utf8');
}

interface Analysis {
  found: Found[];
  spans: Span[];
}

/**
 * Finds credentials in one piece of text (a log line, or a decoded blob at `depth`), most
 * specific detector first; a later match that overlaps an earlier one is the same thing seen
 * twice and is dropped. Base64 runs left over are decoded and analysed again, up to maxDepth.
 */
function analyse(text: string, depth: number, options: { entropyThreshold: number; maxDepth: number; awsKeyIdNearby: string | undefined }): Analysis {
  const found: Found[] = [];
  const spans: Span[] = [];
  const add = (start: number, end: number, item: Found) => {
    insertSpan(spans, { start, end, replacement: previewOf(item.prefix, item.value) });
    found.push(item);
  };

  // Cheap substring guards first: most log lines hold nothing, and the regexes below are the cost.
  const hasRunnerSecret = text.includes('"isSecret"');
  const hasPem = text.includes('PRIVATE KEY-----');
  const hasKnown = KNOWN_GUARD.test(text);

  // The runner's own secret entries, named: the value's format decides the kind. A secret key is
  // tied to the key id of its pair (`X_AWS_ACCESS_KEY_ID` / `X_AWS_SECRET_ACCESS_KEY`, or the
  // dump's only key id), so closing the key closes both.
  const runnerSecrets: Found[] = [];
  for (const match of hasRunnerSecret ? text.matchAll(RUNNER_SECRET) : []) {
    const value = unescapeJsonString(match[2]!);
    if (value.length < 4 || value === '***') continue;
    const start = match.index;
    const name = match[1];
    const known = classifyValue(value) ?? (name && AWS_SECRET_CONTEXT.test(name) && /^[A-Za-z0-9/+]{40}$/.test(value) ? { kind: 'aws-secret-access-key' as const, value, prefix: '' } : undefined);
    const item: Found = { kind: known?.kind ?? 'runner-secret', value: known?.value ?? value, prefix: known?.prefix ?? '', depth, ...(name ? { name } : {}) };
    if (item.kind === 'aws-access-key-id') item.keyId = item.value;
    runnerSecrets.push(item);
    add(start, start + match[0].length, item);
  }
  pairRunnerKeys(runnerSecrets);

  for (const match of hasPem ? text.matchAll(INLINE_PRIVATE_KEY) : []) {
    if (overlaps(spans, match.index, match.index + match[0].length)) continue;
    add(match.index, match.index + match[0].length, { kind: 'private-key', value: pemBody(match[0]), prefix: `-----BEGIN ${match[1] ?? ''}PRIVATE KEY-----`, depth });
  }

  let keyIdOnLine: string | undefined;
  for (const detector of hasKnown ? KNOWN_DETECTORS : []) {
    for (const match of detector.find(text)) {
      const value = match.value;
      if (overlaps(spans, match.index, match.index + value.length)) continue;
      const kind = typeof detector.kind === 'function' ? detector.kind(value) : detector.kind;
      const item: Found = { kind, value, prefix: detector.prefix(value), depth };
      if (kind === 'aws-access-key-id') {
        item.keyId = value;
        keyIdOnLine = value;
      }
      add(match.index, match.index + value.length, item);
    }
  }

  // A 40-character secret key counts only next to a key id or a word that names it: alone it
  // is indistinguishable from any other base64.
  const keyId = keyIdOnLine ?? options.awsKeyIdNearby;
  if (keyId !== undefined || AWS_SECRET_CONTEXT.test(text)) {
    for (const match of text.matchAll(AWS_SECRET_CANDIDATE)) {
      const value = match[0];
      if (overlaps(spans, match.index, match.index + 40)) continue;
      if (!/[0-9]/.test(value) || !/[A-Z]/.test(value) || !/[a-z]/.test(value) || shannonEntropy(value) < 4) continue;
      add(match.index, match.index + 40, { kind: 'aws-secret-access-key', value, prefix: '', depth, ...(keyId ? { keyId } : {}) });
    }
  }

  for (const match of GENERIC_GUARD.test(text) ? findAssignments(text) : []) {
    const value = match.value;
    const start = match.index;
    if (overlaps(spans, start, start + value.length)) continue;
    // `***` is GitHub's mask; `$X` / `${{ ... }}` is a reference, not a value.
    if (value.includes('***') || value.startsWith('$') || shannonEntropy(value) < options.entropyThreshold) continue;
    add(start, start + value.length, { kind: 'generic-secret', value, prefix: '', depth, name: match.name });
  }

  if (depth < options.maxDepth) {
    for (const match of base64Runs(text)) {
      const run = match.run;
      // Encoded text mixes cases and digits; paths, words and hex hashes do not all three.
      if (!/[0-9]/.test(run) || !/[A-Z]/.test(run) || !/[a-z]/.test(run)) continue;
      if (overlaps(spans, match.index, match.index + run.length)) continue;
      let decoded = decodeBase64Text(run);
      if (decoded === undefined) continue;
      // `base64` wraps at 76 columns by default: a decoded layer that is itself wrapped base64 is one blob.
      if (/^[A-Za-z0-9+/=\s]+$/.test(decoded) && /\s/.test(decoded.trim())) decoded = decoded.replace(/\s+/g, '');
      const inner = analyse(decoded, depth + 1, options);
      if (inner.found.length === 0) continue;
      insertSpan(spans, { start: match.index, end: match.index + run.length, replacement: `[base64 ****…(${run.length}) holding ${inner.found.length} credential(s), redacted]` });
      found.push(...inner.found);
    }
  }
  return { found, spans };
}

/** `DOCS_AWS_SECRET_ACCESS_KEY` and `DOCS_AWS_ACCESS_KEY_ID` -> `DOCS_`: what pairs them. */
function keyPairPrefix(name: string | undefined): string | undefined {
  const m = /^(.*?)(?:AWS_)?(?:SECRET_ACCESS_KEY|ACCESS_KEY_ID|SECRET_KEY|ACCESS_KEY)$/i.exec(name ?? '');
  return m ? m[1]!.toUpperCase() : undefined;
}

/** Gives each secret key of a runner dump the key id of its pair (by name prefix, else the dump's only key id). */
function pairRunnerKeys(items: Found[]): void {
  const keyIds = items.filter((item) => item.kind === 'aws-access-key-id');
  for (const item of items) {
    if (item.kind !== 'aws-secret-access-key' || item.keyId !== undefined) continue;
    const prefix = keyPairPrefix(item.name);
    const pair = keyIds.find((id) => prefix !== undefined && keyPairPrefix(id.name) === prefix) ?? (keyIds.length === 1 ? keyIds[0] : undefined);
    if (pair) item.keyId = pair.value;
  }
}

/** A value alone (from a runner secret entry): which known format it is, if any. */
function classifyValue(value: string): { kind: HitKind; value: string; prefix: string } | undefined {
  if (PRIVATE_KEY_BEGIN.test(value)) {
    const type = PRIVATE_KEY_BEGIN.exec(value)![1] ?? '';
    return { kind: 'private-key', value: pemBody(value), prefix: `-----BEGIN ${type}PRIVATE KEY-----` };
  }
  for (const detector of KNOWN_DETECTORS) {
    const match = first(detector.find(value));
    if (match && match.index === 0 && match.value.length === value.length) {
      return { kind: typeof detector.kind === 'function' ? detector.kind(value) : detector.kind, value, prefix: detector.prefix(value) };
    }
  }
  return undefined;
}

function first<T>(items: Iterable<T>): T | undefined {
  for (const item of items) return item;
  return undefined;
}

function applySpans(text: string, spans: Span[]): string {
  if (spans.length === 0) return text;
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  let out = '';
  let cursor = 0;
  for (const span of sorted) {
    if (span.start < cursor) continue;
    out += text.slice(cursor, span.start) + span.replacement;
    cursor = span.end;
  }
  return out + text.slice(cursor);
}

/** What one pushed line gave: its hits and, when asked, the line with every credential replaced. */
export interface LineResult {
  hits: Hit[];
  redacted: string;
}

/**
 * Scans a log line by line, keeping the little state a log needs: the current step (from
 * `##[group]Run ...`), the last AWS key id seen (a secret key follows it within a few lines),
 * and an open private key block. Memory stays bounded by the longest line.
 */
export class LineScanner {
  readonly #options: Required<Pick<ScanOptions, 'entropyThreshold' | 'maxDepth'>> & ScanOptions;
  #line = 0;
  #step: string | undefined;
  #awsKeyId: { id: string; line: number } | undefined;
  #pem: { startLine: number; type: string; body: string[]; step: string | undefined } | undefined;

  constructor(options: ScanOptions) {
    this.#options = { entropyThreshold: 3.5, maxDepth: 3, ...options };
    this.#step = options.step;
  }

  /** The next line (without its newline). */
  push(rawLine: string): LineResult {
    this.#line += 1;
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    const prefix = TIMESTAMP.exec(line)?.[0] ?? '';
    const content = line.slice(prefix.length);
    const hits: Hit[] = [];

    if (this.#pem) {
      const end = PRIVATE_KEY_END.exec(content);
      if (end || this.#pem.body.length >= PRIVATE_KEY_MAX_LINES) {
        if (end) this.#pem.body.push(content.slice(0, end.index));
        hits.push(this.#pemHit());
      } else {
        this.#pem.body.push(content);
      }
      return { hits, redacted: `${prefix}[private key line redacted]` };
    }

    const group = GROUP.exec(content);
    // Steps open with `##[group]Run <step>`; other groups (runner image, env dumps) nest inside one.
    if (group && (group[1]!.startsWith('Run ') || this.#step === undefined)) this.#step = group[1]!.trim();
    else if (content.startsWith('Post job cleanup.')) this.#step = 'Post job cleanup';

    const begin = PRIVATE_KEY_BEGIN.exec(content);
    if (begin && !PRIVATE_KEY_END.test(content.slice(begin.index))) {
      this.#pem = { startLine: this.#line, type: begin[1] ?? '', body: [content.slice(begin.index + begin[0].length)], step: this.#step };
      return { hits, redacted: `${prefix}${content.slice(0, begin.index)}${begin[0]}[redacted]` };
    }

    const nearby = this.#awsKeyId && this.#line - this.#awsKeyId.line <= AWS_WINDOW_LINES ? this.#awsKeyId.id : undefined;
    const analysis = analyse(content, 0, { entropyThreshold: this.#options.entropyThreshold, maxDepth: this.#options.maxDepth, awsKeyIdNearby: nearby });
    for (const item of analysis.found) {
      if (item.kind === 'aws-access-key-id') this.#awsKeyId = { id: item.value, line: this.#line };
      hits.push(this.#hit(item, this.#line, this.#step));
    }
    return { hits, redacted: prefix + applySpans(content, analysis.spans) };
  }

  /** Call at the end of the input: an unterminated private key block is still a hit. */
  end(): Hit[] {
    return this.#pem ? [this.#pemHit()] : [];
  }

  #pemHit(): Hit {
    const pem = this.#pem!;
    this.#pem = undefined;
    return this.#hit({ kind: 'private-key', value: pemBody(pem.body.join('')), prefix: `-----BEGIN ${pem.type}PRIVATE KEY-----`, depth: 0 }, pem.startLine, pem.step);
  }

  #hit(item: Found, line: number, step: string | undefined): Hit {
    const options = this.#options;
    const secret = item.kind === 'aws-access-key-id' ? undefined : new Secret(item.value, `${item.kind}${item.name ? ` ${item.name}` : ''} found in ${options.source}:${line}`);
    return {
      kind: item.kind,
      family: familyOf(item.kind),
      source: options.source,
      ...(options.run !== undefined ? { run: options.run } : {}),
      ...(options.job !== undefined ? { job: options.job } : {}),
      ...(step !== undefined ? { step } : {}),
      line,
      fingerprint: fingerprint(item.value),
      depth: item.depth,
      preview: previewOf(item.prefix, item.value),
      ...(item.name !== undefined ? { name: item.name } : {}),
      ...(item.keyId !== undefined ? { keyId: item.keyId } : {}),
      ...(secret ? { secret } : {}),
    };
  }
}

/** Scans a whole text (a log file already in memory, a test string). */
export function scanText(text: string, options: ScanOptions): Hit[] {
  const scanner = new LineScanner(options);
  const hits: Hit[] = [];
  let start = 0;
  while (start <= text.length) {
    const newline = text.indexOf('\n', start);
    const end = newline === -1 ? text.length : newline;
    if (newline === -1 && start === text.length) break;
    hits.push(...scanner.push(text.slice(start, end)).hits);
    start = end + 1;
  }
  hits.push(...scanner.end());
  return hits;
}
