import { outsideSlot } from '../engine/slots.js';

/**
 * A paced token bucket: hands out one request slot every `1000 / ratePerSecond` ms, with no
 * burst, so a steady stream of calls never exceeds the rate even when the server meters with a
 * burst allowance. `take()` waits for the next slot; the slots are reserved in call order.
 */
export class Pacer {
  #next = 0;
  readonly intervalMs: number;

  constructor(
    ratePerSecond: number,
    private readonly clock: { now(): number; sleep(ms: number): Promise<void> } = {
      now: () => Date.now(),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    },
  ) {
    if (!(ratePerSecond > 0)) throw new RangeError('ratePerSecond must be positive');
    this.intervalMs = 1000 / ratePerSecond;
  }

  async take(): Promise<void> {
    const now = this.clock.now();
    const slot = Math.max(now, this.#next);
    this.#next = slot + this.intervalMs;
    // The wait holds no engine slot (a hunt of many regions must not starve containment).
    if (slot > now) await outsideSlot(() => this.clock.sleep(slot - now));
  }
}
