import { z } from 'zod';
import { defineAction } from '../define.js';
import { checkTargetFields, durationField, principalField, targetFields } from '../../aws/target.js';
import { applyRevocation, compensateRevocation, planRevocation, verifyRevocation } from './shared/session-revocation.js';

const schema = z
  .object({
    /** IAM user name or ARN. */
    user: principalField('user'),
    /** Sessions issued before this instant are denied. Default: now (when the step plans). */
    cutoff: z.iso.datetime({ offset: true }).optional(),
    verify_timeout: durationField.optional(),
    ...targetFields,
  })
  .strict()
  .superRefine(checkTargetFields);

/**
 * The same `aws:TokenIssueTime` deny on an IAM user: it ends the temporary sessions the user
 * made with GetSessionToken / GetFederationToken, which deactivating the access key does not.
 * It does not stop the user's long-term keys (they carry no TokenIssueTime): rotate them.
 */
export const revokeUserSessions = defineAction({
  id: 'aws.revoke-user-sessions',
  summary: 'Deny every temporary session of an IAM user issued before a cutoff (GetSessionToken / GetFederationToken).',
  schema,
  permissions: ['iam:GetUser', 'iam:ListUserPolicies', 'iam:GetUserPolicy', 'iam:PutUserPolicy', 'iam:DeleteUserPolicy'],
  mutating: true,
  closesCredential: true,
  outputs: {
    user_arn: 'ARN of the user',
    user_name: 'name of the user',
    cutoff: 'ISO time before which sessions are denied',
    policy_name: 'the inline policy name (AWSRevokeOlderSessions)',
  },
  example: { user: 'ci-deployer' },
  plan: (ctx, input) => planRevocation(ctx, 'user', input.user, input),
  apply: (ctx, input, plan) => applyRevocation(ctx, input, plan),
  verify: (ctx, input, result) => verifyRevocation(ctx, 'user', input, result),
  compensate: (ctx, input, result) => compensateRevocation(ctx, input, result),
});
