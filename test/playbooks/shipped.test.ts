import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { actions } from '../../src/actions/index.js';
import { ValidationError } from '../../src/engine/errors.js';
import { parsePlaybook } from '../../src/engine/playbook.js';

/** Every playbook shipped under playbooks/ (the main ones and the examples), as `playbooks/...` paths. */
const root = fileURLToPath(new URL('../../', import.meta.url));
const shipped = (readdirSync(join(root, 'playbooks'), { recursive: true }) as string[])
  .filter((path) => /\.ya?ml$/.test(path))
  .map((path) => join('playbooks', path))
  .sort();

describe('shipped playbooks', () => {
  it('include the examples', () => expect(shipped.filter((path) => path.startsWith(join('playbooks', 'examples'))).length).toBeGreaterThan(0));

  for (const name of shipped) {
    const file = join(root, name);
    const text = readFileSync(file, 'utf8');

    it(`${name} points editors at the committed JSON Schema on its first line`, () => {
      const match = /^# yaml-language-server: \$schema=(\S+)\n/.exec(text);
      expect(match, 'first line must be the yaml-language-server $schema comment').not.toBeNull();
      const schema = resolve(dirname(file), match![1]!);
      expect(relative(root, schema)).toBe(join('docs', 'playbook.schema.json'));
      expect(existsSync(schema)).toBe(true);
    });

    it(`${name} validates against the real registry`, () => {
      // Actions are added to the registry in parallel work: until an action an example uses is
      // registered, "unknown action" naming it is the only issue allowed. Anything else (a key,
      // a type, a reference, a cycle) fails now; once the actions land, this is full validation.
      try {
        parsePlaybook(text, name);
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        const unexpected = error.issues.filter((issue) => {
          const unknown = /^unknown action '([^']+)'/.exec(issue.message);
          return !unknown || actions.some((action) => action.id === unknown[1]);
        });
        expect(unexpected.map((issue) => `${issue.line}:${issue.col}: ${issue.message}`)).toEqual([]);
      }
    });
  }
});
