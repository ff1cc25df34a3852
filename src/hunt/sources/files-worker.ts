import { parentPort } from 'node:worker_threads';
import { scanBytes, scanFile, type FileScanResult, type ScanOptions } from './file-scan.js';
import type { ScanFilter } from '../predicate.js';

/**
 * One worker of the files source. Two kinds of work:
 * - `queue`: local files shared by every worker; each takes the next index from a shared
 *   counter until none is left, and posts results back in batches (only matched records, the
 *   counts, the damage and the key index travel);
 * - `job`: one S3 object the main thread downloaded (bytes transferred, not copied).
 */
interface QueueRequest {
  files: Array<{ path: string; gzip: boolean }>;
  counter: Int32Array;
  filter: ScanFilter;
  options: ScanOptions;
}

interface JobRequest {
  id: number;
  path: string;
  gzip: boolean;
  bytes?: Uint8Array;
  filter: ScanFilter;
  options: ScanOptions;
}

/** Results are posted when this many files are done, or at once when one matched. */
const BATCH = 32;

async function runQueue(request: QueueRequest): Promise<void> {
  let batch: Array<{ file: number; result: FileScanResult }> = [];
  const flush = () => {
    if (!batch.length) return;
    const transfer = batch.flatMap(({ result }) => (result.keys ? [result.keys.buffer as ArrayBuffer] : []));
    parentPort!.postMessage({ results: batch }, transfer);
    batch = [];
  };
  for (;;) {
    const file = Atomics.add(request.counter, 0, 1);
    if (file >= request.files.length) break;
    const { path, gzip } = request.files[file]!;
    let result: FileScanResult;
    try {
      result = await scanFile(path, gzip, request.filter, request.options);
    } catch (error) {
      result = { records: 0, matched: [], undated: 0, damaged: [], damagedRecords: 0, error: (error as Error).message };
    }
    batch.push({ file, result });
    if (batch.length >= BATCH || result.matched.length) flush();
  }
  flush();
  parentPort!.postMessage({ done: true });
}

parentPort!.on('message', (message: { queue?: QueueRequest; job?: JobRequest }) => {
  void (async () => {
    if (message.queue) return runQueue(message.queue);
    const request = message.job!;
    try {
      const result = request.bytes
        ? await scanBytes(Buffer.from(request.bytes.buffer, request.bytes.byteOffset, request.bytes.byteLength), request.gzip, request.filter, request.options)
        : await scanFile(request.path, request.gzip, request.filter, request.options);
      parentPort!.postMessage({ id: request.id, result });
    } catch (error) {
      parentPort!.postMessage({ id: request.id, result: { records: 0, matched: [], undated: 0, damaged: [], damagedRecords: 0, error: (error as Error).message } });
    }
  })();
});
