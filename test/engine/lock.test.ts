import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runPlaybook } from '../../src/engine/execute.js';
import { acquireRunLock } from '../../src/engine/lock.js';
import { newRunId } from '../../src/engine/run-dir.js';
import { noClients, playbook, probeActions, type ProbeBehaviour } from './fixtures/fake-actions.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cicd-ir-lock-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A pid that belonged to a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

describe('run lock', () => {
  it('refuses a second run on the same run directory while the first holds it (exit 2, names the holder)', async () => {
    // Given a run blocked inside its first step
    let release!: () => void;
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const behaviour: ProbeBehaviour = {
      log: [],
      apply: () => {
        entered();
        return new Promise((resolve) => (release = () => resolve(undefined)));
      },
    };
    const runId = newRunId();
    const options = { inputs: {}, clients: noClients, dryRun: false, incident: 'IR', outDir: dir, registry: probeActions(behaviour) };
    const first = runPlaybook({ ...options, playbook: playbook([{ id: 'a', uses: 'test.probe' }]), runId });
    await inside;
    // When a second process-equivalent tries to resume the same run
    const second = runPlaybook({ ...options, playbook: playbook([{ id: 'a', uses: 'test.probe' }]), runId, resume: true });
    // Then it is refused, naming this process as the holder
    await expect(second).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining(`locked by pid ${process.pid} on ${hostname()}`) });
    release();
    await expect(first).resolves.toMatchObject({ exitCode: 0 });
    // And the lock is gone once the first run ends
    expect(existsSync(join(dir, runId, 'lock'))).toBe(false);
  });

  it('takes over a stale lock left by a dead process, and says so', () => {
    // Given a lock file of a process that no longer exists on this host
    const runDir = join(dir, 'run');
    mkdirSync(runDir);
    const pid = deadPid();
    writeFileSync(join(runDir, 'lock'), JSON.stringify({ pid, host: hostname(), at: '2026-01-01T00:00:00.000Z' }));
    // When the lock is taken
    const lock = acquireRunLock(runDir);
    // Then it is ours, and the previous holder is reported
    expect(lock.tookOverFrom).toMatchObject({ pid });
    expect(JSON.parse(readFileSync(join(runDir, 'lock'), 'utf8'))).toMatchObject({ pid: process.pid });
    lock.release();
    expect(existsSync(join(runDir, 'lock'))).toBe(false);
  });

  it('does not take over a lock held by another host', () => {
    const runDir = join(dir, 'run');
    mkdirSync(runDir);
    writeFileSync(join(runDir, 'lock'), JSON.stringify({ pid: deadPid(), host: 'elsewhere.example', at: 'x' }));
    expect(() => acquireRunLock(runDir)).toThrow(/locked by pid \d+ on elsewhere\.example/);
  });
});
