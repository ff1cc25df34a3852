import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { Octokit } from '@octokit/rest';
import { defineAction } from '../define.js';
import { httpStatus, RepoName, splitRepo } from '../../github/api.js';
import { publicHit, type RedactedSink } from '../../scan/index.js';
import { runLogsExist, scanRunLogArchive } from './scan-run-logs.js';

const RunTarget = z.union([
  z.number().int().positive(),
  z.object({ repo: RepoName, run_id: z.number().int().positive(), private: z.boolean().optional() }).strict(),
]);

const schema = z
  .object({
    /** Runs whose logs to delete: ids (of `repo`) or `{repo, run_id}` (github.scan-run-logs `exposed_runs`). */
    runs: z.array(RunTarget).min(1),
    /** The repository of runs given as bare ids. */
    repo: RepoName.optional(),
    /** Generic `SECRET=...` values with this entropy are redacted in the evidence copy. */
    entropy_threshold: z.number().min(0).max(8).default(3.5),
  })
  .strict()
  .superRefine((input, ctx) => {
    if (input.repo === undefined && input.runs.some((run) => typeof run === 'number')) {
      ctx.addIssue({ code: 'custom', path: ['repo'], message: 'repo is required when runs are given as bare ids' });
    }
  });

type Input = z.infer<typeof schema>;

interface Target {
  repo: string;
  run_id: number;
  private: boolean;
}

/** Evidence folder of one run: `<runDir>/evidence/run-logs/<owner>_<repo>/<run id>/`. */
export function runEvidenceDir(runDir: string, fullName: string, runId: number): string {
  return join(runDir, 'evidence', 'run-logs', fullName.replace('/', '_'), String(runId));
}

/** Archive file names become paths under the evidence folder; nothing may climb out of it. */
function safeRelative(name: string): string {
  return name
    .split(/[\\/]+/)
    .filter((part) => part !== '' && part !== '.' && part !== '..')
    .map((part) => part.replace(/[^A-Za-z0-9 ._()\-]/g, '_'))
    .join('/');
}

/** Writes lines to a file with bounded memory: sync writes in 64 KiB batches (fflate calls back synchronously). */
function fileSink(path: string): RedactedSink {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const fd = openSync(path, 'w', 0o600);
  let buffer = '';
  return {
    write(line) {
      buffer += `${line}\n`;
      if (buffer.length >= 65_536) {
        writeSync(fd, buffer);
        buffer = '';
      }
    },
    close() {
      if (buffer.length > 0) writeSync(fd, buffer);
      closeSync(fd);
    },
  };
}

async function resolveTargets(github: Octokit, input: Input): Promise<Target[]> {
  const visibility = new Map<string, boolean>();
  const targets: Target[] = [];
  for (const run of input.runs) {
    const repo = typeof run === 'number' ? input.repo! : run.repo;
    if (!visibility.has(repo)) {
      const known = typeof run === 'number' ? undefined : run.private;
      visibility.set(repo, known ?? (await github.rest.repos.get(splitRepo(repo))).data.private);
    }
    targets.push({ repo, run_id: typeof run === 'number' ? run : run.run_id, private: visibility.get(repo)! });
  }
  // Public logs first: anyone can read them until they are gone.
  return [...new Map(targets.map((t) => [`${t.repo}#${t.run_id}`, t])).values()].sort((a, b) => Number(a.private) - Number(b.private));
}

/**
 * Deletes the logs of runs that exposed credentials, public repositories first. Before each
 * deletion it keeps the evidence in the run folder: a redacted copy of every log file and the
 * sha256 of the original archive (the original itself is not kept: it holds the credentials).
 * Idempotent: logs already gone are `changed: false`. Irreversible.
 */
