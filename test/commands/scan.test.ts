import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { gzipSync, strToU8, zipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { scanText } from '../../src/commands/scan.js';
import { scanPaths } from '../../src/scan/files.js';
import { repoRoot, spawnCli } from '../helpers/cli.js';
import { planted, secretValues } from '../scan/fixtures.js';

let dir: string;
const deployLog = join(repoRoot, 'test/fixtures/logs/deploy.txt');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cicd-ir-scan-'));
  const log = await readFile(deployLog);
  // A run's log archive as GitHub serves it (job folder, numbered step files), and one gzipped log.
  await writeFile(join(dir, 'logs_9123456701.zip'), zipSync({ 'deploy/4_Run tj-actions changed-files.txt': new Uint8Array(log), 'deploy/1_Set up job.txt': strToU8('nothing here\n') }));
  await writeFile(join(dir, 'job.log.gz'), gzipSync(strToU8(`export NPM_TOKEN=${planted.npm}\n`)));
});

function expectNoSecret(text: string): void {
  for (const value of secretValues()) expect(text, `echoes ${value.slice(0, 6)}…`).not.toContain(value);
}

describe('cicd-ir scan', () => {
  it('finds the credentials of a folder of logs, never prints a value, and exits 3', () => {
    // Given the fixture folder: a compromised job log (plain and double-base64 dump) and a clean one
    const out = spawnCli(['scan', 'test/fixtures/logs']);
    // Then each credential is listed with file:line, kind, preview and fingerprint, and the totals
    expect(out.status).toBe(3);
    expect(out.stdout).toMatch(/test\/fixtures\/logs\/deploy\.txt:\d+: npm-token( NPM_TOKEN)? npm_\*\*\*\*…\(40\) sha256:[0-9a-f]+ \(base64 x2\)/);
    expect(out.stdout).toMatch(/deploy\.txt:\d+: github-pat ghp_\*\*\*\*…\(40\) sha256:/);
    expect(out.stdout).toMatch(/credential\(s\).* in 2 file\(s\)/);
    expectNoSecret(out.stdout + out.stderr);
  });

  it('scans zip archives member by member, gzip files and standard input, with public hits only', async () => {
    // Given an archive and a gzipped log in a folder, and a log line on standard input
    const result = await scanPaths([dir, '-'], () => Readable.from([`token: ${planted.ghp}\n`]));
    // Then every source is scanned, and the archive's hits name its member, job and step
    expect(result.files.map((file) => [file.format, file.error])).toEqual([['gzip', undefined], ['zip', undefined], ['text', undefined]]);
    const zipHits = result.files[1]!.hits;
    expect(zipHits.some((hit) => hit.kind === 'npm-token' && hit.source.endsWith('logs_9123456701.zip:deploy/4_Run tj-actions changed-files.txt') && hit.job === 'deploy' && hit.step === 'Run tj-actions/changed-files@v45' && hit.depth === 2)).toBe(true);
    expect(result.files[0]!.hits.map((hit) => hit.kind)).toEqual(['npm-token']);
    expect(result.files[2]!.hits.map((hit) => hit.kind)).toEqual(['github-pat']);
    expect(result.credentials).toBe(result.hits);
    // (what --json prints is this object: no value in it)
    expectNoSecret(JSON.stringify(result));
  });

  it('exits 0 on clean logs and 2 on a path that does not exist', () => {
    expect(spawnCli(['scan', 'test/fixtures/logs/ci.txt']).status).toBe(0);
    const missing = spawnCli(['scan', join(dir, 'nope.txt')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('cannot read');
  });

  it('says a truncated archive was not read whole', async () => {
    // Given an archive cut in half
    const whole = await readFile(join(dir, 'logs_9123456701.zip'));
    await mkdir(join(dir, 'cut'));
    const cut = join(dir, 'cut', 'logs.zip');
    await writeFile(cut, whole.subarray(0, Math.floor(whole.length / 2)));
    // When it is scanned
    const result = await scanPaths([cut]);
    // Then the file is marked incomplete (the command exits 3 for it) and the text says so
    expect(result.incomplete).toBe(1);
    expect(result.files[0]!.error).toMatch(/truncated|invalid|unexpected/i);
    expect(scanText(result)).toContain('INCOMPLETE');
  });
});
