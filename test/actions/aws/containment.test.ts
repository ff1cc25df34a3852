import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findRoles } from '../../../src/actions/aws/find-roles.js';
import { restrictOidcTrust } from '../../../src/actions/aws/restrict-oidc-trust.js';
import { revokeRoleSessions } from '../../../src/actions/aws/revoke-role-sessions.js';
import { planAndApply, startAwsLab, type AwsLabHarness } from '../../helpers/aws-context.js';
import { ACCOUNT, scenario } from './fixtures.js';

let harness: AwsLabHarness;

/** The fixture world plus an attacker who comes back after containment, and a legitimate repo. */
function withAttacker() {
  const world = scenario();
  return {
    ...world,
    attacker: [
      { phase: 'after-containment', credential: 'stolen', call: 'iam:GetRole', params: { RoleName: 'deploy' } },
      { phase: 'after-containment', credential: 'oidc:repo:acme/app:ref:refs/heads/main', call: 'sts:AssumeRoleWithWebIdentity', params: { RoleArn: `arn:aws:iam::${ACCOUNT}:role/wide` } },
      { phase: 'after-containment', credential: 'oidc:repo:acme@1001/app@2002:ref:refs/heads/main', call: 'sts:AssumeRoleWithWebIdentity', params: { RoleArn: `arn:aws:iam::${ACCOUNT}:role/deploy` } },
      // Not compromised: another repository of the org keeps deploying through the org-wide role
      { phase: 'after-containment', credential: 'oidc:repo:acme/web:ref:refs/heads/main', call: 'sts:AssumeRoleWithWebIdentity', params: { RoleArn: `arn:aws:iam::${ACCOUNT}:role/wide` } },
    ],
  };
}

beforeEach(async () => {
  harness = await startAwsLab(withAttacker());
});

afterEach(async () => {
  await harness.close();
});

describe('AWS containment of a compromised repository (find, restrict trust, revoke sessions)', () => {
  it('the attacker is locked out afterwards, decided by the lab’s policy evaluation; other repositories are not', async () => {
    // Given the repository acme/app is compromised and its stolen session is live
    const { ctx } = harness.context();
    // When the containment runs the way the contain playbook chains the steps
    const found = await planAndApply(findRoles, ctx, { repo: 'acme/app' });
    const roles = found.result.outputs.role_names as string[];
    for (const role of roles) await planAndApply(restrictOidcTrust, ctx, { role, subjects: ['repo:acme/app:*'] });
    await Promise.all(roles.map((role) => planAndApply(revokeRoleSessions, ctx, { role })));
    // Then the attacker's after-containment moves fail, and the other repo still works
    const outcomes = await harness.lab.playAttacker('after-containment');
    expect(outcomes.map((outcome) => [outcome.credential, outcome.outcome])).toEqual([
      ['stolen', 'denied'],
      ['oidc:repo:acme/app:ref:refs/heads/main', 'denied'],
      ['oidc:repo:acme@1001/app@2002:ref:refs/heads/main', 'denied'],
      ['oidc:repo:acme/web:ref:refs/heads/main', 'success'],
    ]);
    expect(outcomes[0]!.errorCode).toBe('AccessDenied');
  });
});
