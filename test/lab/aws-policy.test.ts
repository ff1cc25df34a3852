import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { evaluate, MalformedPolicyError, parsePolicy, policySize, wildcardMatch, type EvaluationRequest } from '../../src/lab/aws/policy.js';

const CUTOFF = '2026-05-11T19:40:00Z';
/** The console's document, verbatim from FACTS.md. */
const REVOKE = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"${CUTOFF}"}}}]}`;
const ALLOW_ALL = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };
const ALLOW_S3 = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:Get*', 's3:ListBucket'], Resource: 'arn:aws:s3:::artifacts/*' }] };

const PROVIDER = 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com';
const oidcTrust = (condition: Record<string, unknown>) => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Federated: PROVIDER }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: condition }],
});
const GH = 'token.actions.githubusercontent.com';

function identity(action: string, resource: string, policies: EvaluationRequest['identityPolicies'], context: EvaluationRequest['context'] = {}): EvaluationRequest {
  return { action, resource, identityPolicies: policies, context: { 'aws:CurrentTime': '2026-05-11T20:00:00Z', ...context } };
}

function oidc(sub: string | undefined, trust: object, aud: string | undefined = 'sts.amazonaws.com'): EvaluationRequest {
  return {
    principal: { type: 'Federated', id: PROVIDER },
    action: 'sts:AssumeRoleWithWebIdentity',
    resource: 'arn:aws:iam::123456789012:role/deploy',
    identityPolicies: [],
    resourcePolicy: trust as Record<string, unknown>,
    context: { ...(sub !== undefined ? { [`${GH}:sub`]: sub } : {}), ...(aud !== undefined ? { [`${GH}:aud`]: aud } : {}) },
  };
}

describe('policy evaluator: AWSRevokeOlderSessions', () => {
  it.each([
    ['session issued before the cutoff', '2026-05-11T19:30:00Z', 'explicit-deny'],
    ['session issued one second before', '2026-05-11T19:39:59Z', 'explicit-deny'],
    ['session issued exactly at the cutoff (DateLessThan is strict)', CUTOFF, 'allow'],
    ['session issued after the cutoff', '2026-05-11T19:45:00Z', 'allow'],
  ] as const)('%s -> %s', (_label, issued, expected) => {
    // Given a role allowed everything with the console's revocation policy added
    // When a session issued at `issued` calls
    const decision = evaluate(identity('s3:GetObject', 'arn:aws:s3:::artifacts/a', [ALLOW_ALL, REVOKE], { 'aws:TokenIssueTime': issued }));
    // Then sessions from before the cutoff are explicitly denied, later ones allowed
    expect(decision).toBe(expected);
  });

  it('does not deny long-term keys (no aws:TokenIssueTime): DateLessThan on a missing key is false', () => {
    expect(evaluate(identity('s3:GetObject', 'arn:aws:s3:::artifacts/a', [ALLOW_ALL, REVOKE]))).toBe('allow');
  });
});

describe('policy evaluator: actions, resources, effects', () => {
  it.each<[string, EvaluationRequest, string]>([
    ['no policy', identity('s3:GetObject', '*', []), 'implicit-deny'],
    ['action wildcard prefix', identity('s3:GetObjectAcl', 'arn:aws:s3:::artifacts/x', [ALLOW_S3]), 'allow'],
    ['action match is case-insensitive', identity('S3:getobject', 'arn:aws:s3:::artifacts/x', [ALLOW_S3]), 'allow'],
    ['resource outside the wildcard', identity('s3:GetObject', 'arn:aws:s3:::other/x', [ALLOW_S3]), 'implicit-deny'],
    ['resource match is case-sensitive', identity('s3:GetObject', 'arn:aws:s3:::ARTIFACTS/x', [ALLOW_S3]), 'implicit-deny'],
    ['? matches exactly one character', identity('iam:GetRole', 'arn:aws:iam::1:role/ab', [{ Statement: [{ Effect: 'Allow', Action: 'iam:GetRol?', Resource: 'arn:aws:iam::1:role/a?' }] }]), 'allow'],
    ['? does not match two', identity('iam:GetRole', 'arn:aws:iam::1:role/abc', [{ Statement: [{ Effect: 'Allow', Action: 'iam:GetRole', Resource: 'arn:aws:iam::1:role/a?' }] }]), 'implicit-deny'],
    ['explicit deny beats allow', identity('iam:CreateAccessKey', '*', [ALLOW_ALL, { Statement: [{ Effect: 'Deny', Action: 'iam:*AccessKey*', Resource: '*' }] }]), 'explicit-deny'],
    ['NotAction allow excludes iam', identity('iam:CreateUser', '*', [{ Statement: [{ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }] }]), 'implicit-deny'],
    ['NotAction allow covers others', identity('ec2:DescribeInstances', '*', [{ Statement: [{ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }] }]), 'allow'],
    ['NotResource deny', identity('s3:GetObject', 'arn:aws:s3:::secret/x', [ALLOW_ALL, { Statement: [{ Effect: 'Deny', Action: 's3:*', NotResource: 'arn:aws:s3:::artifacts/*' }] }]), 'explicit-deny'],
    ['statement object (not array) and string policy', identity('sts:GetCallerIdentity', '*', ['{"Statement":{"Effect":"Allow","Action":"sts:*","Resource":"*"}}']), 'allow'],
  ])('%s', (_label, request, expected) => {
    expect(evaluate(request)).toBe(expected);
  });
});

describe('policy evaluator: condition operators', () => {
  const withCondition = (condition: Record<string, unknown>) => [{ Statement: [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: condition }] }];
  it.each<[string, Record<string, unknown>, EvaluationRequest['context'], string]>([
    ['StringEquals match', { StringEquals: { 'aws:PrincipalTag/team': 'ir' } }, { 'aws:PrincipalTag/team': 'ir' }, 'allow'],
    ['StringEquals is case-sensitive on values', { StringEquals: { 'aws:PrincipalTag/team': 'ir' } }, { 'aws:PrincipalTag/team': 'IR' }, 'implicit-deny'],
    ['condition key names are case-insensitive', { StringEquals: { 'AWS:principaltag/team': 'ir' } }, { 'aws:PrincipalTag/team': 'ir' }, 'allow'],
    ['StringEquals with a missing key is false', { StringEquals: { 'aws:PrincipalTag/team': 'ir' } }, {}, 'implicit-deny'],
    ['StringEqualsIfExists with a missing key is true', { StringEqualsIfExists: { 'aws:PrincipalTag/team': 'ir' } }, {}, 'allow'],
    ['StringNotEquals with a missing key is true', { StringNotEquals: { 'aws:PrincipalTag/team': 'ir' } }, {}, 'allow'],
    ['StringNotEquals against any listed value', { StringNotEquals: { k: ['a', 'b'] } }, { k: 'b' }, 'implicit-deny'],
    ['StringLike wildcard', { StringLike: { k: 'repo:acme/*' } }, { k: 'repo:acme/web:ref:refs/heads/main' }, 'allow'],
    ['StringNotLike', { StringNotLike: { k: 'repo:acme/*' } }, { k: 'repo:evil/web' }, 'allow'],
    ['values are ORed', { StringEquals: { k: ['x', 'y'] } }, { k: 'y' }, 'allow'],
    ['keys are ANDed', { StringEquals: { k: 'x', j: 'y' } }, { k: 'x', j: 'z' }, 'implicit-deny'],
    ['operators are ANDed', { StringEquals: { k: 'x' }, Bool: { 'aws:SecureTransport': 'true' } }, { k: 'x', 'aws:SecureTransport': 'false' }, 'implicit-deny'],
    ['Bool', { Bool: { 'aws:MultiFactorAuthPresent': 'true' } }, { 'aws:MultiFactorAuthPresent': 'true' }, 'allow'],
    ['DateGreaterThan', { DateGreaterThan: { 'aws:CurrentTime': '2026-01-01T00:00:00Z' } }, {}, 'allow'],
    ['DateGreaterThanEquals equal', { DateGreaterThanEquals: { 'aws:CurrentTime': '2026-05-11T20:00:00Z' } }, {}, 'allow'],
    ['DateLessThanEquals equal', { DateLessThanEquals: { 'aws:CurrentTime': '2026-05-11T20:00:00Z' } }, {}, 'allow'],
    ['DateLessThan epoch seconds', { DateLessThan: { 'aws:CurrentTime': '1700000000' } }, {}, 'implicit-deny'],
    ['NumericLessThan', { NumericLessThan: { 'aws:MultiFactorAuthAge': '3600' } }, { 'aws:MultiFactorAuthAge': '10' }, 'allow'],
    ['ArnLike', { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/deploy*' } }, { 'aws:PrincipalArn': 'arn:aws:iam::1:role/deploy-prod' }, 'allow'],
    ['ArnEquals mismatch', { ArnEquals: { 'aws:PrincipalArn': 'arn:aws:iam::1:role/deploy' } }, { 'aws:PrincipalArn': 'arn:aws:iam::1:role/other' }, 'implicit-deny'],
    ['ArnNotLike', { ArnNotLike: { 'aws:PrincipalArn': 'arn:aws:iam::1:role/deploy' } }, { 'aws:PrincipalArn': 'arn:aws:iam::1:role/other' }, 'allow'],
    ['Null true: key absent', { Null: { 'aws:TokenIssueTime': 'true' } }, {}, 'allow'],
    ['Null false: key present', { Null: { 'aws:TokenIssueTime': 'false' } }, { 'aws:TokenIssueTime': '2026-01-01T00:00:00Z' }, 'allow'],
    ['Null true with the key present', { Null: { 'aws:TokenIssueTime': 'true' } }, { 'aws:TokenIssueTime': '2026-01-01T00:00:00Z' }, 'implicit-deny'],
    ['IpAddress in CIDR', { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }, { 'aws:SourceIp': '203.0.113.66' }, 'allow'],
    ['NotIpAddress', { NotIpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }, { 'aws:SourceIp': '4.148.0.10' }, 'allow'],
    ['ForAnyValue: one value matches', { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['env', 'team'] } }, { 'aws:TagKeys': ['owner', 'team'] }, 'allow'],
    ['ForAnyValue: missing key is false', { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['env'] } }, {}, 'implicit-deny'],
    ['ForAllValues: every value listed', { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['env', 'team'] } }, { 'aws:TagKeys': ['team'] }, 'allow'],
    ['ForAllValues: one value not listed', { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['env', 'team'] } }, { 'aws:TagKeys': ['team', 'x'] }, 'implicit-deny'],
    ['ForAllValues: missing key is vacuously true', { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['env'] } }, {}, 'allow'],
    ['ForAnyValue:StringNotLike', { 'ForAnyValue:StringNotLike': { k: ['a*'] } }, { k: ['ab', 'zz'] }, 'allow'],
  ])('%s', (_label, condition, context, expected) => {
    expect(evaluate(identity('s3:GetObject', '*', withCondition(condition), context))).toBe(expected);
  });
});

describe('policy evaluator: trust policies and principals', () => {
  const exact = oidcTrust({ StringEquals: { [`${GH}:aud`]: 'sts.amazonaws.com', [`${GH}:sub`]: 'repo:acme/web:ref:refs/heads/main' } });
  const broad = oidcTrust({ StringEquals: { [`${GH}:aud`]: 'sts.amazonaws.com' }, StringLike: { [`${GH}:sub`]: 'repo:acme/*' } });
  const restricted = {
    Version: '2012-10-17',
    Statement: [
      ...broad.Statement,
      { Effect: 'Deny', Principal: { Federated: PROVIDER }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringLike: { [`${GH}:sub`]: 'repo:acme/web:*' } } },
    ],
  };
  const forAll = oidcTrust({ 'ForAllValues:StringLike': { [`${GH}:sub`]: 'repo:acme/*' } });

  it.each<[string, EvaluationRequest, string]>([
    ['exact subject admitted', oidc('repo:acme/web:ref:refs/heads/main', exact), 'allow'],
    ['another branch refused', oidc('repo:acme/web:ref:refs/heads/evil', exact), 'implicit-deny'],
    ['wrong audience refused', oidc('repo:acme/web:ref:refs/heads/main', exact, 'other'), 'implicit-deny'],
    ['repo:org/* admits any repo of the org', oidc('repo:acme/anything:pull_request', broad), 'allow'],
    ['an added explicit Deny for the compromised repo wins', oidc('repo:acme/web:ref:refs/heads/main', restricted), 'explicit-deny'],
    ['the Deny leaves other repos admitted', oidc('repo:acme/api:ref:refs/heads/main', restricted), 'allow'],
    ['ForAllValues in an Allow admits a token without sub (FACTS.md pitfall)', oidc(undefined, forAll), 'allow'],
    ['numeric-id subject format does not match a name pattern', oidc('repo:acme@1/web@2:ref:refs/heads/main', exact), 'implicit-deny'],
    [
      'a different provider is not the Federated principal',
      { ...oidc('repo:acme/web:ref:refs/heads/main', exact), principal: { type: 'Federated', id: 'arn:aws:iam::123456789012:oidc-provider/other.example' } },
      'implicit-deny',
    ],
  ])('%s', (_label, request, expected) => {
    expect(evaluate(request)).toBe(expected);
  });

  const awsTrust = (principal: unknown) => ({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: principal, Action: 'sts:AssumeRole' }] });
  const assume = (trust: object, principal: EvaluationRequest['principal']): EvaluationRequest => ({
    principal, action: 'sts:AssumeRole', resource: 'arn:aws:iam::111111111111:role/r', identityPolicies: [], resourcePolicy: trust as Record<string, unknown>, context: {},
  });
  const user = { type: 'AWS' as const, id: 'arn:aws:iam::222222222222:user/alice', account: '222222222222' };
  const session = { type: 'AWS' as const, id: 'arn:aws:sts::222222222222:assumed-role/ops/s1', account: '222222222222', roleArn: 'arn:aws:iam::222222222222:role/ops' };
  it.each<[string, EvaluationRequest, string]>([
    ['account root admits its users', assume(awsTrust({ AWS: 'arn:aws:iam::222222222222:root' }), user), 'allow'],
    ['bare account id admits its users', assume(awsTrust({ AWS: '222222222222' }), user), 'allow'],
    ['other account refused', assume(awsTrust({ AWS: '333333333333' }), user), 'implicit-deny'],
    ['a role ARN admits its sessions', assume(awsTrust({ AWS: ['arn:aws:iam::222222222222:role/ops'] }), session), 'allow'],
    ['a user ARN does not admit a session', assume(awsTrust({ AWS: 'arn:aws:iam::222222222222:user/alice' }), session), 'implicit-deny'],
    ['Principal "*"', assume(awsTrust('*'), user), 'allow'],
    ['Service principal', assume(awsTrust({ Service: 'ec2.amazonaws.com' }), { type: 'Service', id: 'ec2.amazonaws.com' }), 'allow'],
    ['Service principal is not an AWS principal', assume(awsTrust({ Service: 'ec2.amazonaws.com' }), user), 'implicit-deny'],
    ['NotPrincipal deny spares the named principal', assume({ Statement: [awsTrust('*').Statement[0], { Effect: 'Deny', NotPrincipal: { AWS: 'arn:aws:iam::222222222222:user/alice' }, Action: 'sts:AssumeRole' }] }, user), 'allow'],
  ])('%s', (_label, request, expected) => {
    expect(evaluate(request)).toBe(expected);
  });
});

describe('policy parsing and sizes', () => {
  it.each([
    ['not JSON', '{"Statement": ['],
    ['no Statement', '{"Version":"2012-10-17"}'],
    ['bad Effect', '{"Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}'],
    ['no Action', '{"Statement":[{"Effect":"Allow","Resource":"*"}]}'],
    ['bad Version', '{"Version":"2020-01-01","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'],
    ['unknown condition operator', '{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringSortOf":{"k":"v"}}}]}'],
  ])('rejects %s', (_label, text) => {
    expect(() => parsePolicy(text)).toThrow(MalformedPolicyError);
  });

  it('requires Resource in identity policies and Principal in trust policies', () => {
    expect(() => parsePolicy('{"Statement":[{"Effect":"Allow","Action":"*"}]}', 'identity')).toThrow(/resources/);
    expect(() => parsePolicy('{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}', 'trust')).toThrow(/Principal/);
  });

  it('counts policy size without whitespace', () => {
    expect(policySize('{ "a" :\n\t"b c" }')).toBe('{"a":"bc"}'.length);
  });

  it('wildcardMatch agrees with a literal comparison when the pattern has no wildcard (property)', () => {
    fc.assert(
      fc.property(fc.string().filter((s) => !s.includes('*') && !s.includes('?')), fc.string(), (pattern, value) => {
        expect(wildcardMatch(pattern, value)).toBe(pattern === value);
        expect(wildcardMatch(pattern, pattern)).toBe(true);
      }),
    );
  });

  it('"*" matches everything (property)', () => {
    fc.assert(fc.property(fc.string(), (value) => wildcardMatch('*', value)));
  });
});

describe('policy evaluator: properties', () => {
  const actions = ['s3:GetObject', 's3:PutObject', 'iam:CreateAccessKey', 'sts:AssumeRole', 'ec2:DescribeInstances'];
  const patterns = ['*', 's3:*', 'iam:*', 's3:Get*', 'iam:CreateAccessKey', 'ec2:Describe?nstances', 'sts:*'];
  const statement = fc.record({
    Effect: fc.constantFrom('Allow', 'Deny'),
    Action: fc.subarray(patterns, { minLength: 1 }),
    Resource: fc.constantFrom('*', 'arn:aws:s3:::a/*', 'arn:aws:iam::1:user/*'),
  });
  const policy = fc.array(statement, { minLength: 1, maxLength: 4 }).map((Statement) => ({ Version: '2012-10-17', Statement }));
  const request = fc.record({ action: fc.constantFrom(...actions), resource: fc.constantFrom('arn:aws:s3:::a/x', 'arn:aws:iam::1:user/u', 'arn:aws:ec2:us-east-1:1:instance/i') });

  it('adding a policy never turns an explicit deny into something else', () => {
    fc.assert(
      fc.property(policy, policy, request, (first, extra, { action, resource }) => {
        const before = evaluate({ action, resource, context: {}, identityPolicies: [first] });
        const after = evaluate({ action, resource, context: {}, identityPolicies: [first, extra] });
        if (before === 'explicit-deny') expect(after).toBe('explicit-deny');
        if (before === 'allow') expect(after).not.toBe('implicit-deny');
      }),
    );
  });

  it('the order of policies and statements does not matter', () => {
    fc.assert(
      fc.property(policy, policy, request, (a, b, { action, resource }) => {
        const forward = evaluate({ action, resource, context: {}, identityPolicies: [a, b] });
        const backward = evaluate({ action, resource, context: {}, identityPolicies: [b, { ...a, Statement: [...a.Statement].reverse() }] });
        expect(backward).toBe(forward);
      }),
    );
  });

  it('a Deny "*" on a session issued before the cutoff always wins (AWSRevokeOlderSessions)', () => {
    fc.assert(
      fc.property(policy, request, fc.integer({ min: 1, max: 10_000_000 }), (p, { action, resource }, ageSeconds) => {
        const cutoff = '2026-05-11T19:40:00Z';
        const issued = new Date(Date.parse(cutoff) - ageSeconds * 1000).toISOString();
        expect(evaluate({ action, resource, context: { 'aws:TokenIssueTime': issued }, identityPolicies: [p, REVOKE] })).toBe('explicit-deny');
      }),
    );
  });
});
