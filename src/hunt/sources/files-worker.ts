import { parentPort } from 'node:worker_threads';
import { scanBytes, scanFile } from './file-scan.js';
import type { ScanFilter } from '../predicate.js';

/** One worker of the files source: scans the files the main thread hands it, one at a time. */
interface ScanRequest {
  id: number;
  path: string;
  gzip: boolean;
  /** An S3 object the main thread downloaded (transferred, not copied). */
  bytes?: Uint8Array;
  filter: ScanFilter;
  validate: boolean;
}

parentPort!.on('message', (request: ScanRequest) => {
  void (async () => {
    try {
      const options = { validate: request.validate };
      const result = request.bytes
        ? await scanBytes(Buffer.from(request.bytes.buffer, request.bytes.byteOffset, request.bytes.byteLength), request.gzip, request.filter, options)
        : await scanFile(request.path, request.gzip, request.filter, options);
      parentPort!.postMessage({ id: request.id, result });
    } catch (error) {
      parentPort!.postMessage({ id: request.id, result: { records: 0, matched: [], undated: 0, error: (error as Error).message } });
    }
  })();
});
