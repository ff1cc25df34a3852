import type { CloudTrailRecord, LabContext, TrailSink } from './types.js';
import { offsetMs } from './scenario.js';

/** The lab's CloudTrail in memory: records in arrival order. */
export class MemoryTrail implements TrailSink {
  readonly #records: CloudTrailRecord[] = [];

  record(event: CloudTrailRecord): void {
    this.#records.push(event);
  }

  all(): readonly CloudTrailRecord[] {
    return this.#records;
  }
}

/**
 * mulberry32: a small seeded generator, so ids, keys and injected faults replay the same way
 * for the same scenario seed.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Builds the context every lab service shares. */
export function createLabContext(options: { seed?: number; scenarioDir?: string; startedAt?: Date; trail?: TrailSink } = {}): LabContext {
  const startedAt = options.startedAt ?? new Date();
  return {
    startedAt,
    now: () => new Date(),
    at: (offset: string) => new Date(startedAt.getTime() + offsetMs(offset)),
    random: seededRandom(options.seed ?? 1),
    trail: options.trail ?? new MemoryTrail(),
    scenarioDir: options.scenarioDir ?? process.cwd(),
  };
}
