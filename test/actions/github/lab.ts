import type { z } from 'zod';
import type { Clients } from '../../../src/engine/context.js';
import { createLabContext } from '../../../src/lab/context.js';
import { createGitHubService, type GitHubLab } from '../../../src/lab/github/index.js';
import { serveService } from '../../../src/lab/http.js';
import type { GitHubWorld } from '../../../src/lab/scenario.js';
import type { LabRequest } from '../../../src/lab/types.js';
import type { ProviderConfig } from '../../../src/providers/config.js';
import { createClients } from '../../../src/providers/index.js';

/** A GitHub lab on a loopback port, with the real clients pointed at it. */
export interface GitHubLabHarness {
  lab: GitHubLab;
  url: string;
  /** Every request the lab served, in order. */
  requests: LabRequest[];
  clients(options?: { dryRun?: boolean }): Clients;
  close(): Promise<void>;
}

export async function startGitHubLab(world: z.input<typeof GitHubWorld>): Promise<GitHubLabHarness> {
  const ctx = createLabContext({ seed: 7 });
  const lab = createGitHubService(world, ctx, { seed: 7 });
  const requests: LabRequest[] = [];
  const served = await serveService(lab, { log: (entry) => requests.push(entry), startedAt: ctx.startedAt });
  return {
    lab,
    url: served.url,
    requests,
    clients: ({ dryRun = false } = {}) => {
      const config: ProviderConfig = {
        dryRun,
        incident: 'test-incident',
        // Writes unpaced: the lab has no secondary rate limit to respect.
        github: { apiUrl: served.url, token: lab.token, writeIntervalMs: 0 },
        aws: {},
      };
      return createClients(config);
    },
    close: () => served.close(),
  };
}
