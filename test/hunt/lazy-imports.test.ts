import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';
import { sharedData } from '../helpers/shared-data.js';

/**
 * Runs the built CLI with a module hook that reports every AWS SDK client package it resolves
 * (needs `npm run build`, as every test that spawns bin/run.js).
 */
function clientsLoaded(args: string[]): { clients: string[]; status: number | null; stdout: string } {
  const dir = mkdtempSync(join(tmpdir(), 'hunt-imports-'));
  writeFileSync(
    join(dir, 'hooks.mjs'),
    `import { writeSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  const client = /@aws-sdk\\/(client-[a-z0-9-]+)/.exec(result.url);
  if (client) writeSync(2, 'SDK-CLIENT ' + client[1] + '\\n');
  return result;
}
`,
  );
  writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`);
  const run = spawnSync(process.execPath, ['--import', pathToFileURL(join(dir, 'register.mjs')).href, ...args], { encoding: 'utf8', timeout: 60_000, cwd: repoRoot });
  const clients = [...new Set([...run.stderr.matchAll(/SDK-CLIENT (\S+)/g)].map((match) => match[1]!))].sort();
  return { clients, status: run.status, stdout: run.stdout };
}

describe('hunt start-up', () => {
  it('imports no AWS SDK client for a local files hunt', () => {
    // When a local directory is hunted
    const files = clientsLoaded([join(repoRoot, 'bin', 'run.js'), 'hunt', '--source', 'files', '--path', sharedData('cloudtrail', 'awsdocs'), '--access-key-id', 'AKIANOBODY0000000000', '--json']);
    // Then it works and no SDK client module was even resolved
    expect(files.status).toBe(0);
    expect(JSON.parse(files.stdout).stats.recordsRead).toBe(7);
    expect(files.clients).toEqual([]);
    // And the hook does see a client when one is imported (the check can fail)
    const control = clientsLoaded(['--input-type=module', '-e', "await import('@aws-sdk/client-cloudtrail')"]);
    expect(control.clients).toEqual(['client-cloudtrail']);
  });
});
