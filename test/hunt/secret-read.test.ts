import { describe, expect, it } from 'vitest';
import { secretsRead } from '../../src/hunt/classify.js';
import { runHunt } from '../../src/hunt/engine.js';
import { collect } from '../../src/report/collect.js';
import { secretReadOpenItems } from '../../src/report/reads.js';
import type { JournalRecord } from '../../src/engine/journal.js';
import { byUser, memorySource, t } from './trail-fixtures.js';

const KEY = 'AKIALEAKED0000000001';
const read = (at: number, name: string, source: string, request: Record<string, unknown>, extra: { error?: string } = {}) =>
  byUser('fleet-ci', KEY, { at, name, source, request, ...extra });

describe('what a hunted identity read', () => {
  it('names the secret, parameter, key or S3 prefix of each successful read, and nothing else', () => {
    // Given CloudTrail records of reads (and of calls that are not reads)
    const cases: Array<[ReturnType<typeof read>, string[]]> = [
      [read(1, 'GetSecretValue', 'secretsmanager.amazonaws.com', { secretId: 'prod/fleet/db-credentials' }), ['prod/fleet/db-credentials']],
      [read(1, 'BatchGetSecretValue', 'secretsmanager.amazonaws.com', { secretIdList: ['a', 'b'] }), ['a', 'b']],
      [read(1, 'GetParameter', 'ssm.amazonaws.com', { name: '/prod/api-key', withDecryption: true }), ['/prod/api-key']],
      [read(1, 'GetParameters', 'ssm.amazonaws.com', { names: ['/prod/a', '/prod/b'], withDecryption: true }), ['/prod/a', '/prod/b']],
      [read(1, 'GetParametersByPath', 'ssm.amazonaws.com', { path: '/prod', withDecryption: true }), ['/prod/*']],
      // Without decryption a SecureString stays ciphertext: not a read of the secret
      [read(1, 'GetParameter', 'ssm.amazonaws.com', { name: '/prod/api-key' }), []],
      [read(1, 'Decrypt', 'kms.amazonaws.com', { keyId: 'arn:aws:kms:us-east-1:111122223333:key/abcd', encryptionAlgorithm: 'SYMMETRIC_DEFAULT' }), ['arn:aws:kms:us-east-1:111122223333:key/abcd']],
      [read(1, 'GetObject', 's3.amazonaws.com', { bucketName: 'fleet-artifacts', key: 'releases/2026/app.tar.gz' }), ['s3://fleet-artifacts/releases/2026/']],
      // A denied read read nothing; a list is not a read
      [read(1, 'GetSecretValue', 'secretsmanager.amazonaws.com', { secretId: 'prod/x' }, { error: 'AccessDeniedException' }), []],
      [read(1, 'ListSecrets', 'secretsmanager.amazonaws.com', {}), []],
    ];
    // Then each names what was read
    for (const [record, expected] of cases) expect(secretsRead(record), `${record.eventName} ${JSON.stringify(record.requestParameters)}`).toEqual(expected);
    // And a KMS Decrypt an AWS service made on the caller's behalf is not counted twice
    const onBehalf = read(1, 'Decrypt', 'kms.amazonaws.com', { keyId: 'k' });
    onBehalf.userIdentity.invokedBy = 'secretsmanager.amazonaws.com';
    expect(secretsRead(onBehalf)).toEqual([]);
  });

  it('becomes a high secret-read finding per resource, and one OPEN item to rotate per resource in the report', async () => {
    // Given a leaked key that read one secret twice and an S3 object, before and inside the window
    const records = [
      read(1, 'GetSecretValue', 'secretsmanager.amazonaws.com', { secretId: 'prod/old' }),
      read(20, 'GetSecretValue', 'secretsmanager.amazonaws.com', { secretId: 'prod/fleet/db-credentials' }),
      read(21, 'GetSecretValue', 'secretsmanager.amazonaws.com', { secretId: 'prod/fleet/db-credentials' }),
      read(22, 'GetObject', 's3.amazonaws.com', { bucketName: 'fleet-artifacts', key: 'env/prod.env' }),
    ];
    // When the key is hunted from t(10)
    const result = await runHunt({ identities: [{ kind: 'access-key', accessKeyId: KEY }], since: t(10), until: t(60) }, memorySource(records), { now: new Date(t(60 * 24)) });
    // Then one finding per resource read in the window (the read before the window is the baseline)
    const reads = result.findings.filter((finding) => finding.kind === 'secret-read');
    expect(reads.map((finding) => [finding.resource, finding.severity, finding.identity, finding.evidence.length])).toEqual([
      ['prod/fleet/db-credentials', 'high', KEY, 2],
      ['s3://fleet-artifacts/env/', 'high', KEY, 1],
    ]);
    expect(reads[0]!.summary).toBe(`rotate prod/fleet/db-credentials: read by ${KEY} at ${t(20)} (GetSecretValue, 2 reads)`);

    // When the report reads them back from a journal
    const journal = reads.map((finding, index): JournalRecord => ({ v: 1, seq: index + 1, at: t(30), runId: 'r', type: 'finding', step: 'hunt', finding }));
    const items = secretReadOpenItems(collect(journal));
    // Then each resource is an OPEN credential item naming who read it and when
    expect(items.every((item) => item.blocking)).toBe(true);
    expect(items.map(({ kind, severity, summary }) => ({ kind, severity, summary }))).toEqual([
      { kind: 'credential', severity: 'high', summary: `rotate prod/fleet/db-credentials: read by ${KEY} at ${t(20)} (a hunted identity read it; the attacker holds its value)` },
      { kind: 'credential', severity: 'high', summary: `rotate s3://fleet-artifacts/env/: read by ${KEY} at ${t(22)} (a hunted identity read it; the attacker holds its value)` },
    ]);
  });

  it('runs a hunt with no identity in reach (nothing printed, no role, no key) instead of failing its input', async () => {
    // Given no identity at all, and a trail with a defense-evasion call
    const records = [byUser('someone', 'AKIASOMEONE000000001', { at: 5, name: 'StopLogging', source: 'cloudtrail.amazonaws.com' })];
    // When hunted
    const result = await runHunt({ identities: [], since: t(0), until: t(60) }, memorySource(records), { now: new Date(t(60 * 24)) });
    // Then it still looks for tampering
    expect(result.findings.map((finding) => finding.kind)).toEqual(['defense-evasion']);
  });
});
