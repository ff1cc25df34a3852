import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The engine's concurrency slots, and how code running in one gives it back while it only waits.
 *
 * A slot bounds how much of the engine's own work (planning, parsing logs, building policies)
 * runs at once. It must never be held by something that is not working: a retry's backoff, a
 * poll's sleep, or a request queued behind a client's rate limiter (GitHub's write spacing, the
 * CloudTrail pacer). `outsideSlot(fn)` releases the caller's slot for the duration of `fn` and
 * takes one back (at the caller's priority) before returning. Outside any slot it just runs `fn`,
 * so providers and actions may call it unconditionally.
 */
export class Semaphore {
  #free: number;
  readonly size: number;
  /** Waiters by priority: urgent ones (changes that contain) are let in before the rest. */
  readonly #waiting: { urgent: Array<() => void>; normal: Array<() => void> } = { urgent: [], normal: [] };

  constructor(size: number) {
    this.size = Math.max(1, size);
    this.#free = this.size;
  }

  /** Slots in use right now. */
  get inUse(): number {
    return this.size - this.#free;
  }

  /** Resolves when a slot is taken; `urgent` waiters go first, in order within each class. */
  acquire(urgent = false): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => (urgent ? this.#waiting.urgent : this.#waiting.normal).push(resolve));
  }

  release(): void {
    const next = this.#waiting.urgent.shift() ?? this.#waiting.normal.shift();
    if (next) next();
    else this.#free++;
  }

  /**
   * Runs `fn` holding a slot. Inside `fn`, `outsideSlot` gives the slot back while it waits.
   * When a large incident fills every slot with read-only triage (log scans, audits), an
   * `urgent` containment change waiting behind them starts at the next free slot.
   */
  async use<T>(fn: () => Promise<T>, urgent = false): Promise<T> {
    await this.acquire(urgent);
    const held: HeldSlot = { semaphore: this, urgent, holding: true, done: false, waiting: 0 };
    try {
      return await slotScope.run(held, fn);
    } finally {
      held.done = true;
      if (held.holding) {
        held.holding = false;
        this.release();
      }
    }
  }
}

interface HeldSlot {
  semaphore: Semaphore;
  urgent: boolean;
  /** The key holds its slot right now. */
  holding: boolean;
  /** The key's work returned (a timed-out action may still be waiting): never take a slot back. */
  done: boolean;
  /** outsideSlot calls of this key still waiting: the last one takes the slot back. */
  waiting: number;
}

const slotScope = new AsyncLocalStorage<HeldSlot>();

/**
 * Runs `fn` (a sleep, a poll interval, a wait in a client's queue) without holding the caller's
 * engine slot, then takes a slot back (at the caller's priority) before returning. Concurrent
 * calls from one key release the slot once, and the last of them to finish takes it back.
 */
export async function outsideSlot<T>(fn: () => Promise<T>): Promise<T> {
  const held = slotScope.getStore();
  if (!held || held.done) return fn();
  if (held.waiting === 0) {
    if (!held.holding) return fn();
    held.holding = false;
    held.semaphore.release();
  }
  held.waiting++;
  try {
    return await fn();
  } finally {
    held.waiting--;
    if (held.waiting === 0 && !held.done) {
      await held.semaphore.acquire(held.urgent);
      if (held.done) held.semaphore.release();
      else held.holding = true;
    }
  }
}

/** Whether the caller runs inside an engine slot it holds right now (tests use it). */
export function holdingSlot(): boolean {
  return slotScope.getStore()?.holding === true;
}
