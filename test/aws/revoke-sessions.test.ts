import { describe, expect, it } from 'vitest';
import { checkInlineBudget, REVOKE_POLICY_NAME, revocationCutoff, revokeOlderSessionsPolicy } from '../../src/aws/revoke-sessions.js';
import { refusalFor } from '../../src/actions/aws/shared/session-revocation.js';
import { roleSessionName } from '../../src/providers/aws.js';
import { toAwsTarget, roleRef } from '../../src/aws/target.js';

describe('AWSRevokeOlderSessions', () => {
  it('is the console’s document (FACTS.md) and its cutoff reads back', () => {
    const cutoff = new Date('2026-11-25T16:00:00.000Z');
    const document = revokeOlderSessionsPolicy(cutoff);
    expect(JSON.stringify(document)).toBe(
      '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2026-11-25T16:00:00.000Z"}}}]}',
    );
    expect(revocationCutoff(document)).toEqual(cutoff);
  });

  it('does not take a scoped or different deny for a revocation', () => {
    const scoped = { Version: '2012-10-17', Statement: [{ Effect: 'Deny' as const, Action: 's3:*', Resource: '*', Condition: { DateLessThan: { 'aws:TokenIssueTime': '2026-01-01T00:00:00Z' } } }] };
    expect(revocationCutoff(scoped)).toBeUndefined();
    const extra = { Version: '2012-10-17', Statement: [{ Effect: 'Deny' as const, Action: '*', Resource: '*', Condition: { DateLessThan: { 'aws:TokenIssueTime': '2026-01-01T00:00:00Z' }, Bool: { 'aws:MultiFactorAuthPresent': 'false' } } }] };
    expect(revocationCutoff(extra)).toBeUndefined();
  });

  it('checks the aggregate budget, replacing a previous revocation policy of the same name', () => {
    const wanted = revokeOlderSessionsPolicy(new Date());
    const fits = checkInlineBudget([{ name: 'a', size: 9_000 }, { name: REVOKE_POLICY_NAME, size: 150 }], wanted, 10_240);
    expect(fits.fits).toBe(true);
    expect(fits.others).toBe(9_000);
    const over = checkInlineBudget([{ name: 'a', size: 1_000 }, { name: 'b', size: 1_000 }], wanted, 2_048);
    expect(over.fits).toBe(false);
    expect(over.largest.map((policy) => policy.name)).toEqual(['a', 'b']);
  });

  it('refuses service-linked and Identity Center roles, not ordinary ones or users', () => {
    expect(refusalFor('role', 'AWSServiceRoleForSupport', '/aws-service-role/support.amazonaws.com/')?.message).toContain('service-linked');
    expect(refusalFor('role', 'AWSReservedSSO_Admin_1', '/aws-reserved/sso.amazonaws.com/')?.message).toContain('Identity Center');
    expect(refusalFor('role', 'deploy', '/')).toBeUndefined();
    expect(refusalFor('user', 'AWSReservedSSO_x', '/')).toBeUndefined();
  });
});

describe('targets', () => {
  it('turns account / assume_role into an AwsTarget', () => {
    expect(toAwsTarget({})).toBeUndefined();
    expect(toAwsTarget({ account: '222233334444', assume_role: 'Responder' })).toEqual({ accountId: '222233334444', roleArn: 'arn:aws:iam::222233334444:role/Responder' });
    expect(toAwsTarget({ assume_role: 'arn:aws:iam::222233334444:role/ir/Responder' })).toEqual({ accountId: '222233334444', roleArn: 'arn:aws:iam::222233334444:role/ir/Responder' });
    expect(roleRef('arn:aws:iam::222233334444:role/ci/deploy')).toEqual({ name: 'deploy', accountId: '222233334444' });
    expect(roleSessionName('IR-7')).toBe('cicd-ir-IR-7');
  });
});
