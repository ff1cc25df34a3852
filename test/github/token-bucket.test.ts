import { describe, expect, it } from 'vitest';
import { TokenBucket, type Clock } from '../../src/github/token-bucket.js';

/** A clock that only moves when the bucket sleeps: pacing is asserted on simulated time. */
function fakeClock(): Clock & { slept: number[] } {
  let now = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}

describe('TokenBucket', () => {
  it('lets a burst through, then paces at the rate: 60 an hour is one a minute', async () => {
    // Given 60 requests an hour with a burst of 2
    const clock = fakeClock();
    const bucket = new TokenBucket(60, 3_600_000, 2, clock);
    // When 4 requests are taken back to back
    const waits = [];
    for (let i = 0; i < 4; i += 1) waits.push(await bucket.take());
    // Then the first two go at once and each later one waits a minute
    expect(waits).toEqual([0, 0, 60_000, 60_000]);
    expect(clock.now()).toBe(120_000);
  });

  it('refills with elapsed time, never beyond its capacity', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(60, 3_600_000, 3, clock);
    for (let i = 0; i < 3; i += 1) await bucket.take();
    // Two hours pass: the bucket holds 3 again, not 120
    await clock.sleep(7_200_000);
    const waits = [];
    for (let i = 0; i < 4; i += 1) waits.push(await bucket.take());
    expect(waits).toEqual([0, 0, 0, 60_000]);
  });

  it('refuses a rate of zero', () => {
    expect(() => new TokenBucket(0, 1000)).toThrow(RangeError);
  });
});
