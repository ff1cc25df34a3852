import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The shared third-party data folder (real CloudTrail events, real workflows). CI sets
 * CICD_IR_SHARED_DATA to ../shared/data; locally the same sibling folder is the default.
 * A test that needs it fails (not skips) when it is missing, so CI cannot pass by accident.
 */
export function sharedDataDir(): string {
  const dir =
    process.env.CICD_IR_SHARED_DATA ??
    resolve(fileURLToPath(new URL('../../..', import.meta.url)), 'shared', 'data');
  if (!existsSync(dir)) {
    throw new Error(`shared data not found at ${dir}: set CICD_IR_SHARED_DATA to the shared/data folder`);
  }
  return dir;
}

export function sharedData(...parts: string[]): string {
  return join(sharedDataDir(), ...parts);
}
