import { classify, DEFENSE_EVASION_EVENTS, IdentityTracker, indexSource, isEc2InstanceSession, type SourceIndex, type TrackedIdentity } from './classify.js';
import { HuntInput, type HuntInputJson, type HuntResult, type ScanStats, type TrailRecord } from './model.js';
import type { ScanFilter } from './predicate.js';

/** Delivery to CloudTrail takes ~5 minutes, sometimes far longer: a scan reaching this close to now is provisional. */
export const PROVISIONAL_MS = 15 * 60_000;

/** What a source gives back for one scan. */
export interface ScanOutput {
  records: AsyncIterable<TrailRecord>;
}

/** A place CloudTrail records come from: the LookupEvents API, files (local or S3), or Athena. */
export interface HuntSource {
  readonly name: 'api' | 'files' | 'athena';
  /**
   * Yields every record matching the filter (sources may yield more; the classifier
   * re-checks). Updates `stats` as it goes.
   */
  scan(filter: ScanFilter, stats: ScanStats): AsyncIterable<TrailRecord>;
  /** False when the source cannot look records up by source IP (LookupEvents has no such attribute). */
  readonly canFilterBySourceIp?: boolean;
}

/** Starts a fresh set of counters. */
export function emptyStats(): ScanStats {
  return { recordsRead: 0, recordsMatched: 0, undated: 0, filesRead: 0, skipped: [], rounds: 0 };
}

/**
 * Runs a hunt to a fixpoint: scan for the hunted identities, follow every credential they
 * minted (the new key becomes hunted), scan again for the new ones only, until nothing new
 * appears; then classify everything matched. Memory holds only matched records.
 */
export async function runHunt(inputJson: HuntInputJson, source: HuntSource, options: { now?: Date; maxRounds?: number } = {}): Promise<HuntResult> {
  const input = HuntInput.parse(inputJson);
  const now = options.now ?? new Date();
  const tracker = new IdentityTracker(input);
  const stats = emptyStats();
  const matched = new Map<string, TrailRecord>();
  const unkeyed: TrailRecord[] = [];
  const sourceIndex: SourceIndex = new Map();
  const since = input.since ? Date.parse(input.since) : undefined;
  const from = since !== undefined ? new Date(since - input.baselineDays * 86_400_000).toISOString() : undefined;

  let pending: TrackedIdentity[] = tracker.all();
  const maxRounds = options.maxRounds ?? 10;
  // The first round always runs: with no identity in reach it still looks for defense evasion.
  while ((pending.length || stats.rounds === 0) && stats.rounds < maxRounds) {
    // Defense evasion is looked for once, for every principal; later rounds look only for new keys.
    const filter = IdentityTracker.filterFor(pending, stats.rounds === 0 ? DEFENSE_EVASION_EVENTS : [], from, input.until);
    // Corpus counters (records, files, skipped) come from the first round; later rounds re-read
    // the same corpus for new keys, and only add their requests.
    const roundStats = stats.rounds === 0 ? stats : { ...emptyStats(), requests: stats.requests };
    for await (const record of source.scan(filter, roundStats)) {
      const id = record.eventID;
      if (typeof id === 'string' && id) {
        if (matched.has(id)) continue;
        matched.set(id, record);
      } else unkeyed.push(record);
    }
    stats.rounds += 1;
    pending = [];
    // Minted keys are followed from the records of this round (and earlier ones for identities that were just added).
    for (const record of [...matched.values(), ...unkeyed]) {
      const match = tracker.resolve(record);
      if (!match) continue;
      const minted = tracker.follow(record, match.tracked);
      if (minted) pending.push(minted);
    }
  }
  stats.recordsMatched = matched.size + unkeyed.length;

  // EC2 instance credentials are used from the instance: look at who else calls from the IPs
  // they were used from. One extra scan, only when instance credentials are among the hunted.
  const instanceIps = new Set<string>();
  for (const record of matched.values()) {
    if (isEc2InstanceSession(record) && typeof record.sourceIPAddress === 'string' && tracker.resolve(record)) instanceIps.add(record.sourceIPAddress);
  }
  if (instanceIps.size && source.canFilterBySourceIp !== false) {
    const context = { ...IdentityTracker.filterFor([], [], from, input.until), sourceIps: [...instanceIps] };
    for await (const record of source.scan(context, emptyStats())) indexSource(sourceIndex, record);
  }

  const findings = classify([...matched.values(), ...unkeyed], tracker, input, sourceIndex.size ? sourceIndex : undefined);
  const until = input.until ? Date.parse(input.until) : now.getTime();
  return {
    findings,
    identities: tracker.all().map((tracked) => ({ id: tracked.id, origin: tracked.origin, ...(tracked.via ? { via: `${tracked.via} by ${tracked.parent}` } : {}), ...(tracked.issuedAt ? { issuedAt: tracked.issuedAt } : {}) })),
    stats,
    provisional: until >= now.getTime() - PROVISIONAL_MS,
    scannedAt: now.toISOString(),
  };
}
