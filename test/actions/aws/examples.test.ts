import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { findAction } from '../../../src/actions/index.js';

const dir = new URL('../../../playbooks/examples/', import.meta.url);
// aws.hunt-cloudtrail's example belongs to the hunt (test/actions/aws/hunt-cloudtrail.test.ts); every example is also parsed by test/engine's shipped-playbook test.
const files = readdirSync(dir).filter((file) => file.startsWith('aws-') && file.endsWith('.yaml') && file !== 'aws-hunt-cloudtrail.yaml');

/** Sample values per input type, standing in for what a responder passes. */
const samples: Record<string, unknown> = {
  repo: 'acme/app',
  subjects: ['repo:acme/app:*'],
  role: 'deploy',
  accounts: ['111122223333', '444455556666'],
  user: 'ci-deployer',
  access_key_id: 'AKIAIOSFODNN7EXAMPLE',
  access_key_ids: ['AKIAIOSFODNN7EXAMPLE', 'AKIAI44QH8DHBEXAMPLE'],
};

/** Sample outputs where a later step fans out over them. */
const sampleOutputs: Record<string, unknown> = {
  role_names: ['deploy', 'wide'],
  accounts: [
    { account: '111122223333', regions: ['us-east-1'] },
    { account: '444455556666', assume_role: 'arn:aws:iam::444455556666:role/OrganizationAccountAccessRole', regions: ['us-east-1', 'eu-west-1'] },
  ],
};

interface Step {
  id: string;
  uses: string;
  with?: Record<string, unknown>;
  needs?: string[];
  for_each?: unknown;
}

/** Evaluates a whole-value `${{ ... }}` expression against inputs, earlier outputs and the item. */
function evaluate(value: unknown, scope: { inputs: Record<string, unknown>; outputs: Record<string, Record<string, unknown>>; item?: unknown }): unknown {
  if (typeof value !== 'string') return value;
  const match = /^\$\{\{\s*(.+?)\s*\}\}$/.exec(value);
  if (!match) {
    expect(value).not.toContain('${{');
    return value;
  }
  const expression = match[1]!;
  if (expression === 'item') return scope.item;
  const field = /^item\.(\w+)$/.exec(expression);
  if (field) return (scope.item as Record<string, unknown> | undefined)?.[field[1]!];
  const input = /^inputs\.(\w+)$/.exec(expression);
  if (input) {
    expect(scope.inputs, `input ${input[1]}`).toHaveProperty(input[1]!);
    return scope.inputs[input[1]!];
  }
  const output = /^steps\.([\w-]+)\.outputs\.(\w+)$/.exec(expression);
  if (output) {
    expect(scope.outputs, `step ${output[1]}`).toHaveProperty(output[1]!);
    expect(scope.outputs[output[1]!], `output ${output[2]}`).toHaveProperty(output[2]!);
    return scope.outputs[output[1]!]![output[2]!];
  }
  throw new Error(`unsupported expression ${expression}`);
}

describe('AWS example playbooks', () => {
  it('there is one per AWS action', () => {
    expect(files.sort()).toEqual(
      ['aws-deactivate-access-key.yaml', 'aws-delete-access-key.yaml', 'aws-discover-accounts.yaml', 'aws-find-roles.yaml', 'aws-restrict-oidc-trust.yaml', 'aws-revoke-role-sessions.yaml', 'aws-revoke-user-sessions.yaml', 'aws-rotate-access-key.yaml'],
    );
  });

  it.each(files)('%s is well-formed and every step validates against its action', (file) => {
    // Given the example
    const text = readFileSync(new URL(file, dir), 'utf8');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=../../docs/playbook.schema.json');
    const playbook = parse(text) as { name: string; description: string; inputs: Record<string, { type: string; required: boolean; default?: unknown }>; steps: Step[] };
    expect(Object.keys(playbook).sort()).toEqual(['description', 'inputs', 'name', 'steps']);
    expect(playbook.name).toBe(file.replace(/\.yaml$/, ''));
    // When its expressions are evaluated with sample inputs
    const inputs: Record<string, unknown> = {};
    for (const [name, spec] of Object.entries(playbook.inputs)) {
      expect(['string', 'string[]', 'boolean', 'duration', 'timestamp']).toContain(spec.type);
      inputs[name] = spec.default ?? samples[name];
      expect(inputs[name], `sample for input ${name}`).toBeDefined();
    }
    const outputs: Record<string, Record<string, unknown>> = {};
    for (const step of playbook.steps) {
      const action = findAction(step.uses);
      expect(action, `${step.id} uses ${step.uses}`).toBeDefined();
      for (const need of step.needs ?? []) expect(outputs).toHaveProperty(need);
      const items = step.for_each === undefined ? [undefined] : (evaluate(step.for_each, { inputs, outputs }) as unknown[]);
      expect(Array.isArray(items)).toBe(true);
      // Then each fanned-out `with:` passes the action's strict schema
      for (const item of items) {
        const withBlock = Object.fromEntries(Object.entries(step.with ?? {}).map(([key, value]) => [key, evaluate(value, { inputs, outputs, item })]));
        const parsed = action!.schema.safeParse(withBlock);
        expect(parsed.success, `${file} ${step.id}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
      }
      // Later steps see this one's outputs (sample values where a list is expected)
      outputs[step.id] = Object.fromEntries(Object.keys(action!.outputs).map((name) => [name, sampleOutputs[name] ?? `sample-${name}`]));
    }
  });
});
