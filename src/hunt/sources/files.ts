import { readdir, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Readable } from 'node:stream';
import type { HuntSource } from '../engine.js';
import type { ScanStats, TrailRecord } from '../model.js';
import type { ScanFilter } from '../predicate.js';
import { scanFile, scanStream, type FileScanResult } from './file-scan.js';

const DATA_FILE = /\.(json|jsonl|ndjson)(\.gz)?$|\.gz$/i;

/** An object of an S3 listing, read lazily. */
export interface RemoteFile {
  path: string;
  gzip: boolean;
  open(): Promise<Readable>;
}

/** Lists the CloudTrail files under a local directory (or the file itself), sorted for a stable order. */
export async function listLocalFiles(root: string): Promise<string[]> {
  const info = await stat(root);
  if (info.isFile()) return [root];
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && DATA_FILE.test(entry.name))
    .map((entry) => join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name))
    .sort();
}

export interface FilesSourceOptions {
  /** Worker threads for local files (default: every core). 0 scans in the main thread. */
  workers?: number;
  /** Parse every record even when it cannot match (checks the whole file; slower). */
  validate?: boolean;
  /** S3 objects to read instead of (or as well as) local files. */
  remote?: () => AsyncIterable<RemoteFile>;
}

/**
 * A worker's heap is capped so V8 collects instead of growing with the garbage a long scan
 * makes: memory stays flat as the corpus grows. The cap leaves room for the largest file read
 * whole (WHOLE_FILE_INFLATED_LIMIT, as a string twice its bytes) plus parsing.
 */
const WORKER_LIMITS = { maxOldGenerationSizeMb: 192, maxYoungGenerationSizeMb: 16 };

/**
 * Starts one scan worker. Built, the worker is files-worker.js beside this file; run from the
 * TypeScript sources (tsx, vitest) it is the .ts file, loaded through tsx's loader registered
 * inside the worker (Node 20 does not pass `--import` on to workers).
 */
function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./files-worker.js', import.meta.url), { resourceLimits: WORKER_LIMITS });
  // tsx's ESM entry (its CJS one registers with relative paths that break in a worker).
  const tsxPackage = createRequire(import.meta.url).resolve('tsx/package.json');
  const tsx = pathToFileURL(join(dirname(tsxPackage), 'dist', 'esm', 'api', 'index.mjs')).href;
  const worker = new URL('./files-worker.ts', import.meta.url).href;
  return new Worker(`import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(worker)}); });`, { eval: true, resourceLimits: WORKER_LIMITS });
}

/**
 * The files source: local directories of CloudTrail files (`.json.gz`, `.json`, JSON lines), and
 * S3 objects in the AWSLogs layout. Local files are spread over worker threads (one per core),
 * each streaming its file; only matching records cross back to the main thread.
 */
export function createFilesSource(root: string | undefined, options: FilesSourceOptions = {}): HuntSource {
  return {
    name: 'files',
    async *scan(filter: ScanFilter, stats: ScanStats): AsyncIterable<TrailRecord> {
      const account = (path: string, result: FileScanResult) => {
        stats.filesRead++;
        if (result.error) {
          stats.skipped.push({ path, reason: result.error });
          return;
        }
        stats.recordsRead += result.records;
        stats.undated += result.undated;
      };
      if (root) {
        const files = await listLocalFiles(root);
        yield* scanLocal(files, filter, options, account);
      }
      if (options.remote) {
        for await (const file of options.remote()) {
          let result: FileScanResult;
          try {
            result = await scanStream(await file.open(), file.gzip, filter, { validate: options.validate });
          } catch (error) {
            result = { records: 0, matched: [], undated: 0, error: (error as Error).message };
          }
          account(file.path, result);
          yield* result.matched;
        }
      }
    },
  };
}

async function* scanLocal(
  files: string[],
  filter: ScanFilter,
  options: FilesSourceOptions,
  account: (path: string, result: FileScanResult) => void,
): AsyncIterable<TrailRecord> {
  const workerCount = Math.min(options.workers ?? availableParallelism(), files.length);
  const validate = options.validate ?? false;
  if (workerCount <= 0) {
    for (const path of files) {
      const result = await scanFile(path, /\.gz$/i.test(path), filter, { validate }).catch(
        (error: Error): FileScanResult => ({ records: 0, matched: [], undated: 0, error: error.message }),
      );
      account(path, result);
      yield* result.matched;
    }
    return;
  }

  const workers = Array.from({ length: workerCount }, startWorker);
  const ready: FileScanResult[][] = [];
  let wake: (() => void) | undefined;
  let next = 0;
  let done = 0;
  let failure: Error | undefined;
  const dispatch = (worker: Worker) => {
    if (next >= files.length) return;
    const id = next++;
    worker.postMessage({ id, path: files[id], gzip: /\.gz$/i.test(files[id]!), filter, validate });
  };
  for (const worker of workers) {
    worker.on('message', (message: { id: number; result: FileScanResult }) => {
      account(files[message.id]!, message.result);
      ready.push([message.result]);
      done++;
      dispatch(worker);
      wake?.();
    });
    worker.on('error', (error) => {
      failure = error;
      wake?.();
    });
    dispatch(worker);
  }
  try {
    while (done < files.length) {
      if (!ready.length) {
        if (failure) throw failure;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        continue;
      }
      for (const result of ready.shift()!) yield* result.matched;
    }
    for (const batch of ready.splice(0)) for (const result of batch) yield* result.matched;
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}
