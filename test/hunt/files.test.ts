import { mkdtempSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { emptyStats, runHunt } from '../../src/hunt/engine.js';
import type { TrailRecord } from '../../src/hunt/model.js';
import { scanStream } from '../../src/hunt/sources/file-scan.js';
import { createFilesSource } from '../../src/hunt/sources/files.js';
import { sharedData } from '../helpers/shared-data.js';
import { byUser, t } from './trail-fixtures.js';

const EVERYTHING = { accessKeyIds: [], roles: [], userNames: [], oidcSubjects: [], eventNames: [] };

async function readAll(path: string, options: { workers?: number } = {}) {
  const stats = emptyStats();
  const records: TrailRecord[] = [];
  // An identity no record has: the scan still reads (and, with validate, parses) every record.
  for await (const record of createFilesSource(path, { validate: true, ...options }).scan({ ...EVERYTHING, accessKeyIds: ['AKIANOBODY0000000000'] }, stats)) records.push(record);
  return { stats, records };
}

describe('the files source on real CloudTrail data', () => {
  it('parses every shared file with the documented counts', async () => {
    // Given the three real corpora: Stratus (plain arrays), Panther (JSON lines with an envelope), AWS docs (Records)
    const stratus = await readAll(sharedData('cloudtrail', 'stratus-red-team'));
    const panther = await readAll(sharedData('cloudtrail', 'panther-analysis'));
    const awsdocs = await readAll(sharedData('cloudtrail', 'awsdocs'));

    // Then all parse, none is skipped, and the counts are the README's (checked by hand: 310 in 35 files; 464 + 27; 7)
    expect(stratus.stats).toMatchObject({ filesRead: 35, recordsRead: 310, skipped: [] });
    expect(readdirSync(sharedData('cloudtrail', 'stratus-red-team'))).toHaveLength(35);
    expect(panther.stats).toMatchObject({ filesRead: 2, recordsRead: 464 + 27, skipped: [] });
    expect(awsdocs.stats).toMatchObject({ filesRead: 1, recordsRead: 7, skipped: [] });
    // Panther's placeholders ("redacted", missing times) are counted as undated, not dropped
    expect(panther.stats.undated).toBeGreaterThan(0);
    expect(stratus.stats.undated).toBe(0);
  });

  it('finds the stolen EC2 instance credentials used from outside the instance', async () => {
    // Given Stratus's ec2-steal-instance-credentials: the instance role's session (ec2RoleDelivery,
    // session name = instance id) calls GetCallerIdentity and DescribeInstances from 18.236.253.47
    // with the attacker's user agent: the IP from which IAM user christophe drove SSM SendCommand
    const file = sharedData('cloudtrail', 'stratus-red-team', 'aws.credential-access.ec2-steal-instance-credentials.json');

    // When the instance role is hunted
    const result = await runHunt(
      { identities: [{ kind: 'role', roleArn: 'arn:aws:iam::017622104382:role/stratus-red-team-ec2-steal-credentials-role' }] },
      createFilesSource(file),
      { now: new Date('2024-09-01T00:00:00Z') },
    );

    // Then an unusual-source finding names the instance credentials and the other principal
    const unusual = result.findings.filter((finding) => finding.kind === 'unusual-source');
    expect(unusual).toHaveLength(1);
    expect(unusual[0]).toMatchObject({ severity: 'high', identity: 'arn:aws:iam::017622104382:role/stratus-red-team-ec2-steal-credentials-role' });
    expect(unusual[0]!.summary).toContain('user/christophe');
    expect(unusual[0]!.evidence.map((event) => [event.eventName, event.accessKeyId, event.sourceIPAddress])).toEqual([
      ['GetCallerIdentity', 'ASIAP5CT9NN8EYVU1FXV', '18.236.253.47'],
      ['DescribeInstances', 'ASIAP5CT9NN8EYVU1FXV', '18.236.253.47'],
    ]);
  });

  it('does not flag the IAM user who drove the attack as instance credentials', async () => {
    // Given the same file, hunting christophe's key (used from its usual place throughout)
    const file = sharedData('cloudtrail', 'stratus-red-team', 'aws.credential-access.ec2-steal-instance-credentials.json');
    const result = await runHunt({ identities: [{ kind: 'access-key', accessKeyId: 'AKIAAM80VXLJF8NPK4VC' }] }, createFilesSource(file), { now: new Date('2024-09-01T00:00:00Z') });
    // Then there is no unusual-source finding
    expect(result.findings.filter((finding) => finding.kind === 'unusual-source')).toEqual([]);
  });

  it.each([
    ['aws.defense-evasion.cloudtrail-delete.json', 'DeleteTrail', 'medium'],
    ['aws.defense-evasion.cloudtrail-event-selectors.json', 'PutEventSelectors', 'medium'],
    ['aws.defense-evasion.cloudtrail-stop.json', 'StopLogging', 'medium'],
    ['aws.defense-evasion.dns-delete-logs.json', 'DeleteResolverQueryLogConfig', 'medium'],
    ['aws.defense-evasion.vpc-remove-flow-logs.json', 'DeleteFlowLogs', 'medium'],
    ['aws.defense-evasion.organizations-leave.json', 'LeaveOrganization', 'low'],
  ])('finds defense evasion in %s', async (name, eventName, severity) => {
    // Given a Stratus defense-evasion detonation, hunting an unrelated key
    const result = await runHunt({ identities: [{ kind: 'access-key', accessKeyId: 'AKIANOBODY0000000000' }] }, createFilesSource(sharedData('cloudtrail', 'stratus-red-team', name)), {
      now: new Date('2024-09-01T00:00:00Z'),
    });
    // Then the evasion is reported for whoever did it: medium for a principal not hunted (LeaveOrganization was denied: low)
    const evasion = result.findings.filter((finding) => finding.kind === 'defense-evasion');
    expect(evasion).toHaveLength(1);
    expect(evasion[0]).toMatchObject({ severity });
    expect(evasion[0]!.evidence.map((event) => event.eventName)).toEqual([eventName]);
  });

  it('hunts the Panther compromised-credentials storyline by user', async () => {
    // Given Panther's 27-event storyline (root console logins, StopLogging attempt, CreateAccessKey)
    const file = sharedData('cloudtrail', 'panther-analysis', 'panther_test_scenarios_cloudtrail.jsonl');
    const result = await runHunt({ identities: [{ kind: 'access-key', accessKeyId: 'AKIANOBODY0000000000' }] }, createFilesSource(file), { now: new Date('2021-01-01T00:00:00Z') });
    // Then the denied StopLogging by root is a low defense-evasion finding
    expect(result.findings).toEqual([expect.objectContaining({ kind: 'defense-evasion', severity: 'low', identity: 'arn:aws:iam::493859302102:root' })]);
  });
});

describe('the files source on corrupt input', () => {
  it('reports damaged files and records with a count, and still hunts every good record', async () => {
    // Given a directory in the AWSLogs layout with good and damaged files, each holding the key
    const root = mkdtempSync(join(tmpdir(), 'hunt-corrupt-'));
    const dir = join(root, 'AWSLogs', '111122223333', 'CloudTrail', 'us-east-1', '2026', '11', '20');
    mkdirSync(dir, { recursive: true });
    const good = [byUser('ci', 'AKIACIKEY00000000001', { at: 1, name: 'ListUsers' }), byUser('ci', 'AKIACIKEY00000000001', { at: 2, name: 'ListRoles' })];
    writeFileSync(join(dir, 'good.json.gz'), gzipSync(JSON.stringify({ Records: good })));
    const truncated = gzipSync(JSON.stringify({ Records: [good[0], good[1], byUser('ci', 'AKIACIKEY00000000001', { at: 3, name: 'GetUser' })] }));
    writeFileSync(join(dir, 'truncated.json.gz'), truncated.subarray(0, truncated.length - 20));
    writeFileSync(join(dir, 'not-gzip.json.gz'), 'plain text, not gzip');
    writeFileSync(join(dir, 'bad-token.json'), `{"Records":[{"eventName":"ListUsers","userIdentity":{"accessKeyId":"AKIACIKEY00000000001"},"x": tru},${JSON.stringify(good[0])}]}`);
    writeFileSync(join(dir, 'wrong-shape.json'), '"AKIACIKEY00000000001"');
    writeFileSync(join(dir, 'cut.json'), JSON.stringify({ Records: good }).slice(0, 700));
    writeFileSync(join(dir, 'notes.txt'), 'ignored: not a CloudTrail file name');

    // When the directory is hunted for the key
    const result = await runHunt({ identities: [{ kind: 'access-key', accessKeyId: 'AKIACIKEY00000000001', cutoffs: { deactivatedAt: t(0) } }] }, createFilesSource(root), {
      now: new Date(t(600)),
    });

    // Then the five damaged files are counted and listed with a reason each
    expect(result.stats.filesRead).toBe(6);
    expect(result.stats.damaged.files).toBe(5);
    const damagedFiles = [...new Set(result.stats.skipped.map((skip) => skip.path.split('/').pop()))].sort();
    expect(damagedFiles).toEqual(['bad-token.json', 'cut.json', 'not-gzip.json.gz', 'truncated.json.gz', 'wrong-shape.json']);
    expect(result.stats.skipped.every((skip) => skip.reason.length > 0)).toBe(true);
    // And the bad record is named by index and byte offset (the first record, after `{"Records":[`)
    expect(result.stats.skipped.find((skip) => skip.path.endsWith('bad-token.json'))).toMatchObject({ record: 1, offset: 12 });
    // And the good records of the damaged files are hunted too: 2 + 2 (before the gzip cut) + 1 + 1 (before the cut)
    expect(result.stats.recordsRead).toBe(6);
    expect(result.findings).toEqual([expect.objectContaining({ kind: 'used-after-revocation', severity: 'critical' })]);
    expect(result.findings[0]!.evidence.length).toBeGreaterThanOrEqual(2);
  });

  it('gives the same records from worker threads as from the main thread', async () => {
    // Given the Stratus corpus
    const dir = sharedData('cloudtrail', 'stratus-red-team');
    // When it is read with two workers and with none
    const threaded = await readAll(dir, { workers: 2 });
    const inline = await readAll(dir, { workers: 0 });
    // Then the counts agree
    expect(threaded.stats.recordsRead).toBe(inline.stats.recordsRead);
  });

  it('streams a file far larger than one chunk', async () => {
    // Given 20,000 records gzipped (several MB of JSON)
    const records = Array.from({ length: 20_000 }, (_, i) => byUser('ci', i % 1000 === 0 ? 'AKIACIKEY00000000001' : 'AKIAOTHER0000000001', { at: i / 100, name: 'ListUsers' }));
    const body = gzipSync(JSON.stringify({ Records: records }));
    // When it is scanned as a stream for the key
    const result = await scanStream(Readable.from([body.subarray(0, 1000), body.subarray(1000)]), true, { ...EVERYTHING, accessKeyIds: ['AKIACIKEY00000000001'] });
    // Then every record is counted and only the 20 matching ones are kept
    expect(result).toMatchObject({ records: 20_000, undated: 0, damagedRecords: 0 });
    expect(result.matched).toHaveLength(20);
  });
});
