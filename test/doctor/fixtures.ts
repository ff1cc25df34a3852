import type { LabHttpRequest, LabHttpResponse, LabService } from '../../src/lab/types.js';

export const ACCOUNT = '111122223333';
/** A responder whose policy lacks iam:UpdateAssumeRolePolicy (and everything but what is listed). */
export const LIMITED_KEY = { accessKeyId: 'AKIALIMITEDKEY000001', secretAccessKey: 'limitedSecretLimitedSecretLimitedSecret1' };
const RESPONDER_ARN = `arn:aws:iam::${ACCOUNT}:user/cicd-ir-responder`;

const limitedPolicy = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: ['iam:GetRole', 'iam:ListRoles', 'iam:SimulatePrincipalPolicy', 'iam:PutRolePolicy', 'iam:DeleteRolePolicy', 'iam:GetRolePolicy', 'iam:ListRolePolicies', 'cloudtrail:LookupEvents'],
      Resource: '*',
    },
  ],
};

/** One account with a limited responder user, a role it could restrict, and an auditor role the admin responder can assume. */
export const doctorScenario = {
  name: 'doctor',
  description: 'identities for the doctor tests',
  seed: 9,
  github: { repos: [{ full_name: 'acme/app', workflows: [{ id: 1001, path: '.github/workflows/deploy.yml', content: 'on: push\njobs: {}\n' }] }] },
  aws: {
    accounts: [
      {
        id: ACCOUNT,
        roles: [
          {
            name: 'auditor',
            path: '/ir/',
            trust_policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: RESPONDER_ARN }, Action: 'sts:AssumeRole' }] },
            inline_policies: { limited: limitedPolicy },
          },
        ],
        users: [{ name: 'limited-responder', access_keys: [{ id: LIMITED_KEY.accessKeyId, secret: LIMITED_KEY.secretAccessKey, created: '-10d' }], inline_policies: { limited: limitedPolicy } }],
      },
    ],
  },
};

/**
 * A CloudTrail stand-in for LookupEvents (JSON 1.1): the lab's CloudTrail service is built on
 * another branch; doctor only needs an answer to `LookupEvents MaxResults 1`.
 */
export function cloudTrailStandIn(): LabService & { lookups: number } {
  const target = (request: LabHttpRequest) => (request.headers['x-amz-target'] ?? '').split('.').at(-1) ?? 'Unknown';
  const service = {
    name: 'cloudtrail' as const,
    lookups: 0,
    operation: target,
    mutating: (request: LabHttpRequest) => target(request) !== 'LookupEvents',
    async handle(request: LabHttpRequest): Promise<LabHttpResponse> {
      if (target(request) !== 'LookupEvents') return { status: 400, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify({ __type: 'UnknownOperationException' }) };
      service.lookups += 1;
      const body = JSON.parse(request.body.toString('utf8') || '{}') as { MaxResults?: number };
      const events = body.MaxResults === 1 ? [{ EventId: 'e-1', EventName: 'GetCallerIdentity', EventTime: 1_764_000_000 }] : [];
      return { status: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify({ Events: events }) };
    },
    faultResponse: () => ({ status: 500, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify({ __type: 'InternalFailure' }) }),
  };
  return service;
}
