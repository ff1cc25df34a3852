import { readdir, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Readable } from 'node:stream';
import type { HuntSource } from '../engine.js';
import { SKIPPED_LISTED, type ScanStats, type TrailRecord } from '../model.js';
import type { ScanFilter } from '../predicate.js';
import { keyHash, mayHoldKey, scanBytes, scanFile, scanStream, WHOLE_FILE_LIMIT, type FileScanResult, type ScanOptions } from './file-scan.js';

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
  /** Worker threads (default: every core). 0 scans in the main thread. */
  workers?: number;
  /** Parse every record even when it cannot match (checks the whole file; slower). */
  validate?: boolean;
  /** S3 objects to read instead of (or as well as) local files. */
  remote?: () => AsyncIterable<RemoteFile>;
}

/**
 * A worker's heap is capped so V8 collects instead of growing with the garbage a long scan
 * makes: memory stays flat as the corpus grows. Files are inflated into buffers outside the
 * heap and only candidate records are decoded (each at most MAX_RECORD_BYTES), so the heap
 * holds little more than the matched records of one batch.
 */
const WORKER_LIMITS = { maxOldGenerationSizeMb: 96, maxYoungGenerationSizeMb: 8 };

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
  /** The S3 object, kept so a later round can read it again. */
  remote?: RemoteFile;
}

/** What the first (full) scan learnt about one file: which key ids it mentions. */
interface IndexedFile {
  path: string;
  gzip: boolean;
  remote?: RemoteFile;
  keys?: Uint32Array;
  opaque?: boolean;
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
      yield { path: file.path, gzip: file.gzip, open: file.open, remote: file };
      continue;
    }
    try {
      yield { path: file.path, gzip: file.gzip, bytes: await readAll(await file.open()), remote: file };
    } catch (error) {
      // A download that fails is reported like a damaged file: the scan goes on.
      yield { path: file.path, gzip: file.gzip, open: () => Promise.reject(error), remote: file };
    }
  }
}

async function* fromList<T>(items: T[]): AsyncIterable<T> {
  yield* items;
}

function failure(error: unknown): FileScanResult {
  return { records: 0, matched: [], undated: 0, damaged: [], damagedRecords: 0, error: (error as Error).message };
}

/** Scans a job in this thread. */
async function scanHere(job: Job, filter: ScanFilter, options: ScanOptions): Promise<FileScanResult> {
  try {
    if (job.open) return await scanStream(await job.open(), job.gzip, filter, options);
    if (job.bytes) return await scanBytes(Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength), job.gzip, filter, options);
    return await scanFile(job.path, job.gzip, filter, options);
  } catch (error) {
    return failure(error);
  }
}

/** A filter that looks only for access key ids: what later rounds of the fixpoint ask. */
function keysOnly(filter: ScanFilter): boolean {
  return filter.accessKeyIds.length > 0 && !filter.roles.length && !filter.userNames.length && !filter.oidcSubjects.length && !filter.eventNames.length && !filter.sourceIps?.length;
}

/**
 * The files source: local directories of CloudTrail files (`.json.gz`, `.json`, JSON lines), and
 * S3 objects in the AWSLogs layout. Local files are spread over worker threads (one per core)
 * that take the next file from a shared queue; S3 objects are downloaded here and handed over as
 * bytes. Only matching records come back.
 *
 * A full scan also indexes, per file, the access key ids it mentions. A later round of the
 * fixpoint (a scan for keys only: the keys the hunted identities minted) reads again only the
 * files whose index may hold one of the new keys, not the whole corpus.
 */
export function createFilesSource(root: string | undefined, options: FilesSourceOptions = {}): HuntSource {
  let index: IndexedFile[] | undefined;
  return {
    name: 'files',
    async *scan(filter: ScanFilter, stats: ScanStats): AsyncIterable<TrailRecord> {
      const validate = options.validate ?? false;
      const workers = options.workers ?? availableParallelism();
      if (index && keysOnly(filter)) {
        const hashes = filter.accessKeyIds.map(keyHash);
        const subset = index.filter((file) => file.opaque || !file.keys || mayHoldKey(file.keys, hashes));
        const account = accountFor(stats);
        const local = subset.filter((file) => !file.remote);
        const remote = subset.filter((file) => file.remote);
        if (local.length) yield* scanQueue(local, Math.min(workers, local.length), filter, { validate }, account);
        if (remote.length) yield* scanJobs(remoteJobs(fromList(remote.map((file) => file.remote!))), workers, filter, { validate }, account);
        return;
      }
      const fresh: IndexedFile[] = [];
      const account = accountFor(stats, fresh);
      const scanOptions = { validate, index: true };
      if (root) {
        const files = (await listLocalFiles(root)).map((path) => ({ path, gzip: /\.gz$/i.test(path) }));
        yield* scanQueue(files, Math.min(workers, files.length), filter, scanOptions, account);
      }
      if (options.remote) yield* scanJobs(remoteJobs(options.remote()), workers, filter, scanOptions, account);
      index = fresh;
    },
  };
}

