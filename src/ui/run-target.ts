import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../engine/errors.js';
import { readJournal, type JournalRecord, type RunTarget } from '../engine/journal.js';
import { JOURNAL_FILE, listRunIds } from '../engine/run-dir.js';
import type { ProviderConfig } from '../providers/config.js';
import { githubApiUrl } from '../providers/github.js';
import { npmRegistryUrl } from '../providers/npm.js';

/** What `runTarget` needs to know about a lab the run is made in. */
export interface LabTarget {
  scenarioFile: string;
  /** When that lab instance started: its world lives in memory, so only that instance can be resumed. */
  startedAt: Date;
}

/** The AWS SDK's own endpoint overrides (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`). */
const AWS_ENDPOINT_ENV = /^AWS_ENDPOINT_URL(?:_[A-Z0-9_]+)?$/;

/** The text `target.aws` holds when no endpoint is overridden. */
export const AWS_DEFAULT_CHAIN = 'aws default chain';

/**
 * Where a run's API calls go, as the journal records it: the GitHub API base URL, the AWS
 * endpoint overrides (config, then the SDK's environment variables) or "aws default chain", the
 * npm registry, and for a lab run its scenario file, the file's sha256 and the lab instance.
 * Reads the environment and the scenario file only: no API call.
 */
export function runTarget(provider: Partial<Pick<ProviderConfig, 'github' | 'aws' | 'npm'>> | undefined, lab: LabTarget | undefined, env: NodeJS.ProcessEnv = process.env): RunTarget {
  const config = { dryRun: false, incident: '', github: provider?.github ?? {}, aws: provider?.aws ?? {}, ...(provider?.npm && { npm: provider.npm }) } satisfies ProviderConfig;
  const endpoints = new Map<string, string>();
  for (const [name, value] of Object.entries(env)) {
    if (AWS_ENDPOINT_ENV.test(name) && value) endpoints.set(name === 'AWS_ENDPOINT_URL' ? '*' : name.slice('AWS_ENDPOINT_URL_'.length).toLowerCase(), value);
  }
  for (const [service, url] of Object.entries(config.aws.endpoints ?? {})) if (url) endpoints.set(service, url);
  const aws = endpoints.size === 0 ? AWS_DEFAULT_CHAIN : [...endpoints].sort(([a], [b]) => a.localeCompare(b)).map(([service, url]) => `${service}=${url}`).join(' ');
  return {
    github: githubApiUrl(config, env),
    aws,
    npm: npmRegistryUrl(config),
    ...(lab && {
      lab: {
        scenario: lab.scenarioFile,
        sha256: createHash('sha256').update(readFileSync(lab.scenarioFile)).digest('hex'),
        instance: lab.startedAt.toISOString(),
      },
    }),
  };
}

/** The first run-start record of a journal: the run's inputs and target as it began. */
export function firstRunStart(records: readonly JournalRecord[]): Extract<JournalRecord, { type: 'run-start' }> | undefined {
  return records.find((record): record is Extract<JournalRecord, { type: 'run-start' }> => record.type === 'run-start');
}

/**
 * `--latest`: the most recent run made in the same kind of world (a lab run for `--lab`, a run
 * against real endpoints otherwise). A lab run is never picked for a resume against the real
 * endpoints, nor the other way round; runs that record no target are never picked.
 */
export function latestRunIdFor(root: string, target: RunTarget): string {
  const ids = listRunIds(root);
  for (const id of [...ids].reverse()) {
    let start;
    try {
      start = firstRunStart(readJournal(join(root, id, JOURNAL_FILE)).records);
    } catch {
      continue;
    }
    if (start?.target && Boolean(start.target.lab) === Boolean(target.lab)) return id;
  }
  const kind = target.lab ? 'lab' : 'real-endpoint (non-lab)';
  throw new UsageError(`no ${kind} run to resume under ${root}${ids.length ? ` (${ids.length} run(s) of the other kind or of an older cicd-ir are never resumed here)` : ''}`, [
    target.lab ? 'a lab run can be resumed only in the process whose lab it ran against' : 'give --resume RUN-ID, or start a new run',
  ]);
}

/**
 * Refuses (UsageError, exit 2, before any API call) to resume a run against other endpoints
 * than it was made against: a lab run against the real world or a real run in the lab, another
 * scenario (or the same file changed), another lab instance (its world was in memory and is
 * gone), or another GitHub, AWS or npm endpoint.
 */
export function checkResumeTarget(runId: string, then: RunTarget | undefined, now: RunTarget, verb: 'resume' | 'restore' = 'resume'): void {
  if (!then) {
    throw new UsageError(`run ${runId} does not record which endpoints it ran against (started by an older cicd-ir): refusing to resume it`, [
      'start a new run; the old journal stays as evidence',
    ]);
  }
  if (then.lab && !now.lab) {
    throw new UsageError(`run ${runId} was made in the lab (scenario ${then.lab.scenario}): refusing to ${verb} it against the real endpoints (GitHub ${now.github}, AWS ${now.aws}, npm ${now.npm})`, [
      "a lab's world lived in memory and is gone with its process: start a new lab run instead",
    ]);
  }
  if (!then.lab && now.lab) {
    throw new UsageError(`run ${runId} was made against real endpoints (GitHub ${then.github}, AWS ${then.aws}): refusing to ${verb} it in the lab`, [`${verb} it without --lab`]);
  }
  if (then.lab && now.lab) {
    if (then.lab.scenario !== now.lab.scenario || then.lab.sha256 !== now.lab.sha256) {
      throw new UsageError(
        `run ${runId} was made in the lab of scenario ${then.lab.scenario} (sha256 ${then.lab.sha256.slice(0, 12)}), not ${now.lab.scenario} (sha256 ${now.lab.sha256.slice(0, 12)}): refusing to ${verb} it`,
        ['start a new lab run'],
      );
    }
    if (then.lab.instance !== now.lab.instance || then.github !== now.github || then.aws !== now.aws || then.npm !== now.npm) {
      throw new UsageError(`run ${runId} was made against an earlier lab instance (started ${then.lab.instance}); its world was in memory and is gone: refusing to ${verb} it against a fresh lab`, [
        `start a new run: cicd-ir contain --lab ${then.lab.scenario} --yes`,
      ]);
    }
    return;
  }
  const differ = (['github', 'aws', 'npm'] as const).filter((name) => then[name] !== now[name]);
  if (differ.length > 0) {
    throw new UsageError(
      `run ${runId} ran against other endpoints: ${differ.map((name) => `${name} ${JSON.stringify(then[name])} then, ${JSON.stringify(now[name])} now`).join('; ')}: refusing to ${verb} it`,
      ['set the same endpoints (GITHUB_API_URL, AWS_ENDPOINT_URL_*, NPM_CONFIG_REGISTRY) as the run had, or start a new run'],
    );
  }
}

/**
 * `restore` of a run against other endpoints than it was made against is refused the same way
 * (a lab run's trust documents put back on the real roles of the same names would be a disaster).
 * A run that records no target (an older cicd-ir) is restored as before.
 */
export function checkRestoreTarget(runId: string, then: RunTarget | undefined, now: RunTarget): void {
  if (then) checkResumeTarget(runId, then, now, 'restore');
}
