import { z } from 'zod';
import { defineAction } from '../define.js';
import { checkTargetFields, durationField, principalField, targetFields } from '../../aws/target.js';
import { applyRevocation, compensateRevocation, planRevocation, verifyRevocation } from './shared/session-revocation.js';

const schema = z
  .object({
    /** Role name or ARN. One role per step: fan out over many with `for_each`. */
    role: principalField('role'),
    /** Sessions issued before this instant are denied. Default: now (when the step plans). */
    cutoff: z.iso.datetime({ offset: true }).optional(),
    /** How long verify keeps reading the policy back before reporting "unverified". */
    verify_timeout: durationField.optional(),
    ...targetFields,
  })
  .strict()
  .superRefine(checkTargetFields);

/**
 * Revokes a role's active sessions the way the IAM console does: the `AWSRevokeOlderSessions`
 * inline policy denying every session whose `aws:TokenIssueTime` is before the cutoff.
 * Sessions issued after the cutoff still work: tighten the trust policy in the same containment.
 */
export const revokeRoleSessions = defineAction({
  id: 'aws.revoke-role-sessions',
  summary: 'Deny every session of an IAM role issued before a cutoff (AWSRevokeOlderSessions).',
  schema,
  permissions: ['iam:GetRole', 'iam:ListRolePolicies', 'iam:GetRolePolicy', 'iam:PutRolePolicy', 'iam:DeleteRolePolicy'],
  mutating: true,
  closesCredential: true,
  outputs: {
    role_arn: 'ARN of the role',
    role_name: 'name of the role',
    cutoff: 'ISO time before which sessions are denied',
    policy_name: 'the inline policy name (AWSRevokeOlderSessions)',
  },
  example: { role: 'deploy-prod', verify_timeout: '2m' },
  plan: (ctx, input) => planRevocation(ctx, 'role', input.role, input),
  apply: (ctx, input, plan) => applyRevocation(ctx, input, plan),
  verify: (ctx, input, result) => verifyRevocation(ctx, 'role', input, result),
  compensate: (ctx, input, result) => compensateRevocation(ctx, input, result),
});
