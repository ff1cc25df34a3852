import { generateKeyPairSync } from 'node:crypto';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actions } from '../../src/actions/index.js';
import { restrictOidcTrust } from '../../src/actions/aws/restrict-oidc-trust.js';
import { revokeRoleSessions } from '../../src/actions/aws/revoke-role-sessions.js';
import { disableWorkflow } from '../../src/actions/github/disable-workflow.js';
import { disableActions } from '../../src/actions/github/disable-actions.js';
import { requiredPermissions, runDoctor, type DoctorReport } from '../../src/doctor/index.js';
import { createClients } from '../../src/providers/index.js';
import { startFullLab, type FullLab } from '../helpers/full-lab.js';
import { ACCOUNT, cloudTrailStandIn, doctorScenario, LIMITED_KEY } from './fixtures.js';

let lab: FullLab;
let trail: ReturnType<typeof cloudTrailStandIn>;

beforeAll(async () => {
  trail = cloudTrailStandIn();
  lab = await startFullLab(doctorScenario, { cloudtrail: trail });
});
afterAll(async () => lab?.close());

const row = (report: DoctorReport, check: string) => report.checks.find((candidate) => candidate.check === check);
const containment = [disableWorkflow, disableActions, restrictOidcTrust, revokeRoleSessions];

describe('doctor in the lab', () => {
  it('reports a permission the identity lacks as missing (the lab\'s SimulatePrincipalPolicy decides), with only read requests', async () => {
    // Given a responder user whose policy lacks iam:UpdateAssumeRolePolicy
    const seen = lab.requests.length;
    const clients = createClients(lab.config({ dryRun: true, aws: LIMITED_KEY }));
    // When doctor checks a containment playbook's actions for acme/app in two regions
    const report = await runDoctor({ clients, actions: containment, repo: 'acme/app', regions: ['us-east-1', 'eu-west-1'] });
    // Then the missing permission is named, the granted ones are ok, and a human must act (exit 3)
    expect(row(report, 'aws iam:UpdateAssumeRolePolicy')).toMatchObject({ status: 'missing', fix: expect.stringContaining('iam:UpdateAssumeRolePolicy') });
    expect(row(report, 'aws iam:UpdateAssumeRolePolicy')!.detail).toContain(`arn:aws:iam::${ACCOUNT}:user/limited-responder`);
    for (const permission of ['iam:GetRole', 'iam:PutRolePolicy', 'iam:DeleteRolePolicy']) expect(row(report, `aws ${permission}`)?.status, permission).toBe('ok');
    expect(report.exitCode).toBe(3);
    expect(report.aws).toEqual({ account: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/limited-responder`, principalArn: `arn:aws:iam::${ACCOUNT}:user/limited-responder` });
    // And GitHub: the lab token is classic with repo/workflow/admin:org; every family probe answered
    expect(report.github).toMatchObject({ type: 'classic', login: lab.github.user });
    expect(row(report, 'github github:actions:write')?.status).toBe('ok');
    expect(row(report, 'github GET /repos/acme/app/actions/permissions')?.status).toBe('ok');
    expect(row(report, 'cloudtrail us-east-1')?.status).toBe('ok');
    expect(row(report, 'cloudtrail eu-west-1')?.status).toBe('ok');
    expect(trail.lookups).toBe(2);
    // And every request doctor made was a read
    const made = lab.requests.slice(seen);
    expect(made.length).toBeGreaterThan(5);
    expect(made.filter((request) => request.mutating)).toEqual([]);
  });

  it('the admin responder passes every check of the whole registry (exit 0)', async () => {
    const report = await runDoctor({ clients: createClients(lab.config({ dryRun: true })), actions, repo: 'acme/app' });
    expect(report.checks.filter((check) => check.status !== 'ok')).toEqual([]);
    expect(report.exitCode).toBe(0);
    expect(requiredPermissions(actions).aws.every((permission) => row(report, `aws ${permission}`)?.status === 'ok')).toBe(true);
  });

  it('simulates an assumed-role session as its role (path included, via GetRole)', async () => {
    // Given a session of the auditor role, whose policy lacks UpdateAssumeRolePolicy
    const admin = createClients(lab.config());
    const session = await admin.sts().send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ACCOUNT}:role/ir/auditor`, RoleSessionName: 'doctor' }));
    const credentials = { accessKeyId: session.Credentials!.AccessKeyId!, secretAccessKey: session.Credentials!.SecretAccessKey!, sessionToken: session.Credentials!.SessionToken! };
    const clients = createClients(lab.config({ dryRun: true, aws: credentials }));
    // When doctor checks the AWS actions
    const report = await runDoctor({ clients, actions: [restrictOidcTrust, revokeRoleSessions] });
    // Then the principal is the role with its path, and the gap is found
    expect(report.aws?.principalArn).toBe(`arn:aws:iam::${ACCOUNT}:role/ir/auditor`);
    expect(row(report, 'aws iam:UpdateAssumeRolePolicy')?.status).toBe('missing');
    expect(row(report, 'aws iam:PutRolePolicy')?.status).toBe('ok');
  });

  it('reports bad AWS credentials and a bad GitHub token as missing, not as a crash', async () => {
    const clients = createClients(lab.config({ dryRun: true, aws: { accessKeyId: 'AKIANOSUCHKEY0000001', secretAccessKey: 'x'.repeat(40) }, githubToken: 'ghp_notALabToken000000000000000000000000' }));
    const report = await runDoctor({ clients, actions: containment });
    expect(row(report, 'aws identity')?.status).toBe('missing');
    expect(row(report, 'github identity')?.status).toBe('missing');
    expect(row(report, 'aws iam:PutRolePolicy')?.status).toBe('unknown');
    expect(row(report, 'github github:actions:write')?.status).toBe('unknown');
    expect(report.exitCode).toBe(3);
  });

  it('rejects a malformed --repo before any request (exit 2)', async () => {
    const seen = lab.requests.length;
    await expect(runDoctor({ clients: createClients(lab.config({ dryRun: true })), actions: containment, repo: 'not a repo' })).rejects.toMatchObject({ exitCode: 2 });
    expect(lab.requests.length).toBe(seen);
  });
});

