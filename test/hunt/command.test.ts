import { afterEach, describe, expect, it, vi } from 'vitest';
import Hunt from '../../src/commands/hunt.js';
import { followHunt } from '../../src/hunt/index.js';
import { runCommand } from '../helpers/cli.js';
import { sharedData } from '../helpers/shared-data.js';

const root = new URL('../..', import.meta.url).pathname;
const steal = sharedData('cloudtrail', 'stratus-red-team', 'aws.credential-access.ec2-steal-instance-credentials.json');

async function run(argv: string[]) {
  const out: string[] = [];
  // oclif writes through console.log
  const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void out.push(`${args.join(' ')}\n`));
  try {
    const result = await Hunt.run(argv, root);
    return { result, stdout: out.join('') };
  } finally {
    spy.mockRestore();
  }
}

afterEach(() => {
  process.exitCode = undefined;
});

describe('cicd-ir hunt', () => {
  it('prints the findings table and exits 3 when containment failed', async () => {
    // Given christophe's key deactivated before the Stratus detonation
    const { stdout } = await run(['--source', 'files', '--path', steal, '--user-name', 'christophe', '--cutoff', '2024-08-02T08:00:00Z', '--until', '2024-09-01T00:00:00Z']);
    // Then the table shows the critical finding and the exit code asks for a human
    expect(stdout).toMatch(/^SEVERITY\s+KIND\s+IDENTITY\s+TIME\s+SUMMARY/m);
    expect(stdout).toMatch(/^CRITICAL\s+used-after-revocation\s+user:christophe/m);
    expect(stdout).toContain('Containment failed');
    expect(process.exitCode).toBe(3);
  });

  it('returns JSON with --json and exits 0 without critical findings', async () => {
    // Given the instance role hunted with no cutoff
    const { stdout } = await run(['--source', 'files', '--path', steal, '--role-arn', 'arn:aws:iam::017622104382:role/stratus-red-team-ec2-steal-credentials-role', '--until', '2024-09-01T00:00:00Z', '--json']);
    // Then stdout is the result as JSON with the unusual-source finding
    const parsed = JSON.parse(stdout);
    expect(parsed.findings.map((finding: { kind: string }) => finding.kind)).toEqual(['unusual-source']);
    expect(parsed.stats).toMatchObject({ recordsRead: 45, filesRead: 1 });
    expect(process.exitCode ?? 0).toBe(0);
  });

  it('refuses bad input with exit 2 before reading anything', async () => {
    // Then no identity, a malformed key, a bad time, files without a path are usage errors
    // (each printed as the usual error on stderr, exit 2: the shape every command shares)
    expect((await runCommand(Hunt, ['--source', 'files', '--path', steal])).exitCode).toBe(2);
    expect((await runCommand(Hunt, ['--source', 'files', '--path', steal, '--access-key-id', 'not-a-key'])).exitCode).toBe(2);
    expect((await runCommand(Hunt, ['--source', 'files', '--path', steal, '--user-name', 'ci', '--cutoff', 'yesterday'])).exitCode).toBe(2);
    const noPath = await runCommand(Hunt, ['--source', 'files', '--user-name', 'ci']);
    expect(noPath.exitCode).toBe(2);
    expect(noPath.stderr).toContain('--path');
  });

  it('re-polls with --follow semantics until aborted', async () => {
    // Given a follow loop over a file, polling every 10 ms
    const controller = new AbortController();
    const results = [];
    for await (const result of followHunt({ source: 'files', path: steal, input: { identities: [{ kind: 'user', userName: 'christophe' }] } }, { cloudtrail: () => undefined as never }, { intervalMs: 10, signal: controller.signal })) {
      results.push(result);
      // When it is aborted after the second poll
      if (results.length === 2) controller.abort();
    }
    // Then it polled twice, each time up to now (so provisional)
    expect(results).toHaveLength(2);
    expect(results.every((result) => result.provisional)).toBe(true);
  });
});
