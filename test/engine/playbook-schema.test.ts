import { readFile } from 'node:fs/promises';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { actions } from '../../src/actions/index.js';
import { ValidationError } from '../../src/engine/errors.js';
import { parsePlaybook } from '../../src/engine/playbook.js';
import { parseDuration, playbookJsonSchema } from '../../src/engine/playbook-schema.js';
import { fakeActions } from '../helpers/fake-actions.js';

/** A JSON Schema validator for the generated schema, as an editor would use it. */
function editorCheck(schema: object): (text: string) => boolean {
  // Strict mode: the schema must not hold keywords or formats a 2020-12 validator does not know.
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
  (addFormats as unknown as (instance: Ajv2020) => void)(ajv);
  const validate = ajv.compile(schema);
  return (text) => validate(parse(text)) as boolean;
}

const valid = `name: x
inputs:
  roles: { type: "string[]", required: true }
steps:
  - id: disable
    uses: github.disable-workflow
    with: { repo: acme/app, workflow: deploy.yml }
  - id: revoke
    uses: aws.revoke-role-sessions
    needs: disable
    retry: { attempts: 2 }
    with: { role_arns: "\${{ inputs.roles }}" }
`;

describe('playbookJsonSchema', () => {
  it('is valid JSON Schema 2020-12 and accepts what the validator accepts', () => {
    // Given the schema for a registry of fake actions
    const check = editorCheck(playbookJsonSchema(fakeActions));
    // When a valid playbook is checked by both
    // Then both accept it (an expression may stand for a typed with: field)
    expect(() => parsePlaybook(valid, 'x.yaml', { registry: fakeActions })).not.toThrow();
    expect(check(valid)).toBe(true);
  });

  it.each([
    ['an unknown top-level key', valid.replace('name: x', 'name: x\nowner: me')],
    ['an unknown step key', valid.replace('needs: disable', 'need: disable')],
    ['a wrong input type', valid.replace('type: "string[]"', 'type: list')],
    ['a bad duration', valid.replace('attempts: 2', 'attempts: 2, backoff: soon')],
    ["an unknown key in an action's with:", valid.replace('workflow: deploy.yml', 'workflow: deploy.yml, ref: main')],
    ["a missing with: field of an action", valid.replace(', workflow: deploy.yml', '')],
    ["a wrong with: type of an action", valid.replace('"${{ inputs.roles }}"', '42')],
    ['an action not in the registry', valid.replace('uses: github.disable-workflow', 'uses: github.delete-repo')],
  ])('rejects %s, as the validator does', (_what, text) => {
    // Given a playbook with one fault
    const check = editorCheck(playbookJsonSchema(fakeActions));
    // Then the editor schema and the validator both reject it
    expect(check(text)).toBe(false);
    expect(() => parsePlaybook(text, 'x.yaml', { registry: fakeActions })).toThrow(ValidationError);
  });

  it('keys each action\'s with: schema by its uses id (if/then) and lists the ids', () => {
    const schema = playbookJsonSchema(fakeActions) as { properties: { steps: { items: { allOf: unknown[]; properties: { uses: { enum: string[] } } } } } };
    const step = schema.properties.steps.items;
    expect(step.properties.uses.enum).toEqual(['aws.revoke-role-sessions', 'github.cancel-runs', 'github.disable-workflow']);
    expect(step.allOf).toHaveLength(3);
    expect(step.allOf[0]).toMatchObject({ if: { properties: { uses: { const: 'aws.revoke-role-sessions' } } } });
  });

  it('docs/playbook.schema.json is the schema of the real registry, as `cicd-ir schema` prints it', async () => {
    // Given the committed file
    const committed = await readFile(new URL('../../docs/playbook.schema.json', import.meta.url), 'utf8');
    // Then it equals the generated schema, formatted as the command writes it
    // (regenerate with: npm run build && node bin/run.js schema > docs/playbook.schema.json)
    expect(committed).toBe(`${JSON.stringify(playbookJsonSchema(actions), null, 2)}\n`);
  });
});

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['15m', 900_000],
    ['2h', 7_200_000],
    ['1h30m', 5_400_000],
    ['7d', 604_800_000],
  ])('%s is %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', '15', 'm', '1.5h', '-1s', '15 minutes', '1y'])('%j is not a duration', (text) => expect(parseDuration(text)).toBeUndefined());
});
