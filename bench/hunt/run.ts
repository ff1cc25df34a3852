/**
 * The hunt benchmark (prints figures; not a test).
 *
 *   node --import tsx bench/hunt/run.ts [--events 200000] [--small-events N] [--corpus DIR] [--api-events 600] [--skip-api] [--skip-files]
 *
 * 1. Generates (once) a gzipped corpus in the S3 layout (bench/hunt/generate.ts).
 * 2. files source: events/second and peak RSS of the hunt, beside DuckDB (@duckdb/node-api,
 *    bench/hunt/duckdb.mjs) and jq (when installed) doing the same filter (the leaked key, the
 *    key it minted, the defense-evasion event names); peak RSS of the hunt at two corpus sizes.
 * 3. api source: achieved LookupEvents requests/second per region against the lab's 2/s limit,
 *    and how many ThrottlingException answers the lab gave.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { DEFENSE_EVASION_EVENTS } from '../../src/hunt/classify.js';
import { runHunt } from '../../src/hunt/engine.js';
import { createApiSource } from '../../src/hunt/sources/api.js';
import { createCloudTrailService } from '../../src/lab/cloudtrail/index.js';
import { MemoryTrail, createLabContext } from '../../src/lab/context.js';
import { serveService } from '../../src/lab/http.js';
import type { CloudTrailRecord, LabRequest } from '../../src/lab/types.js';
import { generate, LEAKED_KEY, MINTED_KEY } from './generate.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    corpus: { type: 'string' },
    'small-events': { type: 'string' },
    'api-events': { type: 'string', default: '600' },
    'skip-api': { type: 'boolean', default: false },
    'skip-files': { type: 'boolean', default: false },
  },
});
const events = Number(values.events);
const corpus = values.corpus ?? join('bench', 'out', `corpus-${events}`);
// A second, smaller corpus: peak RSS at two sizes shows whether memory stays flat as the corpus grows.
const smallEvents = Number(values['small-events'] ?? Math.max(1000, Math.round(events / 10)));
const smallCorpus = join('bench', 'out', `corpus-${smallEvents}`);
const hasTime = existsSync('/usr/bin/time');

function timed(command: string, args: string[]): { seconds: number; maxRssMb?: number; stdout: string } {
  const started = performance.now();
  const run = hasTime ? spawnSync('/usr/bin/time', ['-f', '__TIME__ %M', command, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 }) : spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 30 });
  const seconds = (performance.now() - started) / 1000;
  // The hunt exits 3 when it finds a critical finding (the planted incident): that is success here.
  if (run.status !== 0 && run.status !== 3) throw new Error(`${command} failed (${run.status}): ${run.stderr}`);
  const rss = /__TIME__ (\d+)/.exec(run.stderr ?? '')?.[1];
  return { seconds, maxRssMb: rss ? Number(rss) / 1024 : undefined, stdout: run.stdout };
}

function duSize(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) if (entry.isFile()) total += statSync(join(entry.parentPath, entry.name)).size;
  return total;
}

function ensureCorpus(dir: string, count: number): void {
  if (existsSync(dir)) return;
  const started = Date.now();
  const made = generate({ events: count, out: dir });
  console.log(`generated ${made.events} events in ${made.files} files (${(made.bytes / 1e6).toFixed(1)} MB gzipped) at ${dir} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

function label(count: number): string {
  return count >= 1e6 ? `${+(count / 1e6).toFixed(1)}M` : `${+(count / 1e3).toFixed(0)}k`;
}

/** One cicd-ir hunt of a corpus: the built CLI when there is one (start-up included), else the sources through tsx. */
function huntCorpus(dir: string) {
  const built = existsSync('dist/commands/hunt.js');
  const run = built
    ? timed(process.execPath, ['bin/run.js', 'hunt', '--source', 'files', '--path', dir, '--access-key-id', LEAKED_KEY, '--cutoff', '2026-10-16T00:00:00Z', '--until', '2026-12-01T00:00:00Z', '--json'])
    : timed(process.execPath, ['--import', 'tsx', 'bench/hunt/hunt-files.ts', dir]);
  const parsed = built ? JSON.parse(run.stdout) : JSON.parse(run.stdout.trim().split('\n').pop()!);
  const stats = built ? parsed.stats : parsed;
  return {
    ...run,
    built,
    records: (built ? stats.recordsRead : stats.records) as number,
    matched: (built ? stats.recordsMatched : stats.matched) as number,
    rounds: stats.rounds as number,
    reread: (built ? stats.filesReread : stats.reread) as number | undefined,
    damaged: (built ? stats.damaged : stats.damaged) as { files: number; records: number } | undefined,
    findings: (built ? parsed.findings.map((f: { severity: string; kind: string; identity: string; evidence: unknown[] }) => `${f.severity}:${f.kind}:${f.identity}:${f.evidence.length}`) : parsed.findings) as string[],
    rssMb: run.maxRssMb ?? (built ? NaN : parsed.maxRssMb),
  };
}

