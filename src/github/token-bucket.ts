import { setTimeout as sleep } from 'node:timers/promises';

/** Time source of a TokenBucket: real time by default, a fake one in tests. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleep(ms, undefined, signal ? { signal } : undefined),
};

/**
 * Paces requests to a budget such as "60 requests an hour" (POST /credentials/revoke):
 * `capacity` requests may go at once, then one more each `periodMs / perPeriod`.
 */
export class TokenBucket {
  #tokens: number;
  #updated: number;
  readonly #intervalMs: number;

  constructor(
    readonly perPeriod: number,
    readonly periodMs: number,
    readonly capacity: number = perPeriod,
    private readonly clock: Clock = realClock,
  ) {
    if (perPeriod <= 0 || periodMs <= 0 || capacity < 1) throw new RangeError('a token bucket needs a positive rate and a capacity of at least 1');
    this.#tokens = capacity;
    this.#updated = clock.now();
    this.#intervalMs = periodMs / perPeriod;
  }

  #refill(): void {
    const now = this.clock.now();
    this.#tokens = Math.min(this.capacity, this.#tokens + (now - this.#updated) / this.#intervalMs);
    this.#updated = now;
  }

  /** Waits until a request may go, then spends one token. Returns how long it waited (ms). */
  async take(signal?: AbortSignal): Promise<number> {
    let waited = 0;
    this.#refill();
    while (this.#tokens < 1) {
      const ms = Math.ceil((1 - this.#tokens) * this.#intervalMs);
      await this.clock.sleep(ms, signal);
      waited += ms;
      this.#refill();
    }
    this.#tokens -= 1;
    return waited;
  }
}
