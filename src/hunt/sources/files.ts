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
import { scanBytes, scanFile, scanStream, WHOLE_FILE_LIMIT, type FileScanResult } from './file-scan.js';

const DATA_FILE = /\.(json|jsonl|ndjson)(\.gz)?$|\.gz$/i;

/** An object of an S3 listing, read lazily. */
export interface RemoteFile {
  path: string;
  gzip: boolean;
  /** Bytes, when the listing says (large objects are streamed rather than downloaded whole). */
  size?: number;
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

/** One file for the pool: a local path the worker reads, bytes already downloaded, or a stream to scan here. */
interface Job {
  path: string;
  gzip: boolean;
  bytes?: Uint8Array;
  open?: () => Promise<Readable>;
}

async function readAll(stream: Readable): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  // A copy with its own ArrayBuffer: it is transferred to a worker (a pooled one must not be).
  return new Uint8Array(Buffer.concat(chunks));
}

/** S3 objects as pool jobs: small ones downloaded here and scanned by the workers, large ones streamed. */
async function* remoteJobs(files: AsyncIterable<RemoteFile>): AsyncIterable<Job> {
  for await (const file of files) {
    if (file.size !== undefined && file.size > WHOLE_FILE_LIMIT) {
      yield { path: file.path, gzip: file.gzip, open: file.open };
      continue;
    }
    try {
      yield { path: file.path, gzip: file.gzip, bytes: await readAll(await file.open()) };
    } catch (error) {
      // A download that fails is reported like a malformed file: the scan goes on.
      yield { path: file.path, gzip: file.gzip, open: () => Promise.reject(error) };
    }
  }
}

async function* localJobs(paths: string[]): AsyncIterable<Job> {
  for (const path of paths) yield { path, gzip: /\.gz$/i.test(path) };
}

function failure(error: unknown): FileScanResult {
  return { records: 0, matched: [], undated: 0, error: (error as Error).message };
}

/** Scans a job in this thread. */
async function scanHere(job: Job, filter: ScanFilter, validate: boolean): Promise<FileScanResult> {
  try {
    if (job.open) return await scanStream(await job.open(), job.gzip, filter, { validate });
    if (job.bytes) return await scanBytes(Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength), job.gzip, filter, { validate });
    return await scanFile(job.path, job.gzip, filter, { validate });
  } catch (error) {
    return failure(error);
  }
}

/**
 * The files source: local directories of CloudTrail files (`.json.gz`, `.json`, JSON lines), and
 * S3 objects in the AWSLogs layout. Files are spread over worker threads (one per core); S3
 * objects are downloaded here and handed over as bytes. Only matching records come back.
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
      const workers = options.workers ?? availableParallelism();
      if (root) {
        const files = await listLocalFiles(root);
        yield* scanJobs(localJobs(files), Math.min(workers, files.length), filter, options.validate ?? false, account);
      }
      if (options.remote) yield* scanJobs(remoteJobs(options.remote()), workers, filter, options.validate ?? false, account);
    },
  };
}

/**
 * Runs jobs over a pool of scan workers, yielding matched records as files finish. A worker
 * that dies fails the scan (a bug, not bad data: bad data comes back as `error`).
 */
async function* scanJobs(
  jobs: AsyncIterable<Job>,
  workerCount: number,
  filter: ScanFilter,
  validate: boolean,
  account: (path: string, result: FileScanResult) => void,
): AsyncIterable<TrailRecord> {
  if (workerCount <= 0) {
    for await (const job of jobs) {
      const result = await scanHere(job, filter, validate);
      account(job.path, result);
      yield* result.matched;
    }
    return;
  }

  const workers = Array.from({ length: workerCount }, startWorker);
  const idle = [...workers];
  const results: FileScanResult[] = [];
  const paths = new Map<number, string>();
  const iterator = jobs[Symbol.asyncIterator]();
  let nextId = 0;
  let inWorkers = 0;
  let feeding = 0;
  let exhausted = false;
  let failed: unknown;
  let wake: (() => void) | undefined;
  const notify = () => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  const feed = async () => {
    feeding++;
    try {
      while (idle.length && !exhausted) {
        const worker = idle.pop()!;
        const next = await iterator.next();
        if (next.done) {
          exhausted = true;
          idle.push(worker);
          break;
        }
        const job = next.value;
        if (job.open) {
          // Large (or failed) S3 object: streamed in this thread with bounded memory.
          idle.push(worker);
          const result = await scanHere(job, filter, validate);
          account(job.path, result);
          results.push(result);
          notify();
          continue;
        }
        const id = nextId++;
        paths.set(id, job.path);
        inWorkers++;
        worker.postMessage({ id, path: job.path, gzip: job.gzip, bytes: job.bytes, filter, validate }, job.bytes ? [job.bytes.buffer as ArrayBuffer] : []);
      }
    } catch (error) {
      failed = error;
      exhausted = true;
    } finally {
      feeding--;
      notify();
    }
  };
  for (const worker of workers) {
    worker.on('message', (message: { id: number; result: FileScanResult }) => {
      inWorkers--;
      account(paths.get(message.id)!, message.result);
      paths.delete(message.id);
      results.push(message.result);
      idle.push(worker);
      void feed();
      notify();
    });
    worker.on('error', (error) => {
      failed = error;
      notify();
    });
  }
  void feed();
  try {
    for (;;) {
      if (results.length) {
        yield* results.shift()!.matched;
        continue;
      }
      if (failed) throw failed;
      if (exhausted && inWorkers === 0 && feeding === 0) break;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}
