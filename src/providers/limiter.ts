import { currentOrder, currentPriority, dequeue, enqueue, outsideSlot, type Priority, type Waiters } from '../engine/slots.js';

/**
 * A per-service request limiter: at most `maxInFlight` requests at once, and, for the requests
 * marked paced (GitHub's content-creating writes), at least `spacingMs` between two starts and at
 * most `perWindow` starts in any `windowMs`. A caller waiting here, or waiting for its answer,
 * holds no engine slot (outsideSlot): a queue of paced writes must not starve the steps that
 * only read, and per-service limits, not one pool, decide how many calls a service gets.
 *
 * Waiting requests go by priority (a credential closed before a cache purged), then by the age
 * of the engine key making them (the oldest item first: items finish one after another).
 */
export interface LimiterOptions {
  name: string;
  maxInFlight: number;
  spacingMs?: number;
  perWindow?: number;
  windowMs?: number;
  now?: () => number;
}

export interface LimiterStats {
  /** Most requests in flight at once. */
  peakInFlight: number;
  /** Paced starts so far. */
  paced: number;
  /** Total milliseconds callers spent waiting for pacing or a free place. */
  waitedMs: number;
}

export class RequestLimiter {
  readonly name: string;
  readonly #max: number;
  readonly #spacing: number;
  readonly #perWindow: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  #inFlight = 0;
  /** Requests waiting for a place in flight, by priority (index). */
  readonly #queue: Waiters[] = [[], [], []];
  /** When the last paced request started. */
  #lastPaced = -Infinity;
  /** Start times of the paced requests in the current window. */
  readonly #recent: number[] = [];
  /** Paced requests waiting for their turn, by priority (index), in order within each. */
  readonly #turns: Waiters[] = [[], [], []];
  #timer: NodeJS.Timeout | undefined;
  readonly stats: LimiterStats = { peakInFlight: 0, paced: 0, waitedMs: 0 };

  constructor(options: LimiterOptions) {
    this.name = options.name;
    this.#max = Math.max(1, options.maxInFlight);
    this.#spacing = Math.max(0, options.spacingMs ?? 0);
    this.#perWindow = options.perWindow ?? Infinity;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#now = options.now ?? (() => Date.now());
  }

  /**
   * Runs `fn` within the limits; `paced` requests also respect the spacing and the window, and
   * take their turns by the caller's priority (closing a credential first: currentPriority),
   * in call order within a priority. The whole request, its wait and its time on the wire,
   * runs outside the caller's engine slot: slots bound the engine's own work, this limiter
   * bounds the service's.
   */
  run<T>(fn: () => Promise<T>, paced = false): Promise<T> {
    const priority = currentPriority();
    const order = currentOrder();
    return outsideSlot(async () => {
      const start = this.#now();
      if (paced) await this.#turn(priority, order);
      await this.#enter(priority, order);
      this.stats.waitedMs += Math.max(0, this.#now() - start);
      try {
        return await fn();
      } finally {
        this.#leave();
      }
    });
  }

  /** Resolves when a paced request of `priority` may start. */
  #turn(priority: Priority, order: number): Promise<void> {
    this.stats.paced++;
    if (this.#spacing === 0 && this.#perWindow === Infinity) return Promise.resolve();
    return new Promise<void>((resolve) => {
      enqueue(this.#turns[priority]!, order, resolve);
      this.#pump();
    });
  }

  /** The earliest time the next paced request may start. */
  #nextAt(): number {
    const now = this.#now();
    while (this.#recent.length > 0 && this.#recent[0]! <= now - this.#windowMs) this.#recent.shift();
    let at = Math.max(now, this.#lastPaced + this.#spacing);
    if (this.#recent.length >= this.#perWindow) at = Math.max(at, this.#recent[this.#recent.length - this.#perWindow]! + this.#windowMs);
    return at;
  }

  /** Lets the highest-priority waiting request go when its turn has come, or sets a timer for it. */
  #pump(): void {
    if (this.#timer) return;
    for (;;) {
      if (this.#turns.every((queue) => queue.length === 0)) return;
      const at = this.#nextAt();
      const now = this.#now();
      if (at > now) {
        this.#timer = setTimeout(() => {
          this.#timer = undefined;
          this.#pump();
        }, at - now);
        return;
      }
      this.#lastPaced = now;
      this.#recent.push(now);
      dequeue(this.#turns)!();
    }
  }

  #enterNow(): void {
    this.#inFlight++;
    this.stats.peakInFlight = Math.max(this.stats.peakInFlight, this.#inFlight);
  }

  #enter(priority: Priority, order: number): Promise<void> {
    if (this.#inFlight < this.#max) {
      this.#enterNow();
      return Promise.resolve();
    }
    return new Promise<void>((resolve) =>
      enqueue(this.#queue[priority]!, order, () => {
        this.#enterNow();
        resolve();
      }),
    );
  }

  #leave(): void {
    this.#inFlight--;
    dequeue(this.#queue)?.();
  }
}

/** GitHub's documented limits (FACTS.md): 100 concurrent is GitHub's ceiling; cicd-ir keeps 10. */
export const GITHUB_MAX_IN_FLIGHT = 10;
/** GitHub asks for at least a second between content-creating requests. */
export const GITHUB_WRITE_SPACING_MS = 1_000;
/** At most 80 content-creating requests a minute (secondary rate limit). */
export const GITHUB_WRITES_PER_MINUTE = 80;

/** Requests in flight per AWS service and account (IAM and STS publish no figure; the SDK's own
 * retries handle their throttling answers). CloudTrail LookupEvents is paced at 2/s per account
 * and region by src/hunt/pacer.ts on top of this. */
export const AWS_MAX_IN_FLIGHT: Record<string, number> = { iam: 8, sts: 10, cloudtrail: 4, s3: 20, athena: 5 };
/** Requests in flight to the npm registry. */
export const NPM_MAX_IN_FLIGHT = 4;
