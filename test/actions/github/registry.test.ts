import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { actions } from '../../../src/actions/index.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const githubActions = actions.filter((action) => action.id.startsWith('github.'));

describe('GitHub actions in the registry', () => {
  it('lists each once', () => {
    const ids = githubActions.map((action) => action.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(15);
  });

  for (const action of githubActions) {
    describe(action.id, () => {
      const verbNoun = action.id.slice('github.'.length);

      it('lives in src/actions/github/<verb-noun>.ts and has an example playbook', () => {
        expect(existsSync(`${root}src/actions/github/${verbNoun}.ts`)).toBe(true);
        const playbook = `${root}playbooks/examples/github-${verbNoun}.yaml`;
        expect(existsSync(playbook)).toBe(true);
        const text = readFileSync(playbook, 'utf8');
        expect(text.startsWith('# yaml-language-server: $schema=../../docs/playbook.schema.json\n')).toBe(true);
        expect(text).toContain(`uses: ${action.id}`);
      });

      it('has a strict schema its example passes and an unknown key fails', () => {
        expect(action.schema.safeParse(action.example).success).toBe(true);
        expect(action.schema.safeParse({ ...action.example, not_a_field: 1 }).success).toBe(false);
      });

      it('declares permissions and outputs', () => {
        expect(action.permissions.length).toBeGreaterThan(0);
        expect(Object.keys(action.outputs).length).toBeGreaterThan(0);
        expect(action.summary.length).toBeGreaterThan(10);
      });
    });
  }
});
