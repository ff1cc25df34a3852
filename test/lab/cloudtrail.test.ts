import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryTrail, createLabContext } from '../../src/lab/context.js';
import { createCloudTrailService } from '../../src/lab/cloudtrail/index.js';
import { serveService, type ServedService } from '../../src/lab/http.js';
import type { CloudTrailRecord, FaultRule, LabRequest } from '../../src/lab/types.js';

const fake = { accessKeyId: 'AKIALABFAKE000000000', secretAccessKey: 'lab-fake-secret-key-000000000000' };

function record(index: number, overrides: Partial<CloudTrailRecord> & Record<string, unknown> = {}): CloudTrailRecord {
  return {
    eventVersion: '1.08',
    eventTime: new Date(Date.now() - (1000 - index) * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    eventSource: 'iam.amazonaws.com',
    eventName: index % 2 ? 'ListUsers' : 'ListRoles',
    awsRegion: 'us-east-1',
    eventID: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
    readOnly: true,
    userIdentity: { type: 'IAMUser', userName: 'ci', arn: 'arn:aws:iam::111122223333:user/ci', accessKeyId: index < 120 ? 'AKIACIKEY00000000001' : 'AKIAOTHER0000000001' },
    sourceIPAddress: '198.51.100.7',
    ...overrides,
  };
}

let served: ServedService | undefined;
let log: LabRequest[] = [];

async function lab(records: CloudTrailRecord[], options: { faults?: FaultRule[] } = {}) {
  const trail = new MemoryTrail();
  for (const r of records) trail.record(r);
  log = [];
  served = await serveService(createCloudTrailService(createLabContext({ trail })), { faults: options.faults, log: (entry) => log.push(entry) });
  return (region = 'us-east-1') => new CloudTrailClient({ endpoint: served!.url, region, credentials: fake, maxAttempts: 1 });
}

afterEach(async () => {
  await served?.close();
  served = undefined;
});

describe('the lab CloudTrail LookupEvents', () => {
  it('returns events as AWS does, newest first, for one attribute, in the signed region only', async () => {
    // Given three events, one of them in another region
    const client = await lab([record(1), record(2), record(3, { awsRegion: 'eu-west-1' })]);

    // When the real SDK looks them up by event name and by nothing
    const byName = await client().send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'ListUsers' }] }));
    const all = await client().send(new LookupEventsCommand({}));
    const europe = await client('eu-west-1').send(new LookupEventsCommand({}));

    // Then the SDK parses the JSON 1.1 answer: Date times, the record as a JSON string
    expect(byName.Events).toHaveLength(1);
    const [event] = byName.Events!;
    expect(event).toMatchObject({ EventName: 'ListUsers', ReadOnly: 'true', AccessKeyId: 'AKIACIKEY00000000001', Username: 'ci', EventSource: 'iam.amazonaws.com' });
    expect(event!.EventTime).toBeInstanceOf(Date);
    expect(JSON.parse(event!.CloudTrailEvent!)).toMatchObject({ eventID: record(1).eventID, sourceIPAddress: '198.51.100.7' });
    // newest first, and each region sees its own events
    expect(all.Events!.map((e) => e.EventId)).toEqual([record(2).eventID, record(1).eventID]);
    expect(europe.Events!.map((e) => e.EventId)).toEqual([record(3).eventID]);
    // and the request log says LookupEvents is read-only
    expect(log.every((entry) => entry.operation === 'LookupEvents' && !entry.mutating)).toBe(true);
  });

  it('refuses two lookup attributes with InvalidLookupAttributesException', async () => {
    // Given a lab
    const client = await lab([record(1)]);
    // When two attributes are sent at once
    const call = client().send(
      new LookupEventsCommand({
        LookupAttributes: [
          { AttributeKey: 'EventName', AttributeValue: 'ListUsers' },
          { AttributeKey: 'Username', AttributeValue: 'ci' },
        ],
      }),
    );
    // Then the SDK raises the modelled exception
    await expect(call).rejects.toMatchObject({ name: 'InvalidLookupAttributesException' });
  });

  it('pages at most 50 events with a NextToken bound to the query', async () => {
    // Given 130 events, 120 of them by one key
    const client = await lab(Array.from({ length: 130 }, (_, i) => record(i)));
    const query = { LookupAttributes: [{ AttributeKey: 'AccessKeyId' as const, AttributeValue: 'AKIACIKEY00000000001' }] };

    // When every page is fetched
    const sizes: number[] = [];
    const ids = new Set<string>();
    let token: string | undefined;
    do {
      const page = await client().send(new LookupEventsCommand({ ...query, NextToken: token }));
      sizes.push(page.Events!.length);
      for (const e of page.Events!) ids.add(e.EventId!);
      token = page.NextToken;
      await new Promise((resolve) => setTimeout(resolve, 500));
    } while (token);

    // Then pages hold 50, 50, 20 and every event once
    expect(sizes).toEqual([50, 50, 20]);
    expect(ids.size).toBe(120);

    // And MaxResults over 50 and a token reused with another query are refused
    await expect(client().send(new LookupEventsCommand({ ...query, MaxResults: 51 }))).rejects.toMatchObject({ name: 'InvalidMaxResultsException' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const first = await client().send(new LookupEventsCommand(query));
    await new Promise((resolve) => setTimeout(resolve, 500));
    const reused = client().send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'Username', AttributeValue: 'ci' }], NextToken: first.NextToken }));
    await expect(reused).rejects.toMatchObject({ name: 'InvalidNextTokenException' });
  });

  it('throttles beyond 2 requests per second per region, and only that region', async () => {
    // Given a lab
    const client = await lab([record(1)]);
    // When six requests arrive at once in one region, and one in another
    const burst = await Promise.allSettled(Array.from({ length: 6 }, () => client().send(new LookupEventsCommand({}))));
    const other = await client('us-west-2').send(new LookupEventsCommand({}));
    // Then the burst of 2 passes and the rest get ThrottlingException, which the SDK reads from __type
    const rejected = burst.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(burst.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    expect(rejected.map((r) => (r.reason as Error).name)).toEqual(Array(4).fill('ThrottlingException'));
    expect(other.Events).toEqual([]);
  });

  it('keeps 90 days and refuses a start after the end', async () => {
    // Given an event 100 days old and a recent one
    const old = record(1, { eventTime: new Date(Date.now() - 100 * 86_400_000).toISOString() });
    const client = await lab([old, record(2)]);
    // When everything is asked for from a year ago
    const page = await client().send(new LookupEventsCommand({ StartTime: new Date(Date.now() - 365 * 86_400_000) }));
    // Then only the recent one comes back
    expect(page.Events!.map((e) => e.EventId)).toEqual([record(2).eventID]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await expect(client().send(new LookupEventsCommand({ StartTime: new Date(), EndTime: new Date(Date.now() - 60_000) }))).rejects.toMatchObject({
      name: 'InvalidTimeRangeException',
    });
  });

  it('answers an injected throttle fault the way the SDK expects', async () => {
    // Given a fault rule that throttles every LookupEvents
    const client = await lab([record(1)], { faults: [{ service: 'cloudtrail', operation: 'LookupEvents', errorRate: 1, error: 'throttle' }] });
    // Then the SDK sees a ThrottlingException and the log records the fault
    await expect(client().send(new LookupEventsCommand({}))).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(log).toEqual([expect.objectContaining({ service: 'cloudtrail', operation: 'LookupEvents', status: 400, fault: 'throttle' })]);
  });
});
