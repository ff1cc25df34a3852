import type { Octokit } from '@octokit/rest';
import type { z } from 'zod';
import { createLabContext } from '../../src/lab/context.js';
import { createGitHubService, type GitHubLab } from '../../src/lab/github/index.js';
import { serveService, type ServedService } from '../../src/lab/http.js';
import type { GitHubWorld } from '../../src/lab/scenario.js';
import type { FaultRule, LabHttpRequest, LabRequest, LabService } from '../../src/lab/types.js';
import type { ApiCallRecord, ProviderConfig } from '../../src/providers/config.js';
import { createGitHubClients } from '../../src/providers/github.js';
import { githubOpenApi } from '../helpers/github-openapi.js';
import { testWorld } from '../fixtures/github-world.js';

/** A served GitHub lab with the real provider pointed at it, and everything the tests observe. */
export interface LabHarness {
  lab: GitHubLab;
  served: ServedService;
  github: Octokit;
  unauthenticated: Octokit;
  config: ProviderConfig;
  /** What onApiCall received. */
  calls: ApiCallRecord[];
  /** The host's request log (faults included). */
  log: LabRequest[];
  /** Headers of every request the emulator handled, in order. */
  requestHeaders: Array<Record<string, string>>;
  /** Every disagreement between an answer (or a request body) and GitHub's OpenAPI description. */
  fidelityErrors: string[];
  /** `METHOD /template status` of every answer checked against the description. */
  checked: Set<string>;
  close(): Promise<void>;
}

/**
 * Wraps the emulator so every JSON answer it gives, and every JSON request body it receives,
 * is validated against GitHub's OpenAPI description for the operation and status.
 */
function checkedService(lab: GitHubLab, fidelityErrors: string[], checked: Set<string>, requestHeaders: Array<Record<string, string>>): LabService {
  const spec = githubOpenApi();
  return {
    name: lab.name,
    operation: (request) => lab.operation(request),
    mutating: (request) => lab.mutating(request),
    faultResponse: (kind, retryAfter) => lab.faultResponse(kind, retryAfter),
    async handle(request: LabHttpRequest) {
      requestHeaders.push(request.headers);
      const response = await lab.handle(request);
      const operation = lab.operation(request);
      const [method, template] = operation.split(' ', 2) as [string, string];
      // The lab's own download routes and paths no route matched are not GitHub operations.
      if (!spec.has(method, template)) return response;
      // A body the lab accepted must be one GitHub documents (tests also send invalid ones on purpose: those must be refused).
      if (request.body.length > 0 && request.headers['content-type']?.includes('json') && response.status < 300) {
        fidelityErrors.push(...spec.requestBody(method, template, JSON.parse(request.body.toString('utf8'))).map((error) => `accepted invalid request: ${error}`));
      }
      const contentType = response.headers?.['content-type'] ?? '';
      const body = contentType.includes('json') && response.body ? JSON.parse(response.body.toString()) : undefined;
      // 401/403/404 error bodies are GitHub's basic-error even where an operation omits them.
      if (!spec.documents(method, template, response.status) && [401, 403, 404, 409, 422, 429].includes(response.status)) {
        const errors = spec.response('GET', '/repos/{owner}/{repo}', 404, body);
        fidelityErrors.push(...errors.map((error) => `${operation} ${response.status} (as basic-error): ${error}`));
      } else {
        fidelityErrors.push(...spec.response(method, template, response.status, body));
      }
      checked.add(`${operation} ${response.status}`);
      return response;
    },
  };
}

export async function startLab(
  options: { world?: z.input<typeof GitHubWorld>; faults?: FaultRule[]; random?: () => number; dryRun?: boolean; token?: string; requestTimeoutMs?: number; maxPrimaryWaitSeconds?: number; scenarioDir?: string } = {},
): Promise<LabHarness> {
  const ctx = createLabContext({ seed: 42, ...(options.scenarioDir ? { scenarioDir: options.scenarioDir } : {}) });
  const lab = createGitHubService(options.world ?? testWorld, ctx, { seed: 42 });
  const fidelityErrors: string[] = [];
  const checked = new Set<string>();
  const requestHeaders: Array<Record<string, string>> = [];
  const log: LabRequest[] = [];
  const served = await serveService(checkedService(lab, fidelityErrors, checked, requestHeaders), {
    faults: options.faults ?? [],
    ...(options.random ? { random: options.random } : {}),
    log: (entry) => log.push(entry),
  });
  const calls: ApiCallRecord[] = [];
  const config: ProviderConfig = {
    dryRun: options.dryRun ?? false,
    incident: 'IR-test',
    github: { apiUrl: served.url, token: options.token ?? lab.token, writeIntervalMs: 0, ...(options.requestTimeoutMs ? { requestTimeoutMs: options.requestTimeoutMs } : {}), ...(options.maxPrimaryWaitSeconds !== undefined ? { maxPrimaryWaitSeconds: options.maxPrimaryWaitSeconds } : {}) },
    aws: {},
    onApiCall: (call) => calls.push(call),
  };
  const clients = createGitHubClients(config);
  return {
    lab,
    served,
    github: await clients.github(),
    unauthenticated: clients.githubUnauthenticated(),
    config,
    calls,
    log,
    requestHeaders,
    fidelityErrors,
    checked,
    close: () => served.close(),
  };
}

/** The status of a rejected Octokit call (RequestError), or a thrown error when it resolved. */
export async function statusOf(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (typeof status === 'number') return status;
    throw error;
  }
  throw new Error('expected the call to fail');
}
