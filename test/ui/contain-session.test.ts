import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/engine/errors.js';
import { containVars } from '../../src/ui/contain-session.js';

const base = { repo: ['acme/web'], workflow: 'release.yml', incident: 'IR-43' };

describe('contain flags as playbook inputs', () => {
  it('passes the leak-triage flags through: npm packages, their release workflow, keep logs and caches', () => {
    const { vars } = containVars({ ...base, 'npm-package': ['@acme/web', 'acme-cli'], 'npm-release-workflow': 'publish.yml', 'keep-logs': true, 'keep-caches': true }, undefined, undefined);
    expect(vars).toMatchObject({ npm_packages: ['@acme/web', 'acme-cli'], npm_release_workflow: 'publish.yml', delete_logs: false, purge_caches: false });
    // And without them the playbook's defaults apply (delete the exposing logs, purge the caches)
    const defaults = containVars(base, undefined, undefined).vars;
    expect(defaults).not.toHaveProperty('delete_logs');
    expect(defaults).not.toHaveProperty('purge_caches');
    expect(defaults).not.toHaveProperty('npm_packages');
  });

  it('refuses a bad package name or release workflow before any call (UsageError: exit 2)', () => {
    expect(() => containVars({ ...base, 'npm-package': ['@Acme/Web'] }, undefined, undefined)).toThrow(UsageError);
    expect(() => containVars({ ...base, 'npm-package': ['acme web'] }, undefined, undefined)).toThrow(/--npm-package must be an npm package name/);
    expect(() => containVars({ ...base, 'npm-release-workflow': '../publish.sh' }, undefined, undefined)).toThrow(/--npm-release-workflow must be a workflow file name/);
  });
});

describe('contain flags for the AWS scope', () => {
  it('passes --account, --assume-role-name and --region through as playbook inputs', () => {
    const { vars } = containVars({ ...base, account: ['210987654321', '210987654321', '333344445555'], 'assume-role-name': 'IncidentResponder', region: ['us-east-1', 'eu-west-1'] }, undefined, undefined);
    expect(vars).toMatchObject({ accounts: ['210987654321', '333344445555'], assume_role_name: 'IncidentResponder', regions: ['us-east-1', 'eu-west-1'] });
    // Unset, the playbook's defaults apply: the organization's accounts, OrganizationAccountAccessRole, every enabled region
    const defaults = containVars(base, undefined, undefined).vars;
    for (const name of ['accounts', 'assume_role_name', 'regions']) expect(defaults).not.toHaveProperty(name);
  });

  it('refuses a bad account id, role name or region before any call (exit 2)', () => {
    expect(() => containVars({ ...base, account: ['2109876543'] }, undefined, undefined)).toThrow(/--account must be a 12-digit AWS account id/);
    expect(() => containVars({ ...base, 'assume-role-name': 'arn:aws:iam::210987654321:role/x' }, undefined, undefined)).toThrow(/--assume-role-name must be an IAM role name/);
    expect(() => containVars({ ...base, region: ['us-east'] }, undefined, undefined)).toThrow(UsageError);
  });
});
