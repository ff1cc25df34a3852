import type { AthenaClient } from '@aws-sdk/client-athena';
import type { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import type { S3Client } from '@aws-sdk/client-s3';
import { UsageError } from '../engine/errors.js';
import { runHunt, type HuntSource } from './engine.js';
import { HuntInput, type HuntedIdentity, type HuntFinding, type HuntInputJson, type HuntResult, type ScanStats, type TrailRecord } from './model.js';
import type { ScanFilter } from './predicate.js';
import type { AthenaTableSpec } from './sources/athena.js';

export { runHunt, PROVISIONAL_MS } from './engine.js';
export type { HuntSource } from './engine.js';
export * from './model.js';

/** The clients a hunt needs; `ActionContext.clients` satisfies it. */
export interface HuntClients {
  cloudtrail(region: string): CloudTrailClient;
  s3?(region?: string): S3Client;
  athena?(region: string): AthenaClient;
}

/** How to hunt: which source, where its data is, and what to look for. Plain JSON. */
export interface HuntRequest {
  source: 'api' | 'files' | 'athena';
  /** files: a local directory or file, or `s3://bucket/prefix`. */
  path?: string;
  /** athena: where the table is (and whether to create it). */
  athena?: AthenaTableSpec & { workGroup?: string; outputLocation?: string; createTable?: boolean };
  input: HuntInputJson;
  /** api: requests per second per region (default 2, the LookupEvents limit). */
  ratePerSecond?: number;
  /** api: a region that could not be read; the others go on (see ApiSourceOptions.onRegionError). */
  onRegionError?: (region: string, error: unknown) => void;
  signal?: AbortSignal;
}

/**
 * A source whose module is imported on first use: `hunt --source files` never loads the AWS
 * SDK clients of the api and athena sources (start-up cost), and each source loads only its own.
 */
function lazySource(name: HuntSource['name'], load: () => Promise<HuntSource>, canFilterBySourceIp = true): HuntSource {
  let source: Promise<HuntSource> | undefined;
  return {
    name,
    canFilterBySourceIp,
    async *scan(filter: ScanFilter, stats: ScanStats): AsyncIterable<TrailRecord> {
      yield* (await (source ??= load())).scan(filter, stats);
    },
  };
}

/** Builds the source a request names; bad combinations are usage errors (exit 2) before any call. */
export function sourceFor(request: HuntRequest, clients: HuntClients): HuntSource {
  const input = HuntInput.parse(request.input);
  switch (request.source) {
    case 'api':
      // LookupEvents has no source-IP attribute.
      return lazySource(
        'api',
        async () =>
          (await import('./sources/api.js')).createApiSource({
            regions: input.regions,
            client: (region) => clients.cloudtrail(region),
            ratePerSecond: request.ratePerSecond,
            signal: request.signal,
            ...(request.onRegionError ? { onRegionError: request.onRegionError } : {}),
          }),
        false,
      );
    case 'files': {
      if (!request.path) throw new UsageError('--source files needs --path (a directory, a file or s3://bucket/prefix)');
      const path = request.path;
      if (path.startsWith('s3://')) {
        if (!clients.s3) throw new UsageError('no S3 client available for an s3:// path');
        const s3 = clients.s3(input.regions[0]);
        const from = input.since ? new Date(Date.parse(input.since) - input.baselineDays * 86_400_000).toISOString() : undefined;
        return lazySource('files', async () => {
          const [{ createFilesSource }, { listS3Files }] = await Promise.all([import('./sources/files.js'), import('./sources/s3.js')]);
          return createFilesSource(undefined, { remote: () => listS3Files(s3, path, { from, to: input.until }) });
        });
      }
      return lazySource('files', async () => (await import('./sources/files.js')).createFilesSource(path));
    }
    case 'athena': {
      const athena = request.athena;
      if (!athena) throw new UsageError('--source athena needs the table: database, table, location (s3://...), account id');
      if (!clients.athena) throw new UsageError('no Athena client available');
      const client = clients.athena(input.regions[0]!);
      return lazySource('athena', async () =>
        (await import('./sources/athena.js')).createAthenaSource({ client, table: athena, workGroup: athena.workGroup, outputLocation: athena.outputLocation, createTable: athena.createTable }),
      );
    }
  }
}

/** Runs one hunt. */
export async function hunt(request: HuntRequest, clients: HuntClients, options: { now?: Date } = {}): Promise<HuntResult> {
  return runHunt(request.input, sourceFor(request, clients), options);
}

/**
 * A stable key for a finding, so `--follow` prints only what is new. Event ids are sorted:
 * events of the same second come in the order the scan workers finished.
 */
export function findingKey(finding: HuntFinding): string {
  return `${finding.kind}|${finding.identity}|${finding.severity}|${finding.evidence
    .map((event) => event.eventID)
    .sort()
    .join(',')}`;
}

/**
 * `--follow`: re-polls every `intervalMs` with the window's end moved to now (delivery is
 * late, so each poll re-reads the provisional tail), yielding each result until aborted.
 */
export async function* followHunt(request: HuntRequest, clients: HuntClients, options: { intervalMs?: number; signal?: AbortSignal } = {}): AsyncIterable<HuntResult> {
  const source = sourceFor(request, clients);
  while (!options.signal?.aborted) {
    yield await runHunt({ ...request.input, until: undefined }, source);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, options.intervalMs ?? 60_000);
      options.signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/** The response for a `--json` or action output: findings plus counts, no secrets (CloudTrail holds none). */
export function summarise(result: HuntResult): { critical: number; findings: number; byKind: Record<string, number> } {
  const byKind: Record<string, number> = {};
  for (const finding of result.findings) byKind[finding.kind] = (byKind[finding.kind] ?? 0) + 1;
  return { critical: result.findings.filter((finding) => finding.severity === 'critical').length, findings: result.findings.length, byKind };
}

/** The `hunt` command's flags, as oclif parses them. */
export interface HuntFlags {
  source: string;
  path?: string;
  'access-key-id'?: string[];
  'role-arn'?: string[];
  'session-name'?: string;
  'oidc-subject'?: string[];
  'user-name'?: string[];
  cutoff?: string;
  'job-completed-at'?: string;
  'skew-seconds': number;
  since?: string;
  until?: string;
  region: string[];
  'athena-table'?: string;
  'athena-location'?: string;
  'athena-account'?: string;
}

/** Builds a hunt request from the command's flags; bad input is a UsageError (exit 2) before any call. */
export function requestFromFlags(flags: HuntFlags): HuntRequest {
  const identities: HuntedIdentity[] = [
    ...(flags['access-key-id'] ?? []).map((accessKeyId) => ({ kind: 'access-key' as const, accessKeyId })),
    ...(flags['role-arn'] ?? []).map((roleArn) => ({ kind: 'role' as const, roleArn, ...(flags['session-name'] ? { sessionName: flags['session-name'] } : {}) })),
    ...(flags['oidc-subject'] ?? []).map((subject) => ({ kind: 'oidc-subject' as const, subject })),
    ...(flags['user-name'] ?? []).map((userName) => ({ kind: 'user' as const, userName })),
  ];
  if (!identities.length) throw new UsageError('name at least one identity: --access-key-id, --role-arn, --oidc-subject or --user-name');
  const cutoffs = {
    ...(flags.cutoff ? { revokedAt: flags.cutoff, deactivatedAt: flags.cutoff } : {}),
    ...(flags['job-completed-at'] ? { jobCompletedAt: flags['job-completed-at'] } : {}),
  };
  const input = { identities, cutoffs, skewSeconds: flags['skew-seconds'], since: flags.since, until: flags.until, regions: flags.region };
  const parsed = HuntInput.safeParse(input);
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((issue) => `${issue.path.join('.') || 'input'}: ${issue.message}`).join('\n'));
  let athena: HuntRequest['athena'];
  if (flags.source === 'athena') {
    const [database, table] = (flags['athena-table'] ?? '').split('.');
    if (!database || !table || !flags['athena-location'] || !flags['athena-account']) {
      throw new UsageError('--source athena needs --athena-table DATABASE.TABLE, --athena-location s3://... and --athena-account');
    }
    athena = { database, table, location: flags['athena-location'], accountId: flags['athena-account'], regions: flags.region };
  }
  if (flags.source === 'files' && !flags.path) throw new UsageError('--source files needs --path (a directory, a file or s3://bucket/prefix)');
  return { source: flags.source as HuntRequest['source'], path: flags.path, input, ...(athena ? { athena } : {}) };
}
