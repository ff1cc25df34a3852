import type { Octokit } from '@octokit/rest';
import { z } from 'zod';
import { defineAction, type Finding } from '../define.js';
import type { ActionContext } from '../../engine/context.js';
import { Secret } from '../../engine/secret.js';
import { httpStatus, RepoName, splitRepo, WorkflowRef, workflowId } from '../../github/api.js';
import { publicHit, scanZipStream, type Hit, type PublicHit, type RedactedSink } from '../../scan/index.js';

const Iso = z.string().datetime({ offset: true });

const schema = z
  .object({
    repo: RepoName,
    /** The workflow whose runs to scan; all of the repository's runs when absent. */
    workflow: WorkflowRef.optional(),
    /** The compromise window: runs created at or after `since` (and up to `until`). */
    since: Iso,
    until: Iso.optional(),
    /** Scan exactly these runs instead of listing the window. */
    run_ids: z.array(z.number().int().positive()).min(1).optional(),
    /** At most this many runs, newest first. */
    max_runs: z.number().int().min(1).max(1000).default(200),
    /** Bits per character a generic `SECRET=...` value needs to count as a credential. */
    entropy_threshold: z.number().min(0).max(8).default(3.5),
  })
  .strict();

type Input = z.infer<typeof schema>;

/** A run whose logs exposed at least one credential. */
export interface ExposedRun {
  repo: string;
  run_id: number;
  private: boolean;
}

/** Who rotates what the scan found. */
const ROTATION: Record<Hit['family'], string> = {
  github: 'github.revoke-tokens',
  aws: 'AWS access key rotation (make-before-break)',
  npm: 'npm token revocation',
  other: 'manual rotation',
};

/**
 * GitHub App installation tokens (`ghs_`, a job's GITHUB_TOKEN among them) are not accepted by
 * POST /credentials/revoke (PATs, OAuth, user-to-server and refresh tokens are): they expire
 * within an hour or when their job ends.
 */
const REVOCABLE_GITHUB = (hit: Hit) => hit.family === 'github' && hit.kind !== 'github-app-token';

/** A long-term AWS access key id (AKIA): deactivated by key rotation. ASIA ids name role sessions. */
const LONG_TERM_KEY = /^AKIA/;

function rotationOf(hit: Hit): string {
  if (hit.kind === 'github-app-token') return 'an installation token: it expires when its job ends (github.cancel-runs) or within 1 h';
  if (hit.family === 'aws' && hit.keyId && !LONG_TERM_KEY.test(hit.keyId)) return 'a role session: aws.revoke-role-sessions on its role';
  return ROTATION[hit.family];
}

/** `created` filter of the runs list for the window (GitHub search date syntax). */
export function createdFilter(since: string, until: string | undefined): string {
  return until ? `${since}..${until}` : `>=${since}`;
}

/**
 * The run's log archive as a byte stream, or undefined when GitHub has no logs for it (expired
 * or deleted: 404/410). Octokit follows the 302 to the signed download URL; the body is handed
 * over unparsed so the archive is never held in memory.
 */
export async function downloadRunLogs(github: Octokit, owner: string, repo: string, runId: number): Promise<AsyncIterable<Uint8Array> | undefined> {
  try {
    const response = await github.request('GET /repos/{owner}/{repo}/actions/runs/{run_id}/logs', { owner, repo, run_id: runId, request: { parseSuccessResponseBody: false } });
    return response.data as unknown as AsyncIterable<Uint8Array>;
  } catch (error) {
    if (httpStatus(error) === 404 || httpStatus(error) === 410) return undefined;
    throw error;
  }
}

/** Whether GitHub still has the run's logs, without downloading them (the 302 is not followed). */
export async function runLogsExist(github: Octokit, owner: string, repo: string, runId: number): Promise<boolean> {
  try {
    const response = await github.request('GET /repos/{owner}/{repo}/actions/runs/{run_id}/logs', { owner, repo, run_id: runId, request: { redirect: 'manual', parseSuccessResponseBody: false } });
    await (response.data as unknown as ReadableStream | null)?.cancel().catch(() => undefined);
    return true;
  } catch (error) {
    if (httpStatus(error) === 404 || httpStatus(error) === 410) return false;
    throw error;
  }
}

/** Scans one run's logs as they download; undefined when the logs are gone. */
export async function scanRunLogArchive(
  github: Octokit,
  fullName: string,
  runId: number,
  options: { entropyThreshold?: number; sinkFor?: (file: string) => RedactedSink | undefined } = {},
): Promise<{ hits: Hit[]; sha256: string; bytes: number; files: string[] } | undefined> {
  const { owner, repo } = splitRepo(fullName);
  const stream = await downloadRunLogs(github, owner, repo, runId);
  if (!stream) return undefined;
  return scanZipStream(stream, { run: runId, ...(options.entropyThreshold !== undefined ? { entropyThreshold: options.entropyThreshold } : {}), ...(options.sinkFor ? { sinkFor: options.sinkFor } : {}) });
}