describe('doctor with a GitHub App installation token', () => {
  it('names the token type and reports write permissions as unknown (the API does not list them), reads as probed', async () => {
    // Given an App installed in the lab and the provider configured with its key
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const scenario = { ...doctorScenario, github: { ...doctorScenario.github, apps: [{ id: 314, installation_id: 2718, public_key: publicKey.export({ type: 'spki', format: 'pem' }).toString() }] } };
    const appLab = await startFullLab(scenario, { cloudtrail: cloudTrailStandIn() });
    try {
      const base = appLab.config({ dryRun: true });
      const app = { appId: '314', installationId: '2718', privateKey: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString() };
      const clients = createClients({ ...base, github: { apiUrl: appLab.urls.github, app, writeIntervalMs: 0 } });
      // When doctor checks the GitHub containment actions for acme/app
      const report = await runDoctor({ clients, actions: [disableWorkflow, disableActions], repo: 'acme/app' });
      // Then: an installation token, writes unknown with where to look, reads proven by the probes
      expect(report.github).toEqual({ type: 'installation' });
      expect(row(report, 'github github:actions:write')).toMatchObject({ status: 'unknown', fix: expect.stringContaining('Actions: Read and write') });
      expect(row(report, 'github GET /repos/acme/app/actions/workflows')?.status).toBe('ok');
      expect(report.exitCode).toBe(3);
      // Minting the installation token is a POST, but not a change to the world (the lab logs it as non-mutating)
      expect(appLab.requests.filter((request) => request.mutating)).toEqual([]);
    } finally {
      await appLab.close();
    }
  });
});
