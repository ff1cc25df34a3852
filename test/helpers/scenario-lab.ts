import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { startLab, type RunningLab, type StartLabOptions } from '../../src/lab/index.js';

/**
 * A lab started from an inline scenario (written to a temp file, as `--lab` reads one), closed
 * and removed after each test of the enclosing describe. Call it inside `describe`.
 */
export function useScenarioLab(scenarioText: string, prefix = 'cicd-ir-lab-'): (options?: StartLabOptions) => Promise<RunningLab> {
  let lab: RunningLab | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await lab?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    lab = undefined;
    dir = undefined;
  });
  return async (options = {}) => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    const file = join(dir, 'scenario.yaml');
    writeFileSync(file, scenarioText);
    lab = await startLab(file, options);
    return lab;
  };
}
