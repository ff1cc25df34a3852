import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import Schema from '../../src/commands/schema.js';
import { playbookJsonSchema } from '../../src/engine/playbook-schema.js';
import { runCommand, spawnCli } from '../helpers/cli.js';

describe('cicd-ir schema', () => {
  it('prints the JSON Schema of the format and returns it for --json', async () => {
    const outcome = await runCommand<object>(Schema, []);
    expect(outcome.exitCode).toBe(0);
    expect(JSON.parse(outcome.stdout)).toEqual(playbookJsonSchema());
    const json = await runCommand<object>(Schema, ['--json']);
    expect(JSON.parse(json.stdout)).toEqual(playbookJsonSchema());
  });

  it('as a real process exits 0 and prints exactly docs/playbook.schema.json', async () => {
    // Given the committed schema file
    const committed = await readFile(new URL('../../docs/playbook.schema.json', import.meta.url), 'utf8');
    // When the CLI prints the schema
    const { status, stdout, stderr } = spawnCli(['schema']);
    // Then it is byte for byte the committed file (regenerate: node bin/run.js schema > docs/playbook.schema.json)
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toBe(committed);
  });
});
