import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createGunzip, gunzipSync } from 'node:zlib';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import { RecordSplitter, unwrapRecord } from '../json-splitter.js';
import { compileFilter, type ScanFilter } from '../predicate.js';
import type { TrailRecord } from '../model.js';

/** What scanning one file produced. */
export interface FileScanResult {
  records: number;
  matched: TrailRecord[];
  undated: number;
  /** Set when the file was malformed or truncated: its records are not used. */
  error?: string;
}

/**
 * Every literal a matching record must contain verbatim (key ids, ARNs, names, IPs). A record
 * whose text holds none of them cannot match, so it is not parsed at all: this is what makes
 * the files source fast. Time bounds add no literal (they narrow, never widen).
 */
export function literalsOf(filter: ScanFilter): string[] {
  return [
    ...filter.accessKeyIds,
    ...filter.roles.map((role) => role.arn),
    ...filter.userNames.map((name) => `"${name}"`),
    ...filter.oidcSubjects,
    ...filter.eventNames.map((name) => `"${name}"`),
    ...(filter.sourceIps ?? []).map((ip) => `"${ip}"`),
  ];
}

function sinkFor(filter: ScanFilter, options: { validate?: boolean }) {
  const matches = compileFilter(filter);
  const literals = literalsOf(filter);
  // One regular expression for all literals: V8 scans a record once instead of once per literal.
  const candidate = literals.length ? new RegExp(literals.map((literal) => literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')) : /$^/;
  const result: FileScanResult = { records: 0, matched: [], undated: 0 };
  const splitter = new RecordSplitter((text) => {
    result.records++;
    const isCandidate = candidate.test(text);
    if (!isCandidate && !options.validate) return;
    const record = unwrapRecord(JSON.parse(text));
    if (!record) throw new Error(`record ${result.records} is not an object`);
    if (typeof record.eventTime !== 'string' || Number.isNaN(Date.parse(record.eventTime))) result.undated++;
    if (isCandidate && matches(record)) result.matched.push(record);
  });
  return { splitter, result };
}

function failed(result: FileScanResult, error: unknown): FileScanResult {
  return { records: result.records, matched: [], undated: 0, error: (error as Error).message };
}

/**
 * Streams one file (gzip or plain) through the record splitter and the filter. Memory is
 * bounded by one chunk plus the largest record. A malformed file yields `error` and no
 * records, so a half-read file never produces half the evidence.
 */
export async function scanStream(input: Readable, gzip: boolean, filter: ScanFilter, options: { validate?: boolean } = {}): Promise<FileScanResult> {
  const { splitter, result } = sinkFor(filter, options);
  const decoder = new StringDecoder('utf8');
  const stream = gzip ? input.pipe(createGunzip()) : input;
  try {
    if (gzip) input.on('error', (error) => stream.destroy(error));
    for await (const chunk of stream) splitter.push(decoder.write(chunk as Buffer));
    splitter.push(decoder.end());
    splitter.end();
  } catch (error) {
    input.destroy();
    return failed(result, error);
  }
  return result;
}

/** Files up to this size (compressed) are read and inflated in one go; larger ones stream. */
export const WHOLE_FILE_LIMIT = 4 << 20;
/** Inflated size a whole-file read may reach before it falls back to streaming (zip bombs, huge files). */
const WHOLE_FILE_INFLATED_LIMIT = 32 << 20;
const SLICE = 1 << 20;

/**
 * Scans a local file. CloudTrail delivers many small files (tens of KB): reading each whole
 * and inflating it synchronously saves the thread-pool round trips of a stream per chunk,
 * which dominate at that size. Larger files, and any whose inflated size passes the limit,
 * stream with bounded memory.
 */
export async function scanFile(path: string, gzip: boolean, filter: ScanFilter, options: { validate?: boolean } = {}): Promise<FileScanResult> {
  const size = (await stat(path)).size;
  if (size > WHOLE_FILE_LIMIT) return scanStream(createReadStream(path, { highWaterMark: SLICE }), gzip, filter, options);
  let raw: Buffer;
  try {
    raw = await readFile(path);
  } catch (error) {
    return failed({ records: 0, matched: [], undated: 0 }, error);
  }
  return scanBytes(raw, gzip, filter, options, () => scanStream(createReadStream(path, { highWaterMark: SLICE }), gzip, filter, options));
}

/**
 * Scans a whole file's bytes (a small local file, or an S3 object downloaded by the main
 * thread). A gzip that inflates past the limit goes to `fallback` (streaming) when given.
 */
export async function scanBytes(
  raw: Buffer,
  gzip: boolean,
  filter: ScanFilter,
  options: { validate?: boolean } = {},
  fallback?: () => Promise<FileScanResult>,
): Promise<FileScanResult> {
  const { splitter, result } = sinkFor(filter, options);
  try {
    let data: Buffer;
    try {
      data = gzip ? gunzipSync(raw, { maxOutputLength: WHOLE_FILE_INFLATED_LIMIT }) : raw;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' && fallback) return fallback();
      throw error;
    }
    const decoder = new StringDecoder('utf8');
    for (let offset = 0; offset < data.length; offset += SLICE) splitter.push(decoder.write(data.subarray(offset, offset + SLICE)));
    splitter.push(decoder.end());
    splitter.end();
  } catch (error) {
    return failed(result, error);
  }
  return result;
}
