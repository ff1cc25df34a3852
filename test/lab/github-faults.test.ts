import { describe, expect, it } from 'vitest';
import { DryRunViolation } from '../../src/engine/errors.js';
import { createGitHubClients } from '../../src/providers/github.js';
import { startLab, statusOf } from './github-harness.js';

const repo = { owner: 'acme', repo: 'api' };

/** Fault draws the test decides: the first `failures` requests of a rule fail, then none. */
function failFirst(failures: number): () => number {
  let drawn = 0;
  return () => (drawn++ < failures ? 0 : 0.99);
}

describe('GitHub lab faults, retries and throttling', () => {
  it("answers the 'throttle' fault with GitHub's secondary rate limit, which plugin-throttling waits out and retries", async () => {
    // Given a lab whose first GET of the repository is throttled with retry-after 1 s
    const h = await startLab({
      faults: [{ service: 'github', operation: 'GET /repos/{owner}/{repo}', errorRate: 0.5, error: 'throttle', retryAfterSeconds: 1 }],
      random: failFirst(1),
    });
    try {
      // When the provider reads the repository
      const got = await h.github.rest.repos.get(repo);
      // Then it succeeded on the second attempt, after the throttled one
      expect(got.status).toBe(200);
      expect(h.log.map((entry) => [entry.operation, entry.status, entry.fault ?? null])).toEqual([
        ['GET /repos/{owner}/{repo}', 403, 'throttle'],
        ['GET /repos/{owner}/{repo}', 200, null],
      ]);
      // And the journal hook saw both attempts
      expect(h.calls.map((call) => call.status)).toEqual([403, 200]);
      expect(h.calls[0]!.error).toMatch(/secondary rate limit/);
      // And the throttle answer has GitHub's shape
      const answer = h.lab.faultResponse('throttle', 7);
      expect(answer.status).toBe(403);
      expect(answer.headers?.['retry-after']).toBe('7');
      expect(JSON.parse(String(answer.body)).documentation_url).toContain('secondary-rate-limits');
    } finally {
      await h.close();
    }
  });

  it('retries a GET after a 5xx, but never repeats a POST such as cancel', async () => {
    // Given a lab whose first GET of a run and every cancel answer 500
    const h = await startLab({
      faults: [
        { service: 'github', operation: 'GET /repos/{owner}/{repo}/actions/runs/{run_id}', errorRate: 0.5, error: '5xx' },
        { service: 'github', operation: 'POST /repos/{owner}/{repo}/actions/runs/{run_id}/cancel', errorRate: 1, error: '5xx' },
      ],
      random: failFirst(1),
    });
    try {
      // When the run is read
      expect((await h.github.rest.actions.getWorkflowRun({ ...repo, run_id: 9003 })).status).toBe(200);
      // When it is cancelled and the server errors
      expect(await statusOf(h.github.rest.actions.cancelWorkflowRun({ ...repo, run_id: 9003 }))).toBe(500);
      // Then the GET was tried twice and the POST once
      expect(h.log.map((entry) => [entry.method, entry.status])).toEqual([
        ['GET', 500],
        ['GET', 200],
        ['POST', 500],
      ]);
    } finally {
      await h.close();
    }
  });

  it('aborts an attempt that outlives the request timeout: a GET is tried again, a POST is not (it may have taken effect)', async () => {
    // Given a lab that answers the first GET of a run and the cancel only after 400 ms, and a 100 ms timeout
    const draws = [1, 0, 1];
    const h = await startLab({
      faults: [
        { service: 'github', operation: 'GET /repos/{owner}/{repo}/actions/runs/{run_id}', latencyMs: { min: 0, max: 400 } },
        { service: 'github', operation: 'POST /repos/{owner}/{repo}/actions/runs/{run_id}/cancel', latencyMs: { min: 0, max: 400 } },
      ],
      random: () => draws.shift() ?? 0,
      requestTimeoutMs: 100,
    });
    try {
      // When the run is read, then cancelled
      expect((await h.github.rest.actions.getWorkflowRun({ ...repo, run_id: 9003 })).status).toBe(200);
      const cancel = await h.github.rest.actions.cancelWorkflowRun({ ...repo, run_id: 9003 }).catch((error: Error & { status?: number }) => error);
      // Then the GET succeeded on its second attempt, and the cancel failed for the client once only
      expect(cancel).toBeInstanceOf(Error);
      expect((cancel as Error).message).toMatch(/timeout|aborted/i);
      expect(h.calls.map((call) => [call.operation.split(' ')[0], call.status ?? null])).toEqual([
        ['GET', 500],
        ['GET', 200],
        ['POST', 500],
      ]);
      // And yet the lab did cancel the run: why a POST is never repeated blindly
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(h.log.filter((entry) => entry.method === 'POST')).toHaveLength(1);
      expect(h.lab.state.run('acme/api', 9003).status).toBe('completed');
    } finally {
      await h.close();
    }
  });

  it("answers GitHub's primary rate limit past 5,000 requests an hour; a provider told not to wait fails at once", async () => {
    // Given a token that already made 5,000 requests this hour (played without HTTP), and a
    // provider whose longest wait for the reset is 0 (by default it waits, printing the time left)
    const h = await startLab({ maxPrimaryWaitSeconds: 0 });
    try {
      for (let index = 0; index < 5000; index += 1) await h.lab.callAs(h.lab.token, 'GET /repos/acme/api');
      // When the provider makes one more
      const failure = await h.github.rest.repos.get(repo).catch((error: { status: number; response?: { headers: Record<string, string> } }) => error);
      // Then it is refused with remaining 0, once: the reset is too far away to retry
      expect((failure as { status: number }).status).toBe(403);
      expect((failure as { response: { headers: Record<string, string> } }).response.headers['x-ratelimit-remaining']).toBe('0');
      expect(h.log.filter((entry) => entry.status === 403)).toHaveLength(1);
      // And another token has its own budget
      expect((await h.lab.callAs('ghp_leakedLeakedLeakedLeakedLeaked0002', 'GET /repos/acme/api')).status).toBe(200);
      expect(h.fidelityErrors).toEqual([]);
    } finally {
      await h.close();
    }
  });

  it('refuses requests without a token, with an unknown token, and with a revoked one (401)', async () => {
    const h = await startLab();
    try {
      // When the unauthenticated client reads a repository
      expect(await statusOf(h.unauthenticated.rest.repos.get(repo))).toBe(401);
      // When an unknown token is used
      const stranger = await createGitHubClients({ ...h.config, github: { ...h.config.github, token: 'ghp_unknownUnknownUnknownUnknownUnknown' } }).github();
      expect(await statusOf(stranger.rest.users.getAuthenticated())).toBe(401);
      // When a token the scenario knows (a leaked one) is used
      const leaked = await createGitHubClients({ ...h.config, github: { ...h.config.github, token: 'ghp_leakedLeakedLeakedLeakedLeaked0001' } }).github();
      // Then it works, as its owner, until revoked
      expect((await leaked.rest.users.getAuthenticated()).data.login).toBe('alice');
      expect((await h.lab.callAs('ghp_leakedLeakedLeakedLeakedLeaked0001', 'GET /repos/acme/api')).status).toBe(200);
      await h.unauthenticated.rest.credentials.revoke({ credentials: ['ghp_leakedLeakedLeakedLeakedLeaked0001'] });
      expect(await statusOf(leaked.rest.users.getAuthenticated())).toBe(401);
      // And an attacker step played without HTTP sees the same refusal
      expect(await h.lab.callAs('ghp_leakedLeakedLeakedLeakedLeaked0001', 'GET /repos/acme/api')).toEqual({
        status: 401,
        body: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' },
      });
      expect(h.fidelityErrors).toEqual([]);
    } finally {
      await h.close();
    }
  });

  it('revokes credentials only unauthenticated: 403 with a token, 202 without, 422 malformed, 429 past 60 an hour', async () => {
    // (a provider that does not wait for the hourly reset: by default it would wait, printing the time left)
    const h = await startLab({ maxPrimaryWaitSeconds: 0 });
    const leaked = ['ghp_leakedLeakedLeakedLeakedLeaked0001', 'ghp_leakedLeakedLeakedLeakedLeaked0002'];
    try {
      // When the authenticated client tries
      expect(await statusOf(h.github.rest.credentials.revoke({ credentials: leaked }))).toBe(403);
      expect(h.lab.state.isTokenRevoked(leaked[0]!)).toBe(false);
      // When the unauthenticated client sends both, plus one GitHub never issued
      const accepted = await h.unauthenticated.rest.credentials.revoke({ credentials: [...leaked, 'ghp_neverIssuedNeverIssuedNeverIssued01'] });
      // Then 202, and both known tokens are revoked
      expect(accepted.status).toBe(202);
      expect(leaked.map((token) => h.lab.state.isTokenRevoked(token))).toEqual([true, true]);
      expect(h.lab.state.tokens.filter((token) => token.revokedAt).map((token) => token.owner)).toEqual(['alice', 'bob']);
      // And the state holds fingerprints, never the tokens
      expect(JSON.stringify(h.lab.state.tokens)).not.toContain('ghp_leaked');
      // When the body is malformed: empty, or more than 1,000 credentials
      expect(await statusOf(h.unauthenticated.rest.credentials.revoke({ credentials: [] }))).toBe(422);
      expect(await statusOf(h.unauthenticated.rest.credentials.revoke({ credentials: Array.from({ length: 1001 }, (_, i) => `ghp_${i}`) }))).toBe(422);
      // When the hourly budget of 60 requests is spent (3 counted so far)
      for (let index = 0; index < 57; index += 1) await h.unauthenticated.rest.credentials.revoke({ credentials: ['ghp_x'] });
      // Then the 61st is refused, and not retried (the reset is an hour away)
      const before = h.log.length;
      expect(await statusOf(h.unauthenticated.rest.credentials.revoke({ credentials: ['ghp_x'] }))).toBe(429);
      expect(h.log.length).toBe(before + 1);
      expect(h.fidelityErrors).toEqual([]);
    } finally {
      await h.close();
    }
  });

  it('in a dry run, refuses every mutating call before it leaves the process: the lab sees none', async () => {
    // Given the provider built with dryRun
    const h = await startLab({ dryRun: true });
    try {
      // When it reads, then tries to disable a workflow, put a secret, and revoke a token
      const workflow = await h.github.rest.actions.getWorkflow({ ...repo, workflow_id: 'deploy.yml' });
      await expect(h.github.rest.actions.disableWorkflow({ ...repo, workflow_id: 'deploy.yml' })).rejects.toBeInstanceOf(DryRunViolation);
      await expect(h.github.rest.actions.createOrUpdateRepoSecret({ ...repo, secret_name: 'X', encrypted_value: 'AAAA', key_id: '1' })).rejects.toThrow(
        /refused mutating call during dry run: PUT \/repos\/\{owner\}\/\{repo\}\/actions\/secrets\/\{secret_name\}/,
      );
      await expect(h.unauthenticated.rest.credentials.revoke({ credentials: ['ghp_x'] })).rejects.toBeInstanceOf(DryRunViolation);
      // Then the read went through and the lab logged no mutating request at all
      expect(workflow.data.state).toBe('active');
      expect(h.log.map((entry) => [entry.method, entry.mutating])).toEqual([['GET', false]]);
      expect(h.lab.state.workflow('acme/api', 1001).state).toBe('active');
      expect(h.calls.filter((call) => call.mutating)).toEqual([]);
    } finally {
      await h.close();
    }
  });
});
