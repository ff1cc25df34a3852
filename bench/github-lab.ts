/**
 * Figures for the GitHub lab and provider: how fast the real Octokit (throttling, retry, hooks)
 * talks to the emulator on loopback. Prints numbers; asserts nothing.
 * Run: npx tsx bench/github-lab.ts
 */
import sodium from 'libsodium-wrappers';
import { createLabContext } from '../src/lab/context.js';
import { createGitHubService } from '../src/lab/github/index.js';
import { serveService } from '../src/lab/http.js';
import { createGitHubClients } from '../src/providers/github.js';

const repo = { owner: 'bench', repo: 'api' };
const sha = 'a'.repeat(40);
const world = {
  repos: [
    {
      full_name: 'bench/api',
      workflows: [{ id: 1, path: '.github/workflows/deploy.yml', content: 'name: Deploy\non: push\n' }],
      runs: Array.from({ length: 1000 }, (_, index) => ({
        id: 100_000 + index,
        workflow: '.github/workflows/deploy.yml',
        actor: index % 7 === 0 ? 'mallory' : 'alice',
        head_sha: sha,
        created_at: `-${index + 1}m`,
        jobs: [{ name: 'deploy', started_at: `-${index + 1}m`, completed_at: `-${index}m` }],
      })),
      secrets: [{ name: 'S', value: 'initial-value' }],
    },
  ],
};

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function timed(label: string, count: number, fn: (index: number) => Promise<unknown>, concurrency = 1) {
  const latencies: number[] = [];
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const index = next++;
        const t0 = performance.now();
        await fn(index);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `${label.padEnd(52)} n=${String(count).padStart(4)}  ${(count / seconds).toFixed(0).padStart(6)} req/s  p50 ${percentile(latencies, 50).toFixed(2)} ms  p95 ${percentile(latencies, 95).toFixed(2)} ms`,
  );
}

const t0 = performance.now();
const ctx = createLabContext({ seed: 1 });
const lab = createGitHubService(world, ctx, { seed: 1 });
const served = await serveService(lab);
console.log(`lab start with 1,000 runs: ${(performance.now() - t0).toFixed(1)} ms`);
const github = await createGitHubClients({ dryRun: false, incident: 'bench', github: { apiUrl: served.url, token: lab.token, writeIntervalMs: 0 }, aws: {} }).github();

await timed('GET run (sequential)', 500, (index) => github.rest.actions.getWorkflowRun({ ...repo, run_id: 100_000 + (index % 1000) }));
await timed('GET run (10 concurrent)', 1000, (index) => github.rest.actions.getWorkflowRun({ ...repo, run_id: 100_000 + (index % 1000) }), 10);
await timed('GET runs page of 100, filtered actor+created', 100, () => github.rest.actions.listWorkflowRuns({ ...repo, workflow_id: 'deploy.yml', per_page: 100, actor: 'mallory', created: '>=2000-01-01' }));
const pageStart = performance.now();
const all = await github.paginate(github.rest.actions.listWorkflowRuns, { ...repo, workflow_id: 1, per_page: 100 });
console.log(`paginate() 1,000 runs in 10 pages: ${(performance.now() - pageStart).toFixed(1)} ms (${all.length} runs)`);
await sodium.ready;
const key = (await github.rest.actions.getRepoPublicKey(repo)).data;
await timed('seal + PUT secret (write pace 0 ms)', 200, async (index) => {
  const sealed = sodium.to_base64(sodium.crypto_box_seal(sodium.from_string(`value-${index}`), sodium.from_base64(key.key, sodium.base64_variants.ORIGINAL)), sodium.base64_variants.ORIGINAL);
  await github.rest.actions.createOrUpdateRepoSecret({ ...repo, secret_name: 'S', encrypted_value: sealed, key_id: key.key_id });
});
const paced = await createGitHubClients({ dryRun: false, incident: 'bench', github: { apiUrl: served.url, token: lab.token }, aws: {} }).github();
await timed('PUT disable workflow (default 1 s write pace)', 3, () => paced.rest.actions.disableWorkflow({ ...repo, workflow_id: 1 }));
console.log(`requests the lab handled: ${lab.state.requestCount}`);
await served.close();
