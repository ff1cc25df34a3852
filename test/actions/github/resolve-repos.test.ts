import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import huntCloudtrail from '../../../src/actions/aws/hunt-cloudtrail.js';
import { resolveRepos } from '../../../src/actions/github/resolve-repos.js';
import { testWorld } from '../../fixtures/github-world.js';
import { testContext } from '../../helpers/action-context.js';
import { startGitHubLab, type GitHubLabHarness } from './lab.js';

let harness: GitHubLabHarness;
beforeEach(async () => {
  harness = await startGitHubLab(testWorld);
});
afterEach(async () => {
  await harness.close();
});

async function run(repos: string[]) {
  const ctx = testContext({ clients: harness.clients() });
  const input = resolveRepos.schema.parse({ repos });
  const plan = await resolveRepos.plan(ctx, input);
  const result = await resolveRepos.apply(ctx, input, plan);
  return { ctx, plan, result, verify: await resolveRepos.verify(ctx, input, result) };
}

describe('github.resolve-repos', () => {
  it("gives GitHub's spelling of a name typed in another case, with the immutable ids, reading only", async () => {
    // Given acme/api typed as ACME/Api, and acme/api again
    const { ctx, plan, result, verify } = await run(['ACME/Api', 'acme/api']);
    // Then the output is GitHub's full_name once, the difference is named and logged
    expect(result.outputs['repos']).toEqual(['acme/api']);
    expect(result.outputs['changed']).toEqual([{ given: 'ACME/Api', full_name: 'acme/api' }]);
    expect(result.outputs['ids']).toEqual([{ full_name: 'acme/api', owner_id: expect.any(Number), repo_id: expect.any(Number) }]);
    expect(ctx.logs.map((log) => log.message)).toContain("repository ACME/Api is acme/api on GitHub: subjects and trust use GitHub's spelling");
    expect(verify).toEqual({ verified: true, detail: 'acme/api (1 spelled differently by GitHub)' });
    // And it only read: GET /repos per name, planned as such
    expect(plan.calls.every((call) => !call.mutating)).toBe(true);
    expect(harness.requests.filter((r) => r.mutating)).toEqual([]);
    expect(result.changed).toBe(false);
  });

  it('fails loudly for a repository GitHub does not know', async () => {
    // When a name that does not exist is resolved / Then the step fails, naming it
    await expect(run(['acme/nope'])).rejects.toThrow(/repository acme\/nope not found/);
  });
});

describe('aws.hunt-cloudtrail with nothing printed', () => {
  it('accepts empty identity lists (the playbook hunt runs when no log printed anything)', () => {
    // Given the lists contain builds when no log printed a key and the secrets held none
    const parsed = huntCloudtrail.schema.safeParse({ oidc_subjects: [], role_arns: [], access_key_ids: [], since: '2026-11-20T12:00:00Z' });
    // Then the input is valid
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
  });
});
