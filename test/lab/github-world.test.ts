import { describe, expect, it } from 'vitest';
import { createLabContext } from '../../src/lab/context.js';
import { createGitHubService } from '../../src/lab/github/index.js';
import { Scenario } from '../../src/lab/scenario.js';
import { testWorld } from '../fixtures/github-world.js';

const ctx = () => createLabContext({ seed: 9 });

describe('GitHub lab world from a scenario', () => {
  it('derives the token, ids and box keys from the seed: the same seed replays, another differs', async () => {
    const a = createGitHubService(testWorld, ctx(), { seed: 1 });
    const b = createGitHubService(testWorld, ctx(), { seed: 1 });
    const c = createGitHubService(testWorld, ctx(), { seed: 2 });
    expect(a.token).toMatch(/^ghp_lab[A-Za-z0-9]{33}$/);
    expect(a.token).toBe(b.token);
    expect(c.token).not.toBe(a.token);
    expect(a.state.repo('acme/web').id).toBe(b.state.repo('acme/web').id);
    expect(await a.publicKey({ repo: 'acme/api' })).toEqual(await b.publicKey({ repo: 'acme/api' }));
    expect((await c.publicKey({ repo: 'acme/api' })).key).not.toBe((await a.publicKey({ repo: 'acme/api' })).key);
    // And the three scopes of one lab have three different keys
    const keys = [await a.publicKey({ repo: 'acme/api' }), await a.publicKey({ repo: 'acme/api', env: 'prod' }), await a.publicKey({ org: 'acme' })];
    expect(new Set(keys.map((key) => key.keyId)).size).toBe(3);
  });

  it('turns offsets into times relative to lab start, and orders run numbers by creation', () => {
    const context = ctx();
    const lab = createGitHubService(testWorld, context, { seed: 1 });
    const run = lab.state.run('acme/api', 9002);
    expect(run.createdAt.getTime()).toBe(context.startedAt.getTime() - 95 * 60_000);
    expect(run.jobs[0]!.completedAt!.getTime()).toBe(context.startedAt.getTime() - 90 * 60_000);
    expect(run.jobs[0]!.awsSession).toBe('leaked');
    expect(lab.state.repo('acme/api').runs.filter((candidate) => candidate.workflowId === 1001).map((candidate) => candidate.runNumber)).toEqual([1, 2, 3, 4, 5]);
  });

  it('keeps secret values only as Secret objects that print as fingerprints', () => {
    const lab = createGitHubService(testWorld, ctx(), { seed: 1 });
    const secret = lab.state.secret({ repo: 'acme/api', env: 'prod' }, 'prod_db_password')!;
    expect(secret.value.reveal()).toBe('prod-db-password-1');
    expect(`${secret.value}`).toBe(`[secret ${secret.fingerprint}]`);
    expect(JSON.stringify(lab.state.secret({ org: 'acme' }, 'NPM_TOKEN'))).not.toContain('npm_org_value_0001');
  });

  it('gives a run of an unlisted workflow file a workflow, as GitHub has one for every file that ran', () => {
    const lab = createGitHubService(
      { repos: [{ full_name: 'acme/x', runs: [{ id: 1, workflow: '.github/workflows/gone.yml', actor: 'a', head_sha: 'a'.repeat(40), created_at: '-1h' }] }] },
      ctx(),
      { seed: 1 },
    );
    expect(lab.state.workflow('acme/x', 'gone.yml').id).toBe(lab.state.run('acme/x', 1).workflowId);
  });

  it('rejects an org secret that selects a repository the scenario does not have', () => {
    expect(() =>
      createGitHubService({ orgs: [{ login: 'acme', secrets: [{ name: 'S', value: 'v', visibility: 'selected', selected_repositories: ['acme/ghost'] }] }] }, ctx()),
    ).toThrow(/unknown repository acme\/ghost/);
  });

  it('is part of the strict scenario schema: a typo in the GitHub part is refused', () => {
    const base = { name: 'n', description: 'd', github: testWorld };
    expect(Scenario.safeParse(base).success).toBe(true);
    expect(Scenario.safeParse({ ...base, github: { ...testWorld, repos: [{ full_name: 'acme/x', workflow: [] }] } }).success).toBe(false);
    expect(Scenario.safeParse({ ...base, github: { ...testWorld, apps: [{ id: 1, installation_id: 2, public_key: 'not a key' }] } }).success).toBe(false);
  });

  it('answers without HTTP for attacker steps, with the same statuses', async () => {
    const lab = createGitHubService(testWorld, ctx(), { seed: 1 });
    expect((await lab.callAs(lab.token, 'GET /repos/acme/api/actions/workflows/deploy.yml')).status).toBe(200);
    expect((await lab.callAs(undefined, 'GET /repos/acme/api')).status).toBe(401);
    expect((await lab.callAs(lab.token, 'GET /repos/acme/api/contents/%E0%A4%A')).status).toBe(404);
    expect((await lab.callAs(lab.token, 'PUT /repos/acme/api/actions/permissions', { enabled: false })).status).toBe(204);
    expect(lab.state.repo('acme/api').actionsEnabled).toBe(false);
  });
});
