import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineAction } from '../../src/actions/define.js';
import type { Clients } from '../../src/engine/context.js';
import { ApiCallRelay, runPlaybook } from '../../src/engine/execute.js';
import { readJournal } from '../../src/engine/journal.js';
import type { ProviderConfig } from '../../src/providers/config.js';
import { playbook } from './fixtures/fake-actions.js';

let out: string;
beforeEach(() => {
  out = mkdtempSync(join(tmpdir(), 'cicd-ir-dry-'));
});
afterEach(() => rmSync(out, { recursive: true, force: true }));

/**
 * Clients whose only "API" reports each call through ProviderConfig.onApiCall, as the real
 * provider hooks do, and refuses mutating calls in dry run (the second safety net).
 */
function fakeClients(config: ProviderConfig): Clients & { call(operation: string, mutating: boolean): Promise<void> } {
  return {
    config,
    async call(operation: string, mutating: boolean) {
      await new Promise((resolve) => setImmediate(resolve)); // the hook fires after an await, like HTTP
      if (mutating && config.dryRun) throw new Error(`dry run refused ${operation}`);
      config.onApiCall?.({ service: 'github', operation, mutating, status: 200, durationMs: 1 });
    },
    github: () => Promise.reject(new Error('unused')),
    githubUnauthenticated: () => {
      throw new Error('unused');
    },
    iam: () => {
      throw new Error('unused');
    },
    sts: () => {
      throw new Error('unused');
    },
    cloudtrail: () => {
      throw new Error('unused');
    },
  };
}

const disable = defineAction({
  id: 'fake.disable-workflow',
  summary: 'reads the workflow in plan, disables it in apply',
  schema: z.strictObject({ repo: z.string() }),
  permissions: ['github:actions:write'],
  mutating: true,
  outputs: {},
  example: { repo: 'acme/web' },
  async plan(ctx, input) {
    await (ctx.clients as ReturnType<typeof fakeClients>).call(`GET /repos/${input.repo}/actions/workflows/deploy.yml`, false);
    return { changes: [], calls: [{ service: 'github', operation: 'PUT /repos/{repo}/actions/workflows/deploy.yml/disable', params: { repo: input.repo }, mutating: true }] };
  },
  async apply(ctx, input) {
    await (ctx.clients as ReturnType<typeof fakeClients>).call(`PUT /repos/${input.repo}/actions/workflows/deploy.yml/disable`, true);
    return { changed: true, outputs: {} };
  },
  async verify() {
    return { verified: true, detail: 'disabled' };
  },
});

describe('dry run', () => {
  for (const dryRun of [true, false]) {
    it(`${dryRun ? 'makes only read calls' : 'makes the mutating calls too'}, each journalled under its step key`, async () => {
      // Given clients wired to the engine through an ApiCallRelay, and a fan-out over two repos
      const relay = new ApiCallRelay();
      const clients = fakeClients({ dryRun, incident: 'IR', github: {}, aws: {}, onApiCall: relay.onApiCall });
      const book = playbook([{ id: 'disable', uses: 'fake.disable-workflow', for_each: ['acme/web', 'acme/api'], with: { repo: '${{ item }}' } }]);
      // When it runs
      const result = await runPlaybook({ playbook: book, inputs: {}, clients, dryRun, incident: 'IR', outDir: out, registry: [disable], apiCalls: relay });
      // Then the journal's api-call records are the reads (and, for real, the writes), attributed per key
      const calls = readJournal(join(result.runDir, 'journal.jsonl')).records.flatMap((r) => (r.type === 'api-call' ? [[r.step, r.operation, r.mutating]] : []));
      const reads = [
        ['disable[0]', 'GET /repos/acme/web/actions/workflows/deploy.yml', false],
        ['disable[1]', 'GET /repos/acme/api/actions/workflows/deploy.yml', false],
      ];
      const writes = [
        ['disable[0]', 'PUT /repos/acme/web/actions/workflows/deploy.yml/disable', true],
        ['disable[1]', 'PUT /repos/acme/api/actions/workflows/deploy.yml/disable', true],
      ];
      expect(calls).toEqual(expect.arrayContaining(dryRun ? reads : [...reads, ...writes]));
      expect(calls).toHaveLength(dryRun ? 2 : 4);
      expect(result.status).toBe(dryRun ? 'planned' : 'succeeded');
    });
  }
});
