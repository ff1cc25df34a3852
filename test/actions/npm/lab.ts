import type { z } from 'zod';
import type { Clients } from '../../../src/engine/context.js';
import { createLabContext } from '../../../src/lab/context.js';
import { createGitHubService, type GitHubLab } from '../../../src/lab/github/index.js';
import { serveService } from '../../../src/lab/http.js';
import { createNpmService, type NpmLab } from '../../../src/lab/npm/index.js';
import type { GitHubWorld, NpmWorld } from '../../../src/lab/scenario.js';
import type { LabRequest } from '../../../src/lab/types.js';
import type { ApiCallRecord, ProviderConfig } from '../../../src/providers/config.js';
import { createClients } from '../../../src/providers/index.js';

/** The lab's npm registry and GitHub on loopback ports, with the real clients pointed at them. */
export interface NpmLabHarness {
  npm: NpmLab;
  github: GitHubLab;
  /** Every request either lab served, in order. */
  requests: LabRequest[];
  /** Every call the clients journalled. */
  apiCalls: ApiCallRecord[];
  clients(options?: { dryRun?: boolean }): Clients;
  close(): Promise<void>;
}

export async function startNpmLab(npmWorld: z.input<typeof NpmWorld>, githubWorld: z.input<typeof GitHubWorld> = {}): Promise<NpmLabHarness> {
  const ctx = createLabContext({ seed: 3 });
  const npm = createNpmService(npmWorld, ctx);
  const github = createGitHubService(githubWorld, ctx, { seed: 3 });
  const requests: LabRequest[] = [];
  const apiCalls: ApiCallRecord[] = [];
  const servedNpm = await serveService(npm, { log: (entry) => requests.push(entry), startedAt: ctx.startedAt });
  const servedGitHub = await serveService(github, { log: (entry) => requests.push(entry), startedAt: ctx.startedAt });
  return {
    npm,
    github,
    requests,
    apiCalls,
    clients: ({ dryRun = false } = {}) => {
      const config: ProviderConfig = {
        dryRun,
        incident: 'test-incident',
        github: { apiUrl: servedGitHub.url, token: github.token, writeIntervalMs: 0 },
        aws: {},
        npm: { registryUrl: servedNpm.url, token: npm.token },
        onApiCall: (call) => apiCalls.push(call),
      };
      return createClients(config);
    },
    close: async () => {
      await servedNpm.close();
      await servedGitHub.close();
    },
  };
}
