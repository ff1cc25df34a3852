import { parentPort } from 'node:worker_threads';
import { scanFile } from './file-scan.js';
import type { ScanFilter } from '../predicate.js';

/** One worker of the files source: scans the files the main thread hands it, one at a time. */
interface ScanRequest {
  id: number;
  path: string;
  gzip: boolean;
  filter: ScanFilter;
  validate: boolean;
}

parentPort!.on('message', (request: ScanRequest) => {
  void (async () => {
    try {
      const result = await scanFile(request.path, request.gzip, request.filter, { validate: request.validate });
      parentPort!.postMessage({ id: request.id, result });
    } catch (error) {
      parentPort!.postMessage({ id: request.id, result: { records: 0, matched: [], undated: 0, error: (error as Error).message } });
    }
  })();
});
