import { describe, expect, it } from 'vitest';
import { codeownersRegex, ownerFromFile, ownersOf, parseCodeowners, parseOwnersFile } from '../../src/github/codeowners.js';
import { opensFor, workflowTargets } from '../../src/github/opens.js';

describe('CODEOWNERS matching (GitHub documentation examples)', () => {
  const cases: Array<[string, string, boolean]> = [
    ['*', '.github/workflows/deploy.yml', true],
    ['*.js', 'src/deep/app.js', true],
    ['*.js', 'src/app.ts', false],
    ['/build/logs/', 'build/logs/a/b.log', true],
    ['/build/logs/', 'x/build/logs/a.log', false],
    ['docs/*', 'docs/getting-started.md', true],
    ['docs/*', 'docs/build-app/troubleshooting.md', false],
    ['apps/', 'x/apps/a.txt', true],
    ['/docs/', 'docs/a/b.md', true],
    ['**/logs', 'build/logs/x.log', true],
    ['**/logs', 'logs/x.log', true],
    ['.github/workflows/', '.github/workflows/release.yml', true],
    ['/.github/workflows/release.yml', '.github/workflows/release.yml', true],
    ['.github/workflows/release.yml', '.github/workflows/deploy.yml', false],
    ['/scripts/**', 'scripts/a/b.sh', true],
  ];
  for (const [pattern, path, expected] of cases) {
    it(`${pattern} ${expected ? 'matches' : 'does not match'} ${path}`, () => {
      expect(codeownersRegex(pattern).test(path)).toBe(expected);
    });
  }

  it('lets the last matching rule win, and an owner-less rule leave the path unowned', () => {
    // Given a CODEOWNERS with a default, a workflows rule, and a comment with an escaped #
    const rules = parseCodeowners(
      ['# default owners', '*       @acme/everyone', '.github/workflows/ @acme/platform  # CI belongs to platform', '/.github/workflows/release.yml @acme/release @alice', '/.github/workflows/legacy.yml', '\\#notes @acme/docs'].join('\n'),
    );
    // Then each workflow gets its most specific (last) rule
    expect(ownersOf(rules, '.github/workflows/deploy.yml')).toEqual(['@acme/platform']);
    expect(ownersOf(rules, '.github/workflows/release.yml')).toEqual(['@acme/release', '@alice']);
    expect(ownersOf(rules, '.github/workflows/legacy.yml')).toBeUndefined();
    expect(ownersOf(rules, 'README.md')).toEqual(['@acme/everyone']);
    expect(ownersOf(rules, '#notes')).toEqual(['@acme/docs']);
  });
});

describe('the owners file', () => {
  it('gives an exact name before a pattern, patterns in file order, case-insensitively', () => {
    const owners = parseOwnersFile('owners:\n  "AWS_*": "@acme/platform"\n  aws_deploy_key: "@bob"\n  "*_TOKEN": [ "@acme/release", "@carol" ]\n');
    expect(ownerFromFile(owners, 'AWS_DEPLOY_KEY')).toBe('@bob');
    expect(ownerFromFile(owners, 'AWS_SECRET_ACCESS_KEY')).toBe('@acme/platform');
    expect(ownerFromFile(owners, 'NPM_TOKEN')).toBe('@acme/release @carol');
    expect(ownerFromFile(owners, 'SLACK_WEBHOOK')).toBeUndefined();
  });

  it('rejects an unknown key with a message', () => {
    expect(() => parseOwnersFile('owner:\n  NPM_TOKEN: x\n')).toThrow(/owner/);
  });
});

describe('opensFor', () => {
  const targets = workflowTargets('role-to-assume: arn:aws:iam::111122223333:role/deploy\nwith:\n  registry-url: "https://npm.pkg.github.com"\n');
  const none = workflowTargets('');

  it('names the AWS account of the role ARN, the npm registry, and the GitHub org', () => {
    expect(opensFor({ kind: 'repo-secret', name: 'AWS_SECRET_ACCESS_KEY', rotation: 'aws.rotate-access-key' }, 'acme', targets)).toBe('aws:111122223333');
    expect(opensFor({ kind: 'oidc-role', name: 'repo:acme/web:ref:refs/heads/main', rotation: 'aws.revoke-role-sessions' }, 'acme', targets)).toBe('aws:111122223333');
    expect(opensFor({ kind: 'repo-secret', name: 'NPM_TOKEN', rotation: 'github.rotate-secret' }, 'acme', targets)).toBe('npm:npm.pkg.github.com');
    expect(opensFor({ kind: 'repo-secret', name: 'NODE_AUTH_TOKEN', rotation: 'github.rotate-secret' }, 'acme', none)).toBe('npm:registry.npmjs.org');
    expect(opensFor({ kind: 'repo-secret', name: 'GH_PAT', rotation: 'github.revoke-tokens' }, 'acme', none)).toBe('github:acme');
    expect(opensFor({ kind: 'github-token', name: 'GITHUB_TOKEN', rotation: 'github.cancel-runs' }, 'acme', none)).toBe('github:acme');
  });

  it('says unknown when the workflow does not tell', () => {
    expect(opensFor({ kind: 'repo-secret', name: 'AWS_ACCESS_KEY_ID', rotation: 'aws.rotate-access-key' }, 'acme', none)).toBe('aws:unknown');
    expect(opensFor({ kind: 'oidc-role', name: 'repo:acme/web:ref:refs/heads/main', rotation: 'aws.revoke-role-sessions' }, 'acme', none)).toBe('unknown');
    expect(opensFor({ kind: 'repo-secret', name: 'SLACK_WEBHOOK', rotation: 'github.rotate-secret' }, 'acme', none)).toBe('unknown');
    expect(opensFor({ kind: 'all-secrets', name: '*', rotation: 'manual' }, 'acme', none)).toBe('unknown');
  });
});
