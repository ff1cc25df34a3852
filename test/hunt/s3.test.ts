import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { hunt } from '../../src/hunt/index.js';
import { byUser, t } from './trail-fixtures.js';

const s3 = mockClient(S3Client);
afterEach(() => s3.reset());

describe('the files source over S3', () => {
  it('lists the AWSLogs layout page by page, skips days outside the window and bad objects, and streams the rest', async () => {
    // Given a bucket with two pages of keys: two days in the window, one far outside, a digest and a corrupt object
    const key = 'AKIACIKEY00000000001';
    const base = 'org/AWSLogs/111122223333/CloudTrail/us-east-1';
    const objects: Record<string, Buffer> = {
      [`${base}/2026/11/20/a.json.gz`]: gzipSync(JSON.stringify({ Records: [byUser('ci', key, { at: 31, name: 'ListUsers' })] })),
      [`${base}/2026/11/21/b.json.gz`]: gzipSync(JSON.stringify({ Records: [byUser('ci', key, { at: 32, name: 'ListRoles' }), byUser('bob', 'AKIABOB0000000000001', { at: 33, name: 'ListRoles' })] })),
      [`${base}/2026/11/21/broken.json.gz`]: Buffer.from('definitely not gzip'),
      // Listed as large: streamed in the main thread instead of downloaded whole
      [`${base}/2026/11/21/large.json`]: Buffer.from(JSON.stringify({ Records: [byUser('ci', key, { at: 34, name: 'GetUser' })] })),
      // The download fails
      [`${base}/2026/11/21/gone.json.gz`]: Buffer.alloc(0),
      [`${base}/2025/01/01/old.json.gz`]: gzipSync(JSON.stringify({ Records: [byUser('ci', key, { at: 0, name: 'Ancient' })] })),
    };
    const keys = [...Object.keys(objects), 'org/AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/20/digest.txt'];
    s3.on(ListObjectsV2Command).callsFake((input) => {
      const start = input.ContinuationToken ? Number(input.ContinuationToken) : 0;
      const page = keys.filter((k) => k.startsWith(input.Prefix ?? '')).slice(start, start + 2);
      return { Contents: page.map((Key) => ({ Key, Size: Key.endsWith('large.json') ? 64 << 20 : objects[Key]?.length })), IsTruncated: start + 2 < keys.length, NextContinuationToken: String(start + 2) };
    });
    const fetched: string[] = [];
    s3.on(GetObjectCommand).callsFake((input) => {
      fetched.push(input.Key);
      if (input.Key.endsWith('gone.json.gz')) throw Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' });
      return { Body: Readable.from([objects[input.Key]!]) };
    });

    // When the key is hunted over s3://bucket/org with a window
    const result = await hunt(
      {
        source: 'files',
        path: 's3://trail-bucket/org',
        input: { identities: [{ kind: 'access-key', accessKeyId: key, cutoffs: { deactivatedAt: t(30) } }], since: t(20), until: t(120), baselineDays: 0 },
      },
      { cloudtrail: () => undefined as never, s3: () => new S3Client({ region: 'us-east-1' }) },
      { now: new Date(t(600)) },
    );

    // Then the old day and the digest were never fetched, the corrupt object was skipped and counted
    expect(fetched.sort()).toEqual([`${base}/2026/11/20/a.json.gz`, `${base}/2026/11/21/b.json.gz`, `${base}/2026/11/21/broken.json.gz`, `${base}/2026/11/21/gone.json.gz`, `${base}/2026/11/21/large.json`]);
    // (workers finish in any order)
    expect(result.stats.skipped).toHaveLength(2);
    expect(result.stats.skipped).toEqual(expect.arrayContaining([
      { path: `s3://trail-bucket/${base}/2026/11/21/broken.json.gz`, reason: expect.any(String) },
      { path: `s3://trail-bucket/${base}/2026/11/21/gone.json.gz`, reason: 'The specified key does not exist.' },
    ]));
    expect(result.stats.recordsRead).toBe(4);
    // And both calls after the deactivation are a critical finding
    expect(result.findings).toEqual([expect.objectContaining({ kind: 'used-after-revocation', severity: 'critical' })]);
    expect(result.findings[0]!.evidence.map((event) => event.eventName)).toEqual(['ListUsers', 'ListRoles', 'GetUser']);
  });
});