/** One finding per credential per run: where it showed (every place), never what it is. */
export function findingsFor(fullName: string, isPrivate: boolean, runId: number, hits: Hit[], at: string | undefined): Finding[] {
  const byCredential = new Map<string, Hit[]>();
  for (const hit of hits) byCredential.set(`${hit.kind}:${hit.fingerprint}`, [...(byCredential.get(`${hit.kind}:${hit.fingerprint}`) ?? []), hit]);
  return [...byCredential.values()].map((places) => {
    const first = places[0]!;
    const where = `job "${first.job ?? '?'}"${first.step ? ` step "${first.step}"` : ''} line ${first.line}`;
    const encoded = first.depth > 0 ? ` (base64-encoded ${first.depth}x)` : '';
    return {
      kind: 'secret-in-log',
      // A public log is readable by anyone: the credential must be treated as stolen.
      severity: isPrivate ? ('high' as const) : ('critical' as const),
      resource: `github:${fullName}/actions/runs/${runId}`,
      summary: `${first.kind}${first.name ? ` ${first.name}` : ''} ${first.preview} exposed in ${where}${encoded}${places.length > 1 ? `, ${places.length} places` : ''}; ${rotationOf(first)}`,
      ...(at ? { at } : {}),
      evidence: places.slice(0, 20).map(publicHit),
    };
  });
}

interface RunRef {
  id: number;
  created_at?: string;
}

async function runsToScan(github: Octokit, input: Input): Promise<RunRef[]> {
  const { owner, repo } = splitRepo(input.repo);
  if (input.run_ids) return input.run_ids.map((id) => ({ id }));
  const created = createdFilter(input.since, input.until);
  const runs: RunRef[] = [];
  const iterator =
    input.workflow !== undefined
      ? github.paginate.iterator(github.rest.actions.listWorkflowRuns, { owner, repo, workflow_id: workflowId(input.workflow), created, per_page: 100 })
      : github.paginate.iterator(github.rest.actions.listWorkflowRunsForRepo, { owner, repo, created, per_page: 100 });
  for await (const page of iterator) {
    runs.push(...page.data.map((run) => ({ id: run.id, created_at: run.created_at })));
    if (runs.length >= input.max_runs) break;
  }
  return runs.slice(0, input.max_runs);
}

/** What the scan of one repository produced, for the outputs. */
function outputsOf(fullName: string, isPrivate: boolean, scanned: number[], exposed: Map<number, Hit[]>) {
  const hits = [...exposed.values()].flat();
  const unique = <T,>(items: T[], key: (item: T) => string) => [...new Map(items.map((item) => [key(item), item])).values()];
  const githubTokens = unique(hits.filter(REVOCABLE_GITHUB), (hit) => hit.fingerprint).flatMap((hit) => (hit.secret ? [hit.secret] : []));
  const npmTokens = unique(hits.filter((hit) => hit.family === 'npm'), (hit) => hit.fingerprint).flatMap((hit) => (hit.secret ? [hit.secret] : []));
  const keyIds = [...new Set(hits.filter((hit) => hit.family === 'aws' && hit.keyId).map((hit) => hit.keyId!))];
  const longTerm = keyIds.filter((id) => LONG_TERM_KEY.test(id));
  const sessions = keyIds.filter((id) => !LONG_TERM_KEY.test(id));
  const manual: Array<Pick<PublicHit, 'kind' | 'fingerprint' | 'preview' | 'name'> & { runs: number[] }> = [];
  for (const hit of hits.filter((candidate) => candidate.family === 'other' || (candidate.family === 'aws' && !candidate.keyId))) {
    const existing = manual.find((item) => item.fingerprint === hit.fingerprint);
    if (existing) {
      if (hit.run !== undefined && !existing.runs.includes(hit.run)) existing.runs.push(hit.run);
      continue;
    }
    manual.push({ kind: hit.kind, fingerprint: hit.fingerprint, preview: hit.preview, ...(hit.name ? { name: hit.name } : {}), runs: hit.run !== undefined ? [hit.run] : [] });
  }
  return {
    exposed_runs: [...exposed.keys()].map((run_id): ExposedRun => ({ repo: fullName, run_id, private: isPrivate })),
    github_tokens: githubTokens satisfies Secret[],
    npm_tokens: npmTokens satisfies Secret[],
    aws_access_key_ids: longTerm,
    aws_session_key_ids: sessions,
    manual_rotation: manual,
    hits: hits.length,
    scanned_runs: scanned,
  };
}

