/**
 * Log scanner throughput: MB/s of log text, on a generated corpus that looks like GitHub
 * Actions job logs (timestamps, group markers, npm/pytest noise, paths, hashes) with a few
 * planted credentials, plain and double-base64. Prints figures; asserts nothing.
 *
 *   node --import tsx bench/scan/run.ts [megabytes=64]
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { zipSync, strToU8 } from 'fflate';
import { scanStream, scanText, scanZipStream } from '../../src/scan/index.js';

const megabytes = Number(process.argv[2] ?? '64');

function randomToken(seed: number, length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = createHash('sha512').update(String(seed)).digest();
  let out = '';
  for (let i = 0; i < length; i += 1) out += alphabet[bytes[i % bytes.length]! % alphabet.length];
  return out;
}

const NOISE = [
  '##[group]Run actions/checkout@v4',
  'Syncing repository: acme/app',
  '##[endgroup]',
  '/usr/bin/git -c protocol.version=2 fetch --no-tags --prune --no-recurse-submodules --depth=1 origin +0e58ed8671d6b60d0890c21b07f8835ace038e67:refs/remotes/origin/main',
  'npm warn deprecated inflight@1.0.6: This module is not supported, and leaks memory. Do not use it.',
  'added 1423 packages, and audited 1424 packages in 21s',
  'sha512-Kq1m2Tt0wZ0bBkCkJgTjvRZ4V0cS4bX7aH3n0vYqz1tLQmJxq3o0p2mK1t8W5b9n7x6v4c2z0yQ==',
  'PASS src/components/__tests__/button.test.tsx (5.123 s)',
  '  ✓ renders the label (23 ms)',
  'env:',
  '  GITHUB_TOKEN: ***',
  '  NODE_OPTIONS: --max-old-space-size=4096',
  'Downloading https://registry.npmjs.org/typescript/-/typescript-5.6.3.tgz',
  'Cache restored from key: node-cache-Linux-x64-npm-6f1ed002ab5595859014ebf0951522d9f0a38c5d6b3a2d0b1d4c66f8bd3df1b4',
  '/home/runner/work/app/app/node_modules/.bin/tsc -p tsconfig.json',
];

function generate(targetBytes: number): string {
  const lines: string[] = [];
  let size = 0;
  let n = 0;
  const start = Date.parse('2025-03-14T16:00:00Z');
  while (size < targetBytes) {
    const stamp = new Date(start + n * 37).toISOString().replace('Z', '0000Z');
    let text = NOISE[n % NOISE.length]!;
    if (n % 5000 === 17) text = `export GH_TOKEN=ghp_${randomToken(n, 36)}`;
    if (n % 20000 === 99) {
      const inner = `"NPM_TOKEN":{"value":"npm_${randomToken(n, 36)}","isSecret":true}\n"GITHUB_TOKEN":{"value":"ghs_${randomToken(n + 1, 36)}","isSecret":true}`;
      text = Buffer.from(Buffer.from(inner).toString('base64')).toString('base64');
    }
    const line = `${stamp} ${text}`;
    lines.push(line);
    size += line.length + 1;
    n += 1;
  }
  return lines.join('\n');
}

function report(label: string, bytes: number, ms: number, hits: number) {
  console.log(`${label.padEnd(28)} ${(bytes / 1e6).toFixed(1)} MB in ${ms.toFixed(0)} ms = ${(bytes / 1e6 / (ms / 1000)).toFixed(1)} MB/s (${hits} hits)`);
}

const corpus = generate(megabytes * 1e6);
const bytes = Buffer.byteLength(corpus);

// Warm up the regex engine on a slice so the figures are of steady state.
scanText(corpus.slice(0, 1_000_000), { source: 'warmup' });

let t0 = performance.now();
const inMemory = scanText(corpus, { source: 'bench.txt' });
report('scanText (in memory)', bytes, performance.now() - t0, inMemory.length);

const buffer = Buffer.from(corpus);
t0 = performance.now();
const streamed = await scanStream(Readable.from((function* () {
  for (let offset = 0; offset < buffer.length; offset += 64 * 1024) yield buffer.subarray(offset, offset + 64 * 1024);
})()), { source: 'bench.txt' });
report('scanStream (64 KiB chunks)', bytes, performance.now() - t0, streamed.length);

const zip = zipSync({ '0_build.txt': strToU8(corpus) });
t0 = performance.now();
const zipped = await scanZipStream((function* () {
  for (let offset = 0; offset < zip.length; offset += 64 * 1024) yield zip.subarray(offset, offset + 64 * 1024);
})() as unknown as AsyncIterable<Uint8Array>, {});
report('scanZipStream (inflate too)', bytes, performance.now() - t0, zipped.hits.length);
console.log(`zip: ${(zip.length / 1e6).toFixed(1)} MB compressed; node ${process.version}`);
