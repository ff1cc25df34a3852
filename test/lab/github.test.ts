import sodium from 'libsodium-wrappers';
import { unzipSync, strFromU8 } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Octokit } from '@octokit/rest';
import { fingerprint } from '../../src/engine/secret.js';
import { startLab, statusOf, type LabHarness } from './github-harness.js';

/** Seals `value` for a public key the way GitHub's docs do it (libsodium-wrappers, base64 original). */
async function seal(value: string, key: string): Promise<string> {
  await sodium.ready;
  const sealed = sodium.crypto_box_seal(sodium.from_string(value), sodium.from_base64(key, sodium.base64_variants.ORIGINAL));
  return sodium.to_base64(sealed, sodium.base64_variants.ORIGINAL);
}

const repo = { owner: 'acme', repo: 'api' };

describe('GitHub lab, driven by the real provider', () => {
  let h: LabHarness;
  let gh: Octokit;

  beforeAll(async () => {
    h = await startLab();
    gh = h.github;
  });

  afterAll(async () => {
    // Then every answer the emulator gave (and every JSON body it got) matches GitHub's OpenAPI description.
    expect(h.fidelityErrors).toEqual([]);
    await h.close();
  });

  describe('workflows', () => {
    it('lists, and gets by id or by file name but not by full path', async () => {
      // Given the scenario's two workflows of acme/api
      // When they are listed and fetched
      const list = await gh.rest.actions.listRepoWorkflows(repo);
      const byId = await gh.rest.actions.getWorkflow({ ...repo, workflow_id: 1001 });
      const byFile = await gh.rest.actions.getWorkflow({ ...repo, workflow_id: 'deploy.yml' });
      // Then names come from the YAML (`name:`) or the path, and both lookups find the same workflow
      expect(list.data.total_count).toBe(2);
      expect(list.data.workflows.map((w) => [w.id, w.name, w.state])).toEqual([
        [1001, 'Deploy', 'active'],
        [1002, '.github/workflows/ci.yml', 'active'],
      ]);
      expect(byFile.data.id).toBe(1001);
      expect(byId.data.path).toBe('.github/workflows/deploy.yml');
      // And GitHub does not accept the full path as workflow_id
      expect(await statusOf(gh.rest.actions.getWorkflow({ ...repo, workflow_id: '.github/workflows/deploy.yml' }))).toBe(404);
    });

    it('dispatches a run only for an enabled workflow that declares workflow_dispatch, on a known ref', async () => {
      // Given deploy.yml without a workflow_dispatch trigger, and a dispatchable copy in acme/web
      expect(await statusOf(gh.rest.actions.createWorkflowDispatch({ ...repo, workflow_id: 'deploy.yml', ref: 'main' }))).toBe(422);
      const web = h.lab.state.repo('acme/web');
      web.files.set('.github/workflows/pages.yml', 'name: Pages\non:\n  workflow_dispatch:\n  push:\n');
      // When it is dispatched with run details
      const dispatched = await gh.rest.actions.createWorkflowDispatch({ owner: 'acme', repo: 'web', workflow_id: 'pages.yml', ref: 'main', return_run_details: true });
      // Then a queued workflow_dispatch run by the token's owner exists
      expect(dispatched.status).toBe(200);
      const run = (await gh.rest.actions.getWorkflowRun({ owner: 'acme', repo: 'web', run_id: (dispatched.data as { workflow_run_id: number }).workflow_run_id })).data;
      expect([run.event, run.status, run.actor?.login, run.run_number]).toEqual(['workflow_dispatch', 'queued', h.lab.user, 1]);
      // And an unknown ref, or a disabled workflow, is refused
      expect(await statusOf(gh.rest.actions.createWorkflowDispatch({ owner: 'acme', repo: 'web', workflow_id: 'pages.yml', ref: 'nope' }))).toBe(422);
      await gh.rest.actions.disableWorkflow({ owner: 'acme', repo: 'web', workflow_id: 'pages.yml' });
      const refused = await gh.rest.actions.createWorkflowDispatch({ owner: 'acme', repo: 'web', workflow_id: 'pages.yml', ref: 'main' }).catch((e: Error) => e);
      expect((refused as Error).message).toContain("Cannot trigger a 'workflow_dispatch' on a disabled workflow");
      await gh.rest.actions.enableWorkflow({ owner: 'acme', repo: 'web', workflow_id: 'pages.yml' });
      expect(web.runs).toHaveLength(1);
    });

    it('disables and enables, answering 204 each time; disabling twice is not an error', async () => {
      // When the deploy workflow is disabled twice
      const first = await gh.rest.actions.disableWorkflow({ ...repo, workflow_id: 'deploy.yml' });
      await gh.rest.actions.disableWorkflow({ ...repo, workflow_id: 1001 });
      // Then it is disabled_manually, in the lab state and through the API
      expect(first.status).toBe(204);
      expect(h.lab.state.workflow('acme/api', 1001).state).toBe('disabled_manually');
      expect((await gh.rest.actions.getWorkflow({ ...repo, workflow_id: 1001 })).data.state).toBe('disabled_manually');
      // When it is enabled again
      await gh.rest.actions.enableWorkflow({ ...repo, workflow_id: 1001 });
      // Then it is active
      expect(h.lab.state.workflow('acme/api', 'deploy.yml').state).toBe('active');
      expect(await statusOf(gh.rest.actions.disableWorkflow({ ...repo, workflow_id: 'nope.yml' }))).toBe(404);
    });
  });

  describe('runs', () => {
    it('lists runs newest first with Link headers across pages, and paginate() walks them all', async () => {
      // Given 5 runs of deploy.yml
      // When the first page of 2 is requested
      const first = await gh.rest.actions.listWorkflowRuns({ ...repo, workflow_id: 'deploy.yml', per_page: 2 });
      // Then it holds the two newest and links to the next and last pages
      expect(first.data.total_count).toBe(5);
      expect(first.data.workflow_runs.map((run) => run.id)).toEqual([9005, 9004]);
      expect(first.headers.link).toContain('rel="next"');
      expect(first.headers.link).toMatch(/page=3>; rel="last"/);
      // And the last page links back
      const last = await gh.rest.actions.listWorkflowRuns({ ...repo, workflow_id: 'deploy.yml', per_page: 2, page: 3 });
      expect(last.data.workflow_runs.map((run) => run.id)).toEqual([9001]);
      expect(last.headers.link).toContain('rel="prev"');
      expect(last.headers.link).toContain('rel="first"');
      expect(last.headers.link).not.toContain('rel="next"');
      // When paginate() follows the links
      const all = await gh.paginate(gh.rest.actions.listWorkflowRuns, { ...repo, workflow_id: 1001, per_page: 2 });
      // Then it collects every run once
      expect(all.map((run) => run.id)).toEqual([9005, 9004, 9003, 9002, 9001]);
      // And run numbers count per workflow, oldest first
      expect(all.find((run) => run.id === 9001)?.run_number).toBe(1);
      expect(all.find((run) => run.id === 9005)?.run_number).toBe(5);
    });

    it('filters by status or conclusion, created range, head_sha, event and actor', async () => {
      const ids = async (params: Record<string, string>) =>
        (await gh.rest.actions.listWorkflowRunsForRepo({ ...repo, ...params })).data.workflow_runs.map((run) => run.id);
      const since = new Date(h.lab.state.run('acme/api', 9002).createdAt.getTime()).toISOString();
      expect(await ids({ status: 'in_progress' })).toEqual([9004, 9003]);
      expect(await ids({ status: 'queued' })).toEqual([9005]);
      // A conclusion is accepted as `status` too
      expect(await ids({ status: 'success' })).toEqual([9002, 9001, 9006]);
      expect(await ids({ created: `>=${since}` })).toEqual([9005, 9004, 9003, 9002]);
      expect(await ids({ created: `${new Date(Date.now() - 3 * 86_400_000).toISOString()}..${since}` })).toEqual([9002, 9001, 9006]);
      expect(await ids({ head_sha: 'b'.repeat(40) })).toEqual([9002]);
      expect(await ids({ event: 'pull_request_target' })).toEqual([9002]);
      expect(await ids({ actor: 'mallory', status: 'in_progress' })).toEqual([9004, 9003]);
      // A created filter GitHub cannot read is a validation error
      expect(await statusOf(gh.rest.actions.listWorkflowRunsForRepo({ ...repo, created: 'yesterday' }))).toBe(422);
    });

    it('gets a run and its jobs with completed_at', async () => {
      const run = await gh.rest.actions.getWorkflowRun({ ...repo, run_id: 9002 });
      const jobs = await gh.rest.actions.listJobsForWorkflowRun({ ...repo, run_id: 9002 });
      const job = jobs.data.jobs[0]!;
      expect(run.data.actor?.login).toBe('mallory');
      expect(run.data.event).toBe('pull_request_target');
      expect(run.data.head_sha).toBe('b'.repeat(40));
      expect(job.completed_at).toBe(h.lab.state.run('acme/api', 9002).jobs[0]!.completedAt!.toISOString().replace(/\.\d{3}Z$/, 'Z'));
      expect((await gh.rest.actions.getJobForWorkflowRun({ ...repo, job_id: job.id })).data.name).toBe('deploy');
      expect(await statusOf(gh.rest.actions.getWorkflowRun({ ...repo, run_id: 1 }))).toBe(404);
    });

    it('cancels: 202, the run ends cancelled, a completed run answers 409', async () => {
      // When the in-progress run 9003 is cancelled
      const cancelled = await gh.rest.actions.cancelWorkflowRun({ ...repo, run_id: 9003 });
      // Then it is completed/cancelled and its unfinished job got a completed_at
      expect(cancelled.status).toBe(202);
      const run = (await gh.rest.actions.getWorkflowRun({ ...repo, run_id: 9003 })).data;
      expect([run.status, run.conclusion]).toEqual(['completed', 'cancelled']);
      const jobs = (await gh.rest.actions.listJobsForWorkflowRun({ ...repo, run_id: 9003 })).data.jobs;
      expect(jobs[0]!.completed_at).not.toBeNull();
      // When it is cancelled again
      // Then GitHub's 409 comes back
      expect(await statusOf(gh.rest.actions.cancelWorkflowRun({ ...repo, run_id: 9003 }))).toBe(409);
      expect(await statusOf(gh.rest.actions.forceCancelWorkflowRun({ ...repo, run_id: 9001 }))).toBe(409);
    });

    it('a run that ignores cancel stays in progress until force-cancel', async () => {
      // When run 9004 (ignores_cancel) is cancelled
      expect((await gh.rest.actions.cancelWorkflowRun({ ...repo, run_id: 9004 })).status).toBe(202);
      // Then it is still in progress
      expect((await gh.rest.actions.getWorkflowRun({ ...repo, run_id: 9004 })).data.status).toBe('in_progress');
      expect(h.lab.state.run('acme/api', 9004).cancelRequested).toBe(true);
      // When it is force-cancelled
      expect((await gh.rest.actions.forceCancelWorkflowRun({ ...repo, run_id: 9004 })).status).toBe(202);
      // Then it ended, by force
      const state = h.lab.state.run('acme/api', 9004);
      expect([state.status, state.conclusion, state.endedBy]).toEqual(['completed', 'cancelled', 'force-cancel']);
    });

    it('serves run logs as a zip through a 302 to a lab download URL', async () => {
      // When the logs of run 9001 are downloaded (Octokit follows the redirect)
      const logs = await gh.rest.actions.downloadWorkflowRunLogs({ ...repo, run_id: 9001 });
      // Then the archive holds the scenario's log text per job
      const files = unzipSync(new Uint8Array(logs.data as ArrayBuffer));
      expect(Object.keys(files)).toEqual(['0_deploy.txt']);
      expect(strFromU8(files['0_deploy.txt']!)).toContain('Assumed role deploy');
      // And the redirect was served as GitHub does, then the download
      expect(h.log.filter((entry) => entry.operation.includes('logs')).map((entry) => [entry.operation, entry.status])).toEqual([
        ['GET /repos/{owner}/{repo}/actions/runs/{run_id}/logs', 302],
        ['GET /_lab/logs/{owner}/{repo}/{run_file}', 200],
      ]);
      // A run with no logs behaves like expired logs
      expect(await statusOf(gh.rest.actions.downloadWorkflowRunLogs({ ...repo, run_id: 9002 }))).toBe(404);
    });
  });

  describe('secrets', () => {
    it('lists repo secrets (never values) and serves the public key', async () => {
      const list = await gh.rest.actions.listRepoSecrets(repo);
      expect(list.data.secrets.map((secret) => secret.name)).toEqual(['AWS_ROLE', 'SLACK_WEBHOOK']);
      expect(JSON.stringify(list.data)).not.toContain('arn:aws:iam');
      const key = await gh.rest.actions.getRepoPublicKey(repo);
      expect(key.data.key_id).toMatch(/^\d{18,19}$/);
      expect(sodium.from_base64(key.data.key, sodium.base64_variants.ORIGINAL)).toHaveLength(32);
      expect(await statusOf(gh.rest.actions.getRepoSecret({ ...repo, secret_name: 'NOPE' }))).toBe(404);
    });

    it('opens a sealed box put with the right key and records the plaintext fingerprint; 201 new, 204 update', async () => {
      // Given the repo public key
      const key = (await gh.rest.actions.getRepoPublicKey(repo)).data;
      // When a new secret is put, then an existing one is updated
      const created = await gh.rest.actions.createOrUpdateRepoSecret({ ...repo, secret_name: 'NEW_TOKEN', encrypted_value: await seal('rotated-value-1', key.key), key_id: key.key_id });
      const updated = await gh.rest.actions.createOrUpdateRepoSecret({ ...repo, secret_name: 'AWS_ROLE', encrypted_value: await seal('arn:aws:iam::123456789012:role/deploy-v2', key.key), key_id: key.key_id });
      // Then the lab decrypted both: the fingerprints are those of the plaintexts
      expect([created.status, updated.status]).toEqual([201, 204]);
      expect(h.lab.state.secret({ repo: 'acme/api' }, 'NEW_TOKEN')?.fingerprint).toBe(fingerprint('rotated-value-1'));
      expect(h.lab.state.secret({ repo: 'acme/api' }, 'AWS_ROLE')?.fingerprint).toBe(fingerprint('arn:aws:iam::123456789012:role/deploy-v2'));
      // And the value never prints from the state
      expect(JSON.stringify(h.lab.state.secret({ repo: 'acme/api' }, 'NEW_TOKEN'))).not.toContain('rotated-value-1');
    });

    it('answers 422 for a stale key_id, a box sealed for another key, and a reserved name', async () => {
      const key = (await gh.rest.actions.getRepoPublicKey(repo)).data;
      const otherKey = (await gh.rest.actions.getRepoPublicKey({ owner: 'acme', repo: 'web' })).data;
      expect(otherKey.key).not.toBe(key.key);
      expect(await statusOf(gh.rest.actions.createOrUpdateRepoSecret({ ...repo, secret_name: 'X', encrypted_value: await seal('v', key.key), key_id: otherKey.key_id }))).toBe(422);
      expect(await statusOf(gh.rest.actions.createOrUpdateRepoSecret({ ...repo, secret_name: 'X', encrypted_value: await seal('v', otherKey.key), key_id: key.key_id }))).toBe(422);
      expect(await statusOf(gh.rest.actions.createOrUpdateRepoSecret({ ...repo, secret_name: 'GITHUB_X', encrypted_value: await seal('v', key.key), key_id: key.key_id }))).toBe(422);
      expect(h.lab.state.secret({ repo: 'acme/api' }, 'X')).toBeUndefined();
    });

    it('deletes a repo secret: 204, then 404', async () => {
      expect((await gh.rest.actions.deleteRepoSecret({ ...repo, secret_name: 'SLACK_WEBHOOK' })).status).toBe(204);
      expect(h.lab.state.secret({ repo: 'acme/api' }, 'SLACK_WEBHOOK')).toBeUndefined();
      expect(await statusOf(gh.rest.actions.deleteRepoSecret({ ...repo, secret_name: 'SLACK_WEBHOOK' }))).toBe(404);
    });

    it('serves environments and environment secrets under /repos/{o}/{r}/environments/{env}', async () => {
      const envs = await gh.rest.repos.getAllEnvironments(repo);
      expect(envs.data.environments?.map((env) => env.name)).toEqual(['prod', 'staging']);
      expect((await gh.rest.repos.getEnvironment({ ...repo, environment_name: 'prod' })).data.name).toBe('prod');
      const secrets = await gh.rest.actions.listEnvironmentSecrets({ ...repo, environment_name: 'prod' });
      expect(secrets.data.secrets.map((secret) => secret.name)).toEqual(['PROD_DB_PASSWORD']);
      const key = (await gh.rest.actions.getEnvironmentPublicKey({ ...repo, environment_name: 'prod' })).data;
      const repoKey = (await gh.rest.actions.getRepoPublicKey(repo)).data;
      expect(key.key_id).not.toBe(repoKey.key_id);
      await gh.rest.actions.createOrUpdateEnvironmentSecret({ ...repo, environment_name: 'prod', secret_name: 'PROD_DB_PASSWORD', encrypted_value: await seal('prod-db-password-2', key.key), key_id: key.key_id });
      expect(h.lab.state.secret({ repo: 'acme/api', env: 'prod' }, 'PROD_DB_PASSWORD')?.fingerprint).toBe(fingerprint('prod-db-password-2'));
      expect((await gh.rest.actions.getEnvironmentSecret({ ...repo, environment_name: 'prod', secret_name: 'PROD_DB_PASSWORD' })).data.name).toBe('PROD_DB_PASSWORD');
      await gh.rest.actions.deleteEnvironmentSecret({ ...repo, environment_name: 'prod', secret_name: 'PROD_DB_PASSWORD' });
      expect(h.lab.state.secret({ repo: 'acme/api', env: 'prod' }, 'PROD_DB_PASSWORD')).toBeUndefined();
      expect(await statusOf(gh.rest.actions.listEnvironmentSecrets({ ...repo, environment_name: 'nope' }))).toBe(404);
    });

    it('serves org secrets with visibility, their selected repositories, and which ones a repo sees', async () => {
      const list = await gh.rest.actions.listOrgSecrets({ org: 'acme' });
      expect(list.data.secrets.map((secret) => [secret.name, secret.visibility])).toEqual([
        ['DEPLOY_ONLY', 'selected'],
        ['NPM_TOKEN', 'all'],
        ['PRIVATE_ONLY', 'private'],
      ]);
      const selected = await gh.rest.actions.listSelectedReposForOrgSecret({ org: 'acme', secret_name: 'DEPLOY_ONLY' });
      expect(selected.data.repositories.map((r) => r.full_name)).toEqual(['acme/api']);
      // acme/api is private and selected: it sees all three; acme/web (public) sees only `all`
      const seenByApi = await gh.rest.actions.listRepoOrganizationSecrets(repo);
      const seenByWeb = await gh.rest.actions.listRepoOrganizationSecrets({ owner: 'acme', repo: 'web' });
      expect(seenByApi.data.secrets.map((secret) => secret.name)).toEqual(['DEPLOY_ONLY', 'NPM_TOKEN', 'PRIVATE_ONLY']);
      expect(seenByWeb.data.secrets.map((secret) => secret.name)).toEqual(['NPM_TOKEN']);
      // When the org secret is rotated, keeping its visibility
      const key = (await gh.rest.actions.getOrgPublicKey({ org: 'acme' })).data;
      const put = await gh.rest.actions.createOrUpdateOrgSecret({ org: 'acme', secret_name: 'NPM_TOKEN', encrypted_value: await seal('npm_rotated_value', key.key), key_id: key.key_id, visibility: 'all' });
      expect(put.status).toBe(204);
      const state = h.lab.state.secret({ org: 'acme' }, 'NPM_TOKEN');
      expect(state?.fingerprint).toBe(fingerprint('npm_rotated_value'));
      expect((await gh.rest.actions.getOrgSecret({ org: 'acme', secret_name: 'NPM_TOKEN' })).data.visibility).toBe('all');
      // A visibility outside all|private|selected is refused
      expect(await statusOf(gh.rest.actions.createOrUpdateOrgSecret({ org: 'acme', secret_name: 'NPM_TOKEN', encrypted_value: await seal('x', key.key), key_id: key.key_id, visibility: 'public' as 'all' }))).toBe(422);
      await gh.rest.actions.deleteOrgSecret({ org: 'acme', secret_name: 'PRIVATE_ONLY' });
      expect(h.lab.state.secret({ org: 'acme' }, 'PRIVATE_ONLY')).toBeUndefined();
      expect(await statusOf(gh.rest.actions.listOrgSecrets({ org: 'nobody' }))).toBe(404);
    });
  });

  describe('repository settings, keys, contents', () => {
    it('turns Actions off for a repo and back on', async () => {
      expect((await gh.rest.actions.getGithubActionsPermissionsRepository(repo)).data.enabled).toBe(true);
      await gh.rest.actions.setGithubActionsPermissionsRepository({ ...repo, enabled: false });
      expect(h.lab.state.repo('acme/api').actionsEnabled).toBe(false);
      expect((await gh.rest.actions.getGithubActionsPermissionsRepository(repo)).data).toEqual({ enabled: false });
      await gh.rest.actions.setGithubActionsPermissionsRepository({ ...repo, enabled: true });
      expect(h.lab.state.repo('acme/api').actionsEnabled).toBe(true);
      // `enabled` is required
      expect(await statusOf(gh.request('PUT /repos/{owner}/{repo}/actions/permissions', { ...repo, allowed_actions: 'all' } as never))).toBe(422);
    });

    it('serves the OIDC sub customization, with the immutable subject prefix where the repo opted in', async () => {
      // Given acme/api on the default template and acme/web opted in to immutable subjects
      const api = await gh.rest.actions.getCustomOidcSubClaimForRepo(repo);
      const web = await gh.rest.actions.getCustomOidcSubClaimForRepo({ owner: 'acme', repo: 'web' });
      // Then their sub prefixes differ in form
      expect(api.data).toMatchObject({ use_default: true, sub_claim_prefix: 'repo:acme/api' });
      const webState = h.lab.state.repo('acme/web');
      expect(web.data.sub_claim_prefix).toBe(`repo:acme@${h.lab.state.orgs.get('acme')!.id}/web@${webState.id}`);
      // When a custom template is set
      const put = await gh.rest.actions.setCustomOidcSubClaimForRepo({ ...repo, use_default: false, include_claim_keys: ['repo', 'context', 'job_workflow_ref'] });
      // Then it is read back
      expect(put.status).toBe(201);
      expect((await gh.rest.actions.getCustomOidcSubClaimForRepo(repo)).data).toMatchObject({ use_default: false, include_claim_keys: ['repo', 'context', 'job_workflow_ref'] });
      expect(await statusOf(gh.rest.actions.setCustomOidcSubClaimForRepo({ ...repo, use_default: false, include_claim_keys: ['no-dashes'] }))).toBe(422);
    });

    it('reports the rate budget the lab counts for the token, without counting the check itself', async () => {
      const first = (await gh.rest.rateLimit.get()).data.resources.core;
      const second = (await gh.rest.rateLimit.get()).data.resources.core;
      expect(first.used).toBeGreaterThan(10);
      expect(second.used).toBe(first.used);
      expect(first.remaining).toBe(first.limit - first.used);
    });

    it('lists and deletes deploy keys; the lab remembers what was deleted', async () => {
      const keys = await gh.rest.repos.listDeployKeys(repo);
      expect(keys.data.map((key) => [key.id, key.read_only])).toEqual([
        [501, false],
        [502, true],
      ]);
      expect((await gh.rest.repos.deleteDeployKey({ ...repo, key_id: 501 })).status).toBe(204);
      expect(h.lab.state.repo('acme/api').deletedDeployKeys.map((key) => key.id)).toEqual([501]);
      expect((await gh.rest.repos.listDeployKeys(repo)).data.map((key) => key.id)).toEqual([502]);
      expect(await statusOf(gh.rest.repos.deleteDeployKey({ ...repo, key_id: 501 }))).toBe(404);
    });

    it('serves workflow files and other files base64-encoded, and directory listings', async () => {
      const file = await gh.rest.repos.getContent({ ...repo, path: '.github/workflows/deploy.yml' });
      const data = file.data as { type: string; content: string; encoding: string };
      expect(data.type).toBe('file');
      expect(Buffer.from(data.content, 'base64').toString('utf8')).toContain('id-token: write');
      const dir = await gh.rest.repos.getContent({ ...repo, path: '.github/workflows' });
      expect((dir.data as Array<{ name: string; type: string }>).map((entry) => [entry.name, entry.type])).toEqual([
        ['ci.yml', 'file'],
        ['deploy.yml', 'file'],
        ['reusable', 'dir'],
      ]);
      const codeowners = (await gh.rest.repos.getContent({ ...repo, path: 'CODEOWNERS' })).data as { content: string };
      expect(Buffer.from(codeowners.content, 'base64').toString('utf8')).toBe('* @acme/security\n');
      expect(await statusOf(gh.rest.repos.getContent({ ...repo, path: 'missing.txt' }))).toBe(404);
    });

    it('serves the repository, the org repositories, and the user with its scopes', async () => {
      const got = await gh.rest.repos.get(repo);
      expect([got.data.full_name, got.data.private, got.data.default_branch]).toEqual(['acme/api', true, 'main']);
      const repos = await gh.paginate(gh.rest.repos.listForOrg, { org: 'acme', per_page: 1 });
      expect(repos.map((r) => r.full_name)).toEqual(['acme/api', 'acme/web']);
      const user = await gh.rest.users.getAuthenticated();
      expect(user.data.login).toBe(h.lab.user);
      expect(user.headers['x-oauth-scopes']).toBe('admin:org, repo, workflow');
      expect(await statusOf(gh.rest.repos.get({ owner: 'acme', repo: 'nope' }))).toBe(404);
    });
  });

  it('sends the pinned API version, the GitHub media type and a token on every request', () => {
    // Then every request the emulator saw carried the provider's headers
    expect(h.requestHeaders.length).toBeGreaterThan(20);
    for (const headers of h.requestHeaders.filter((candidate) => candidate.authorization)) {
      expect(headers['x-github-api-version']).toBe('2022-11-28');
      expect(headers.accept).toBe('application/vnd.github+json');
      expect(headers['user-agent']).toContain('cicd-ir/');
    }
  });

  it('recorded every call through onApiCall with the route template, mutating flag, status and request id', () => {
    const disable = h.calls.find((call) => call.operation === 'PUT /repos/{owner}/{repo}/actions/workflows/{workflow_id}/disable');
    expect(disable).toMatchObject({ service: 'github', mutating: true, status: 204 });
    expect(disable?.requestId).toMatch(/^1AB0:2C3D:/);
    const notFound = h.calls.find((call) => call.status === 404);
    expect(notFound?.error).toContain('Not Found');
    expect(h.calls.filter((call) => !call.mutating).every((call) => call.operation.startsWith('GET '))).toBe(true);
    // Pages paginate() fetched from Link URLs are named by their route too, never by a literal path
    expect(h.calls.filter((call) => call.operation === 'GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs').length).toBeGreaterThanOrEqual(5);
    expect(h.calls.filter((call) => call.operation.includes('acme'))).toEqual([]);
    expect(h.calls.find((call) => call.operation.endsWith('/public-key'))?.operation).toBe('GET /repos/{owner}/{repo}/actions/secrets/public-key');
    // And every handled request was counted by the lab
    expect(h.lab.state.requestCount).toBe(h.log.length);
    expect(h.lab.state.requestsByOperation.get('POST /repos/{owner}/{repo}/actions/runs/{run_id}/cancel')).toBe(3);
  });

  it('covered every operation the brief lists with an OpenAPI-checked answer', () => {
    const operations = new Set([...h.checked].map((entry) => entry.replace(/ \d{3}$/, '')));
    for (const expected of [
      'GET /repos/{owner}/{repo}/actions/workflows',
      'GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}',
      'PUT /repos/{owner}/{repo}/actions/workflows/{workflow_id}/disable',
      'PUT /repos/{owner}/{repo}/actions/workflows/{workflow_id}/enable',
      'POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches',
      'GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs',
      'GET /repos/{owner}/{repo}/actions/runs',
      'GET /repos/{owner}/{repo}/actions/runs/{run_id}',
      'POST /repos/{owner}/{repo}/actions/runs/{run_id}/cancel',
      'POST /repos/{owner}/{repo}/actions/runs/{run_id}/force-cancel',
      'GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs',
      'GET /repos/{owner}/{repo}/actions/jobs/{job_id}',
      'GET /repos/{owner}/{repo}/actions/runs/{run_id}/logs',
      'GET /repos/{owner}/{repo}/actions/secrets',
      'GET /repos/{owner}/{repo}/actions/secrets/public-key',
      'GET /repos/{owner}/{repo}/actions/secrets/{secret_name}',
      'PUT /repos/{owner}/{repo}/actions/secrets/{secret_name}',
      'DELETE /repos/{owner}/{repo}/actions/secrets/{secret_name}',
      'GET /repos/{owner}/{repo}/actions/organization-secrets',
      'GET /repos/{owner}/{repo}/environments',
      'GET /repos/{owner}/{repo}/environments/{environment_name}',
      'GET /repos/{owner}/{repo}/environments/{environment_name}/secrets',
      'GET /repos/{owner}/{repo}/environments/{environment_name}/secrets/public-key',
      'GET /repos/{owner}/{repo}/environments/{environment_name}/secrets/{secret_name}',
      'PUT /repos/{owner}/{repo}/environments/{environment_name}/secrets/{secret_name}',
      'DELETE /repos/{owner}/{repo}/environments/{environment_name}/secrets/{secret_name}',
      'GET /orgs/{org}/actions/secrets',
      'GET /orgs/{org}/actions/secrets/public-key',
      'GET /orgs/{org}/actions/secrets/{secret_name}',
      'PUT /orgs/{org}/actions/secrets/{secret_name}',
      'DELETE /orgs/{org}/actions/secrets/{secret_name}',
      'GET /orgs/{org}/actions/secrets/{secret_name}/repositories',
      'GET /repos/{owner}/{repo}/actions/permissions',
      'PUT /repos/{owner}/{repo}/actions/permissions',
      'GET /repos/{owner}/{repo}/keys',
      'DELETE /repos/{owner}/{repo}/keys/{key_id}',
      'GET /repos/{owner}/{repo}/contents/{path}',
      'GET /repos/{owner}/{repo}',
      'GET /orgs/{org}/repos',
      'GET /user',
      'GET /rate_limit',
      'GET /repos/{owner}/{repo}/actions/oidc/customization/sub',
      'PUT /repos/{owner}/{repo}/actions/oidc/customization/sub',
    ]) {
      expect(operations, expected).toContain(expected);
    }
  });
});
