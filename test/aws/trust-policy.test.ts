import { describe, expect, it } from 'vitest';
import {
  addSubjectDeny,
  DENY_SID,
  evaluateTrust,
  githubTrustStatements,
  overBroadTrustFindings,
  removeSubjectAllows,
} from '../../src/aws/trust-policy.js';
import type { PolicyDocument } from '../../src/aws/policy.js';

const PROVIDER = 'arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com';
const SUB = 'token.actions.githubusercontent.com:sub';
const AUD = 'token.actions.githubusercontent.com:aud';

function trust(condition: Record<string, Record<string, string | string[]>> | undefined, extra: object[] = []): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'GitHub', Effect: 'Allow', Principal: { Federated: PROVIDER }, Action: 'sts:AssumeRoleWithWebIdentity', ...(condition ? { Condition: condition } : {}) },
      ...(extra as PolicyDocument['Statement'][]),
    ] as PolicyDocument['Statement'],
  };
}

const subject = (value: string) => ({ kind: 'subject' as const, value });
const prefix = (value: string) => ({ kind: 'prefix' as const, value });

describe('trust policy evaluation', () => {
  it('finds GitHub statements only (not other federations or services)', () => {
    const document = trust({ StringEquals: { [SUB]: 'repo:a/b:ref:refs/heads/main' } }, [
      { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' },
      { Effect: 'Allow', Principal: { Federated: 'arn:aws:iam::1:oidc-provider/gitlab.com' }, Action: 'sts:AssumeRoleWithWebIdentity' },
      { Effect: 'Allow', Principal: { Federated: 'arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com/acme-enterprise' }, Action: 'sts:*' },
    ]);
    expect(githubTrustStatements(document).map((statement) => [statement.index, statement.issuers])).toEqual([
      [0, ['token.actions.githubusercontent.com']],
      [3, ['token.actions.githubusercontent.com/acme-enterprise']],
    ]);
  });

  it('StringEquals is exact, StringLike is a wildcard, both formats match, for subjects and repo prefixes', () => {
    const exact = trust({ StringEquals: { [AUD]: 'sts.amazonaws.com', [SUB]: 'repo:acme/app:ref:refs/heads/main' } });
    expect(evaluateTrust(exact, [subject('repo:acme/app:ref:refs/heads/main')]).admits).toBe(true);
    expect(evaluateTrust(exact, [subject('repo:acme@1/app@2:ref:refs/heads/main')]).admits).toBe(true);
    expect(evaluateTrust(exact, [subject('repo:acme/app:ref:refs/heads/dev')]).admits).toBe(false);
    expect(evaluateTrust(exact, [prefix('repo:acme/app:')]).admits).toBe(true);
    expect(evaluateTrust(exact, [prefix('repo:acme/application:')]).admits).toBe(false);

    const like = trust({ StringLike: { [SUB]: 'repo:acme/*' } });
    expect(evaluateTrust(like, [prefix('repo:acme/web:')]).admits).toBe(true);
    expect(evaluateTrust(like, [prefix('repo:other/web:')]).admits).toBe(false);
    // `*` in StringEquals is literal
    expect(evaluateTrust(trust({ StringEquals: { [SUB]: 'repo:acme/*' } }), [subject('repo:acme/web:ref:refs/heads/main')]).admits).toBe(false);
  });

  it('a missing sub condition admits everyone; aud only filters when asked', () => {
    const open = trust({ StringEquals: { [AUD]: 'sts.amazonaws.com' } });
    expect(evaluateTrust(open, [prefix('repo:anyone/anything:')]).admits).toBe(true);
    const customAud = trust({ StringEquals: { [AUD]: 'my-audience', [SUB]: 'repo:acme/app:*' } });
    expect(evaluateTrust(customAud, [prefix('repo:acme/app:')]).admits).toBe(true);
    expect(evaluateTrust(customAud, [prefix('repo:acme/app:')], 'sts.amazonaws.com').admits).toBe(false);
  });

  it('an explicit deny on the subject blocks it', () => {
    const document = addSubjectDeny(trust({ StringLike: { [SUB]: 'repo:acme/*' } }), ['repo:acme/app:*']).document;
    const evaluation = evaluateTrust(document, [prefix('repo:acme/app:')]);
    expect(evaluation.allowedBy).toEqual([0]);
    expect(evaluation.deniedBy).toEqual([1]);
    expect(evaluation.admits).toBe(false);
    expect(evaluateTrust(document, [prefix('repo:acme/web:')]).admits).toBe(true);
  });
});

describe('over-broad trust findings', () => {
  it('flags any-owner, org-wide, any-ref, missing sub and ForAllValues', () => {
    const kinds = (document: PolicyDocument) => overBroadTrustFindings(document, 'arn:role').map((finding) => finding.severity);
    expect(kinds(trust({ StringEquals: { [AUD]: 'sts.amazonaws.com' } }))).toEqual(['critical']);
    expect(kinds(trust({ StringLike: { [SUB]: '*' } }))).toEqual(['critical']);
    expect(kinds(trust({ StringLike: { [SUB]: 'repo:acme/*' } }))).toEqual(['high']);
    expect(kinds(trust({ StringLike: { [SUB]: 'repo:acme/app:*' } }))).toEqual(['medium']);
    expect(kinds(trust({ 'ForAllValues:StringLike': { [SUB]: 'repo:acme/app:ref:refs/heads/main' } }))).toEqual(['high']);
    expect(kinds(trust({ StringEquals: { [SUB]: 'repo:acme/app:ref:refs/heads/main' } }))).toEqual([]);
    expect(overBroadTrustFindings(trust({ StringLike: { [SUB]: 'repo:acme/*' } }), 'arn:role')[0]).toMatchObject({ kind: 'trust-admits-any-repo', resource: 'arn:role' });
  });
});

describe('trust rewrites', () => {
  it('adds one Deny with both formats, keeps everything else, and extends it idempotently', () => {
    const original = trust({ StringEquals: { [AUD]: 'sts.amazonaws.com', [SUB]: 'repo:acme/app:ref:refs/heads/main' } });
    const first = addSubjectDeny(original, ['repo:acme/app:ref:refs/heads/main']);
    expect(first.changed).toBe(true);
    const statements = first.document.Statement as PolicyDocument['Statement'][] as unknown as Array<Record<string, unknown>>;
    expect(statements[0]).toEqual((original.Statement as object[])[0]);
    expect(statements[1]).toEqual({
      Sid: DENY_SID,
      Effect: 'Deny',
      Principal: { Federated: PROVIDER },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { StringLike: { [SUB]: ['repo:acme/app:ref:refs/heads/main', 'repo:acme@*/app@*:ref:refs/heads/main'] } },
    });
    // The input is not mutated, and a second pass changes nothing
    expect((original.Statement as object[]).length).toBe(1);
    expect(addSubjectDeny(first.document, ['repo:acme/app:ref:refs/heads/main']).changed).toBe(false);
    // Another subject extends the same statement
    const second = addSubjectDeny(first.document, ['repo:acme/app:environment:prod']);
    expect((second.document.Statement as object[]).length).toBe(2);
    expect(JSON.stringify(second.document)).toContain('repo:acme@*/app@*:environment:prod');
  });

  it('does nothing to a role that does not trust GitHub', () => {
    const service = { Version: '2012-10-17', Statement: [{ Effect: 'Allow' as const, Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
    expect(addSubjectDeny(service, ['repo:a/b:*']).changed).toBe(false);
  });

  it('remove drops admitting values, names what else they admitted, and drops emptied statements', () => {
    const list = trust({ StringEquals: { [SUB]: ['repo:acme/app:ref:refs/heads/main', 'repo:acme/web:ref:refs/heads/main'] } });
    const narrowed = removeSubjectAllows(list, ['repo:acme/app:ref:refs/heads/main']);
    expect(narrowed.changed).toBe(true);
    expect(JSON.stringify(narrowed.document)).not.toContain('acme/app');
    expect(JSON.stringify(narrowed.document)).toContain('repo:acme/web:ref:refs/heads/main');

    const wide = trust({ StringLike: { [SUB]: ['repo:acme/*', 'repo:other/x:*'] } });
    const result = removeSubjectAllows(wide, ['repo:acme/app:ref:refs/heads/main']);
    expect(result.notes.join('\n')).toContain('it also admitted other repositories');
    expect(JSON.stringify(result.document)).toContain('"repo:other/x:*"');

    const open = trust({ StringEquals: { [AUD]: 'sts.amazonaws.com' } });
    const dropped = removeSubjectAllows(open, ['repo:acme/app:*']);
    expect(dropped.document.Statement).toEqual([]);
    expect(removeSubjectAllows(list, ['repo:nobody/x:*']).changed).toBe(false);
  });
});
