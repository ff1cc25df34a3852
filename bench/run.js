#!/usr/bin/env node
// `npm run bench` (after `npm run build`): every benchmark in one run, figures to stdout and to
// bench/results.md with the machine. Prints numbers; asserts nothing.
//   contain  time to contain against the lab at 150 ms per call, 1 repo / 3 roles and
//            50 repos / 20 roles / 3 accounts, divided by the critical path (goal under 1.5x)
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

/**
 * The critical path at LATENCY_MS per call: the longest chain through the playbook's
 * dependency graph (explicit and implicit `needs`) where a step costs its slowest item's
 * number of API calls (the journal's api-call records per step key: an item's calls are
 * sequential; items and independent steps run in parallel) times the latency.
 */
async function criticalPath(records, paced = false) {
  const playbook = await loadPlaybook(PLAYBOOK);
  // With `paced`, a CloudTrail LookupEvents call costs AWS's 2-per-second limit (500 ms), the
  // floor the hunt cannot beat, instead of the latency.
  const cost = (record) => (paced && record.service === 'cloudtrail' ? Math.max(LATENCY_MS, 500) : LATENCY_MS);
  const msPerKey = new Map();
  for (const record of records) if (record.type === 'api-call' && record.step) msPerKey.set(record.step, (msPerKey.get(record.step) ?? 0) + cost(record));
  const stepCost = new Map();
  for (const [key, ms] of msPerKey) {
    const id = key.replace(/\[\d+\]$/, '');
    stepCost.set(id, Math.max(stepCost.get(id) ?? 0, ms));
  }
  const finish = new Map();
  const chain = new Map();
  const visit = (step) => {
    if (finish.has(step.id)) return finish.get(step.id);
    let start = 0;
    let via = [];
    for (const dep of step.needs ?? []) {
      const depStep = playbook.steps.find((s) => s.id === dep);
      const end = visit(depStep);
      if (end > start) {
        start = end;
        via = chain.get(dep);
      }
    }
    const end = start + (stepCost.get(step.id) ?? 0);
    finish.set(step.id, end);
    chain.set(step.id, [...via, step.id]);
    return end;
  };
  let best = { ms: 0, path: [] };
  for (const step of playbook.steps) {
    const end = visit(step);
    if (end > best.ms) best = { ms: end, path: chain.get(step.id) };
  }
  return best;
}

/** One `contain --lab` run at 150 ms per call: wall time, engine time, status, journal. */
function containOnce(scenario) {
  const out = mkdtempSync(join(tmpdir(), 'cicd-ir-bench-'));
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['bin/run.js', 'contain', '--lab', scenario, '--faults', 'latency-150ms', '--yes', '--out', out], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.resume();
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - started;
      const id = readdirSync(out)[0];
      const records = readFileSync(join(out, id, 'journal.jsonl'), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
      const engineMs = Date.parse(records.at(-1).at) - Date.parse(records[0].at);
      const failed = [...new Set(stdout.split('\n').filter((line) => line.startsWith('FAILED')).map((line) => line.split(/\s+/)[1].replace(/\[\d+\]$/, '')))];
      const steps = new Map();
      for (const record of records) if (record.type === 'step' && record.phase === 'verified') steps.set(record.step, record.at);
      resolve({ code, wallMs, engineMs, records, failed, apiCalls: records.filter((r) => r.type === 'api-call').length });
    });
  });
}

async function containSection(files) {
  const lines = ['## Time to contain (lab, 150 ms per call)', ''];
  lines.push('| World | Runs | Exit | API calls | Median wall (CLI process) | Median engine time | Critical path (latency only) | Wall / path | Critical path with LookupEvents at 2/s | Wall / paced path |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|');
  const notes = [];
  for (const [label, file, n] of [['1 repo / 3 roles', files.small, runs], ['50 repos / 20 roles / 3 accounts', files.large, Math.max(1, Math.min(runs, 2))]]) {
    const results = [];
    for (let i = 0; i < n; i += 1) results.push(await containOnce(file));
    const path = await criticalPath(results[0].records);
    const paced = await criticalPath(results[0].records, true);
    const wall = median(results.map((r) => r.wallMs));
    const engine = median(results.map((r) => r.engineMs));
    lines.push(`| ${label} | ${n} | ${[...new Set(results.map((r) => r.code))].join('/')} | ${results[0].apiCalls} | ${(wall / 1000).toFixed(2)} s | ${(engine / 1000).toFixed(2)} s | ${(path.ms / 1000).toFixed(2)} s (${path.path.join(' → ')}) | ${(wall / path.ms).toFixed(2)}x | ${(paced.ms / 1000).toFixed(2)} s | ${(wall / paced.ms).toFixed(2)}x |`);
    const failed = [...new Set(results.flatMap((r) => r.failed))];
    if (failed.length) notes.push(`- ${label}: steps failed (fail-closed, exit ${results[0].code}): ${failed.join(', ')}; steps that depend on them did not run, so the path covers what ran.`);
    const byStep = new Map();
    for (const r of results[0].records) if (r.type === 'step' && ['verified', 'failed', 'skipped'].includes(r.phase)) byStep.set(r.key ?? r.step, Date.parse(r.at) - Date.parse(results[0].records[0].at));
    const ids = [...new Set([...byStep.keys()].map((k) => k.replace(/\[\d+\]$/, '')))];
    const lastEnd = ids.map((id) => `${id} ${(Math.max(...[...byStep].filter(([k]) => k.replace(/\[\d+\]$/, '') === id).map(([, ms]) => ms)) / 1000).toFixed(1)} s`);
    notes.push(`- ${label}, first run, when each step's last item ended: ${lastEnd.join(', ')}.`);
  }
  return [...lines, '', ...notes, ''].join('\n');
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
