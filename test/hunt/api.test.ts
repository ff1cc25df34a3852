import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { afterEach, describe, expect, it } from 'vitest';
import { runHunt } from '../../src/hunt/engine.js';
import type { TrailRecord } from '../../src/hunt/model.js';
import { Pacer } from '../../src/hunt/pacer.js';
import { createApiSource, lookupsFor } from '../../src/hunt/sources/api.js';
import { createCloudTrailService } from '../../src/lab/cloudtrail/index.js';
import { MemoryTrail, createLabContext } from '../../src/lab/context.js';
import { serveService, type ServedService } from '../../src/lab/http.js';
import type { CloudTrailRecord, LabRequest } from '../../src/lab/types.js';
import { bySession, byUser, oidcAssume, SUBJECT } from './trail-fixtures.js';

const fake = { accessKeyId: 'AKIALABFAKE000000000', secretAccessKey: 'lab-fake-secret-key-000000000000' };
let served: ServedService | undefined;

afterEach(async () => {
  await served?.close();
  served = undefined;
});

/** Minutes relative to now (LookupEvents keeps 90 days, so the lab trail must be recent). */
function recent(records: TrailRecord[]): CloudTrailRecord[] {
  const shift = Date.now() - 2 * 86_400_000 - Date.parse('2026-11-20T12:00:00Z');
  return records.map((record) => {
    const move = (value: string) => new Date(Date.parse(value) + shift).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const copy = structuredClone(record);
    copy.eventTime = move(copy.eventTime);
    if (copy.userIdentity?.sessionContext?.attributes?.creationDate) copy.userIdentity.sessionContext.attributes.creationDate = move(copy.userIdentity.sessionContext.attributes.creationDate);
    return copy as CloudTrailRecord;
  });
}

async function lab(records: CloudTrailRecord[], ratePerSecond?: number) {
  const trail = new MemoryTrail();
  for (const record of records) trail.record(record);
  const log: LabRequest[] = [];
  served = await serveService(createCloudTrailService(createLabContext({ trail }), { ratePerSecond }), { log: (entry) => log.push(entry) });
  const client = (region: string) => new CloudTrailClient({ endpoint: served!.url, region, credentials: fake });
  return { client, log };
}

const at = (minutes: number) => new Date(Date.now() - 2 * 86_400_000 + minutes * 60_000).toISOString();

describe('the api source', () => {
  it('asks one attribute per lookup, splitting what LookupEvents cannot filter', () => {
    // Given a filter with a key, a role session, a subject and two event names
    const lookups = lookupsFor({
      accessKeyIds: ['ASIAJOBKEY0000000001'],
      roles: [{ arn: 'arn:aws:iam::111122223333:role/deploy', sessionName: 'GitHubActions' }],
      userNames: [],
      oidcSubjects: [SUBJECT],
      eventNames: ['StopLogging', 'AssumeRoleWithWebIdentity'],
    });
    // Then each lookup is one attribute, with no duplicates
    expect(lookups).toEqual([
      { key: 'AccessKeyId', value: 'ASIAJOBKEY0000000001' },
      { key: 'ResourceName', value: 'arn:aws:iam::111122223333:role/deploy' },
      { key: 'Username', value: 'GitHubActions' },
      { key: 'EventName', value: 'AssumeRoleWithWebIdentity' },
      { key: 'EventName', value: 'StopLogging' },
    ]);
  });

  it('paces each region inside 2 requests/s: no ThrottlingException in steady state, and finds the chain', async () => {
    // Given the lab trail of a leaked job session: minted in us-east-1, used after the job in us-east-1 and eu-west-1,
    // with more than one page of ordinary calls by the key
    const key = 'ASIAJOBKEY0000000001';
    const records = recent([
      { ...bySession(key, 0, { at: 22, name: 'DescribeInstances', source: 'ec2.amazonaws.com', ip: '203.0.113.66' }), awsRegion: 'eu-west-1' },
      oidcAssume(0, key),
      ...Array.from({ length: 60 }, (_, i) => bySession(key, 0, { at: 1 + i / 10, name: 'GetObject', source: 's3.amazonaws.com' })),
      bySession(key, 0, { at: 20, name: 'CreateAccessKey', ip: '203.0.113.66', response: { accessKey: { accessKeyId: 'AKIANEWKEY0000000001' } } }),
      byUser('backdoor', 'AKIANEWKEY0000000001', { at: 25, name: 'ListUsers', ip: '203.0.113.66' }),
    ]);
    const { client, log } = await lab(records);

    // When the subject is hunted in two regions at the service's real rate
    const result = await runHunt(
      { identities: [{ kind: 'oidc-subject', subject: SUBJECT }], cutoffs: { jobCompletedAt: at(10) }, since: at(-60), regions: ['us-east-1', 'eu-west-1'] },
      createApiSource({ regions: ['us-east-1', 'eu-west-1'], client }),
    );

    // Then the lab never throttled: every request was answered 200
    expect(log.length).toBeGreaterThan(20);
    expect(log.filter((entry) => entry.status !== 200)).toEqual([]);
    // And both regions were asked, in parallel, each within its budget
    expect(Object.keys(result.stats.requests!).sort()).toEqual(['eu-west-1', 'us-east-1']);
    // And the key was followed through two pages, to the minted user key and its use
    expect(result.identities.map((identity) => identity.id)).toEqual(expect.arrayContaining([key, 'AKIANEWKEY0000000001']));
    const afterJob = result.findings.find((finding) => finding.kind === 'used-after-job-end')!;
    expect(afterJob.evidence.map((event) => [event.eventName, event.awsRegion])).toEqual([
      ['CreateAccessKey', 'us-east-1'],
      ['DescribeInstances', 'eu-west-1'],
    ]);
    expect(result.findings.find((finding) => finding.kind === 'new-credentials-minted')!.evidence.map((event) => event.eventName)).toEqual(['CreateAccessKey', 'ListUsers']);
    // And a scan to now is provisional
    expect(result.provisional).toBe(true);
  });

  it('reserves pacer slots in call order, one interval apart', async () => {
    // Given a pacer at 2/s on a fake clock
    let now = 0;
    const slept: number[] = [];
    const pacer = new Pacer(2, { now: () => now, sleep: async (ms) => void slept.push(ms) });
    // When four callers take a slot at the same instant
    await Promise.all([pacer.take(), pacer.take(), pacer.take(), pacer.take()]);
    // Then they wait 0, 500, 1000, 1500 ms
    expect(slept).toEqual([500, 1000, 1500]);
    now = 10_000;
    slept.length = 0;
    await pacer.take();
    expect(slept).toEqual([]);
  });
});
