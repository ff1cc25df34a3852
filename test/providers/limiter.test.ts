import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { Semaphore } from '../../src/engine/slots.js';
import { githubLimiter } from '../../src/providers/github.js';
import { RequestLimiter } from '../../src/providers/limiter.js';

describe('RequestLimiter', () => {
  it('keeps at most maxInFlight requests in flight', async () => {
    const limiter = new RequestLimiter({ name: 't', maxInFlight: 10 });
    let inFlight = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 25 }, () =>
        limiter.run(async () => {
          peak = Math.max(peak, ++inFlight);
          await sleep(10);
          inFlight--;
        }),
      ),
    );
    expect(peak).toBe(10);
    expect(limiter.stats.peakInFlight).toBe(10);
  });

  it('spaces paced requests and caps them per window, in call order; unpaced ones pass', async () => {
    // Given 40 ms spacing and at most 3 per 300 ms
    const limiter = new RequestLimiter({ name: 't', maxInFlight: 10, spacingMs: 40, perWindow: 3, windowMs: 300 });
    const started: Array<[string, number]> = [];
    const t0 = Date.now();
    const write = (name: string) => limiter.run(async () => void started.push([name, Date.now() - t0]), true);
    const read = (name: string) => limiter.run(async () => void started.push([name, Date.now() - t0]), false);
    await Promise.all([write('w1'), write('w2'), read('r1'), write('w3'), write('w4')]);
    const at = Object.fromEntries(started);
    expect(started.map(([name]) => name).filter((n) => n.startsWith('w'))).toEqual(['w1', 'w2', 'w3', 'w4']);
    expect(at.r1).toBeLessThan(30);
    expect(at.w2! - at.w1!).toBeGreaterThanOrEqual(30);
    expect(at.w3! - at.w2!).toBeGreaterThanOrEqual(30);
    // The fourth waits for the window: 300 ms after the first
    expect(at.w4! - at.w1!).toBeGreaterThanOrEqual(290);
  });

  it('a request waiting for its turn holds no engine slot', async () => {
    // Given one engine slot and a write that must wait 200 ms for its turn
    const slots = new Semaphore(1);
    const limiter = new RequestLimiter({ name: 't', maxInFlight: 10, spacingMs: 200 });
    const order: string[] = [];
    await limiter.run(async () => undefined, true); // the previous write: the next one waits 200 ms
    const waitingWrite = slots.use(() => limiter.run(async () => void order.push('write'), true));
    await sleep(20);
    // Then another key gets the only slot meanwhile
    await slots.use(async () => void order.push('read'));
    await waitingWrite;
    expect(order).toEqual(['read', 'write']);
    expect(slots.inUse).toBe(0);
  });

  it('paced requests take their turns by the priority of the engine key making them', async () => {
    // Given 30 ms spacing, reads queued (priority 0) and a credential revocation (priority 2)
    // and a cache purge (priority 1) made after them
    const limiter = new RequestLimiter({ name: 't', maxInFlight: 10, spacingMs: 30 });
    const slots = new Semaphore(10);
    const order: string[] = [];
    const write = (name: string, priority: 0 | 1 | 2) => slots.use(() => limiter.run(async () => void order.push(name), true), priority);
    const all = [write('scan 1', 0), write('scan 2', 0), write('scan 3', 0), write('purge', 1), write('revoke', 2)];
    await Promise.all(all);
    // Then the first went at once, and the revocation and the purge jumped the queue
    expect(order).toEqual(['scan 1', 'revoke', 'purge', 'scan 2', 'scan 3']);
  });

  it('a place in flight goes to the most urgent waiting request', async () => {
    const limiter = new RequestLimiter({ name: 't', maxInFlight: 1 });
    const slots = new Semaphore(10);
    const order: string[] = [];
    let release!: () => void;
    const first = limiter.run(() => new Promise<void>((resolve) => (release = resolve)));
    await sleep(1);
    const read = (name: string, priority: 0 | 1 | 2) => slots.use(() => limiter.run(async () => void order.push(name)), priority);
    const queued = [read('log 1', 0), read('log 2', 0), read('disable', 2)];
    await sleep(1);
    release();
    await Promise.all([first, ...queued]);
    expect(order).toEqual(['disable', 'log 1', 'log 2']);
  });

  it("GitHub's production pacing: 1 s between content-creating requests, at most 80 a minute; the lab's 0 turns it off", async () => {
    const production = githubLimiter({ dryRun: false, incident: 't', github: {}, aws: {} });
    const t0 = Date.now();
    await production.run(async () => undefined, true);
    await production.run(async () => undefined, true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(990);
    const lab = githubLimiter({ dryRun: false, incident: 't', github: { writeIntervalMs: 0 }, aws: {} });
    const t1 = Date.now();
    for (let i = 0; i < 100; i++) await lab.run(async () => undefined, true);
    expect(Date.now() - t1).toBeLessThan(500);
  });
});
