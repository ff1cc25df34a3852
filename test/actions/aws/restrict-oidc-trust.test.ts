import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { restrictOidcTrust } from '../../../src/actions/aws/restrict-oidc-trust.js';
import { StepFailedError } from '../../../src/engine/errors.js';
import { mintLabOidcToken } from '../../../src/lab/aws/index.js';
import { credentialEvents, planAndApply, startAwsLab, type AwsLabHarness } from '../../helpers/aws-context.js';
import { ACCOUNT, scenario } from './fixtures.js';

let harness: AwsLabHarness;
let sts: STSClient;

beforeEach(async () => {
  harness = await startAwsLab(scenario());
  sts = new STSClient({ region: 'us-east-1', endpoint: harness.endpoints.sts, credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' }, maxAttempts: 1 });
});

afterEach(async () => {
  sts.destroy();
  await harness.close();
});

/** Whether a GitHub job with this sub can assume the role now, as the lab's evaluator decides. */
async function canAssume(role: string, sub: string): Promise<boolean> {
  try {
    await sts.send(
      new AssumeRoleWithWebIdentityCommand({ RoleArn: `arn:aws:iam::${ACCOUNT}:role/${role}`, RoleSessionName: 'GitHubActions', WebIdentityToken: mintLabOidcToken({ sub }) }),
    );
    return true;
  } catch (error) {
    if ((error as Error).name === 'AccessDenied') return false;
    throw error;
  }
}

const trustOf = (role: string) => harness.lab.state.role(ACCOUNT, role)!.trustPolicy;

describe('aws.restrict-oidc-trust in the lab', () => {
  it('denies the compromised subject in both sub formats, shows a diff, is idempotent, verifies and restores', async () => {
    // Given role deploy that admits acme/app's main branch
    const compromised = 'repo:acme/app:ref:refs/heads/main';
    expect(await canAssume('deploy', compromised)).toBe(true);
    const original = trustOf('deploy');
    const { ctx, recorded } = harness.context();

    // When the subject is restricted
    const { plan, result, input } = await planAndApply(restrictOidcTrust, ctx, { role: 'deploy', subjects: [compromised] });

    // Then the plan showed a before/after diff adding the Deny
    const diff = plan.changes[0]!.diff!;
    expect(diff.some((line) => line.startsWith('+ ') && line.includes('"Sid": "CicdIrDenyCompromisedSubject"'))).toBe(true);
    expect(diff.some((line) => line.startsWith('- '))).toBe(false);
    expect(plan.calls.filter((call) => call.mutating).map((call) => call.operation)).toEqual(['UpdateAssumeRolePolicy']);
    expect(result).toMatchObject({ changed: true, outputs: { role_name: 'deploy', admits_subjects: false }, undo: { previousDocument: original } });
    // And new sessions for the subject are refused, in the classic and the immutable-id format
    expect(await canAssume('deploy', compromised)).toBe(false);
    expect(await canAssume('deploy', 'repo:acme@1001/app@2002:ref:refs/heads/main')).toBe(false);
    expect(credentialEvents(recorded)).toEqual([expect.objectContaining({ credential: `arn:aws:iam::${ACCOUNT}:role/deploy`, kind: 'oidc-trust', event: 'restricted', subjects: [compromised] })]);

    // When run again / Then nothing changes
    const again = await planAndApply(restrictOidcTrust, ctx, { role: 'deploy', subjects: [compromised] });
    expect(again.plan.changes).toEqual([]);
    expect(again.result.changed).toBe(false);
    await expect(restrictOidcTrust.verify(ctx, input, result)).resolves.toMatchObject({ verified: true });

    // When compensated / Then the original document is back and the subject is admitted again
    await restrictOidcTrust.compensate!(ctx, input, result);
    expect(JSON.parse(trustOf('deploy'))).toEqual(JSON.parse(original));
    expect(await canAssume('deploy', compromised)).toBe(true);
  });

  it('denies only the compromised repo on an org-wide trust and reports it as over-broad', async () => {
    // Given role wide admitting repo:acme/*
    const { ctx } = harness.context();
    const { plan } = await planAndApply(restrictOidcTrust, ctx, { role: 'wide', subjects: ['repo:acme/app:*'] });
    // Then the finding names the org-wide pattern
    expect(plan.findings).toEqual([expect.objectContaining({ kind: 'trust-admits-any-repo', severity: 'high', resource: `arn:aws:iam::${ACCOUNT}:role/wide` })]);
    // And acme/app is out while acme/web still gets in
    expect(await canAssume('wide', 'repo:acme/app:ref:refs/heads/main')).toBe(false);
    expect(await canAssume('wide', 'repo:acme/app:environment:prod')).toBe(false);
    expect(await canAssume('wide', 'repo:acme/web:ref:refs/heads/main')).toBe(true);
  });

  it('shuts out every subject of a compromised repository given as repos, any branch or environment', async () => {
    // Given role wide admitting repo:acme/*
    const { ctx } = harness.context();
    expect(await canAssume('wide', 'repo:acme/app:ref:refs/heads/attacker-branch')).toBe(true);
    // When the repository (not one subject) is restricted
    const { result } = await planAndApply(restrictOidcTrust, ctx, { role: 'wide', repos: ['acme/app'] });
    // Then no ref or environment of acme/app gets in, in either sub format, and acme/web still does
    expect(result.changed).toBe(true);
    expect(await canAssume('wide', 'repo:acme/app:ref:refs/heads/attacker-branch')).toBe(false);
    expect(await canAssume('wide', 'repo:acme/app:environment:prod')).toBe(false);
    expect(await canAssume('wide', 'repo:acme@1001/app@2002:ref:refs/heads/main')).toBe(false);
    expect(await canAssume('wide', 'repo:acme/web:ref:refs/heads/main')).toBe(true);
  });

  it('denies only the repositories a role admits, so fifty repositories do not overflow the trust quota', async () => {
    // Given role deploy (admits acme/app only) and an incident naming 50 repositories
    const { ctx } = harness.context();
    const repos = ['acme/app', ...Array.from({ length: 49 }, (_, i) => `acme/service-${i}`)];
    // When the trust is restricted for all of them
    const { result, input } = await planAndApply(restrictOidcTrust, ctx, { role: 'deploy', repos });
    // Then it fits, names acme/app alone, acme/app is out, and verify checks just that
    expect(result.changed).toBe(true);
    expect(result.outputs.admits_subjects).toBe(false);
    await expect(restrictOidcTrust.verify(ctx, { ...input, verify_timeout: '1s' }, result)).resolves.toMatchObject({ verified: true });
    expect(trustOf('deploy')).toContain('repo:acme/app:*');
    expect(trustOf('deploy')).not.toContain('service-');
    expect(await canAssume('deploy', 'repo:acme/app:ref:refs/heads/main')).toBe(false);
  });

  it('verifies an org-wide trust restricted for the one repository it admits among many', async () => {
    // Given role wide (repo:acme/*) and an incident naming acme/app plus repositories of another org
    const { ctx } = harness.context();
    const repos = ['acme/app', ...Array.from({ length: 20 }, (_, i) => `other-org/service-${i}`)];
    // When restricted and verified
    const { result, input } = await planAndApply(restrictOidcTrust, ctx, { role: 'wide', repos });
    // Then only acme/app is denied, and verify does not wait on repositories the role never admitted
    expect(result.outputs.admits_subjects).toBe(false);
    await expect(restrictOidcTrust.verify(ctx, { ...input, verify_timeout: '1s' }, result)).resolves.toMatchObject({ verified: true });
  });

  it('leaves a role alone when its trust admits none of the repositories', async () => {
    const { ctx } = harness.context();
    const before = trustOf('deploy');
    const { plan, result } = await planAndApply(restrictOidcTrust, ctx, { role: 'deploy', repos: ['elsewhere/unrelated'] });
    expect(plan.changes).toEqual([]);
    expect(result.changed).toBe(false);
    expect(trustOf('deploy')).toBe(before);
  });

  it('needs subjects or repos', () => {
    expect(restrictOidcTrust.schema.safeParse({ role: 'wide' }).success).toBe(false);
  });

  it('matches a trust policy written in the immutable-id format from a names-only subject', async () => {
    const { ctx } = harness.context();
    expect(await canAssume('immutable', 'repo:acme@1001/app@2002:environment:prod')).toBe(true);
    await planAndApply(restrictOidcTrust, ctx, { role: 'immutable', subjects: ['repo:acme/app:environment:prod'] });
    expect(await canAssume('immutable', 'repo:acme@1001/app@2002:environment:prod')).toBe(false);
  });

  it('mode remove narrows the allow list and keeps the other repositories', async () => {
    const { ctx } = harness.context();
    const { plan, result } = await planAndApply(restrictOidcTrust, ctx, { role: 'two-subs', subjects: ['repo:acme/app:ref:refs/heads/main'], mode: 'remove' });
    expect(plan.changes[0]!.diff!.filter((line) => line.startsWith('- ')).join('\n')).toContain('repo:acme/app:ref:refs/heads/main');
    expect(result.changed).toBe(true);
    expect(await canAssume('two-subs', 'repo:acme/app:ref:refs/heads/main')).toBe(false);
    expect(await canAssume('two-subs', 'repo:acme/web:ref:refs/heads/main')).toBe(true);
    expect(trustOf('two-subs')).not.toContain('CicdIrDeny');
  });

  it('refuses a removal that would empty the trust policy, and a deny over the 2,048 quota, before writing', async () => {
    const { ctx } = harness.context();
    // When remove would drop the only statement of role wide
    await expect(
      restrictOidcTrust.plan(ctx, restrictOidcTrust.schema.parse({ role: 'wide', subjects: ['repo:acme/app:ref:refs/heads/main'], mode: 'remove' })),
    ).rejects.toThrow(/leave the trust policy empty/);
    // When the deny list would be too long
    const many = Array.from({ length: 30 }, (_, index) => `repo:acme/app:environment:env-number-${index}`);
    const error = await restrictOidcTrust.plan(ctx, restrictOidcTrust.schema.parse({ role: 'deploy', subjects: many })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StepFailedError);
    expect((error as Error).message).toContain('2048-character trust policy quota');
    // Then nothing was written
    expect(harness.requests.filter((request) => request.mutating)).toEqual([]);
  });
});
