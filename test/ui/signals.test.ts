import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';
import { interruptText } from '../../src/ui/signals.js';

const work = mkdtempSync(join(tmpdir(), 'cicd-ir-signals-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('Ctrl-C and SIGTERM', () => {
  it('stop a contain run cleanly: run id and resume line printed, lock and temp token files removed, files 0600, folders 0700', async () => {
    // Given a lab contain run (its scenario holds leaked tokens: a temp tokens file exists while it runs)
    const out = join(work, 'runs');
    const tmp = mkdtempSync(join(work, 'tmp-'));
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'run.js'), 'contain', '--lab', 'scenarios/grafana-missed-credential.yaml', '--yes', '--out', out], {
      cwd: repoRoot,
      env: { ...process.env, NO_COLOR: '1', TMPDIR: tmp },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let sent = false;
    let tokensFileSeen = false;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      // When the first step has started, the tokens file exists: stop the run
      if (!sent && /\] started /.test(stderr)) {
        sent = true;
        tokensFileSeen = readdirSync(tmp).some((name) => name.startsWith('cicd-ir-tokens-'));
        child.kill('SIGTERM');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (status) => resolve(status)));
    // Then it exits 143 saying what was done, the run id and how to resume
    expect(sent).toBe(true);
    expect(tokensFileSeen).toBe(true);
    expect(stderr).toContain('interrupted (SIGTERM)');
    const runId = /run (\S+): \d+ step\(s\) finished/.exec(stderr)?.[1];
    expect(runId).toBeDefined();
    expect(stderr).toContain(`continue it with: cicd-ir contain --resume ${runId}`);
    expect(code).toBe(143);
    // And the lock and the temporary tokens folder are gone
    const runDir = join(out, runId!);
    expect(existsSync(join(runDir, 'lock'))).toBe(false);
    expect(readdirSync(tmp).filter((name) => name.startsWith('cicd-ir-tokens-'))).toEqual([]);
    // And the journal is the owner's alone, as is its folder
    expect(statSync(join(runDir, 'journal.jsonl')).mode & 0o777).toBe(0o600);
    expect(statSync(runDir).mode & 0o777).toBe(0o700);
  }, 60_000);

  it('says there was nothing to resume when no run had started', () => {
    expect(interruptText('SIGINT', [], (id) => id)).toContain('No run had started');
    const text = interruptText('SIGINT', [{ runId: 'r1', runDir: '/x/r1', finished: ['a verified'], inFlight: ['b (started)'] }], (id) => `cicd-ir contain --resume ${id}`);
    expect(text).toContain('run r1: 1 step(s) finished: a verified');
    expect(text).toContain('in flight when stopped');
    expect(text).toContain('cicd-ir contain --resume r1');
  });
});
