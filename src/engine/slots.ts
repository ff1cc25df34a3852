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
  /** Waiters by priority (index): higher ones are let in first, in order within each. */
  readonly #waiting: Array<Array<() => void>> = [[], [], []];

  constructor(size: number) {
    this.size = Math.max(1, size);
    this.#free = this.size;
  }

  /** Slots in use right now. */
  get inUse(): number {
    return this.size - this.#free;
  }

  /**
   * Resolves when a slot is taken. Priority: 2 closes a credential, 1 another containment change
   * (`true` means 1), 0 read-only work; higher waiters go first, in order within each.
   */
  acquire(priority: Priority | boolean = 0): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => this.#waiting[toPriority(priority)]!.push(resolve));
  }

  release(): void {
    for (let level = this.#waiting.length - 1; level >= 0; level--) {
      const next = this.#waiting[level]!.shift();
      if (next) return next();
    }
    this.#free++;
  }

  /**
   * Runs `fn` holding a slot. Inside `fn`, `outsideSlot` gives the slot back while it waits,
   * and `currentPriority()` tells client limiters how urgent the caller is. When a large
   * incident fills every slot with read-only triage (log scans, audits), a containment change
   * waiting behind them starts at the next free slot.
   */
  async use<T>(fn: () => Promise<T>, priority: Priority | boolean = 0): Promise<T> {
    await this.acquire(priority);
    const held: HeldSlot = { semaphore: this, priority: toPriority(priority), holding: true, done: false, waiting: 0 };
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

/** 2: closes a credential; 1: another containment change; 0: read-only work. */
export type Priority = 0 | 1 | 2;

function toPriority(value: Priority | boolean): Priority {
  return value === true ? 1 : value === false ? 0 : value;
}

interface HeldSlot {
  semaphore: Semaphore;
  priority: Priority;
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
      await held.semaphore.acquire(held.priority);
      if (held.done) held.semaphore.release();
      else held.holding = true;
    }
  }
}

/** The priority of the engine key the caller works for (0 outside any). */
export function currentPriority(): Priority {
  return slotScope.getStore()?.priority ?? 0;
}

/** Whether the caller runs inside an engine slot it holds right now (tests use it). */
export function holdingSlot(): boolean {
  return slotScope.getStore()?.holding === true;
}
