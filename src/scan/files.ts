import { createReadStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { UsageError } from '../engine/errors.js';
import { publicHit, type PublicHit } from './scanner.js';
import { scanStream, scanZipStream } from './stream.js';

/** What one scanned file (or stdin) gave. */
export interface ScannedFile {
  path: string;
  /** `text`, `gzip` (one text file compressed) or `zip` (a log archive, each member scanned). */
  format: 'text' | 'gzip' | 'zip';
  bytes: number;
  hits: PublicHit[];
  /** Why the file could not be read whole (a truncated archive, a read error): its scan is incomplete. */
  error?: string;
}

/** The offline scan of some paths: every file, what each printed, and the totals. */
export interface OfflineScan {
  files: ScannedFile[];
  hits: number;
  /** Hits of a known token format or a runner secret entry (not entropy guesses): these need revoking. */
  credentials: number;
  /** Files that could not be read whole. */
  incomplete: number;
}

/** A folder walk never descends further than this (a symlink loop is not followed anyway). */
const MAX_DEPTH = 32;

/** Every regular file under a path, in a stable order; symbolic links are not followed. */
async function filesUnder(path: string, depth = 0): Promise<string[]> {
  const info = await lstat(path).catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${JSON.stringify(path)}: ${error.code ?? error.message}`, ['give a log file, a folder of logs, a .zip log archive or - for standard input']);
  });
  if (info.isFile()) return [path];
  if (!info.isDirectory() || depth >= MAX_DEPTH) return [];
  const names = (await readdir(path)).sort();
  const nested = await Promise.all(names.map((name) => filesUnder(join(path, name), depth + 1)));
  return nested.flat();
}

function formatOf(path: string): ScannedFile['format'] {
  if (/\.zip$/i.test(path)) return 'zip';
  if (/\.gz$/i.test(path)) return 'gzip';
  return 'text';
}

async function* counted(stream: AsyncIterable<Uint8Array | string>, count: { bytes: number }): AsyncGenerator<Uint8Array> {
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    count.bytes += bytes.length;
    yield bytes;
  }
}

async function scanOne(path: string, input: () => NodeJS.ReadableStream & AsyncIterable<Uint8Array | string>): Promise<ScannedFile> {
  const format = path === '-' ? 'text' : formatOf(path);
  const count = { bytes: 0 };
  try {
    if (format === 'zip') {
      const result = await scanZipStream(counted(input(), count), {});
      return { path, format, bytes: count.bytes, hits: result.hits.map((hit) => publicHit({ ...hit, source: `${path}:${hit.source}` })) };
    }
    const stream = format === 'gzip' ? input().pipe(createGunzip()) : input();
    const hits = await scanStream(counted(stream as AsyncIterable<Uint8Array>, count), { source: path });
    return { path, format, bytes: count.bytes, hits: hits.map(publicHit) };
  } catch (error) {
    return { path, format, bytes: count.bytes, hits: [], error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Scans log files offline (collected by hand, or from another CI system) with the same scanner
 * the containment uses on GitHub's logs: known token formats, runner secret dumps, base64 layers.
 * Paths are files, folders (walked, links not followed) or `-` for standard input. Only public
 * hits come back: fingerprints and previews, never a value.
 */
export async function scanPaths(paths: readonly string[], stdin: () => NodeJS.ReadableStream & AsyncIterable<Uint8Array | string> = () => process.stdin): Promise<OfflineScan> {
  if (paths.length === 0) throw new UsageError('scan needs a file, a folder or - (standard input)', ['e.g. cicd-ir scan job-logs.zip']);
  const files: ScannedFile[] = [];
  for (const path of paths) {
    if (path === '-') {
      files.push(await scanOne('-', stdin));
      continue;
    }
    for (const file of await filesUnder(path)) files.push(await scanOne(file, () => createReadStream(file)));
  }
  const all = files.flatMap((file) => file.hits);
  return {
    files,
    hits: all.length,
    credentials: all.filter((hit) => hit.kind !== 'generic-secret').length,
    incomplete: files.filter((file) => file.error !== undefined).length,
  };
}
