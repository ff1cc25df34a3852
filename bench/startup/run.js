#!/usr/bin/env node
// Start-up cost of the CLI: median wall time of `cicd-ir --help` (bin/run.js, built dist and
// oclif manifest) against `node -e 0` on the same machine. Usage: node bench/startup/run.js [N]
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
time(['-e', '0']);
time(['bin/run.js', '--help']);
const bare = [];
const cli = [];
for (let i = 0; i < runs; i++) {
  // Interleaved, so a burst of machine load hits both sides alike.
  bare.push(time(['-e', '0']));
  cli.push(time(['bin/run.js', '--help']));
}
const nodeMs = median(bare);
const cliMs = median(cli);
console.log(`runs: ${runs} each (interleaved), node ${process.version}`);
console.log(`node -e 0          median ${nodeMs.toFixed(1)} ms`);
console.log(`cicd-ir --help     median ${cliMs.toFixed(1)} ms`);
console.log(`ratio              ${(cliMs / nodeMs).toFixed(2)}x bare node (goal: under 2x)`);
