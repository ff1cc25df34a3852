import { outsideSlot } from '../engine/slots.js';

/**
 * A per-service request limiter: at most `maxInFlight` requests at once, and, for the requests
 * marked paced (GitHub's content-creating writes), at least `spacingMs` between two starts and at
 * most `perWindow` starts in any `windowMs`. A caller waiting here, or waiting for its answer,
 * holds no engine slot (outsideSlot): a queue of paced writes must not starve the steps that
 * only read, and per-service limits, not one pool, decide how many calls a service gets.
 *
 * Pacing is reserved in call order, synchronously, so writes leave in the order they were made.
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
  readonly #queue: Array<() => void> = [];
  /** When the last paced request was allowed to start (reserved). */
  #lastPaced = -Infinity;
  /** Start times of the paced requests in the current window (reserved). */
  readonly #recent: number[] = [];
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
   * Runs `fn` within the limits; `paced` requests also respect the spacing and the window. The
   * whole request, its wait and its time on the wire, runs outside the caller's engine slot:
   * slots bound the engine's own work, this limiter bounds the service's.
   */
  run<T>(fn: () => Promise<T>, paced = false): Promise<T> {
    return outsideSlot(async () => {
      const start = this.#now();
      const at = paced ? this.#reserve() : start;
      if (at > start) await new Promise((resolve) => setTimeout(resolve, at - start));
      await this.#enter();
      this.stats.waitedMs += Math.max(0, this.#now() - start);
      try {
        return await fn();
      } finally {
        this.#leave();
      }
    });
  }

  /** The earliest start a paced request may have, reserved for it now. */
  #reserve(): number {
    const now = this.#now();
    let at = Math.max(now, this.#lastPaced + this.#spacing);
    while (this.#recent.length > 0 && this.#recent[0]! <= at - this.#windowMs) this.#recent.shift();
    if (this.#recent.length >= this.#perWindow) at = Math.max(at, this.#recent[this.#recent.length - this.#perWindow]! + this.#windowMs);
    this.#lastPaced = at;
    this.#recent.push(at);
    this.stats.paced++;
    return at;
  }

  #enterNow(): void {
    this.#inFlight++;
    this.stats.peakInFlight = Math.max(this.stats.peakInFlight, this.#inFlight);
  }

  #enter(): Promise<void> {
    if (this.#inFlight < this.#max) {
      this.#enterNow();
      return Promise.resolve();
    }
    return new Promise<void>((resolve) =>
      this.#queue.push(() => {
        this.#enterNow();
        resolve();
      }),
    );
  }

  #leave(): void {
    this.#inFlight--;
    this.#queue.shift()?.();
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
