import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkSince, checkTokensFile } from '../../src/ui/preflight.js';
import { tokenLineProblem } from '../../src/github/token-file.js';
import { repoRoot } from '../helpers/cli.js';

/** The built CLI (npm run build): a process per case, so dist/ keeps this file fast. */
const ENTRY = join(repoRoot, 'bin', 'run.js');

const work = mkdtempSync(join(tmpdir(), 'cicd-ir-preflight-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The CLI in a bare environment: no GitHub token, no gh on PATH, no AWS profile or metadata service. */
function bare(args: string[]) {
  const out = join(work, `runs-${Math.random().toString(36).slice(2)}`);
  const child = spawnSync(process.execPath, [ENTRY, ...args, '--out', out], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { PATH: dirname(process.execPath), HOME: work, NO_COLOR: '1', AWS_EC2_METADATA_DISABLED: 'true' },
    timeout: 60_000,
  });
  return { status: child.status, stdout: child.stdout, stderr: child.stderr, runFolderOpened: existsSync(out) };
}

const CONTAIN = ['contain', '--repo', 'acme/web', '--workflow', 'deploy.yml', '--incident', 'IR-1', '--dry-run'];

describe('preflight (before any run folder or API call)', () => {
  it('refuses --since in the future or without a zone, naming the fix', () => {
    const now = new Date('2026-12-06T03:00:00Z');
    expect(() => checkSince('2026-12-06T02:00:00Z', now)).not.toThrow();
    expect(() => checkSince('2026-12-06T02:00:00+01:00', now)).not.toThrow();
    expect(() => checkSince('2026-12-07T02:00:00Z', now)).toThrow(/in the future/);
    expect(() => checkSince('2026-12-05T02:00:00', now)).toThrow(/no time zone/);
    expect(() => checkSince('2026-12-05', now)).toThrow(/no time zone/);
  });

  it('knows a tokens file from a .env, without quoting a line', () => {
    expect(tokenLineProblem(`ghp_${'a'.repeat(36)}`)).toBeUndefined();
    expect(tokenLineProblem(`npm_${'B'.repeat(36)}`)).toBeUndefined();
    expect(tokenLineProblem('# a comment')).toBeUndefined();
    expect(tokenLineProblem('AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG')).toMatch(/\.env/);
    const env = join(work, '.env');
    writeFileSync(env, 'DATABASE_URL=postgres://u:hunter2@db/x\nexport API_KEY=sk_live_123\n');
    expect(() => checkTokensFile(env)).toThrow(/line 1 is a NAME=value assignment.*line 2/);
    try {
      checkTokensFile(env);
    } catch (error) {
      expect(String(error)).not.toContain('hunter2');
      expect(String(error)).not.toContain('sk_live_123');
    }
    expect(() => checkTokensFile(join(work, 'missing.txt'))).toThrow(/does not exist/);
  });

  it('contain with no credentials exits 2 with the hint, and opens no run folder', () => {
    const run = bare([...CONTAIN, '--since', '2026-01-01T00:00:00Z']);
    expect(run.stderr).toContain('no GitHub credentials found');
    expect(run.stderr).toContain('GH_TOKEN');
    expect(run.stderr).toContain('gh auth login');
    expect(run.status).toBe(2);
    expect(run.runFolderOpened).toBe(false);
  });

  it('contain with --since in the future, or a .env as --tokens-file (even in --dry-run), exits 2 before anything', () => {
    const future = bare([...CONTAIN, '--since', '2999-01-01T00:00:00Z']);
    expect(future.stderr).toContain('in the future');
    expect(future.status).toBe(2);
    expect(future.runFolderOpened).toBe(false);
    const env = join(work, 'prod.env');
    writeFileSync(env, 'GITHUB_TOKEN=ghp_notreallyatoken\n');
    // With the lab, credentials are there: only the file stops it, before any request
    const wrong = bare(['contain', '--lab', 'scenarios/tj-actions-log-leak.yaml', '--tokens-file', env, '--dry-run']);
    expect(wrong.stderr).toContain('is not a tokens file');
    expect(wrong.stderr).not.toContain('notreallyatoken');
    expect(wrong.status).toBe(2);
    expect(wrong.runFolderOpened).toBe(false);
    const missing = bare([...CONTAIN, '--since', '2026-01-01T00:00:00Z', '--tokens-file', join(work, 'nope.txt')]);
    expect(missing.stderr).toContain('does not exist');
    expect(missing.status).toBe(2);
  });
});
