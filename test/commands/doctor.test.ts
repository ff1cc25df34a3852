import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Doctor from '../../src/commands/doctor.js';
import type { DoctorReport } from '../../src/doctor/index.js';
import type { ProviderConfig } from '../../src/providers/config.js';
import { createClients } from '../../src/providers/index.js';
import { commandRuntime } from '../../src/ui/runtime.js';
import { runCommand } from '../helpers/cli.js';
import { startFullLab, type FullLab } from '../helpers/full-lab.js';
import { cloudTrailStandIn, doctorScenario, LIMITED_KEY } from '../doctor/fixtures.js';

const saved = { ...commandRuntime };
let lab: FullLab;
let dir: string;
let playbook: string;
let identity: Parameters<FullLab['config']>[0];
const configs: ProviderConfig[] = [];

beforeAll(async () => {
  lab = await startFullLab(doctorScenario, { cloudtrail: cloudTrailStandIn() });
  dir = mkdtempSync(join(tmpdir(), 'cicd-ir-doctor-'));
  playbook = join(dir, 'contain.yaml');
  writeFileSync(playbook, `name: contain\nsteps:\n  - id: disable\n    uses: github.disable-workflow\n    with: { repo: acme/app, workflow: deploy.yml }\n  - id: trust\n    uses: aws.restrict-oidc-trust\n    with: { role: deploy, subjects: ['repo:acme/app:*'] }\n`);
  commandRuntime.createClients = (config) => {
    configs.push(config);
    return createClients({ ...lab.config({ ...identity, dryRun: config.dryRun }) });
  };
});
afterAll(async () => {
  Object.assign(commandRuntime, saved);
  await lab?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('cicd-ir doctor', () => {
  it('exit 3 and a JSON report naming the missing permission, read-only clients, no mutating request', async () => {
    // Given the limited responder's AWS credentials
    identity = { aws: LIMITED_KEY };
    const seen = lab.requests.length;
    // When doctor checks the playbook for acme/app with --json
    const outcome = await runCommand<DoctorReport>(Doctor, ['--playbook', playbook, '--repo', 'acme/app', '--json']);
    // Then it exits 3 and the JSON names the gap
    expect(outcome.exitCode).toBe(3);
    const report = JSON.parse(outcome.stdout) as DoctorReport;
    expect(report.actions).toEqual(['github.disable-workflow', 'aws.restrict-oidc-trust']);
    expect(report.checks.find((check) => check.check === 'aws iam:UpdateAssumeRolePolicy')?.status).toBe('missing');
    expect(configs.at(-1)?.dryRun).toBe(true);
    expect(lab.requests.slice(seen).filter((request) => request.mutating)).toEqual([]);
  });

  it('exit 0 with the admin responder, and a human-readable table', async () => {
    identity = {};
    const outcome = await runCommand<DoctorReport>(Doctor, ['--playbook', playbook, '--repo', 'acme/app']);
    expect(outcome.exitCode).toBe(0);
    expect(outcome.stdout).toMatch(/aws iam:UpdateAssumeRolePolicy\s+ok/);
    expect(outcome.stdout).toMatch(/all checks ok \(exit 0\)/);
  });

  it('exit 2 for a playbook that does not validate, before building any client', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'name: bad\nsteps:\n  - id: x\n    uses: github.no-such-action\n');
    const before = configs.length;
    const outcome = await runCommand(Doctor, ['--playbook', bad]);
    expect(outcome.exitCode).toBe(2);
    expect(outcome.stderr).toMatch(/bad\.yaml:4:/);
    expect(configs.length).toBe(before);
  });
});