/**
 * Downloads the logs of a workflow's runs in the compromise window (streamed, never all in
 * memory) and finds exposed credentials: known token formats, high-entropy assignments, and
 * base64 dumps like the tj-actions payload. Each credential becomes a finding with run, job,
 * step, line and fingerprint, never the value. GitHub tokens are output as Secrets for
 * github.revoke-tokens; AWS key ids (not secret) for key rotation; the rest is listed for
 * manual rotation. Read-only.
 */
export const scanRunLogs = defineAction<Input>({
  id: 'github.scan-run-logs',
  summary: 'Scan the run logs of the compromise window for exposed credentials (plain or base64-encoded).',
  schema,
  permissions: ['github:actions:read', 'github:metadata:read'],
  mutating: false,
  outputs: {
    exposed_runs: 'runs whose logs exposed a credential: [{repo, run_id, private}] (for github.delete-run-logs)',
    github_tokens: 'GitHub tokens POST /credentials/revoke accepts (not ghs_ installation tokens), as Secrets (for github.revoke-tokens)',
    npm_tokens: 'npm tokens found, as Secrets (for npm.revoke-token)',
    aws_access_key_ids: 'long-term AWS access key ids (AKIA, not secret) found, for key deactivation and rotation',
    aws_session_key_ids: 'temporary AWS access key ids (ASIA: role sessions) found, for the CloudTrail hunt',
    manual_rotation: 'other credentials: [{kind, fingerprint, preview, name?, runs}] to rotate by hand',
    hits: 'how many places exposed a credential',
    scanned_runs: 'ids of the runs whose logs were scanned',
  },
  secretOutputs: ['github_tokens', 'npm_tokens'],
  example: { repo: 'acme/app', workflow: 'ci.yml', since: '2025-03-14T00:00:00Z', until: '2025-03-16T00:00:00Z' },

  async plan(_ctx, input) {
    const { owner, repo } = splitRepo(input.repo);
    const list = input.run_ids
      ? []
      : [
          input.workflow !== undefined
            ? { service: 'github', operation: 'GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs', params: { owner, repo, workflow_id: workflowId(input.workflow), created: createdFilter(input.since, input.until) }, mutating: false }
            : { service: 'github', operation: 'GET /repos/{owner}/{repo}/actions/runs', params: { owner, repo, created: createdFilter(input.since, input.until) }, mutating: false },
        ];
    return {
      changes: [],
      calls: [
        { service: 'github', operation: 'GET /repos/{owner}/{repo}', params: { owner, repo }, mutating: false },
        ...list,
        { service: 'github', operation: 'GET /repos/{owner}/{repo}/actions/runs/{run_id}/logs', params: { owner, repo, run_id: input.run_ids ?? 'each run' }, mutating: false },
      ],
    };
  },

  async apply(ctx, input) {
    return scanRepository(ctx, input);
  },

  async verify(_ctx, _input, result) {
    const scanned = (result.outputs['scanned_runs'] as number[]).length;
    const exposed = (result.outputs['exposed_runs'] as unknown[]).length;
    // Counted in places a credential showed (hits), not in runs: one run's log can print many.
    const hits = Number(result.outputs['hits'] ?? 0);
    return { verified: true, detail: `scanned ${scanned} run(s): ${hits} exposed credential place(s) in the logs of ${exposed} run(s)` };
  },
});

async function scanRepository(ctx: ActionContext, input: Input) {
  const { owner, repo } = splitRepo(input.repo);
  const github = await ctx.clients.github();
  const isPrivate = (await github.rest.repos.get({ owner, repo })).data.private;
  const runs = await runsToScan(github, input);
  const exposed = new Map<number, Hit[]>();
  const scanned: number[] = [];
  const findings: Finding[] = [];
  const archives: Array<{ run_id: number; sha256: string; bytes: number; files: number; hits: number }> = [];
  for (const run of runs) {
    ctx.signal.throwIfAborted();
    const result = await scanRunLogArchive(github, input.repo, run.id, { entropyThreshold: input.entropy_threshold });
    if (!result) {
      ctx.log(`run ${run.id}: no logs (expired or deleted)`, 'warn');
      continue;
    }
    scanned.push(run.id);
    archives.push({ run_id: run.id, sha256: result.sha256, bytes: result.bytes, files: result.files.length, hits: result.hits.length });
    if (result.hits.length === 0) continue;
    exposed.set(run.id, result.hits);
    ctx.log(`run ${run.id}: ${result.hits.length} exposed credential place(s) in ${result.files.length} log file(s)`, 'warn');
    for (const finding of findingsFor(input.repo, isPrivate, run.id, result.hits, run.created_at)) {
      ctx.finding(finding);
      findings.push(finding);
    }
  }
  ctx.evidence('run-log-scan', { repo: input.repo, private: isPrivate, runs: archives });
  return { changed: false, outputs: outputsOf(input.repo, isPrivate, scanned, exposed), findings };
}
