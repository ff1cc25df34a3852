import { describe, expect, it } from 'vitest';
import { rotationFor } from '../../src/github/inventory.js';
import { inventoryTable } from '../../src/github/inventory-table.js';

describe('rotationFor', () => {
  it('sends AWS key pairs to the AWS side, GitHub tokens to revocation, role ARNs to a human', () => {
    // Given secret names seen in the shared workflows and typical AWS/GitHub ones
    const rotation = (name: string) => rotationFor(name).rotation;
    // Then each goes to the action that can really rotate it
    expect(rotation('AWS_SECRET_ACCESS_KEY')).toBe('aws.rotate-access-key');
    expect(rotation('AWS_ACCESS_KEY_ID')).toBe('aws.rotate-access-key');
    expect(rotation('PROD_AWS_ACCESS_KEY_ID')).toBe('aws.rotate-access-key');
    expect(rotation('GITHUB_RELEASES_TOKEN')).toBe('github.revoke-tokens');
    expect(rotation('GH_PAT')).toBe('github.revoke-tokens');
    expect(rotation('AWS_LAYERS_ROLE_ARN')).toBe('manual');
    expect(rotation('SECRETS_AWS_PACKAGING_ROLE_TO_ASSUME')).toBe('manual');
    expect(rotation('NPM_TOKEN')).toBe('npm.revoke-token');
    expect(rotation('NODE_AUTH_TOKEN')).toBe('npm.revoke-token');
    expect(rotation('PYPI_TOKEN')).toBe('github.rotate-secret');
  });
});

describe('inventoryTable', () => {
  it('prints one line per job under each item, columns aligned, no trailing spaces', () => {
    const text = inventoryTable([
      { kind: 'repo-secret', name: 'NPM_TOKEN', scope: 'repo:acme/web', jobs: ['release.yml#publish', 'ci.yml#test'], rotation: 'github.rotate-secret', opens: 'npm:registry.npmjs.org', owner: '@acme/release' },
      { kind: 'repo-secret', name: 'OLD', scope: 'repo:acme/web', jobs: ['ci.yml#test'], rotation: 'manual' },
    ]);
    expect(text.split('\n')).toEqual([
      'SECRET/IDENTITY  KIND         WHERE DEFINED  OPENS                   OWNER          JOBS                 ROTATION',
      '---------------  -----------  -------------  ----------------------  -------------  -------------------  --------------------',
      'NPM_TOKEN        repo-secret  repo:acme/web  npm:registry.npmjs.org  @acme/release  ci.yml#test          github.rotate-secret',
      '                                                                                    release.yml#publish',
      'OLD              repo-secret  repo:acme/web  unknown                 unknown        ci.yml#test          manual',
    ]);
  });
});
