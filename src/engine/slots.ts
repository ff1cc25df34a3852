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
  /** Waiters by priority (index): higher ones are let in first, the oldest key first within each. */
  readonly #waiting: Waiters[] = [[], [], []];

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
  acquire(priority: Priority | boolean = 0, order = Infinity): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => enqueue(this.#waiting[toPriority(priority)]!, order, resolve));
  }

  release(): void {
    const next = dequeue(this.#waiting);
    if (next) return next();
    this.#free++;
  }

  /**
   * Runs `fn` holding a slot. Inside `fn`, `outsideSlot` gives the slot back while it waits,
   * and `currentPriority()` tells client limiters how urgent the caller is. When a large
   * incident fills every slot with read-only triage (log scans, audits), a containment change
   * waiting behind them starts at the next free slot.
   */
  async use<T>(fn: () => Promise<T>, priority: Priority | boolean = 0, order = Infinity): Promise<T> {
    await this.acquire(priority, order);
    const held: HeldSlot = { semaphore: this, priority: toPriority(priority), order, holding: true, done: false, waiting: 0 };
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

/**
 * Waiters of one priority, oldest key first. Serving the oldest key first finishes items one
 * after another (a pipeline) instead of all fifty at the end: the first repository's inventory
 * is done early, so its disable can start while the others are still being read.
 */
export type Waiters = Array<{ order: number; go: () => void }>;

/** Inserts after every waiter of the same or a lower order (stable). */
export function enqueue(queue: Waiters, order: number, go: () => void): void {
  let low = 0;
  let high = queue.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (queue[mid]!.order <= order) low = mid + 1;
    else high = mid;
  }
  queue.splice(low, 0, { order, go });
}

/** The next waiter: highest priority first, then oldest key. */
export function dequeue(levels: Waiters[]): (() => void) | undefined {
  for (let level = levels.length - 1; level >= 0; level--) {
    const next = levels[level]!.shift();
    if (next) return next.go;
  }
  return undefined;
}

interface HeldSlot {
  semaphore: Semaphore;
  priority: Priority;
  /** The key's age (lower: older), for the order within a priority. */
  order: number;
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
      await held.semaphore.acquire(held.priority, held.order);
      if (held.done) held.semaphore.release();
      else held.holding = true;
    }
  }
}

/** The priority of the engine key the caller works for (0 outside any). */
export function currentPriority(): Priority {
  return slotScope.getStore()?.priority ?? 0;
}

/** The age of the engine key the caller works for (lower: older; Infinity outside any). */
export function currentOrder(): number {
  return slotScope.getStore()?.order ?? Infinity;
}

/** Whether the caller runs inside an engine slot it holds right now (tests use it). */
export function holdingSlot(): boolean {
  return slotScope.getStore()?.holding === true;
}
