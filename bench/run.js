#!/usr/bin/env node
// `npm run bench` (after `npm run build`): every benchmark in one run, figures to stdout and to
// bench/results.md with the machine. Prints numbers; asserts nothing.
//   contain  time to contain against the lab at 150 ms per call and GitHub's production write
//            pacing, 1 repo / 3 roles, 50 repos / 20 roles / 3 accounts and 200 repos, divided
//            by the paced critical path (goal under 1.5x); when each credential class closed
//            (BENCH_SKIP=contain-200 skips the 200-repo world, contain-small the 1-repo one)
//   startup  bench/startup/run.js (CLI --help vs bare node)
//   hunt     bench/hunt/run.ts with a small corpus
//   scan     bench/scan/run.ts on 16 MB
// Options (env): BENCH_CONTAIN_RUNS (default 3), BENCH_SKIP (comma list of sections).
import { spawnSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeScenarios } from './contain/generate.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const LATENCY_MS = 150;
const runs = Math.max(1, Number(process.env.BENCH_CONTAIN_RUNS ?? 3));
const skip = new Set((process.env.BENCH_SKIP ?? '').split(',').filter(Boolean));

if (!existsSync(join(root, 'dist/commands')) || !existsSync(join(root, 'oclif.manifest.json'))) {
  console.error('build first: npm run build');
  process.exit(2);
}
const { loadPlaybook } = await import(join(root, 'dist/engine/playbook.js'));
const PLAYBOOK = join(root, 'playbooks/contain-compromised-workflow.yaml');

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Runs a command, returns its stdout (stderr passed through on failure). */
function capture(args, label) {
  const started = performance.now();
  const child = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ms = performance.now() - started;
  if (child.status !== 0) return `${label} failed (exit ${child.status}):\n${child.stderr.slice(-2000)}`;
  return `${child.stdout.trim()}\n(${label}: ${(ms / 1000).toFixed(1)} s wall)`;
}

const { dependencyGraph } = await import(join(root, 'dist/engine/plan.js'));
const { itemWiseNeeds } = await import(join(root, 'dist/engine/execute.js'));
/** GitHub's production pacing of content-creating requests (src/providers/limiter.ts). */
const WRITE_SPACING_MS = 1_000;
const CLOUDTRAIL_MS = 500;

/**
 * The critical path of one run, from its journal, at LATENCY_MS per call: the longest chain of
 * step keys through the playbook's dependency graph (explicit `needs` and the steps expressions
 * read), where `needs` between steps fanned out over the same items links item i to item i
 * only (the engine's item-wise dataflow) and any other dependency waits for every key. A key
 * costs its journalled API calls, in sequence. With `paced`, a CloudTrail LookupEvents call
 * costs 500 ms (AWS's 2/s per account and region), and the path is at least the GitHub
 * content-creating requests the run made times 1 s (GitHub's production spacing: one at a time
 * for the whole run, whatever the graph allows).
 */
async function criticalPath(records, paced = false) {
  const playbook = await loadPlaybook(PLAYBOOK);
  const graph = dependencyGraph(playbook);
  const itemWise = itemWiseNeeds(playbook);
  const cost = (record) => (paced && record.service === 'cloudtrail' ? Math.max(LATENCY_MS, CLOUDTRAIL_MS) : LATENCY_MS);
  const msPerKey = new Map();
  const keysOf = new Map();
  for (const record of records) {
    if (record.type === 'step') {
      const list = keysOf.get(record.step) ?? new Set();
      list.add(record.key);
      keysOf.set(record.step, list);
    }
    if (record.type === 'api-call' && record.step) msPerKey.set(record.step, (msPerKey.get(record.step) ?? 0) + cost(record));
  }
  const finish = new Map();
  const chain = new Map();
  const visit = (key) => {
    if (finish.has(key)) return finish.get(key);
    const step = key.replace(/\[\d+\]$/, '');
    const index = /\[(\d+)\]$/.exec(key)?.[1];
    let start = 0;
    let via = [];
    for (const dep of graph.get(step) ?? []) {
      const depKeys = [...(keysOf.get(dep) ?? [])];
      const wise = itemWise.get(step)?.has(dep) && index !== undefined && depKeys.includes(`${dep}[${index}]`);
      for (const depKey of wise ? [`${dep}[${index}]`] : depKeys) {
        const end = visit(depKey);
        if (end > start) {
          start = end;
          via = chain.get(depKey);
        }
      }
    }
    const end = start + (msPerKey.get(key) ?? 0);
    finish.set(key, end);
    chain.set(key, [...via, key]);
    return end;
  };
  let best = { ms: 0, path: [] };
  for (const keys of keysOf.values()) {
    for (const key of keys) {
      const end = visit(key);
      if (end > best.ms) best = { ms: end, path: chain.get(key) };
    }
  }
  const writes = records.filter((r) => r.type === 'api-call' && r.service === 'github' && !/^(GET|HEAD) /.test(r.operation ?? '')).length;
  if (paced && writes * WRITE_SPACING_MS > best.ms) return { ms: writes * WRITE_SPACING_MS, path: [`${writes} GitHub writes at 1 s spacing`], writes };
  return { ...best, writes };
}

