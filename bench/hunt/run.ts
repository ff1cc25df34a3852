/**
 * The hunt benchmark (prints figures; not a test).
 *
 *   node --import tsx bench/hunt/run.ts [--events 200000] [--corpus DIR] [--api-events 600]
 *
 * 1. Generates (once) a gzipped corpus in the S3 layout (bench/hunt/generate.ts).
 * 2. files source: events/second and peak RSS of the hunt, beside jq and DuckDB doing the same
 *    filter (the leaked key, the key it minted, the defense-evasion event names).
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
  options: { events: { type: 'string', default: '200000' }, corpus: { type: 'string' }, 'api-events': { type: 'string', default: '600' }, 'skip-api': { type: 'boolean', default: false } },
});
const events = Number(values.events);
const corpus = values.corpus ?? join('bench', 'out', `corpus-${events}`);
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

if (!existsSync(corpus)) {
  const started = Date.now();
  const made = generate({ events, out: corpus });
  console.log(`generated ${made.events} events in ${made.files} files (${(made.bytes / 1e6).toFixed(1)} MB gzipped) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
console.log(`corpus: ${corpus} (${(duSize(corpus) / 1e6).toFixed(1)} MB gzipped)\n`);

// --- files source: the hunt, then jq, then DuckDB, same filter --------------------------------
const rows: string[][] = [['tool', 'events', 'matched', 'seconds', 'events/s', 'peak RSS MB', 'note']];
// The built CLI when there is one (`npm run bench` builds first), else the sources through tsx.
const built = existsSync('dist/commands/hunt.js');
const hunt = built
  ? timed(process.execPath, ['bin/run.js', 'hunt', '--source', 'files', '--path', corpus, '--access-key-id', LEAKED_KEY, '--cutoff', '2026-10-16T00:00:00Z', '--until', '2026-12-01T00:00:00Z', '--json'])
  : timed(process.execPath, ['--import', 'tsx', 'bench/hunt/hunt-files.ts', corpus]);
const huntResult = built
  ? (() => {
      const parsed = JSON.parse(hunt.stdout);
      return {
        records: parsed.stats.recordsRead,
        matched: parsed.stats.recordsMatched,
        rounds: parsed.stats.rounds,
        findings: parsed.findings.map((f: { severity: string; kind: string; identity: string; evidence: unknown[] }) => `${f.severity}:${f.kind}:${f.identity}:${f.evidence.length}`),
        maxRssMb: NaN,
      };
    })()
  : JSON.parse(hunt.stdout.trim().split('\n').pop()!);
rows.push([
  'cicd-ir hunt --source files',
  String(huntResult.records),
  String(huntResult.matched),
  hunt.seconds.toFixed(2),
  Math.round(huntResult.records / hunt.seconds).toLocaleString('en'),
  (hunt.maxRssMb ?? huntResult.maxRssMb).toFixed(0),
  `${huntResult.rounds} passes (fixpoint: the minted key is found, then hunted); ${built ? 'built CLI, start-up included' : 'sources via tsx, start-up included'}`,
]);

const names = DEFENSE_EVASION_EVENTS.map((name) => `"${name}"`).join(',');
const jqFilter = `.Records[] | select(.userIdentity.accessKeyId == "${LEAKED_KEY}" or .userIdentity.accessKeyId == "${MINTED_KEY}" or (.eventName | IN(${names}))) | .eventID`;
const jqVersion = spawnSync('jq', ['--version'], { encoding: 'utf8' });
if (jqVersion.status === 0) {
  const jq = timed('bash', ['-c', `find '${corpus}' -name '*.json.gz' -print0 | xargs -0 zcat | jq -r '${jqFilter}' | wc -l`]);
  rows.push(['jq (zcat | jq, 1 pass, keys known)', String(events), jq.stdout.trim(), jq.seconds.toFixed(2), Math.round(events / jq.seconds).toLocaleString('en'), jq.maxRssMb?.toFixed(0) ?? '?', jqVersion.stdout.trim()]);
} else {
  rows.push(['jq', '-', '-', '-', '-', '-', 'jq not installed']);
}

let duckdb = false;
try {
  createRequire(import.meta.url).resolve('@duckdb/node-api');
  duckdb = true;
} catch {
  /* not installed */
}
rows.push(duckdb ? ['DuckDB', '-', '-', '-', '-', '-', '@duckdb/node-api is installed but this bench has no DuckDB runner yet'] : ['DuckDB', '-', '-', '-', '-', '-', '@duckdb/node-api not installed (skipped)']);

const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
for (const row of rows) console.log(row.map((cell, column) => cell.padEnd(widths[column]!)).join('  '));
console.log(`\nhunt findings: ${huntResult.findings.join(', ')}`);

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
}