if (!values['skip-files']) {
  ensureCorpus(corpus, events);
  ensureCorpus(smallCorpus, smallEvents);
  console.log(`corpus: ${corpus} (${(duSize(corpus) / 1e6).toFixed(1)} MB gzipped); small corpus: ${smallCorpus}\n`);

  // --- files source: the hunt, then DuckDB, then jq, same filter ----------------------------------
  const rows: string[][] = [['tool', 'events', 'matched', 'seconds', 'events/s', 'peak RSS MB', 'note']];
  const hunt = huntCorpus(corpus);
  rows.push([
    'cicd-ir hunt --source files',
    String(hunt.records),
    String(hunt.matched),
    hunt.seconds.toFixed(2),
    Math.round(hunt.records / hunt.seconds).toLocaleString('en'),
    hunt.rssMb.toFixed(0),
    `${hunt.rounds} rounds (the minted key is found, then hunted in the ${hunt.reread ?? '?'} file(s) whose key index may hold it); ${hunt.built ? 'built CLI, start-up included' : 'sources via tsx, start-up included'}`,
  ]);

  let duck: { seconds: number; events: number; matched: number; rssMb?: number } | undefined;
  let duckNote = '@duckdb/node-api not installed (skipped)';
  try {
    createRequire(import.meta.url).resolve('@duckdb/node-api');
    const run = timed(process.execPath, ['bench/hunt/duckdb.mjs', corpus, JSON.stringify({ keys: [LEAKED_KEY, MINTED_KEY], names: DEFENSE_EVASION_EVENTS })]);
    const parsed = JSON.parse(run.stdout.trim().split('\n').pop()!);
    // Wall time of the child (Node start-up and DuckDB's load included, as the hunt's includes the CLI's).
    duck = { seconds: run.seconds, events: parsed.events, matched: parsed.matched, rssMb: run.maxRssMb ?? parsed.maxRssMb };
    duckNote = `typed read_json of Records (4 columns), unnest, 1 pass, keys known; query ${parsed.seconds.toFixed(2)} s of the wall`;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') duckNote = `failed: ${(error as Error).message.split('\n')[0]}`;
  }
  rows.push(duck ? ['DuckDB', String(duck.events), String(duck.matched), duck.seconds.toFixed(2), Math.round(duck.events / duck.seconds).toLocaleString('en'), duck.rssMb?.toFixed(0) ?? '?', duckNote] : ['DuckDB', '-', '-', '-', '-', '-', duckNote]);

  const names = DEFENSE_EVASION_EVENTS.map((name) => `"${name}"`).join(',');
  const jqFilter = `.Records[] | select(.userIdentity.accessKeyId == "${LEAKED_KEY}" or .userIdentity.accessKeyId == "${MINTED_KEY}" or (.eventName | IN(${names}))) | .eventID`;
  const jqVersion = spawnSync('jq', ['--version'], { encoding: 'utf8' });
  let jqRate: number | undefined;
  if (jqVersion.status === 0) {
    const jq = timed('bash', ['-c', `find '${corpus}' -name '*.json.gz' -print0 | xargs -0 zcat | jq -r '${jqFilter}' | wc -l`]);
    jqRate = events / jq.seconds;
    rows.push(['jq (zcat | jq, 1 pass, keys known)', String(events), jq.stdout.trim(), jq.seconds.toFixed(2), Math.round(jqRate).toLocaleString('en'), jq.maxRssMb?.toFixed(0) ?? '?', `${jqVersion.stdout.trim()}; RSS of the last process of the pipe`]);
  } else {
    rows.push(['jq', '-', '-', '-', '-', '-', 'jq not installed (skipped)']);
  }

  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  for (const row of rows) console.log(row.map((cell, column) => cell.padEnd(widths[column]!)).join('  '));
  console.log(`\nhunt findings: ${hunt.findings.join(', ')}`);
  if (hunt.damaged && (hunt.damaged.files || hunt.damaged.records)) console.log(`hunt damage: ${hunt.damaged.files} file(s), ${hunt.damaged.records} record(s)`);

  const small = huntCorpus(smallCorpus);
  const rate = hunt.records / hunt.seconds;
  console.log('');
  console.log(
    duck
      ? `hunt files ${label(events)} events: cicd-ir ${Math.round(rate).toLocaleString('en')} ev/s, DuckDB ${Math.round(duck.events / duck.seconds).toLocaleString('en')} ev/s, ratio ${(rate / (duck.events / duck.seconds)).toFixed(2)}x (goal >= 1.25x)`
      : `hunt files ${label(events)} events: cicd-ir ${Math.round(rate).toLocaleString('en')} ev/s, DuckDB skipped`,
  );
  console.log(`hunt files ${label(events)} events: jq ${jqRate ? `${Math.round(jqRate).toLocaleString('en')} ev/s, cicd-ir/jq ${(rate / jqRate).toFixed(2)}x` : 'skipped (not installed)'}`);
  console.log(
    `hunt files peak RSS: ${small.rssMb.toFixed(0)} MiB at ${label(smallEvents)} events, ${hunt.rssMb.toFixed(0)} MiB at ${label(events)} events (goal <= 256 MiB, flat as the corpus grows)`,
  );
}

