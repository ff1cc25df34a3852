import { LookupEventsCommand, type CloudTrailClient, type LookupAttributeKey } from '@aws-sdk/client-cloudtrail';
import type { HuntSource } from '../engine.js';
import type { ScanStats, TrailRecord } from '../model.js';
import { Pacer } from '../pacer.js';
import { compileFilter, type ScanFilter } from '../predicate.js';

/** FACTS.md: 2 LookupEvents requests per second per account per region. */
export const LOOKUP_EVENTS_RATE = 2;

export interface ApiSourceOptions {
  regions: string[];
  /** The CloudTrail client for a region (`ctx.clients.cloudtrail(region)`). */
  client(region: string): CloudTrailClient;
  /** Requests per second per region (default 2, the service's limit). */
  ratePerSecond?: number;
  /** Receives each request as it is made (for the benchmark and the journal). */
  onRequest?: (region: string, lookup: Lookup) => void;
  /**
   * A region that could not be read (access denied, a disabled region, retries exhausted). Given,
   * the other regions go on and this one yields nothing: the caller must report it as not
   * hunted. Not given, the error ends the scan.
   */
  onRegionError?: (region: string, error: unknown) => void;
  signal?: AbortSignal;
}

/** One LookupEvents query: exactly one attribute, as the API allows. */
export interface Lookup {
  key: LookupAttributeKey;
  value: string;
}

/**
 * The lookups that find a filter's records. LookupEvents takes one attribute per call and
 * cannot filter on the session issuer or the web identity subject, so those become lookups
 * that find a superset (the role as a resource: its AssumeRole* events, whose minted keys are
 * then followed; every AssumeRoleWithWebIdentity) and the filter is re-applied locally.
 */
export function lookupsFor(filter: ScanFilter): Lookup[] {
  const lookups: Lookup[] = [];
  for (const key of filter.accessKeyIds) lookups.push({ key: 'AccessKeyId', value: key });
  for (const user of filter.userNames) lookups.push({ key: 'Username', value: user });
  for (const role of filter.roles) {
    lookups.push({ key: 'ResourceName', value: role.arn });
    if (role.sessionName) lookups.push({ key: 'Username', value: role.sessionName });
  }
  if (filter.oidcSubjects.length) lookups.push({ key: 'EventName', value: 'AssumeRoleWithWebIdentity' });
  for (const name of filter.eventNames) lookups.push({ key: 'EventName', value: name });
  const seen = new Set<string>();
  return lookups.filter((lookup) => {
    const id = `${lookup.key}=${lookup.value}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

/**
 * The api source: CloudTrail LookupEvents in every region at once, each region paced inside
 * its own 2 requests/s budget, pages of 50 followed by NextToken, deduplicated on eventID.
 */
export function createApiSource(options: ApiSourceOptions): HuntSource {
  const rate = options.ratePerSecond ?? LOOKUP_EVENTS_RATE;
  // One pacer per region for the source's lifetime: fixpoint rounds share the budget.
  const pacers = new Map(options.regions.map((region) => [region, new Pacer(rate)]));
  return {
    name: 'api',
    canFilterBySourceIp: false,
    async *scan(filter: ScanFilter, stats: ScanStats): AsyncIterable<TrailRecord> {
      const matches = compileFilter(filter);
      const lookups = lookupsFor(filter);
      stats.requests ??= {};
      const perRegion = await Promise.all(
        options.regions.map(async (region) => {
          const client = options.client(region);
          const pacer = pacers.get(region)!;
          const found = new Map<string, TrailRecord>();
          try {
            for (const lookup of lookups) {
              let token: string | undefined;
              do {
                await pacer.take();
                options.signal?.throwIfAborted();
                options.onRequest?.(region, lookup);
                stats.requests![region] = (stats.requests![region] ?? 0) + 1;
                const page = await client.send(
                  new LookupEventsCommand({
                    LookupAttributes: [{ AttributeKey: lookup.key, AttributeValue: lookup.value }],
                    ...(filter.from ? { StartTime: new Date(filter.from) } : {}),
                    ...(filter.to ? { EndTime: new Date(filter.to) } : {}),
                    MaxResults: 50,
                    ...(token ? { NextToken: token } : {}),
                  }),
                  { abortSignal: options.signal },
                );
                for (const event of page.Events ?? []) {
                  stats.recordsRead++;
                  if (!event.CloudTrailEvent) continue;
                  let record: TrailRecord;
                  try {
                    record = JSON.parse(event.CloudTrailEvent) as TrailRecord;
                  } catch {
                    stats.damaged.records++;
                    stats.skipped.push({ path: `${region}:${event.EventId}`, reason: 'CloudTrailEvent is not valid JSON' });
                    continue;
                  }
                  const id = String(record.eventID ?? event.EventId);
                  if (!found.has(id) && matches(record)) found.set(id, record);
                }
                token = page.NextToken;
              } while (token);
            }
          } catch (error) {
            if (!options.onRegionError || options.signal?.aborted) throw error;
            options.onRegionError(region, error);
            return [];
          }
          return [...found.values()];
        }),
      );
      for (const records of perRegion) yield* records;
    },
  };
}
