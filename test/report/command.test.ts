import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from '../helpers/cli.js';
import { describe, expect, it, vi } from 'vitest';
import Report from '../../src/commands/report.js';
import { CONTAIN, runDirWith } from './fixture.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

async function quietly<T>(fn: () => Promise<T>): Promise<{ value?: T; error?: any; stdout: string }> {
  let stdout = '';
  // oclif prints through console.log
  const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    stdout += `${args.join(' ')}\n`;
  });
  try {
    return { value: await fn(), stdout };
  } catch (error) {
    return { error, stdout };
  } finally {
    spy.mockRestore();
    // oclif's catch sets process.exitCode for the CLI; this is the test worker, not the CLI.
    process.exitCode = undefined;
  }
}

describe('cicd-ir report', () => {
  it('finds a run by id under --runs-dir, writes the asked formats there and prints their paths', async () => {
    // Given a run folder under a runs dir
    const runDir = await runDirWith(CONTAIN);
    // When `cicd-ir report <id> --runs-dir <dir> --format md,timesketch` runs
    const { value, stdout, error } = await quietly(() => Report.run([basename(runDir), '--runs-dir', dirname(runDir), '--format', 'md,timesketch'], ROOT));
    expect(error).toBeUndefined();
    // Then it wrote report.md and both Timesketch files into the run folder and printed each path
    const files = ['report.md', 'timesketch.jsonl', 'timesketch.csv'].map((f) => join(runDir, f));
    expect(value).toEqual({ runDir, files });
    expect(stdout.trim().split('\n')).toEqual(files);
    expect(existsSync(join(runDir, 'report.html'))).toBe(false);
  });

  it('takes a run folder path and --out, and returns JSON with --json', async () => {
    const runDir = await runDirWith(CONTAIN);
    const out = await mkdtemp(join(tmpdir(), 'cicd-ir-report-out-'));
    // When it runs with a path, --out and --json
    const { value, stdout } = await quietly(() => Report.run([runDir, '--out', out, '--json'], ROOT));
    // Then all five files go to --out and stdout is the JSON result
    expect(value?.files.map((f) => basename(f))).toEqual(['report.md', 'report.html', 'report.json', 'timesketch.jsonl', 'timesketch.csv']);
    expect(JSON.parse(stdout)).toEqual(value);
    expect(value?.files.every((f) => f.startsWith(out) && existsSync(f))).toBe(true);
    await rm(out, { recursive: true, force: true });
  });

  it('rejects an unknown run or format with exit code 2 before writing anything', async () => {
    const runDir = await runDirWith(CONTAIN);
    // (the error every command prints, and oclif.exit 2 so the process really exits 2)
    const missing = await runCommand(Report, ['no-such-run', '--runs-dir', dirname(runDir)]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('no run no-such-run');
    const badFormat = await runCommand(Report, [runDir, '--format', 'md,pdf']);
    expect(badFormat.exitCode).toBe(2);
    expect(badFormat.stderr).toContain('unknown report format pdf: use md, html, json, timesketch');
    expect(existsSync(join(runDir, 'report.md'))).toBe(false);
  });
});
