import { describe, expect, it } from 'vitest';
import { canonicalSubject, repoSubjectPrefix, subjectBreadth, subjectFor, subjectVariants } from '../../src/aws/github-oidc.js';

describe('GitHub OIDC subjects', () => {
  it('canonicalises both sub formats to names', () => {
    expect(canonicalSubject('repo:acme@123/app@456:ref:refs/heads/main')).toBe('repo:acme/app:ref:refs/heads/main');
    expect(canonicalSubject('repo:acme@*/app@*:environment:prod')).toBe('repo:acme/app:environment:prod');
    expect(canonicalSubject('repo:acme/app:pull_request')).toBe('repo:acme/app:pull_request');
    expect(canonicalSubject('repository_owner:acme')).toBe('repository_owner:acme');
  });

  it('denies cover both formats of a compromised subject', () => {
    expect(subjectVariants('repo:acme/app:ref:refs/heads/main')).toEqual(['repo:acme/app:ref:refs/heads/main', 'repo:acme@*/app@*:ref:refs/heads/main']);
    expect(subjectVariants('repo:acme@1/app@2:environment:prod')).toEqual(['repo:acme/app:environment:prod', 'repo:acme@1/app@2:environment:prod']);
    expect(subjectVariants('repo:acme/*')).toEqual(['repo:acme/*', 'repo:acme@*/*']);
    expect(subjectVariants('custom:thing')).toEqual(['custom:thing']);
  });

  it('builds subjects for refs, environments and events', () => {
    expect(repoSubjectPrefix('acme/app')).toBe('repo:acme/app:');
    expect(repoSubjectPrefix('acme@1/app@2')).toBe('repo:acme/app:');
    expect(subjectFor('acme/app', 'main')).toBe('repo:acme/app:ref:refs/heads/main');
    expect(subjectFor('acme/app', 'refs/tags/v1')).toBe('repo:acme/app:ref:refs/tags/v1');
    expect(subjectFor('acme/app', 'environment:prod')).toBe('repo:acme/app:environment:prod');
    expect(subjectFor('acme/app', 'pull_request')).toBe('repo:acme/app:pull_request');
  });

  it('classifies how wide a sub pattern is', () => {
    expect(subjectBreadth('*', true)).toBe('any-owner');
    expect(subjectBreadth('repo:*', true)).toBe('any-owner');
    expect(subjectBreadth('repo:*/app:*', true)).toBe('any-owner');
    expect(subjectBreadth('repo:acme/*', true)).toBe('any-repo-of-owner');
    expect(subjectBreadth('repo:acme@1/*', true)).toBe('any-repo-of-owner');
    expect(subjectBreadth('repo:acme/app:*', true)).toBe('any-context-of-repo');
    expect(subjectBreadth('repo:acme/app:ref:refs/heads/*', true)).toBe('any-context-of-repo');
    expect(subjectBreadth('repo:acme/app:ref:refs/heads/main', true)).toBe('narrow');
    // StringEquals takes `*` literally
    expect(subjectBreadth('repo:acme/*', false)).toBe('narrow');
  });
});
