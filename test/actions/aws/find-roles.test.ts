import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findRoles } from '../../../src/actions/aws/find-roles.js';
import { restrictOidcTrust } from '../../../src/actions/aws/restrict-oidc-trust.js';
import { planAndApply, startAwsLab, type AwsLabHarness } from '../../helpers/aws-context.js';
import { ACCOUNT, scenario } from './fixtures.js';

let harness: AwsLabHarness;

beforeEach(async () => {
  harness = await startAwsLab(scenario());
});

afterEach(async () => {
  await harness.close();
});

const arn = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;

describe('aws.find-roles in the lab', () => {
  it('finds every role a repository can reach, in either sub format, without ARNs', async () => {
    // Given roles trusting acme/app exactly, acme/* (wide), acme/app by immutable ids, and other repos
    const { ctx } = harness.context();
    // When the repository is looked up
    const { plan, result } = await planAndApply(findRoles, ctx, { repo: 'acme/app' });
    // Then exactly the roles its tokens can assume are listed
    expect(result.outputs.role_names).toEqual(['deploy', 'immutable', 'two-subs', 'wide']);
    expect(result.outputs.roles).toEqual([arn('deploy'), arn('immutable'), arn('two-subs'), arn('wide')]);
    expect(result.changed).toBe(false);
    expect(result.outputs.matches).toContainEqual({ role_arn: arn('wide'), role_name: 'wide', patterns: ['repo:acme/*'], denied: false });
    // And over-broad trust is reported
    expect(plan.findings).toContainEqual(expect.objectContaining({ kind: 'trust-admits-any-repo', resource: arn('wide'), severity: 'high' }));
    // And it made reads only
    expect(harness.requests.every((request) => !request.mutating)).toBe(true);
  });

  it('narrows to refs or exact subjects', async () => {
    const { ctx } = harness.context();
    const byRef = await planAndApply(findRoles, ctx, { repo: 'acme/app', refs: ['main'] });
    expect(byRef.result.outputs.role_names).toEqual(['deploy', 'two-subs', 'wide']);
    const bySubject = await planAndApply(findRoles, ctx, { repo: 'acme/app', subjects: ['repo:acme@1001/app@2002:environment:prod'] });
    expect(bySubject.result.outputs.role_names).toEqual(['immutable', 'wide']);
    const none = await planAndApply(findRoles, ctx, { repo: 'nobody/nothing' });
    expect(none.result.outputs.roles).toEqual([]);
  });

  it('still lists a role after its trust is restricted (live sessions need revoking), marked denied', async () => {
    const { ctx } = harness.context();
    await planAndApply(restrictOidcTrust, ctx, { role: 'deploy', subjects: ['repo:acme/app:*'] });
    const { result } = await planAndApply(findRoles, ctx, { repo: 'acme/app' });
    expect(result.outputs.matches).toContainEqual(expect.objectContaining({ role_name: 'deploy', denied: true }));
    expect(result.outputs.matches).toContainEqual(expect.objectContaining({ role_name: 'wide', denied: false }));
  });

  it('rejects bad input before any call', () => {
    expect(findRoles.schema.safeParse({ repo: 'acme' }).success).toBe(false);
    expect(findRoles.schema.safeParse({ repo: 'acme/app', refs: ['main'], subjects: ['x'] }).success).toBe(false);
    expect(findRoles.schema.safeParse(findRoles.example).success).toBe(true);
  });
});
