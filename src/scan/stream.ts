import { createHash } from 'node:crypto';
import { Unzip, UnzipInflate, type UnzipFile } from 'fflate';
import { LineScanner, type Hit, type ScanOptions } from './scanner.js';

/** Where a redacted copy of a scanned file goes, line by line. */
export interface RedactedSink {
  write(line: string): void;
  close(): void;
}

/** Splits decoded text into lines across chunk boundaries; keeps only the unfinished line. */
class LineSplitter {
  #carry = '';
  constructor(private readonly onLine: (line: string) => void) {}

  push(text: string): void {
    let start = 0;
    let newline = text.indexOf('\n');
    if (newline === -1) {
      this.#carry += text;
      return;
    }
    this.onLine(this.#carry + text.slice(0, newline));
    this.#carry = '';
    start = newline + 1;
    while ((newline = text.indexOf('\n', start)) !== -1) {
      this.onLine(text.slice(start, newline));
      start = newline + 1;
    }
    this.#carry = text.slice(start);
  }

  end(): void {
    if (this.#carry.length > 0) this.onLine(this.#carry);
    this.#carry = '';
  }
}

/** One scanner fed by bytes: UTF-8 decoding and line splitting included. */
function byteScanner(options: ScanOptions, hits: Hit[], sink: RedactedSink | undefined) {
  const scanner = new LineScanner(options);
  const decoder = new TextDecoder('utf-8');
  const splitter = new LineSplitter((line) => {
    const result = scanner.push(line);
    hits.push(...result.hits);
    sink?.write(result.redacted);
  });
  return {
    push(chunk: Uint8Array | string) {
      splitter.push(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
    },
    end() {
      splitter.push(decoder.decode());
      splitter.end();
      hits.push(...scanner.end());
      sink?.close();
    },
  };
}

/**
 * Scans a stream of text (a log file, stdin, a fetch body) line by line: only the current line
 * is held in memory.
 */
export async function scanStream(readable: AsyncIterable<Uint8Array | string>, options: ScanOptions, sink?: RedactedSink): Promise<Hit[]> {
  const hits: Hit[] = [];
  const scanner = byteScanner(options, hits, sink);
  for await (const chunk of readable) scanner.push(chunk);
  scanner.end();
  return hits;
}

/** Job and step a file of GitHub's log archive is about: `3_build.txt`, `build/5_Run tests.txt`. */
export function logFileIdentity(name: string): { job: string; step?: string } {
  const strip = (part: string) => part.replace(/^\d+_/, '').replace(/\.txt$/, '');
  const parts = name.split('/');
  if (parts.length >= 2) return { job: parts[0]!, step: strip(parts.at(-1)!) };
  return { job: strip(name) };
}

export interface ZipScanResult {
  hits: Hit[];
  /** sha256 (hex) of the archive's bytes exactly as downloaded. */
  sha256: string;
  bytes: number;
  /** The files of the archive, in order. */
  files: string[];
}

/**
 * Scans a run's log archive as it downloads (fflate's streaming Unzip): each file is decoded,
 * split into lines and scanned as its bytes arrive, so the logs are never all in memory. The
 * archive's sha256 is computed on the way, for evidence. `sinkFor` may return a sink that gets
 * each file's redacted lines.
 */
export async function scanZipStream(
  chunks: AsyncIterable<Uint8Array>,
  options: Omit<ScanOptions, 'source' | 'job' | 'step'> & { sinkFor?: (file: string) => RedactedSink | undefined },
): Promise<ZipScanResult> {
  const hits: Hit[] = [];
  const files: string[] = [];
  const hash = createHash('sha256');
  let bytes = 0;
  let failure: Error | undefined;
  const { sinkFor, ...scanOptions } = options;
  const openSinks = new Set<RedactedSink>();
  const unfinished = new Set<string>();
  const unzip = new Unzip((file: UnzipFile) => {
    if (file.name.endsWith('/')) return;
    files.push(file.name);
    unfinished.add(file.name);
    const sink = sinkFor?.(file.name);
    if (sink) openSinks.add(sink);
    const scanner = byteScanner({ ...scanOptions, source: file.name, ...logFileIdentity(file.name) }, hits, sink);
    file.ondata = (error, data, final) => {
      if (error) {
        failure ??= error;
        return;
      }
      scanner.push(data);
      if (final) {
        scanner.end();
        unfinished.delete(file.name);
        if (sink) openSinks.delete(sink);
      }
    };
    file.start();
  });
  unzip.register(UnzipInflate);
  try {
    for await (const chunk of chunks) {
      hash.update(chunk);
      bytes += chunk.length;
      unzip.push(chunk);
      if (failure) throw failure;
    }
    unzip.push(new Uint8Array(0), true);
    if (failure) throw failure;
    // A truncated archive ends with a file never finished: its copy is incomplete, and so is the scan.
    if (unfinished.size > 0) throw new Error(`log archive ended inside ${[...unfinished].join(', ')}: truncated download`);
  } finally {
    for (const sink of openSinks) sink.close();
  }
  return { hits, sha256: hash.digest('hex'), bytes, files };
}