/** Steps that close a class of credential, in the order the report names them. */
const CREDENTIAL_CLASSES = [
  ['workflow disabled (no new runs, no new OIDC tokens)', 'disable'],
  ['runs cancelled (their GITHUB_TOKENs)', 'cancel'],
  ['OIDC trust restricted (no new role sessions)', 'restrict-trust'],
  ['role sessions revoked', 'revoke-sessions'],
  ['workflow AWS key rotated (old key inactive)', 'rotate-key'],
  ['leaked AWS keys deactivated', 'deactivate-leaked-keys'],
  ['leaked GitHub tokens revoked', 'revoke-tokens'],
  ['leaked npm tokens revoked', 'revoke-npm-tokens'],
  ['minted AWS keys deactivated', 'deactivate-minted'],
  ['Actions caches purged', 'purge-caches'],
];

/** When each credential class was closed: its step's last key to end, seconds after the run started. */
function credentialTimes(records) {
  const t0 = Date.parse(records[0].at);
  const out = [];
  for (const [label, step] of CREDENTIAL_CLASSES) {
    const ends = records.filter((r) => r.type === 'step' && r.step === step && ['verified', 'unverified', 'failed', 'skipped'].includes(r.phase));
    if (ends.length === 0) continue;
    const last = Math.max(...ends.map((r) => Date.parse(r.at) - t0));
    const phases = [...new Set(ends.map((r) => r.phase))].join('/');
    out.push(`${label}: ${(last / 1000).toFixed(1)} s (${step}, ${phases})`);
  }
  return out;
}

/** Peak resident set of a process, from /proc (VmHWM is the high-water mark), in MB. */
function peakRssMb(pid) {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** One `contain --lab` run at 150 ms per call and production write pacing: wall time, status, journal, peak RSS. */
function containOnce(scenario) {
  const out = mkdtempSync(join(tmpdir(), 'cicd-ir-bench-'));
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['bin/run.js', 'contain', '--lab', scenario, '--faults', 'latency-150ms-production-pacing', '--yes', '--out', out], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let rss = 0;
    const poll = setInterval(() => (rss = Math.max(rss, peakRssMb(child.pid) ?? 0)), 200);
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.resume();
    child.on('error', reject);
    child.on('exit', () => (rss = Math.max(rss, peakRssMb(child.pid) ?? 0)));
    child.on('close', (code) => {
      clearInterval(poll);
      const wallMs = performance.now() - started;
      const id = readdirSync(out)[0];
      const records = readFileSync(join(out, id, 'journal.jsonl'), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
      const engineMs = Date.parse(records.at(-1).at) - Date.parse(records[0].at);
      const failed = [...new Set(stdout.split('\n').filter((line) => line.startsWith('FAILED')).map((line) => line.split(/\s+/)[1].replace(/\[\d+\]$/, '')))];
      resolve({ code, wallMs, engineMs, records, failed, rssMb: rss, apiCalls: records.filter((r) => r.type === 'api-call').length });
    });
  });
}

