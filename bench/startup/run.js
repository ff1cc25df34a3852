#!/usr/bin/env node
// Start-up cost of the CLI: median wall time of `cicd-ir --help`, `cicd-ir --version` (both
// answered by the manifest-only front door, bin/front-door.js) and `cicd-ir validate` (oclif
// itself) against `node -e 0` on the same machine. Usage: node bench/startup/run.js [N]
// Build first (`npm run build`): without the manifest oclif imports every command to list them.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const runs = Math.max(3, Number(process.argv[2] ?? 21));

if (!existsSync(`${root}/dist/commands`) || !existsSync(`${root}/oclif.manifest.json`)) {
  console.error('build first: npm run build (dist/ and oclif.manifest.json are missing)');
  process.exit(2);
}

function time(args) {
  const start = process.hrtime.bigint();
  const child = spawnSync(process.execPath, args, { cwd: root, stdio: 'ignore' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (child.status !== 0) throw new Error(`node ${args.join(' ')} exited ${child.status}`);
  return ms;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

// One warm-up of each so the first run's disk cache misses do not count.
const GOAL = 1.5;
const cases = {
  '--help': ['bin/run.js', '--help'],
  '--version': ['bin/run.js', '--version'],
  'validate (oclif)': ['bin/run.js', 'validate', 'playbooks/contain-compromised-workflow.yaml'],
};
time(['-e', '0']);
for (const args of Object.values(cases)) time(args);
const bare = [];
const measured = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
for (let i = 0; i < runs; i++) {
  // Interleaved, so a burst of machine load hits every side alike.
  bare.push(time(['-e', '0']));
  for (const [name, args] of Object.entries(cases)) measured[name].push(time(args));
}
const nodeMs = median(bare);
console.log(`runs: ${runs} each (interleaved), node ${process.version}`);
console.log(`node -e 0                   median ${nodeMs.toFixed(1)} ms`);
for (const [name, values] of Object.entries(measured)) {
  const ms = median(values);
  console.log(`cicd-ir ${name.padEnd(19)} median ${ms.toFixed(1)} ms  ${(ms / nodeMs).toFixed(2)}x bare node`);
}
const worst = Math.max(median(measured['--help']), median(measured['--version'])) / nodeMs;
console.log(`goal: --help and --version under ${GOAL}x bare node: ${worst.toFixed(2)}x, ${worst < GOAL ? 'met' : 'NOT met'}`);
