import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { ActionDefinition } from '../../src/actions/define.js';
import { actions, findAction } from '../../src/actions/index.js';
import { parsePlaybook } from '../../src/engine/playbook.js';
import { ACTION_ID_PATTERN } from '../../src/engine/playbook-schema.js';

/**
 * Checks the whole registry at once (c7n's test_policy.py does the same): every action the
 * playbooks can name, and every action file on disk, agree and describe themselves fully.
 */
const PROVIDERS = ['github', 'aws', 'report', 'npm'];
const actionsDir = fileURLToPath(new URL('../../src/actions/', import.meta.url));

function isActionDefinition(value: unknown): value is ActionDefinition {
  if (value === null || typeof value !== 'object') return false;
  const candidate = value as Partial<ActionDefinition>;
  return typeof candidate.id === 'string' && typeof candidate.plan === 'function' && typeof candidate.apply === 'function';
}

/** Every `src/actions/<provider>/<file>.ts` and the action definitions it exports. */
async function actionFiles(): Promise<Array<{ file: string; expectedId: string; exported: ActionDefinition[] }>> {
  const out = [];
  for (const provider of PROVIDERS) {
    const dir = join(actionsDir, provider);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).filter((entry) => entry.endsWith('.ts') && !entry.endsWith('.d.ts')).sort()) {
      const file = join(dir, name);
      const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
      out.push({
        file: `src/actions/${provider}/${name}`,
        expectedId: `${provider}.${basename(name, '.ts')}`,
        exported: [...new Set(Object.values(module).filter(isActionDefinition))],
      });
    }
  }
  return out;
}

describe('the action registry', () => {
  it('lists exactly the actions defined under src/actions/{github,aws,report,npm}/, each at the path of its id', async () => {
    // Given the action files on disk and the registry list
    const files = await actionFiles();
    // Then each file that defines an action defines one, whose id matches its path, and it is registered
    for (const { file, expectedId, exported } of files) {
      if (exported.length === 0) continue; // a helper module, not an action
      expect(exported.map((action) => action.id), file).toEqual([expectedId]);
      expect(actions.includes(exported[0]!), `${file} is not in src/actions/index.ts`).toBe(true);
    }
    // And every registered action comes from such a file
    const defined = new Set(files.flatMap((entry) => entry.exported));
    for (const action of actions) expect(defined.has(action), `${action.id} has no file at src/actions/${action.id.replace('.', '/')}.ts`).toBe(true);
  });

  it('has unique ids of the form provider.verb-noun, found by findAction', () => {
    const ids = actions.map((action) => action.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const action of actions) {
      expect(action.id).toMatch(ACTION_ID_PATTERN);
      expect(PROVIDERS).toContain(action.id.split('.')[0]);
      expect(findAction(action.id)).toBe(action);
    }
  });

  for (const action of actions) {
    describe(action.id, () => {
      it('describes itself: summary, permissions, outputs, functions', () => {
        expect(action.summary.trim().length).toBeGreaterThan(0);
        expect(action.permissions.length, 'permissions must not be empty').toBeGreaterThan(0);
        for (const permission of action.permissions) expect(permission).toMatch(/^[a-z0-9-]+:[A-Za-z0-9*:_-]+$/);
        expect(typeof action.mutating).toBe('boolean');
        expect(action.outputs).toBeTypeOf('object');
        for (const [name, description] of Object.entries(action.outputs)) {
          expect(name).toMatch(/^[a-z][a-z0-9_]*$/);
          expect(description.trim().length, `output ${name} needs a description`).toBeGreaterThan(0);
        }
        for (const name of action.secretOutputs ?? []) expect(Object.keys(action.outputs)).toContain(name);
        for (const fn of [action.plan, action.apply, action.verify]) expect(fn).toBeTypeOf('function');
      });

      it('has a strict schema: its example passes, an unknown key is rejected', () => {
        expect(action.schema.safeParse(action.example).success).toBe(true);
        const withUnknown = action.schema.safeParse({ ...action.example, not_a_parameter: 1 });
        expect(withUnknown.success).toBe(false);
        expect(withUnknown.error?.issues.some((issue) => issue.code === 'unrecognized_keys')).toBe(true);
      });

      it('has an example that validates in a one-step playbook', () => {
        const text = stringify({ name: `example of ${action.id}`, steps: [{ id: 'example', uses: action.id, with: action.example }] });
        const playbook = parsePlaybook(text, `${action.id}.example.yaml`);
        expect(playbook.steps[0]!.uses).toBe(action.id);
      });
    });
  }
});