async function containSection(files) {
  const lines = ['## Time to contain (lab, 150 ms per call, GitHub writes at production pacing: 1 s apart, at most 80 a minute)', ''];
  lines.push('| World | Runs | Exit | API calls | GitHub writes | Journal records (findings) | Median wall (CLI process) | Critical path (latency only, item-wise) | Paced critical path | Wall / paced path | Peak RSS |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|');
  const notes = [];
  const summary = [];
  const worlds = [
    ['1 repo / 3 roles', files.small, runs, 'contain-small'],
    ['50 repos / 20 roles / 3 accounts', files.large, Math.max(1, Math.min(runs, 2)), 'contain-50'],
    ['200 repos / 20 roles / 3 accounts', files.huge, 1, 'contain-200'],
  ];
  for (const [label, file, n, name] of worlds) {
    if (skip.has(name)) {
      notes.push(`- ${label}: not run (BENCH_SKIP=${name}).`);
      continue;
    }
    const results = [];
    for (let i = 0; i < n; i += 1) results.push(await containOnce(file));
    const path = await criticalPath(results[0].records);
    const paced = await criticalPath(results[0].records, true);
    const wall = median(results.map((r) => r.wallMs));
    const rss = Math.max(...results.map((r) => r.rssMb));
    const findings = results[0].records.filter((r) => r.type === 'finding').length;
    lines.push(`| ${label} | ${n} | ${[...new Set(results.map((r) => r.code))].join('/')} | ${results[0].apiCalls} | ${paced.writes} | ${results[0].records.length} (${findings}) | ${(wall / 1000).toFixed(2)} s | ${(path.ms / 1000).toFixed(2)} s | ${(paced.ms / 1000).toFixed(2)} s (${paced.path.join(' → ')}) | ${(wall / paced.ms).toFixed(2)}x | ${rss.toFixed(0)} MB |`);
    const count = label.split(' ')[0];
    const headline = `${count} repo${count === '1' ? '' : 's'} production pacing: wall ${(wall / 1000).toFixed(1)} s, paced critical path ${(paced.ms / 1000).toFixed(1)} s, ratio ${(wall / paced.ms).toFixed(2)}x (goal <= 1.5x)`;
    console.log(headline);
    summary.push(`- ${headline}; peak RSS ${rss.toFixed(0)} MB.`);
    console.log(`  credentials closed (${label}, first run):`);
    const times = credentialTimes(results[0].records);
    for (const line of times) console.log(`    ${line}`);
    summary.push(`  - credentials closed: ${times.join('; ')}.`);
    const failed = [...new Set(results.flatMap((r) => r.failed))];
    if (failed.length) notes.push(`- ${label}: steps failed (fail-closed, exit ${results[0].code}): ${failed.join(', ')}; with item-wise dataflow only what depends on a failed item is skipped.`);
    const byStep = new Map();
    for (const r of results[0].records) if (r.type === 'step' && ['verified', 'unverified', 'failed', 'skipped'].includes(r.phase)) byStep.set(r.key ?? r.step, Date.parse(r.at) - Date.parse(results[0].records[0].at));
    const ids = [...new Set([...byStep.keys()].map((k) => k.replace(/\[\d+\]$/, '')))];
    const lastEnd = ids.map((id) => `${id} ${(Math.max(...[...byStep].filter(([k]) => k.replace(/\[\d+\]$/, '') === id).map(([, ms]) => ms)) / 1000).toFixed(1)} s`);
    notes.push(`- ${label}, first run, when each step's last item ended: ${lastEnd.join(', ')}.`);
  }
  return [...lines, '', ...summary, '', ...notes, ''].join('\n');
}

const sections = [];
const machine = `${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), node ${process.version}, ${process.platform} ${process.arch}, ${new Date().toISOString()}`;
console.log(`machine: ${machine}`);
if (!skip.has('contain')) {
  const files = writeScenarios(join(root, 'bench/out'));
  const text = await containSection(files);
  console.log(text);
  sections.push(text);
}
for (const [name, args, label] of [
  ['startup', ['bench/startup/run.js', '11'], 'CLI start-up (bench/startup/run.js 11)'],
  ['hunt', ['--import', 'tsx', 'bench/hunt/run.ts', '--events', '50000', '--api-events', '200'], 'Hunt throughput (bench/hunt/run.ts --events 50000 --api-events 200)'],
  ['scan', ['--import', 'tsx', 'bench/scan/run.ts', '16'], 'Log scan throughput (bench/scan/run.ts 16)'],
]) {
  if (skip.has(name)) continue;
  const text = `## ${label}\n\n\`\`\`\n${capture(args, name)}\n\`\`\`\n`;
  console.log(text);
  sections.push(text);
}
const results = ['# Benchmark results', '', `Machine: ${machine}. Generated by \`npm run bench\` (bench/run.js); figures from one run.`, '', ...sections].join('\n');
writeFileSync(join(root, 'bench/results.md'), results);
console.log('wrote bench/results.md');
