import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionDefinition } from '../../../src/actions/define.js';
import { actions } from '../../../src/actions/index.js';
import { DryRunViolation } from '../../../src/engine/errors.js';
import { Secret } from '../../../src/engine/secret.js';
import { testWorld } from '../../fixtures/github-world.js';
import { testContext } from '../../helpers/action-context.js';
import { startGitHubLab, type GitHubLabHarness } from './lab.js';

let harness: GitHubLabHarness;
let tokensFile: string;
beforeAll(async () => {
  harness = await startGitHubLab(testWorld);
  tokensFile = join(mkdtempSync(join(tmpdir(), 'cicd-ir-dry-')), 'tokens.txt');
  writeFileSync(tokensFile, `${testWorld.tokens![0]!.value}\n`);
});
afterAll(async () => {
  await harness.close();
});

/** A `with:` block per GitHub action that has something to change in the test world. */
const inputs: Record<string, () => Record<string, unknown>> = {
  'github.collect-evidence': () => ({ repo: 'acme/api', workflow: 'deploy.yml', since: new Date(Date.now() - 86_400_000).toISOString() }),
  'github.disable-workflow': () => ({ repo: 'acme/api', workflow: 'deploy.yml' }),
  'github.cancel-runs': () => ({ repo: 'acme/api', workflow: 'deploy.yml', poll_interval_ms: 0, poll_attempts: 1 }),
  'github.disable-actions': () => ({ repo: 'acme/api' }),
  'github.inventory': () => ({ repo: 'acme/api', workflow: 'deploy.yml' }),
  'github.find-workflow-uses': () => ({ org: 'acme', pattern: 'actions/checkout@*' }),
  'github.rotate-secret': () => ({ repo: 'acme/api', name: 'AWS_ROLE', value: new Secret('dry-run-new-value') }),
  'github.delete-secret': () => ({ repo: 'acme/api', name: 'SLACK_WEBHOOK' }),
  'github.delete-deploy-key': () => ({ repo: 'acme/api', id: 501 }),
  'github.revoke-tokens': () => ({ tokens_file: tokensFile }),
  'github.resolve-repos': () => ({ repos: ['ACME/api'] }),
};

/** Leak-triage actions need logs and caches this world lacks: their dry runs are in leak-triage.test.ts. */
const COVERED_IN_LEAK_TRIAGE = ['github.scan-run-logs', 'github.delete-run-logs', 'github.purge-caches', 'github.audit-runs'];
const githubActions = actions.filter((action) => action.id.startsWith('github.') && !COVERED_IN_LEAK_TRIAGE.includes(action.id));

describe('dry run against the lab', () => {
  it('has a dry-run input for every GitHub action in the registry', () => {
    expect(githubActions.map((a) => a.id).sort()).toEqual(Object.keys(inputs).sort());
  });

  for (const action of githubActions as ActionDefinition[]) {
    it(`${action.id}: plan makes no mutating request; a mutating apply is refused by the client`, async () => {
      // Given dry-run clients
      const ctx = testContext({ clients: harness.clients({ dryRun: true }), dryRun: true });
      const before = harness.requests.length;
      const input = action.schema.parse(inputs[action.id]!());
      // When planned
      const plan = await action.plan(ctx, input);
      // Then a mutating action has something to do, and read-only ones may run in a dry run
      if (action.mutating) {
        expect(plan.changes.length).toBeGreaterThan(0);
        // And if apply ran anyway, the provider's guard refuses the first write
        await expect(action.apply(ctx, input, plan)).rejects.toThrow(DryRunViolation);
      } else {
        await action.apply(ctx, input, plan);
      }
      // And the lab saw requests, none of them mutating
      const served = harness.requests.slice(before);
      expect(served.length).toBeGreaterThan(0);
      expect(served.filter((request) => request.mutating)).toEqual([]);
    });
  }
});