/** Adds a file's result to the stats (and the index, on a full scan). */
function accountFor(stats: ScanStats, index?: IndexedFile[]) {
  return (file: { path: string; gzip: boolean; remote?: RemoteFile }, result: FileScanResult) => {
    stats.filesRead++;
    stats.recordsRead += result.records;
    stats.undated += result.undated;
    if (result.error || result.damagedRecords) stats.damaged.files++;
    stats.damaged.records += result.damagedRecords;
    if (result.error && stats.skipped.length < SKIPPED_LISTED) stats.skipped.push({ path: file.path, reason: result.error });
    for (const damage of result.damaged) {
      if (stats.skipped.length >= SKIPPED_LISTED) break;
      stats.skipped.push({ path: file.path, reason: damage.reason, record: damage.record, offset: damage.offset });
    }
    if (result.damagedRecords > result.damaged.length && stats.skipped.length < SKIPPED_LISTED) {
      stats.skipped.push({ path: file.path, reason: `${result.damagedRecords - result.damaged.length} more damaged record(s) not listed` });
    }
    index?.push({ path: file.path, gzip: file.gzip, remote: file.remote, keys: result.keys, opaque: result.opaque });
  };
}

type Account = ReturnType<typeof accountFor>;

/** A result batch from a queue worker. */
export interface QueueMessage {
  results?: Array<{ file: number; result: FileScanResult }>;
  done?: boolean;
}

/**
 * Scans local files over a pool of workers that share one queue: each takes the next file index
 * from a shared counter (no round trip to this thread between files, so no worker waits), and
 * posts back only what matched, in batches. Without workers, scans here.
 */
async function* scanQueue(files: Array<{ path: string; gzip: boolean }>, workerCount: number, filter: ScanFilter, options: ScanOptions, account: Account): AsyncIterable<TrailRecord> {
  if (workerCount <= 0) {
    for (const file of files) {
      const result = await scanHere(file, filter, options);
      account(file, result);
      yield* result.matched;
    }
    return;
  }
  const counter = new Int32Array(new SharedArrayBuffer(4));
  const workers = Array.from({ length: workerCount }, startWorker);
  const results: Array<{ file: number; result: FileScanResult }> = [];
  let running = workers.length;
  let failed: unknown;
  let wake: (() => void) | undefined;
  const notify = () => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  for (const worker of workers) {
    worker.on('message', (message: QueueMessage) => {
      if (message.results) results.push(...message.results);
      if (message.done) running--;
      notify();
    });
    worker.on('error', (error) => {
      failed = error;
      notify();
    });
    worker.postMessage({ queue: { files, counter, filter, options } });
  }
  try {
    for (;;) {
      if (results.length) {
        const { file, result } = results.shift()!;
        account(files[file]!, result);
        yield* result.matched;
        continue;
      }
      if (failed) throw failed;
      if (running === 0) break;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    // Stops workers early when the consumer stops (or a worker failed): the queue is drained.
    Atomics.store(counter, 0, files.length);
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

/**
 * Runs S3 jobs over a pool of scan workers (bytes transferred, not copied), yielding matched
 * records as files finish. A worker that dies fails the scan (a bug, not bad data: bad data
 * comes back as damage).
 */
async function* scanJobs(jobs: AsyncIterable<Job>, workerCount: number, filter: ScanFilter, options: ScanOptions, account: Account): AsyncIterable<TrailRecord> {
  if (workerCount <= 0) {
    for await (const job of jobs) {
      const result = await scanHere(job, filter, options);
      account(job, result);
      yield* result.matched;
    }
    return;
  }

  const workers = Array.from({ length: workerCount }, startWorker);
  const idle = [...workers];
  const results: FileScanResult[] = [];
  const pending = new Map<number, Job>();
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
          const result = await scanHere(job, filter, options);
          account(job, result);
          results.push(result);
          notify();
          continue;
        }
        const id = nextId++;
        pending.set(id, job);
        inWorkers++;
        worker.postMessage({ job: { id, path: job.path, gzip: job.gzip, bytes: job.bytes, filter, options } }, job.bytes ? [job.bytes.buffer as ArrayBuffer] : []);
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
      account(pending.get(message.id)!, message.result);
      pending.delete(message.id);
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