export const deleteRunLogs = defineAction<Input>({
  id: 'github.delete-run-logs',
  summary: 'Delete run logs that exposed credentials (public first), keeping a redacted copy and the hash as evidence.',
  schema,
  permissions: ['github:actions:write'],
  mutating: true,
  outputs: {
    deleted: 'runs whose logs were deleted: [{repo, run_id}]',
    evidence: 'per run: {repo, run_id, sha256, dir} of the evidence kept',
    already_gone: 'runs whose logs were already deleted or expired',
  },
  example: { repo: 'acme/app', runs: [123456789] },

  async plan(ctx, input) {
    const github = await ctx.clients.github();
    const targets = await resolveTargets(github, input);
    const present: Target[] = [];
    for (const target of targets) {
      const { owner, repo } = splitRepo(target.repo);
      if (await runLogsExist(github, owner, repo, target.run_id)) present.push(target);
    }
    return {
      changes: present.map((target) => ({
        resource: `github:${target.repo}/actions/runs/${target.run_id}/logs`,
        action: 'delete-run-logs',
        summary: `keep a redacted copy and the sha256, then delete the logs of run ${target.run_id} (${target.private ? 'private' : 'PUBLIC'} repository; IRREVERSIBLE)`,
        before: 'logs present',
        after: 'logs deleted',
      })),
      calls: present.flatMap((target) => {
        const { owner, repo } = splitRepo(target.repo);
        return [
          { service: 'github', operation: 'GET /repos/{owner}/{repo}/actions/runs/{run_id}/logs', params: { owner, repo, run_id: target.run_id }, mutating: false },
          { service: 'github', operation: 'DELETE /repos/{owner}/{repo}/actions/runs/{run_id}/logs', params: { owner, repo, run_id: target.run_id }, mutating: true },
        ];
      }),
      state: { present, gone: targets.filter((t) => !present.includes(t)).map((t) => ({ repo: t.repo, run_id: t.run_id })) },
    };
  },

  async apply(ctx, input, plan) {
    const state = plan.state as { present: Target[]; gone: Array<{ repo: string; run_id: number }> };
    const github = await ctx.clients.github();
    const deleted: Array<{ repo: string; run_id: number }> = [];
    const evidence: Array<{ repo: string; run_id: number; sha256: string; dir: string }> = [];
    const gone = [...state.gone];
    for (const target of state.present) {
      ctx.signal.throwIfAborted();
      const dir = runEvidenceDir(ctx.runDir, target.repo, target.run_id);
      const scan = await scanRunLogArchive(github, target.repo, target.run_id, {
        entropyThreshold: input.entropy_threshold,
        sinkFor: (file) => fileSink(join(dir, 'redacted', safeRelative(file))),
      });
      if (!scan) {
        gone.push({ repo: target.repo, run_id: target.run_id });
        continue;
      }
      // The hash proves later which archive the redacted copy came from; the manifest says what was found where.
      writeFileSync(join(dir, 'original.zip.sha256'), `${scan.sha256}  logs_${target.run_id}.zip\n`, { mode: 0o600 });
      writeFileSync(
        join(dir, 'manifest.json'),
        `${JSON.stringify({ repo: target.repo, run_id: target.run_id, private: target.private, sha256: scan.sha256, bytes: scan.bytes, files: scan.files, hits: scan.hits.map(publicHit), recorded_at: ctx.now().toISOString() }, null, 2)}\n`,
        { mode: 0o600 },
      );
      const { owner, repo } = splitRepo(target.repo);
      try {
        await github.rest.actions.deleteWorkflowRunLogs({ owner, repo, run_id: target.run_id });
      } catch (error) {
        if (httpStatus(error) !== 404 && httpStatus(error) !== 410) throw error;
        gone.push({ repo: target.repo, run_id: target.run_id });
        continue;
      }
      deleted.push({ repo: target.repo, run_id: target.run_id });
      evidence.push({ repo: target.repo, run_id: target.run_id, sha256: scan.sha256, dir });
      ctx.evidence('run-logs-deleted', { repo: target.repo, run_id: target.run_id, private: target.private, sha256: scan.sha256, bytes: scan.bytes, hits: scan.hits.length, evidence_dir: dir, at: ctx.now().toISOString() });
      ctx.log(`deleted the logs of ${target.repo} run ${target.run_id} (${scan.hits.length} exposed place(s); redacted copy in ${dir})`);
    }
    return { changed: deleted.length > 0, outputs: { deleted, evidence, already_gone: gone } };
  },

  async verify(ctx, _input, result) {
    const github = await ctx.clients.github();
    const still: number[] = [];
    for (const run of result.outputs['deleted'] as Array<{ repo: string; run_id: number }>) {
      const { owner, repo } = splitRepo(run.repo);
      if (await runLogsExist(github, owner, repo, run.run_id)) still.push(run.run_id);
    }
    return still.length === 0
      ? { verified: true, detail: `${(result.outputs['deleted'] as unknown[]).length} run log(s) deleted, evidence kept` }
      : { verified: false, detail: `logs still downloadable for run(s) ${still.join(', ')}` };
  },
});
