import { Readable } from 'node:stream';
import fc from 'fast-check';
import { strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { fingerprint } from '../../src/engine/secret.js';
import { LineScanner, logFileIdentity, publicHit, scanStream, scanText, scanZipStream, shannonEntropy, type Hit, type RedactedSink } from '../../src/scan/index.js';
import { compromisedJobLog, jobLog, pem, planted, secretValues, tjActionsDump } from './fixtures.js';

const kinds = (hits: Hit[]) => hits.map((hit) => hit.kind);

/** Everything a consumer could print of the hits: the public view and the Secret's JSON. */
function printable(hits: Hit[]): string {
  return JSON.stringify(hits) + JSON.stringify(hits.map(publicHit)) + hits.map((hit) => `${hit.secret}`).join(' ');
}

function expectNoValue(text: string) {
  for (const value of secretValues()) expect(text, `echoes ${value.slice(0, 6)}…`).not.toContain(value);
}

describe('scanText: known formats', () => {
  it.each([
    ['github-pat', planted.ghp, 'ghp_'],
    ['github-app-token', planted.ghs, 'ghs_'],
    ['github-fine-grained-pat', planted.githubPat, 'github_pat_'],
    ['npm-token', planted.npm, 'npm_'],
    ['aws-access-key-id', planted.awsKeyId, 'AKIA'],
    ['slack-token', planted.slack, 'xoxb-'],
    ['google-api-key', planted.google, 'AIza'],
    ['stripe-live-key', planted.stripe, 'sk_live_'],
    ['jwt', planted.jwt, 'eyJ'],
  ])('finds a %s and keeps only its prefix and length', (kind, value, prefix) => {
    // Given a log line with the credential in the middle of other text
    const hits = scanText(`2025-03-14T16:00:00.0000000Z curl -H "x: ${value}" https://example.test`, { source: 'job.txt' });
    // Then one hit of that kind, fingerprinted, with a preview that is the prefix and the length only
    expect(kinds(hits)).toEqual([kind]);
    expect(hits[0]).toMatchObject({ fingerprint: fingerprint(value), depth: 0, line: 1, preview: `${prefix}****…(${value.length})` });
    // (an AWS key id is not secret: it travels as keyId for key rotation, and never as a Secret)
    if (kind === 'aws-access-key-id') { expect(hits[0]!.keyId).toBe(value); expect(hits[0]!.secret).toBeUndefined(); }
    else expect(printable(hits)).not.toContain(value.slice(prefix.length));
  });

  it('finds an AWS secret key only next to its key id or a name that says so, and links it to the key id', () => {
    // Given a secret key two lines after a key id, and the same 40 characters alone elsewhere
    const near = scanText([`AWS_ACCESS_KEY_ID=${planted.awsKeyId}`, 'configuring', `secret ${planted.awsSecret}`].join('\n'), { source: 's' });
    const alone = scanText(`checksum ${planted.awsSecret}`, { source: 's' });
    const named = scanText(`aws_secret_access_key = ${planted.awsSecret}`, { source: 's' });
    // Then only the ones with context count, and the secret carries the key id for rotation
    expect(kinds(near)).toEqual(['aws-access-key-id', 'aws-secret-access-key']);
    expect(near[1]).toMatchObject({ keyId: planted.awsKeyId, line: 3, family: 'aws' });
    expect(alone).toEqual([]);
    expect(kinds(named)).toEqual(['aws-secret-access-key']);
  });

  it('finds a multi-line private key block once, at its first line, and redacts every line of it', () => {
    // Given a PEM block printed into a log
    const scanner = new LineScanner({ source: 'k' });
    const lines = ['before', ...pem.split('\n'), 'after'];
    const results = lines.map((line) => scanner.push(line));
    const hits = [...results.flatMap((r) => r.hits), ...scanner.end()];
    // Then one private-key hit at line 2, fingerprinted over the base64 body
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({ kind: 'private-key', line: 2, fingerprint: fingerprint(planted.pemBody.join('')) });
    // And the redacted copy keeps the surrounding lines but no line of the key
    const redacted = results.map((r) => r.redacted).join('\n');
    expect(redacted).toContain('before');
    expect(redacted).toContain('after');
    expectNoValue(redacted);
  });

  it('counts a generic secret assignment only above the entropy threshold, never a mask or a reference', () => {
    // Given assignments of a random value, a word, GitHub's mask and an expression
    const text = [`PASSWORD=${planted.generic}`, 'password: changemechangeme', 'NPM_TOKEN: ***', 'token: ${{ secrets.NPM_TOKEN }}', 'api_key=$API_KEY_FROM_ENV_VAR'].join('\n');
    const hits = scanText(text, { source: 'g' });
    // Then only the random value, named
    expect(hits.map((h) => [h.kind, h.name, h.line])).toEqual([['generic-secret', 'PASSWORD', 1]]);
    expect(shannonEntropy(planted.generic)).toBeGreaterThan(3.5);
    expect(shannonEntropy('changemechangeme')).toBeLessThan(3.5);
  });

  it('reports nothing on ordinary CI noise (shas, integrity hashes, paths, masks)', () => {
    // Given the lines a normal npm / git job prints
    const noise = jobLog([
      '##[group]Run actions/checkout@v4',
      '/usr/bin/git -c protocol.version=2 fetch --depth=1 origin +0e58ed8671d6b60d0890c21b07f8835ace038e67:refs/remotes/origin/main',
      'sha512-Kq1m2Tt0wZ0bBkCkJgTjvRZ4V0cS4bX7aH3n0vYqz1tLQmJxq3o0p2mK1t8W5b9n7x6v4c2z0yQ==',
      'Cache restored from key: node-cache-Linux-x64-npm-6f1ed002ab5595859014ebf0951522d9f0a38c5d6b3a2d0b1d4c66f8bd3df1b4',
      '/home/runner/work/site/site/node_modules/.bin/tsc -p tsconfig.json',
      'GITHUB_TOKEN: ***',
      'Authenticating with the registry',
    ]);
    // Then no hit
    expect(scanText(noise, { source: 'n' })).toEqual([]);
  });
});

describe('scanText: encoded dumps (tj-actions)', () => {
  it('peels the double base64 of the runner secret entries and names each secret, in the right step', () => {
    // Given the log of a job that ran the compromised changed-files step
    const hits = scanText(compromisedJobLog(), { source: '1_build.txt', run: 42, job: 'build' });
    // Then every secret of the dump is found at depth 2, named, in the changed-files step, on the dump's line
    const dumped = hits.filter((hit) => hit.depth === 2);
    expect(dumped.map((h) => [h.name, h.kind]).sort()).toEqual([
      ['AWS_SECRET_ACCESS_KEY', 'aws-secret-access-key'],
      ['DEPLOY_KEY', 'private-key'],
      ['GITHUB_TOKEN', 'github-app-token'],
      ['MARKED', 'runner-secret'],
      ['NPM_TOKEN', 'npm-token'],
    ]);
    for (const hit of dumped) expect(hit).toMatchObject({ run: 42, job: 'build', step: 'Run tj-actions/changed-files@v45', line: 8 });
    // And the same private key has the same fingerprint as when printed in clear
    expect(dumped.find((h) => h.kind === 'private-key')!.fingerprint).toBe(fingerprint(planted.pemBody.join('')));
    // And the clear-text ones of the deploy step are found too
    expect(hits.filter((h) => h.depth === 0).map((h) => [h.kind, h.step])).toEqual([
      ['aws-access-key-id', 'Run ./deploy.sh'],
      ['aws-secret-access-key', 'Run ./deploy.sh'],
      ['github-pat', 'Run ./deploy.sh'],
    ]);
    expectNoValue(printable(hits));
  });

  it('ties a dumped secret key to the key id of its pair, so closing the key closes both', () => {
    // Given a dump with two key pairs (by name prefix) and one with a single key id under another name
    const pairs = scanText(jobLog([tjActionsDump({ AWS_ACCESS_KEY_ID: 'AKIAQ3EGRWNZTEXAMPLE', DOCS_AWS_ACCESS_KEY_ID: 'AKIAI6P62MGG3EXAMPLE', DOCS_AWS_SECRET_ACCESS_KEY: planted.awsSecret, AWS_SECRET_ACCESS_KEY: 'ZRnFyy5r2xJ7Fj4mgblEv0+9BZhvWaEXAMPLEKEY' })]), { source: 'a.txt' });
    const secretOf = (name: string) => pairs.find((hit) => hit.kind === 'aws-secret-access-key' && hit.name === name);
    // Then each secret key carries its own pair's key id
    expect(secretOf('DOCS_AWS_SECRET_ACCESS_KEY')?.keyId).toBe('AKIAI6P62MGG3EXAMPLE');
    expect(secretOf('AWS_SECRET_ACCESS_KEY')?.keyId).toBe('AKIAQ3EGRWNZTEXAMPLE');
    // And with a single key id in the dump, that one
    const single = scanText(jobLog([tjActionsDump({ LEGACY_KEY_ID: 'AKIAQ3EGRWNZTEXAMPLE', AWS_SECRET_ACCESS_KEY: planted.awsSecret })]), { source: 'b.txt' });
    expect(single.find((hit) => hit.kind === 'aws-secret-access-key')?.keyId).toBe('AKIAQ3EGRWNZTEXAMPLE');
  });

  it('peels up to three layers and no further; base64 that hides nothing stays as it is', () => {
    const encode = (text: string, times: number) => Array.from({ length: times }).reduce<string>((acc) => Buffer.from(acc).toString('base64'), text);
    const line = `token=${planted.ghp}`;
    // Given the same token encoded 1, 2, 3 and 4 times
    const depths = [1, 2, 3, 4].map((times) => scanText(encode(line, times), { source: 'b' }).map((h) => h.depth));
    // Then depths 1-3 are found at their depth, 4 is beyond the limit
    expect(depths).toEqual([[1], [2], [3], []]);
    // And innocent base64 gives nothing, and its line is left untouched in the redacted copy
    const scanner = new LineScanner({ source: 'b' });
    const innocent = Buffer.from('just a harmless sentence that happens to be encoded').toString('base64');
    expect(scanner.push(innocent)).toEqual({ hits: [], redacted: innocent });
  });

  it('redacts the whole encoded blob in the redacted line', () => {
    const scanner = new LineScanner({ source: 'r' });
    const dump = tjActionsDump({ NPM_TOKEN: planted.npm });
    const result = scanner.push(`2025-03-14T16:00:00.0000000Z ${dump}`);
    expect(result.hits).toHaveLength(1);
    expect(result.redacted).toMatch(/^2025-03-14T16:00:00.0000000Z \[base64 \*\*\*\*…\(\d+\) holding 1 credential\(s\), redacted\]$/);
    expect(result.redacted).not.toContain(dump.slice(0, 40));
  });
});

describe('streaming', () => {
  it('finds the same hits whatever the chunk boundaries (property)', async () => {
    // Given the compromised log as bytes, cut at arbitrary points (inside UTF-8 sequences and lines too)
    const text = `${compromisedJobLog()}naïve ünïcode line\n${pem}\n`;
    const bytes = Buffer.from(text);
    const expected = scanText(text, { source: 'p' }).map(publicHit);
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 12 }), async (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), bytes.length];
        const chunks = points.slice(1).map((end, i) => bytes.subarray(points[i]!, end));
        // When streamed / Then the hits are those of the whole text
        const hits = await scanStream(Readable.from(chunks), { source: 'p' });
        expect(hits.map(publicHit)).toEqual(expected);
      }),
      { numRuns: 40 },
    );
  });

  it('scans a run log archive file by file as it streams, with job and step from the names, and hashes it', async () => {
    // Given GitHub's archive layout: a top-level file per job and a folder of step files
    const zip = zipSync({
      '0_build.txt': strToU8(compromisedJobLog()),
      'build/': new Uint8Array(0),
      'build/3_Run tj-actions changed-files.txt': strToU8(jobLog([tjActionsDump({ NPM_TOKEN: planted.npm })])),
      '1_lint.txt': strToU8(jobLog(['eslint .', 'ok'])),
    });
    const redacted = new Map<string, string[]>();
    const sinkFor = (file: string): RedactedSink => {
      const lines: string[] = [];
      redacted.set(file, lines);
      return { write: (line) => lines.push(line), close: () => undefined };
    };
    // When streamed in small chunks
    const chunks = Array.from({ length: Math.ceil(zip.length / 97) }, (_, i) => zip.subarray(i * 97, (i + 1) * 97));
    const result = await scanZipStream(Readable.from(chunks), { run: 7, sinkFor });
    // Then each file is scanned with its job (and step from the file name), and the hash is of the archive bytes
    expect(result.files).toEqual(['0_build.txt', 'build/3_Run tj-actions changed-files.txt', '1_lint.txt']);
    expect(result.sha256).toBe((await import('node:crypto')).createHash('sha256').update(zip).digest('hex'));
    expect(result.hits.filter((h) => h.source === 'build/3_Run tj-actions changed-files.txt').map((h) => [h.job, h.step, h.kind, h.run])).toEqual([['build', 'Run tj-actions changed-files', 'npm-token', 7]]);
    expect(result.hits.filter((h) => h.job === 'lint')).toEqual([]);
    // And the redacted copies keep every line but no value
    expect(redacted.get('1_lint.txt')).toHaveLength(2);
    expectNoValue([...redacted.values()].flat().join('\n'));
  });

  it('refuses a truncated archive instead of reporting a partial scan as complete, and closes the copies', async () => {
    // Given the first half of an archive (a download cut short)
    const zip = zipSync({ '0_build.txt': strToU8(compromisedJobLog().repeat(50)) }, { level: 0 });
    let closed = 0;
    const sinkFor = (): RedactedSink => ({ write: () => undefined, close: () => (closed += 1) });
    // When scanned / Then it fails, and the redacted copy was closed anyway
    await expect(scanZipStream(Readable.from([zip.subarray(0, zip.length / 2)]), { sinkFor })).rejects.toThrow(/truncated|invalid zip data/);
    expect(closed).toBe(1);
  });

  it('names jobs and steps from archive paths', () => {
    expect(logFileIdentity('3_build and test.txt')).toEqual({ job: 'build and test' });
    expect(logFileIdentity('deploy/12_Run aws s3 sync.txt')).toEqual({ job: 'deploy', step: 'Run aws s3 sync' });
  });
});
