import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { actions } from '../../../src/actions/index.js';
import { isMutatingOperation } from '../../../src/providers/aws.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
// hunt-cloudtrail is another part's action; it is checked by its own tests.
const awsActions = actions.filter((action) => action.id.startsWith('aws.') && action.id !== 'aws.hunt-cloudtrail');

describe('AWS actions in the registry', () => {
  it('lists each once', () => {
    const ids = awsActions.map((action) => action.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual([
      'aws.deactivate-access-key',
      'aws.delete-access-key',
      'aws.discover-accounts',
      'aws.find-roles',
      'aws.restrict-oidc-trust',
      'aws.revoke-role-sessions',
      'aws.revoke-user-sessions',
      'aws.rotate-access-key',
    ]);
  });

  for (const action of awsActions) {
    describe(action.id, () => {
      const verbNoun = action.id.slice('aws.'.length);

      it('lives in src/actions/aws/<verb-noun>.ts and has an example playbook using it', () => {
        expect(existsSync(`${root}src/actions/aws/${verbNoun}.ts`)).toBe(true);
        const text = readFileSync(`${root}playbooks/examples/aws-${verbNoun}.yaml`, 'utf8');
        expect(text.startsWith('# yaml-language-server: $schema=../../docs/playbook.schema.json\n')).toBe(true);
        expect(text).toContain(`uses: ${action.id}`);
      });

      it('has a strict schema its example passes and an unknown key fails', () => {
        expect(action.schema.safeParse(action.example).success).toBe(true);
        expect(action.schema.safeParse({ ...action.example, not_a_field: 1 }).success).toBe(false);
      });

      it('declares IAM permissions, outputs, and is read-only exactly when its permissions are', () => {
        expect(action.permissions.length).toBeGreaterThan(0);
        for (const permission of action.permissions) expect(permission).toMatch(/^(iam|sts|organizations|account|ec2):[A-Z][A-Za-z]+$/);
        expect(Object.keys(action.outputs).length).toBeGreaterThan(0);
        for (const name of action.secretOutputs ?? []) expect(action.outputs).toHaveProperty(name);
        // sts:AssumeRole changes nothing (it mints a session to read another account with; CloudTrail logs it readOnly).
        const writes = action.permissions.filter((permission) => permission !== 'sts:AssumeRole' && isMutatingOperation(permission.split(':')[1]!));
        expect(action.mutating).toBe(writes.length > 0);
        if (action.mutating) expect(typeof action.compensate === 'function' || action.id === 'aws.delete-access-key').toBe(true);
      });
    });
  }
});
