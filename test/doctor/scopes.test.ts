import { describe, expect, it } from 'vitest';
import { githubPermissionChecks } from '../../src/doctor/github.js';
import { CLASSIC_SCOPE_GRANTS, fineGrainedLabel, parseScopes, scopeFor, scopesGrant } from '../../src/doctor/scopes.js';
import { actions } from '../../src/actions/index.js';
import { requiredPermissions } from '../../src/doctor/index.js';

describe('classic scopes -> cicd-ir GitHub permissions', () => {
  it('parses the x-oauth-scopes header, adding implied scopes', () => {
    expect([...parseScopes('repo, workflow')].sort()).toEqual(['public_repo', 'repo', 'workflow']);
    expect([...parseScopes('')]).toEqual([]);
  });

  it('repo grants repository permissions but not org secrets; admin:org grants org secrets', () => {
    const repo = parseScopes('repo');
    expect(scopesGrant(repo, 'github:actions:write')).toBe(true);
    expect(scopesGrant(repo, 'github:secrets:write')).toBe(true);
    expect(scopesGrant(repo, 'github:organization_secrets:write')).toBe(false);
    expect(scopesGrant(parseScopes('admin:org'), 'github:organization_secrets:write')).toBe(true);
    expect(scopesGrant(parseScopes('public_repo'), 'github:secrets:read')).toBe(false);
    expect(scopesGrant(new Set(), 'github:unauthenticated')).toBe(true);
  });

  it('every GitHub permission a shipped action declares is granted by some classic scope (or needs no token)', () => {
    for (const permission of requiredPermissions(actions).github) {
      expect(permission === 'github:unauthenticated' || scopeFor(permission) !== undefined, permission).toBe(true);
    }
    expect(Object.keys(CLASSIC_SCOPE_GRANTS)).toEqual(expect.arrayContaining(['repo', 'workflow', 'admin:org']));
  });

  it('a classic token with only repo is missing org secrets, with the scope to add', () => {
    const [orgWrite, actionsWrite] = githubPermissionChecks({ type: 'classic', login: 'alice', scopes: ['public_repo', 'repo'] }, ['github:organization_secrets:write', 'github:actions:write']);
    expect(orgWrite).toMatchObject({ status: 'missing', fix: expect.stringContaining('admin:org') });
    expect(actionsWrite).toMatchObject({ status: 'ok', detail: 'granted by scope repo' });
  });

  it('fine-grained and installation tokens: write permissions are unknown, pointing at the settings to check', () => {
    const [fine] = githubPermissionChecks({ type: 'fine-grained', login: 'alice' }, ['github:actions:write']);
    expect(fine).toMatchObject({ status: 'unknown', fix: expect.stringContaining('Repository permissions → Actions: Read and write') });
    const [app] = githubPermissionChecks({ type: 'installation' }, ['github:organization_secrets:read']);
    expect(app).toMatchObject({ status: 'unknown', fix: expect.stringContaining(fineGrainedLabel('github:organization_secrets:read')) });
  });
});

describe('doctor sends only AWS actions to the IAM simulator', () => {
  it('keeps npm permissions apart from AWS actions', () => {
    const split = requiredPermissions(actions);
    expect(split.npm).toContain('npm:tokens:write');
    expect(split.aws.some((permission) => permission.startsWith('npm:') || permission.startsWith('github:'))).toBe(false);
    expect(split.aws).toContain('iam:PutRolePolicy');
  });
});
