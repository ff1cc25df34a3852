import { noteActiveRun, onInterrupt } from './interrupt.js';
import { closeSync, fsyncSync, openSync, readFileSync, unlinkSync, writeSync, constants } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { UsageError } from './errors.js';

/** What the lock file holds: enough to name the holder and to tell whether it is still alive. */
export interface LockHolder {
  pid: number;
  host: string;
  at: string;
}

/** A held run lock; `release()` removes the file (only if it is still ours). */
export interface RunLock {
  readonly path: string;
  readonly holder: LockHolder;
  /** Set when a stale lock (dead process on this host) was taken over. */
  readonly tookOverFrom?: LockHolder;
  release(): void;
}

/** True when `pid` names a live process on this machine (EPERM: alive but not ours). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(path: string): LockHolder | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockHolder>;
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string') {
      return { pid: parsed.pid, host: parsed.host, at: String(parsed.at ?? '?') };
    }
  } catch {
    // Unreadable or half-written: treated like a holder we cannot identify.
  }
  return undefined;
}

function createExclusive(path: string, holder: LockHolder): boolean {
  let fd: number;
  try {
    // O_EXCL makes creation atomic: of two racing processes exactly one gets the file.
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, `${JSON.stringify(holder)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Takes `<runDir>/lock`, so two processes never write one run at once. A lock held by a live
 * process (or by another host, whose processes we cannot see) is refused with exit 2 naming
 * the holder. A lock whose process is dead on this host is stale (a crash or SIGKILL left it):
 * it is taken over, and `tookOverFrom` tells the caller to warn.
 */
export function acquireRunLock(runDir: string, now: Date = new Date()): RunLock {
  const path = join(runDir, 'lock');
  const holder: LockHolder = { pid: process.pid, host: hostname(), at: now.toISOString() };
  let tookOverFrom: LockHolder | undefined;

  for (let attempt = 0; attempt < 3; attempt++) {
    if (createExclusive(path, holder)) {
      // A Ctrl-C or SIGTERM removes the lock too (src/ui/signals.ts), and names this run.
      const unnote = noteActiveRun(runDir);
      const unregister = onInterrupt(() => release());
      const release = () => {
        unregister();
        unnote();
        const current = readHolder(path);
        if (current && current.pid === holder.pid && current.host === holder.host && current.at === holder.at) {
          try {
            unlinkSync(path);
          } catch {
            // Already gone: nothing to release.
          }
        }
      };
      return { path, holder, tookOverFrom, release };
    }
    const existing = readHolder(path);
    const stale = existing !== undefined && existing.host === holder.host && !processAlive(existing.pid);
    if (!stale) {
      const who = existing ? `pid ${existing.pid} on ${existing.host} since ${existing.at}` : 'an unknown process (unreadable lock file)';
      throw new UsageError(`run directory ${runDir} is locked by ${who}`, [
        'wait for that run to finish, or start a new run instead of resuming this one',
        `if that process is gone for good, delete ${path}`,
      ]);
    }
    tookOverFrom = existing;
    try {
      unlinkSync(path);
    } catch {
      // Someone else removed it first; the O_EXCL retry decides who wins.
    }
  }
  throw new UsageError(`could not take the lock ${path}: another process keeps taking it`);
}