// --- api source: achieved requests/second per region against the lab's 2/s ---------------------
if (!values['skip-api']) {
  const regions = ['us-east-1', 'eu-west-1', 'ap-southeast-2'];
  const trail = new MemoryTrail();
  const apiEvents = Number(values['api-events']);
  const now = Date.now();
  for (const region of regions) {
    for (let i = 0; i < apiEvents; i++) {
      trail.record({
        eventTime: new Date(now - 3_600_000 + i * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        eventSource: 's3.amazonaws.com',
        eventName: 'ListBuckets',
        awsRegion: region,
        eventID: `${region}-${i}`,
        userIdentity: { type: 'AssumedRole', accessKeyId: LEAKED_KEY, arn: 'arn:aws:sts::123456789012:assumed-role/deploy/GitHubActions' },
      } as CloudTrailRecord);
    }
  }
  const log: LabRequest[] = [];
  const served = await serveService(createCloudTrailService(createLabContext({ trail })), { log: (entry) => log.push(entry) });
  const times = new Map<string, number[]>();
  const source = createApiSource({
    regions,
    client: (region) => new CloudTrailClient({ endpoint: served.url, region, credentials: { accessKeyId: 'AKIALABFAKE000000000', secretAccessKey: 'lab-fake-secret' } }),
    onRequest: (region) => times.set(region, [...(times.get(region) ?? []), performance.now()]),
  });
  const started = performance.now();
  const result = await runHunt({ identities: [{ kind: 'access-key', accessKeyId: LEAKED_KEY }], regions }, source);
  const seconds = (performance.now() - started) / 1000;
  await served.close();
  console.log(`\napi source against the lab (limit 2 requests/s per region), ${apiEvents} events of the key per region:`);
  for (const region of regions) {
    const stamps = times.get(region) ?? [];
    const rate = stamps.length > 1 ? (stamps.length - 1) / ((stamps.at(-1)! - stamps[0]!) / 1000) : 0;
    console.log(`  ${region.padEnd(15)} ${String(stamps.length).padStart(4)} requests  ${rate.toFixed(2)} requests/s`);
  }
  const throttled = log.filter((entry) => entry.status !== 200).length;
  console.log(`  total ${log.length} requests in ${seconds.toFixed(1)} s, ${(log.length / seconds).toFixed(2)} requests/s over ${regions.length} regions; ThrottlingException answers: ${throttled}; events read ${result.stats.recordsRead}`);
  const fastest = Math.max(...regions.map((region) => {
    const stamps = times.get(region) ?? [];
    return stamps.length > 1 ? (stamps.length - 1) / ((stamps.at(-1)! - stamps[0]!) / 1000) : 0;
  }));
  console.log(`hunt api pacing: ${regions.length} regions at once, fastest ${fastest.toFixed(2)} requests/s per region (goal <= 2.00 and near it), ${throttled} throttled (goal 0)`);
}
