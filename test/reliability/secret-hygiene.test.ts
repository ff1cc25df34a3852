import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startLab } from '../../src/lab/index.js';
import { repoRoot } from '../helpers/cli.js';

/**
 * The sweep: every secret value any shipped scenario plants (repository and org secrets, IAM
 * user keys, session secrets and tokens), plus the token and responder key each lab derives
 * from its seed, searched for in every file the test runs left in the temporary folder
 * (run folders of cicd-ir-* temp dirs: journals, reports, timelines, logs). The suites that run
 * `contain` also check their own stdout, stderr and run folder, including the keys the lab
 * minted during the run (harness.ts labSecrets). What this one sees depends on which suites ran
 * before it in the same tmp: it cannot fail on its own, only on a leak left behind.
 */
const SCENARIOS = readdirSync(join(repoRoot, 'scenarios'))
  .filter((name) => name.endsWith('.yaml'))
  .map((name) => join(repoRoot, 'scenarios', name));

/** String values under keys that hold secrets, anywhere in a scenario document. */
function plantedSecrets(node: unknown, key = '', into: Set<string> = new Set()): Set<string> {
  if (typeof node === 'string') {
    if (/^(secret|value|session_token|token|secret_access_key)$/.test(key) && node.length >= 12 && !/^A[KS]IA[A-Z0-9]{16}$/.test(node)) into.add(node);
  } else if (Array.isArray(node)) {
    for (const item of node) plantedSecrets(item, key, into);
  } else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) plantedSecrets(v, k, into);
  }
  return into;
}

/** Text files under `dir` (depth-limited), skipping big binaries. */
function* filesUnder(dir: string, depth = 5): Generator<string> {
  if (depth < 0) return;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* filesUnder(path, depth - 1);
    else if (entry.isFile() && statSync(path).size < 20_000_000) yield path;
  }
}

describe('secret hygiene across the runs tests left behind', () => {
  it('no planted or lab-derived secret appears in any run folder in tmp', async () => {
    // Given every secret the shipped scenarios plant, and each lab's own token and key
    const secrets = new Set<string>();
    for (const file of SCENARIOS) {
      plantedSecrets(parse(readFileSync(file, 'utf8')), '', secrets);
      const lab = await startLab(file);
      secrets.add(lab.github.token);
      secrets.add(lab.aws.responderCredentials.secretAccessKey);
      await lab.close();
    }
    expect(secrets.size).toBeGreaterThan(10);

    // When every run folder under tmp is read (journals, reports, timelines, logs)
    const roots = readdirSync(tmpdir())
      .filter((name) => name.startsWith('cicd-ir'))
      .map((name) => join(tmpdir(), name))
      .filter((path) => existsSync(path) && statSync(path).isDirectory());
    const leaks: string[] = [];
    let scanned = 0;
    for (const root of roots) {
      for (const file of filesUnder(root)) {
        // Scenario copies and playbooks tests wrote are inputs, not outputs.
        if (/\.(ya?ml|zip|gz)$/.test(file)) continue;
        const text = readFileSync(file, 'utf8');
        scanned += 1;
        for (const secret of secrets) if (text.includes(secret)) leaks.push(`${file}: ${secret.slice(0, 4)}…`);
      }
    }
    // Then none holds one
    expect(leaks).toEqual([]);
    console.log(`secret hygiene: ${secrets.size} secrets searched in ${scanned} files under ${roots.length} cicd-ir temp folders`);
  });
});
