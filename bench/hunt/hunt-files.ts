/**
 * One timed hunt over a corpus with the files source (run by bench/hunt/run.ts as a child,
 * so its peak RSS is measured alone). Prints one JSON line.
 */
import { runHunt } from '../../src/hunt/engine.js';
import { createFilesSource } from '../../src/hunt/sources/files.js';
import { LEAKED_KEY } from './generate.js';

const dir = process.argv[2]!;
const started = performance.now();
const result = await runHunt({ identities: [{ kind: 'access-key', accessKeyId: LEAKED_KEY }], cutoffs: { revokedAt: '2026-10-16T00:00:00Z' } }, createFilesSource(dir), {
  now: new Date('2026-12-01T00:00:00Z'),
});
const seconds = (performance.now() - started) / 1000;
console.log(
  JSON.stringify({
    seconds,
    records: result.stats.recordsRead,
    matched: result.stats.recordsMatched,
    rounds: result.stats.rounds,
    files: result.stats.filesRead,
    skipped: result.stats.skipped.length,
    reread: result.stats.filesReread,
    damaged: result.stats.damaged,
    findings: result.findings.map((finding) => `${finding.severity}:${finding.kind}:${finding.identity}:${finding.evidence.length}`),
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  }),
);
