import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startLab, type RunningLab } from '../../src/lab/index.js';
import { mintLabOidcToken } from '../../src/lab/aws/index.js';
import { runContain } from '../../src/ui/contain-session.js';
import { lineReporter } from '../../src/ui/lines.js';
import { repoRoot } from '../helpers/cli.js';
import { useScenarioLab } from '../helpers/scenario-lab.js';

const out = mkdtempSync(join(tmpdir(), 'cicd-ir-accounts-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const STAGING = '210987654321';
const SUBJECT = 'repo:acme-robotics/fleet-api:ref:refs/heads/main';

/** `contain --lab` in-process, as the drill runs it, quietly. */
async function contain(lab: RunningLab, flags: Parameters<typeof runContain>[0] = {}) {
  const progress = new PassThrough();
  progress.resume();
  return runContain(flags, lab, { dryRun: false, yes: true, json: false, out, incident: lab.scenario.name, progress, reporter: lineReporter(progress) });
}

interface JournalRecord {
  type: string;
  step?: string;
  key?: string;
  phase?: string;
  finding?: { kind: string; severity: string; resource: string; summary: string };
  result?: { outputs: Record<string, unknown> };
}

function journal(runDir: string): JournalRecord[] {
  return readFileSync(join(runDir, 'journal.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as JournalRecord);
}

describe('contain across the accounts of an organization', () => {
  let lab: RunningLab | undefined;
  afterEach(async () => {
    await lab?.close();
    lab = undefined;
  });

  it('tj-actions: the staging account’s deploy role no longer admits the compromised subject', async () => {
    // Given the tj-actions lab: staging's deploy trusts repo:acme-robotics/* and only Organizations knows staging
    lab = await startLab(join(repoRoot, 'scenarios', 'tj-actions-log-leak.yaml'));
    const sts = new STSClient({ region: 'us-east-1', endpoint: lab.endpoints.sts, credentials: lab.providerConfig.aws.credentials!, maxAttempts: 1 });
    const assumeStaging = () =>
      sts.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: `arn:aws:iam::${STAGING}:role/deploy`, RoleSessionName: 'attacker', WebIdentityToken: mintLabOidcToken({ sub: SUBJECT }) }));
    await expect(assumeStaging()).resolves.toMatchObject({ AssumedRoleUser: { Arn: expect.stringContaining(STAGING) } });

    // When contain runs with the scenario's flags (no --account: the organization names staging)
    const result = await contain(lab);

    // Then the only thing left open is the secret the minted key read (no account, role or region),
    // and the attacker's AssumeRoleWithWebIdentity into staging is denied
    expect(result.verdict.openItems.filter((item) => item.blocking).map((item) => item.summary)).toEqual([expect.stringMatching(/^rotate prod\/fleet\/db-credentials: /)]);
    expect(result.exitCode).toBe(3);
    await expect(assumeStaging()).rejects.toMatchObject({ name: 'AccessDenied' });
    const attacks = await lab.attack('after-containment');
    expect(attacks.filter((attack) => attack.call === 'sts:AssumeRoleWithWebIdentity').map((attack) => attack.outcome)).toEqual(['denied', 'denied']);
    sts.destroy();

    // And the journal shows both accounts searched, staging through its access role, and hunted in each enabled region
    const records = journal(result.runDir!);
    const applied = (key: string) => records.find((record) => record.key === key && record.phase === 'applied')!.result!.outputs;
    expect(applied('accounts').accounts).toEqual([
      { account: '123456789012', regions: ['us-east-1'] },
      { account: STAGING, assume_role: `arn:aws:iam::${STAGING}:role/OrganizationAccountAccessRole`, regions: ['eu-west-1', 'us-east-1'] },
    ]);
    const huntRegions = records.filter((record) => record.step === 'hunt' && record.phase === 'applied').map((record) => record.result!.outputs.regions);
    expect(huntRegions).toEqual(expect.arrayContaining([['us-east-1'], ['eu-west-1', 'us-east-1']]));
    expect(records.filter((record) => record.finding?.kind === 'coverage-gap')).toEqual([]);
  }, 90_000);
});

// An invited member account: it has no OrganizationAccountAccessRole, and its deploy role trusts the repository.
const unreachable = `
name: unreachable-member
description: an organization member the responder cannot reach
github:
  orgs: [{ login: acme }]
  repos:
    - full_name: acme/web
      workflows:
        - id: 501
          path: .github/workflows/deploy.yml
          name: Deploy
          content: |
            name: Deploy
            on: push
            permissions: { id-token: write, contents: read }
            jobs:
              deploy:
                runs-on: ubuntu-latest
                steps:
                  - run: echo deploy
      runs:
        - id: 7001
          workflow: .github/workflows/deploy.yml
          event: push
          actor: dev-lee
          head_sha: 0a7d1e2c3b4f5a6e7d8c9b0a1f2e3d4c5b6a7f8e
          conclusion: success
          created_at: -1h
          jobs:
            - { name: deploy, conclusion: success, started_at: -1h, completed_at: -55m }
aws:
  accounts:
    - id: "123456789012"
    - id: "333344445555"
      roles:
        - name: deploy
          trust_policy:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Principal: { Federated: "arn:aws:iam::333344445555:oidc-provider/token.actions.githubusercontent.com" }
                Action: sts:AssumeRoleWithWebIdentity
                Condition:
                  StringLike: { "token.actions.githubusercontent.com:sub": "repo:acme/*" }
  organization:
    management_account: "123456789012"
    members:
      - { id: "333344445555", name: acme-legacy, access_role: null }
incident:
  repos: [acme/web]
  workflow: .github/workflows/deploy.yml
  since: -2h
`;

describe('an account contain cannot reach', () => {
  const start = useScenarioLab(unreachable, 'cicd-ir-unreachable-');

  it('is a coverage gap, and the run does not exit 0', async () => {
    const running = await start();
    const before = running.aws.state.role('333344445555', 'deploy')!.trustPolicy;
    // When contain runs (Organizations lists the member, assuming its access role fails)
    const result = await contain(running, { region: ['us-east-1'] });
    // Then the run needs a human, never "contained"
    expect(result.exitCode).toBe(3);
    // And the journal holds the gap in the shape the verdict reads
    const gaps = journal(result.runDir!).filter((record) => record.finding?.kind === 'coverage-gap');
    expect(gaps.map((record) => [record.finding!.severity, record.finding!.resource])).toEqual([['high', 'aws:account/333344445555']]);
    expect(gaps[0]!.finding!.summary).toMatch(/account 333344445555 \(organization \(acme-legacy\)\) was not searched/);
    // And the step says what was not covered
    const verify = journal(result.runDir!).find((record) => record.key === 'accounts' && record.phase === 'unverified');
    expect(verify).toBeDefined();
    // And nothing pretended: the member's role is untouched (a human must close it)
    expect(running.aws.state.role('333344445555', 'deploy')!.trustPolicy).toBe(before);
  }, 90_000);
});
