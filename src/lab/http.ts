import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FaultRule, LabHttpRequest, LabHttpResponse, LabRequest, LabService } from './types.js';

/** A lab service listening on a loopback port. */
export interface ServedService {
  url: string;
  close(): Promise<void>;
}

export interface ServeOptions {
  port?: number;
  /** Fault rules that apply to this service. */
  faults?: FaultRule[];
  /** Draws for fault probabilities: seeded, so a failure reproduces. */
  random?: () => number;
  /** When the lab started (partition windows are relative to it). */
  startedAt?: Date;
  /** Receives one entry per request served. */
  log?: (entry: LabRequest) => void;
}

async function readRequest(req: IncomingMessage): Promise<LabHttpRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers, body: Buffer.concat(chunks) };
}

function globMatch(pattern: string | undefined, value: string): boolean {
  if (!pattern || pattern === '*') return true;
  const regex = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return regex.test(value);
}

function latencyOf(rule: FaultRule, random: () => number): number {
  if (rule.latencyMs === undefined) return 0;
  if (typeof rule.latencyMs === 'number') return rule.latencyMs;
  return rule.latencyMs.min + random() * (rule.latencyMs.max - rule.latencyMs.min);
}

/**
 * Serves one lab service on 127.0.0.1, applying fault rules (latency, throttling, 5xx,
 * timeouts, partitions) before the service sees the request, and logging every request.
 */
export async function serveService(service: LabService, options: ServeOptions = {}): Promise<ServedService> {
  const random = options.random ?? Math.random;
  const startedAt = options.startedAt ?? new Date();
  const rules = (options.faults ?? []).filter((rule) => !rule.service || rule.service === '*' || rule.service === service.name);

  const server = createServer((req, res) => {
    void (async () => {
      const request = await readRequest(req);
      const operation = service.operation(request);
      const mutating = service.mutating(request);
      let response: LabHttpResponse | undefined;
      let fault: string | undefined;

      for (const rule of rules.filter((candidate) => globMatch(candidate.operation, operation))) {
        const delay = latencyOf(rule, random);
        if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
        const elapsed = Date.now() - startedAt.getTime();
        const partitioned = rule.partition && elapsed >= rule.partition.startMs && elapsed < rule.partition.startMs + rule.partition.durationMs;
        const drawn = rule.errorRate !== undefined && random() < rule.errorRate;
        if (!partitioned && !drawn) continue;
        const kind = partitioned ? 'timeout' : (rule.error ?? '5xx');
        fault = kind;
        if (kind === 'timeout') {
          // A partition: the connection is dropped with no answer, as a network cut looks to a client.
          options.log?.({ at: new Date().toISOString(), service: service.name, method: request.method, operation, mutating, status: 0, fault });
          req.socket.destroy();
          return;
        }
        response = service.faultResponse(kind, rule.retryAfterSeconds);
        break;
      }

      if (!response) {
        try {
          response = await service.handle(request);
        } catch (error) {
          response = { status: 500, headers: { 'content-type': 'text/plain' }, body: `lab error: ${(error as Error).message}` };
        }
      }
      options.log?.({ at: new Date().toISOString(), service: service.name, method: request.method, operation, mutating, status: response.status, ...(fault ? { fault } : {}) });
      res.writeHead(response.status, response.headers ?? {});
      res.end(response.body ?? '');
    })();
  });

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
