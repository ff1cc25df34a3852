/**
 * The lab world the AWS action tests share: one account with a GitHub-trusted deploy role
 * (and a stolen session of it), roles IAM or the product must refuse, an over-broad role,
 * and a CI user with an access key.
 */
export const ACCOUNT = '111122223333';
/** A second account, reached by assuming IncidentResponder there. */
export const OTHER_ACCOUNT = '444455556666';
export const PROVIDER = `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`;

/** A GitHub OIDC trust policy in the normal form (FACTS.md) for the given sub values. */
export function githubTrust(sub: string | string[], operator: 'StringEquals' | 'StringLike' = 'StringEquals') {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: PROVIDER },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com' },
          ...(operator === 'StringLike'
            ? { StringLike: { 'token.actions.githubusercontent.com:sub': sub } }
            : { StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com', 'token.actions.githubusercontent.com:sub': sub } }),
        },
      },
    ],
  };
}

const allowRead = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['iam:GetRole', 'iam:ListRoles', 's3:ListAllMyBuckets'], Resource: '*' }] };

/** A policy of about `size` characters (without whitespace), for budget tests. */
export function fillerPolicy(size: number) {
  const base = JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: '', Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] }).length;
  return { Version: '2012-10-17', Statement: [{ Sid: 'x'.repeat(Math.max(0, size - base)), Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] };
}

export function scenario() {
  return {
    name: 'aws-actions',
    description: 'AWS action tests',
    seed: 11,
    aws: {
      accounts: [
        {
          id: ACCOUNT,
          roles: [
            { name: 'deploy', trust_policy: githubTrust('repo:acme/app:ref:refs/heads/main'), inline_policies: { read: allowRead } },
            { name: 'wide', trust_policy: githubTrust('repo:acme/*', 'StringLike'), inline_policies: { read: allowRead } },
            {
              name: 'immutable',
              trust_policy: githubTrust('repo:acme@1001/app@2002:environment:prod'),
              inline_policies: { read: allowRead },
            },
            {
              name: 'two-subs',
              trust_policy: githubTrust(['repo:acme/app:ref:refs/heads/main', 'repo:acme/web:ref:refs/heads/main']),
            },
            { name: 'other', trust_policy: githubTrust('repo:other/thing:ref:refs/heads/main'), inline_policies: { read: allowRead } },
            {
              name: 'full',
              trust_policy: githubTrust('repo:acme/full:ref:refs/heads/main'),
              inline_policies: { a: fillerPolicy(5_000), b: fillerPolicy(5_150) },
            },
            {
              name: 'audit',
              // Trusts the account, so the caller's identity policies decide (and their denies apply).
              trust_policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sts:AssumeRole' }] },
              inline_policies: { read: allowRead },
            },
            {
              name: 'AWSServiceRoleForSupport',
              path: '/aws-service-role/support.amazonaws.com/',
              service_linked: true,
              trust_policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'support.amazonaws.com' }, Action: 'sts:AssumeRole' }] },
            },
            {
              name: 'AWSReservedSSO_Admin_0123456789abcdef',
              path: '/aws-reserved/sso.amazonaws.com/',
              trust_policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Federated: `arn:aws:iam::${ACCOUNT}:saml-provider/AWSSSO_x` }, Action: 'sts:AssumeRoleWithSAML' }] },
            },
          ],
          users: [
            {
              name: 'ci-deployer',
              access_keys: [{ id: 'AKIAOLDKEY0000000001', secret: 'oldSecretOldSecretOldSecretOldSecret0001', created: '-300d' }],
              inline_policies: { read: allowRead, assume: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }] } },
            },
            {
              name: 'heavy',
              inline_policies: { big: fillerPolicy(1_950) },
            },
            {
              name: 'two-keys',
              access_keys: [
                { id: 'AKIATWOKEYS000000001', secret: 'twoKeysSecretTwoKeysSecretTwoKeys000001', created: '-300d' },
                { id: 'AKIATWOKEYS000000002', secret: 'twoKeysSecretTwoKeysSecretTwoKeys000002', created: '-100d' },
              ],
            },
            {
              name: 'spare',
              access_keys: [
                { id: 'AKIASPAREKEY00000001', secret: 'spareSecretSpareSecretSpareSecret0000001', created: '-300d' },
                { id: 'AKIASPAREKEY00000002', secret: 'spareSecretSpareSecretSpareSecret0000002', created: '-400d', status: 'Inactive' },
              ],
            },
          ],
        },
        {
          id: OTHER_ACCOUNT,
          roles: [
            {
              name: 'IncidentResponder',
              trust_policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sts:AssumeRole' }] },
              inline_policies: { ir: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iam:*', Resource: '*' }] } },
            },
            { name: 'deploy', trust_policy: githubTrust('repo:acme/app:ref:refs/heads/main') },
          ],
        },
      ],
      sessions: [
        {
          id: 'stolen',
          account: ACCOUNT,
          role: 'deploy',
          access_key_id: 'ASIASTOLENSESSION001',
          secret: 'stolenSessionSecretStolenSessionSecret01',
          issued_at: '-20m',
          oidc_subject: 'repo:acme/app:ref:refs/heads/main',
        },
      ],
    },
  };
}
