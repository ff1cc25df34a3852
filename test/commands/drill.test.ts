import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import Contain from '../../src/commands/contain.js';
import Drill from '../../src/commands/drill.js';
import type { ContainResult } from '../../src/ui/contain-session.js';
import { repoRoot, runCommand } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'cicd-ir-drill-cmd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const scenario = (name: string) => join(repoRoot, 'scenarios', `${name}.yaml`);

/** The shipped playbook without aws.revoke-role-sessions (and what referred to it). */
function playbookWithoutRevokeSessions(): string {
  const text = readFileSync(join(repoRoot, 'playbooks', 'contain-compromised-workflow.yaml'), 'utf8');
  const cut = text
    .replace(/\n {2}- id: revoke-sessions\n[\s\S]*?\n(?=\n {2}(#|- id:))/, '\n')
    .replace('needs: [revoke-sessions, rotate-key, deactivate-leaked-keys]', 'needs: [rotate-key, deactivate-leaked-keys]')
    .replace(/\n\s+revokedAt: \$\{\{ steps\.revoke-sessions[^\n]*/, '');
  expect(cut).not.toContain('revoke-sessions');
  const file = join(dir, 'no-revoke-sessions.yaml');
  writeFileSync(file, cut);
  return file;
}

describe('cicd-ir drill', () => {
  it('fails (exit 1) with a clear reason when the playbook omits revoking the role sessions, and writes JUnit', async () => {
    // Given a playbook that never revokes the deploy role's sessions
    const playbook = playbookWithoutRevokeSessions();
    const junit = join(dir, 'drill.xml');
    // When the tj-actions drill runs with it
    const { stdout, exitCode } = await runCommand(Drill, ['--lab', scenario('tj-actions-log-leak'), '--playbook', playbook, '--junit', junit, '--out', join(dir, 'runs')]);
    // Then the drill fails, naming the attacker step that still works with the old session
    expect(exitCode).toBe(1);
    expect(stdout).toMatch(/FAIL {2}no-attacker-success +after-containment step 9 s3:ListBuckets with deploy-run-9123456701: the attacker still succeeds after containment/);
    expect(stdout).toContain('drill FAILED');
    // And the JUnit file has the failing testcases with their messages
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toMatch(/<testcase name="no-attacker-success" classname="drill.tj-actions-log-leak">\s*<failure message="after-containment step 9/);
    expect(xml).toMatch(/<testcase name="after-containment\[9\] s3:ListBuckets with deploy-run-9123456701"[^>]*>\s*<failure /);
    expect(xml).toMatch(/<testcase name="no-secret-leaked"[^>]*>\s*<system-out>/);
  }, 90_000);

  it('--target live without its sandbox flags is bad input (exit 2), before any call', async () => {
    const { exitCode, stderr } = await runCommand(Drill, ['--target', 'live', '--sandbox-repo', 'acme/ir-sandbox']);
    expect(exitCode).toBe(2);
    expect(stderr).toContain('--target live needs --sandbox-account and --sandbox-repo');
  });

  it('refuses a bad --slo (exit 2) before starting anything', async () => {
    const { exitCode, stderr } = await runCommand(Drill, ['--lab', scenario('tj-actions-log-leak'), '--slo', 'soon']);
    expect(exitCode).toBe(2);
    expect(stderr).toContain('--slo soon: expected a duration');
  });
});

describe('cicd-ir contain with open credentials', () => {
  it('exits 3 and lists the open items before the report path, not "contained"', async () => {
    // Given the nx lab, whose npm token went to a webhook: nobody holds its value to revoke it
    // When contain runs end to end
    const { stdout, exitCode } = await runCommand<ContainResult>(Contain, ['--lab', scenario('nx-pull-request-target'), '--yes', '--out', join(dir, 'contain-runs')]);
    // Then it needs a human: exit 3, the open npm token is listed, and the report path comes after it
    expect(exitCode).toBe(3);
    expect(stdout).toContain('needs-human (exit 3)');
    const open = stdout.indexOf('NOT CONTAINED YET: ');
    expect(open).toBeGreaterThan(0);
    expect(stdout).toMatch(/\[high\] OPEN: NPM_TOKEN \(org-secret, org:nebula-dev\)/);
    // And every critical or high finding is on screen with what to do, not only credentials:
    // the pull_request_target trigger, the versions published with the stolen token
    expect(stdout).toMatch(/\[critical\] untrusted-trigger: /);
    expect(stdout).toMatch(/\[high\] publish-without-release-run: /);
    expect(stdout).toMatch(/do: remove the pull_request_target/);
    expect(stdout.indexOf('report: ')).toBeGreaterThan(open);
    // And the org key pair it rotated was never printed, old or new
    expect(stdout).not.toContain('ZRnFyy5r2xJ7Fj4mgblEv0+9BZhvWaEXAMPLEKEY');
  }, 90_000);

  it('runs the unseen route-planner scenario end to end through contain and its hunt', async () => {
    // Given a scenario no other test uses, driven only by its own incident block
    const out = join(dir, 'unseen-runs');
    // When contain runs on it with --json
    const { stdout, exitCode } = await runCommand<ContainResult>(Contain, ['--lab', join(repoRoot, 'test', 'fixtures', 'scenarios', 'unseen-route-planner-leak.yaml'), '--yes', '--out', out, '--json']);
    const result = JSON.parse(stdout) as ContainResult;
    // Then every step verified, the hunt found the key the attacker minted and it was deactivated
    const failed = result.steps.filter((s) => s.status !== 'verified' && s.status !== 'skipped');
    expect(failed).toEqual([]);
    // (one hunt per account: hunt[0], hunt[1], ...)
    const hunts = result.steps.filter((s) => s.key.startsWith('hunt['));
    expect(hunts.length).toBeGreaterThan(0);
    expect(hunts.every((s) => s.status === 'verified')).toBe(true);
    const minted = result.steps.filter((s) => s.key.startsWith('deactivate-minted['));
    expect(minted.length).toBeGreaterThan(0);
    expect(minted.every((s) => s.status === 'verified')).toBe(true);
    // And the key pair its log printed is closed (deactivated by id), while what no step here
    // closes keeps it at exit 3, listed as open
    const open = result.verdict.openItems.map((i) => i.summary).join('\n');
    expect(open).not.toMatch(/OPEN: AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY)/);
    expect(exitCode).toBe(3);
    expect(result.verdict).toMatchObject({ contained: false, exitCode: 3 });
    expect(result.verdict.openItems.filter((i) => i.kind === 'credential' && i.blocking).length).toBeGreaterThan(0);
    const report = JSON.parse(readFileSync(result.reports!.find((f) => f.endsWith('report.json'))!, 'utf8')) as { findings: Array<{ kind: string }> };
    expect(report.findings.map((f) => f.kind)).toContain('new-credentials-minted');
  }, 90_000);
});
