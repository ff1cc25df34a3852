import { describe, expect, it } from 'vitest';
import { presentSubject } from '../../src/github/oidc-subject.js';

const repo = { fullName: 'octo-org/octo-repo', owner: 'octo-org', ownerId: 123, repoId: 456 };

describe('presentSubject', () => {
  it('leaves the default form alone', () => {
    expect(presentSubject('repo:octo-org/octo-repo:ref:refs/heads/main', repo, { use_default: true })).toBe('repo:octo-org/octo-repo:ref:refs/heads/main');
    expect(presentSubject('repo:octo-org/octo-repo:pull_request', repo, undefined)).toBe('repo:octo-org/octo-repo:pull_request');
  });

  it('builds the immutable prefix from the ids when GitHub gives no prefix', () => {
    expect(presentSubject('repo:octo-org/octo-repo:environment:prod', repo, { use_default: true, use_immutable_subject: true })).toBe('repo:octo-org@123/octo-repo@456:environment:prod');
  });

  it('prefers the prefix the API returns', () => {
    expect(presentSubject('repo:octo-org/octo-repo:pull_request', repo, { use_default: true, sub_claim_prefix: 'repo:octo-org@9/octo-repo@8' })).toBe('repo:octo-org@9/octo-repo@8:pull_request');
  });

  it('follows custom claim keys in order; unknown run-time values are *', () => {
    const custom = { use_default: false, include_claim_keys: ['repo', 'context', 'ref', 'actor'] };
    expect(presentSubject('repo:octo-org/octo-repo:ref:refs/heads/main', repo, custom)).toBe('repo:octo-org/octo-repo:ref:refs/heads/main:ref:refs/heads/main:actor:*');
    expect(presentSubject('repo:octo-org/octo-repo:environment:prod', repo, custom)).toBe('repo:octo-org/octo-repo:environment:prod:ref:*:actor:*');
  });
});
