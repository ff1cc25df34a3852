import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/engine/errors.js';
import { fingerprint, isSecret, redact } from '../../src/engine/secret.js';
import { readTokenFile } from '../../src/github/token-file.js';

describe('readTokenFile', () => {
  it('reads stdin once when the path is -, wraps each token as a Secret, skips comments, blanks and duplicates', async () => {
    // Given tokens piped on stdin
    const stdin = Readable.from(['# from the leaked log\n', 'ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n', '\n', 'gho_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n', 'ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n']);
    // When read (twice: plan then apply)
    const first = await readTokenFile('-', stdin);
    const second = await readTokenFile('-', Readable.from(['never read\n']));
    // Then two Secrets, the same ones both times, and their values are redacted from any text
    expect(first.every(isSecret)).toBe(true);
    expect(first.map((t) => t.fingerprint)).toEqual([fingerprint('ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'), fingerprint('gho_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb')]);
    expect(second).toBe(first);
    expect(JSON.stringify(first)).not.toContain('ghp_a');
    expect(redact('token ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa leaked')).not.toContain('ghp_a');
  });

  it('reads a file and reports an unreadable one as bad input', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cicd-ir-tf-'));
    writeFileSync(join(dir, 't.txt'), 'ghp_cccccccccccccccccccccccccccccccccccc\n');
    expect((await readTokenFile(join(dir, 't.txt'))).map((t) => t.fingerprint)).toEqual([fingerprint('ghp_cccccccccccccccccccccccccccccccccccc')]);
    await expect(readTokenFile(join(dir, 'missing.txt'))).rejects.toThrow(UsageError);
  });
});
