import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { UsageError, ValidationError } from '../../src/engine/errors.js';
import { evaluate } from '../../src/engine/expressions.js';
import { coerceInput, didYouMean, loadPlaybook, parsePlaybook, resolveInputs } from '../../src/engine/playbook.js';
import { fakeActions } from '../helpers/fake-actions.js';

/** Joins lines so a fixture's line numbers are its array positions + 1. */
const yaml = (...lines: string[]): string => `${lines.join('\n')}\n`;

/** The issues of an invalid playbook as `line:col: message`. */
function issuesOf(text: string): string[] {
  try {
    parsePlaybook(text, 'pb.yaml', { registry: fakeActions });
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    const validation = error as ValidationError;
    expect(validation.exitCode).toBe(2);
    for (const issue of validation.issues) expect(issue.file).toBe('pb.yaml');
    return validation.issues.map((issue) => `${issue.line}:${issue.col}: ${issue.message}`);
  }
  throw new Error('expected the playbook to be rejected');
}

const header = ['name: contain', 'steps:'];

describe('parsePlaybook: a valid playbook', () => {
  const text = yaml(
    '# yaml-language-server: $schema=../docs/playbook.schema.json',
    'name: contain',
    'description: Disable and cancel.',
    'inputs:',
    '  repos:',
    '    type: string[]',
    '    required: true',
    '  workflow: { type: string, default: deploy.yml }',
    '  since: { type: timestamp, default: "2026-03-14T10:30:00+01:00" }',
    '  wait: { type: duration, default: 15m }',
    '  force: { type: boolean, default: false }',
    'steps:',
    '  - id: disable',
    '    uses: github.disable-workflow',
    '    for_each: ${{ inputs.repos }}',
    '    with:',
    '      repo: ${{ item }}',
    '      workflow: ${{ inputs.workflow }}',
    '    retry: { attempts: 3, backoff: 2s }',
    '    timeout: 1m',
    '  - id: cancel',
    '    name: Cancel runs',
    '    uses: github.cancel-runs',
    '    if: inputs.force || steps.disable.status == \'applied\'',
    '    with: { repo: acme/app, workflow: "${{ inputs.workflow }}", max: 5 }',
    '    continue_on_error: true',
    '  - id: revoke',
    '    uses: aws.revoke-role-sessions',
    '    needs: [cancel]',
    '    with:',
    '      role_arns: [arn:aws:iam::111122223333:role/deploy]',
    '      cutoff: "${{ steps.disable.outputs.state }} at ${{ run.started_at }}"',
  );

  it('returns the model with defaults, durations in ms and locations', () => {
    // Given a playbook using every step field
    // When parsed
    const playbook = parsePlaybook(text, 'pb.yaml', { registry: fakeActions });
    // Then the model carries the values and where they were written
    expect(playbook.name).toBe('contain');
    expect(playbook.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(playbook.inputs.repos).toEqual({ type: 'string[]', required: true, location: { file: 'pb.yaml', line: 5, col: 3 } });
    expect(playbook.inputs.workflow).toMatchObject({ type: 'string', required: false, default: 'deploy.yml' });
    const [disable, cancel, revoke] = playbook.steps;
    expect(disable).toMatchObject({
      id: 'disable',
      needs: [],
      for_each: '${{ inputs.repos }}',
      retry: { attempts: 3, backoffMs: 2000 },
      timeoutMs: 60_000,
      continueOnError: false,
      location: { line: 13, col: 5 },
    });
    expect(cancel).toMatchObject({ id: 'cancel', name: 'Cancel runs', continueOnError: true });
    expect(cancel!.with).toEqual({ repo: 'acme/app', workflow: '${{ inputs.workflow }}', max: 5 });
    // And references to steps.X add X to needs (implicit dependencies), after the explicit ones
    expect(cancel!.needs).toEqual(['disable']);
    expect(revoke!.needs).toEqual(['cancel', 'disable']);
  });

  it('is deterministic: the same text gives the same hash, another text another', () => {
    const a = parsePlaybook(text, 'a.yaml', { registry: fakeActions });
    const b = parsePlaybook(text, 'b.yaml', { registry: fakeActions });
    const c = parsePlaybook(text.replace('Disable and cancel.', 'Other.'), 'a.yaml', { registry: fakeActions });
    expect(a.hash).toBe(b.hash);
    expect(c.hash).not.toBe(a.hash);
  });

  it('evaluates to concrete with: values once inputs are resolved', () => {
    // Given the parsed playbook and --var values
    const playbook = parsePlaybook(text, 'pb.yaml', { registry: fakeActions });
    const inputs = resolveInputs(playbook, { repos: ['acme/app,acme/api', 'acme/web'] });
    // When the fan-out step's with: is evaluated for one item
    const withBlock = evaluate(playbook.steps[0]!.with, { inputs, steps: {}, item: 'acme/api' });
    // Then it holds the item and the default
    expect(inputs).toEqual({ repos: ['acme/app', 'acme/api', 'acme/web'], workflow: 'deploy.yml', since: '2026-03-14T09:30:00.000Z', wait: 900_000, force: false });
    expect(withBlock).toEqual({ repo: 'acme/api', workflow: 'deploy.yml' });
  });
});

describe('parsePlaybook: every error class with its line:col', () => {
  it('YAML syntax error', () => {
    // Given a flow mapping left open on line 3
    const text = yaml('name: x', 'steps:', '  - { id: a, uses: github.disable-workflow', '  - id: b');
    // Then one issue at the place the parser gave up, not a cascade
    const issues = issuesOf(text);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(/^4:3: YAML syntax: /);
  });

  it('duplicate mapping keys are a YAML error at the second key', () => {
    expect(issuesOf(yaml('name: x', 'name: y', 'steps: []'))[0]).toMatch(/^2:1: YAML syntax: Map keys must be unique/);
  });

  it('unknown keys at each level, at the key itself, listing allowed keys', () => {
    const text = yaml(
      'name: x',
      'descripton: typo',
      'inputs:',
      '  repo: { type: string, requird: true }',
      'steps:',
      '  - id: a',
      '    uses: github.disable-workflow',
      '    with: { repo: acme/app, workflow: d.yml, branch: main }',
      '    retry: { attempts: 2, backof: 1s }',
      '    need: [b]',
    );
    expect(issuesOf(text)).toEqual([
      "2:1: unknown key 'descripton' in the playbook (allowed: name, description, inputs, steps) Did you mean 'description'?",
      "4:25: unknown key 'requird' in inputs.repo (allowed: type, description, required, default) Did you mean 'required'?",
      "8:46: unknown key 'branch' in steps[0].with (allowed: repo, workflow)",
      "9:27: unknown key 'backof' in steps[0].retry (allowed: attempts, backoff) Did you mean 'backoff'?",
      "10:5: unknown key 'need' in steps[0] (allowed: id, name, uses, with, needs, if, for_each, retry, timeout, continue_on_error) Did you mean 'needs'?",
    ]);
  });

  it('wrong types and formats, at the value', () => {
    const text = yaml(
      'name: x',
      'inputs:',
      '  since: { type: date }',
      'steps:',
      '  - id: Bad_Id',
      '    uses: github.disable-workflow',
      '    with: { repo: not-a-repo, workflow: 7 }',
      '    retry: { attempts: many }',
      '    timeout: 10',
      '    continue_on_error: "yes"',
    );
    expect(issuesOf(text)).toEqual([
      '3:18: inputs.since.type: expected one of "string", "string[]", "boolean", "duration", "timestamp", got "date"',
      '5:9: steps[0].id: a step id is lower-case kebab or snake case: disable-workflow',
      '7:19: steps[0].with.repo: Invalid string: must match pattern /^[^/]+\\/[^/]+$/',
      '7:41: steps[0].with.workflow: expected a string, got number 7',
      '8:24: steps[0].retry.attempts: expected a number, got string "many"',
      '9:14: steps[0].timeout: expected a string, got number 10',
      '10:24: steps[0].continue_on_error: expected a boolean, got string "yes"',
    ]);
  });

  it('missing required keys, at the mapping that lacks them', () => {
    expect(issuesOf(yaml('steps:', '  - uses: github.disable-workflow', '    with: { repo: a/b }'))).toEqual([
      "1:1: missing required key 'name' in the playbook",
      "2:5: missing required key 'id' in steps[0]",
      "3:11: missing required key 'workflow' in steps[0].with",
    ]);
  });

  it('unknown action, listing the valid ones', () => {
    const issues = issuesOf(yaml(...header, '  - id: a', '    uses: github.disable-workflows'));
    expect(issues).toEqual([
      "4:11: unknown action 'github.disable-workflows' (valid actions: aws.revoke-role-sessions, github.cancel-runs, github.disable-workflow) Did you mean 'github.disable-workflow'?",
    ]);
  });

  it('dangling needs, at the entry (list or single string)', () => {
    const text = yaml(
      ...header,
      '  - id: a',
      '    uses: github.disable-workflow',
      '    with: { repo: a/b, workflow: w }',
      '    needs: [b, nope]',
      '  - id: b',
      '    uses: github.disable-workflow',
      '    with: { repo: a/b, workflow: w }',
      '    needs: gone',
    );
    expect(issuesOf(text)).toEqual(["6:16: needs 'nope': no such step (steps: a, b)", "10:12: needs 'gone': no such step (steps: a, b)"]);
  });

  it('cycles, naming the ids in the cycle', () => {
    const step = (id: string, needs: string): string[] => [`  - id: ${id}`, '    uses: github.disable-workflow', '    with: { repo: a/b, workflow: w }', `    needs: ${needs}`];
    const text = yaml(...header, ...step('a', '[c]'), ...step('b', '[a]'), ...step('c', '[b]'), ...step('d', '[d]'));
    expect(issuesOf(text)).toEqual([
      // a needs c, c needs b, b needs a: they would have to run a, b, c, a
      '10:13: dependency cycle: a -> b -> c -> a (through needs or steps.<id> references)',
      "18:13: step 'd' needs itself",
    ]);
  });

  it('a cycle made through an expression is a cycle too', () => {
    const text = yaml(
      ...header,
      '  - id: a',
      '    uses: github.disable-workflow',
      '    with: { repo: a/b, workflow: "${{ steps.b.outputs.state }}" }',
      '  - id: b',
      '    uses: github.disable-workflow',
      '    with: { repo: a/b, workflow: w }',
      '    needs: a',
    );
    expect(issuesOf(text)).toEqual(['9:12: dependency cycle: a -> b -> a (through needs or steps.<id> references)']);
  });

  it('expressions naming an unknown step, input, output, run field or misplaced item', () => {
    const text = yaml(
      'name: x',
      'inputs:',
      '  repos: { type: "string[]" }',
      'steps:',
      '  - id: a',
      '    uses: github.disable-workflow',
      '    with:',
      '      repo: ${{ inputs.repo }}',
      '      workflow: ${{ steps.nope.outputs.x }}',
      '  - id: b',
      '    uses: github.disable-workflow',
      '    if: steps.a.outputs.workflow_ids != null',
      '    with:',
      '      repo: ${{ item }}',
      '      workflow: "${{ run.user }} ${{ steps.a.result }} ${{ steps.b.status }}"',
    );
    expect(issuesOf(text)).toEqual([
      "8:13: '${{ inputs.repo }}' names unknown input 'repo' (inputs: repos) Did you mean 'repos'?",
      "9:17: '${{ steps.nope.outputs.x }}' names unknown step 'nope' (steps: a, b)",
      "12:9: '${{ steps.a.outputs.workflow_ids }}': action github.disable-workflow has no output 'workflow_ids' (outputs: workflow_id, state) Did you mean 'workflow_id'?",
      "14:13: '${{ item }}': 'item' exists only in a step with for_each (and not in for_each itself)",
      "15:17: '${{ run.user }}': run has no field 'user' (fields: id, incident, dry_run, started_at)",
      "15:17: '${{ steps.a.result }}': a step has 'outputs' and 'status', not 'result'",
      "15:17: '${{ steps.b.status }}': a step cannot read its own outputs or status",
    ]);
  });

  it('a step named by a computed index cannot be ordered, so it is refused', () => {
    const text = yaml(
      'name: x',
      'inputs:',
      '  which: { type: string }',
      ...header.slice(1),
      '  - id: a',
      '    uses: github.disable-workflow',
      '    with: { repo: a/b, workflow: "${{ steps[inputs.which].outputs.state }}" }',
    );
    expect(issuesOf(text)).toEqual(['7:34: a step must be named literally (steps.<id>.outputs.<name> or steps.<id>.status), not computed or left out']);
  });

  it('bad expression syntax, at the string holding it', () => {
    const text = yaml(
      ...header,
      '  - id: a',
      '    uses: github.disable-workflow',
      '    for_each: inputs.repos',
      '    if: "${{ inputs.x }} and"',
      '    with:',
      '      repo: ${{ item ==  }}',
      "      workflow: ${{ shell('rm -rf /') }}",
    );
    expect(issuesOf(text)).toEqual([
      "5:15: for_each is a list or one '${{ ... }}' expression that gives a list",
      "6:9: bad expression: a condition must be one expression: either bare or a single '${{ ... }}'",
      "8:13: bad expression: unexpected end in expression 'item =='",
      "9:17: bad expression: unknown function 'shell' (functions: contains, startsWith, endsWith, join, length, format, toJSON, fromJSON, union) in expression 'shell('rm -rf /')'",
    ]);
  });

  it('duplicate step id, at the second, pointing back to the first', () => {
    const step = (id: string): string[] => [`  - id: ${id}`, '    uses: github.disable-workflow', '    with: { repo: a/b, workflow: w }'];
    expect(issuesOf(yaml(...header, ...step('a'), ...step('b'), ...step('a')))).toEqual([
      "9:9: duplicate step id 'a' (first defined at line 3:9)",
    ]);
  });

  it('collects every issue of a file at once, sorted by position', () => {
    const text = yaml('name: x', 'bogus: 1', 'steps:', '  - id: a', '    uses: nope.nope', '    needs: z');
    expect(issuesOf(text)).toEqual([
      "2:1: unknown key 'bogus' in the playbook (allowed: name, description, inputs, steps)",
      "5:11: unknown action 'nope.nope' (valid actions: aws.revoke-role-sessions, github.cancel-runs, github.disable-workflow)",
      "6:12: needs 'z': no such step (steps: a)",
    ]);
  });

  it('input definitions: bad names, defaults of the wrong type, required with a default', () => {
    const text = yaml(
      'name: x',
      'inputs:',
      '  Since: { type: string }',
      '  wait: { type: duration, default: soon }',
      '  at: { type: timestamp, default: "2026-03-14 10:00" }',
      '  must: { type: string, required: true, default: x }',
      ...header.slice(1),
      '  - id: a',
      '    uses: github.disable-workflow',
      '    with: { repo: a/b, workflow: w }',
    );
    expect(issuesOf(text)).toEqual([
      "3:3: input name 'Since' must be lower-case kebab or snake case (it is used as inputs.Since and --var Since=...)",
      '4:36: default of input \'wait\': expected a duration such as 30s, 15m, 2h or 1h30m, got "soon"',
      '5:35: default of input \'at\': expected an ISO-8601 timestamp with a zone (2026-03-14T09:30:00Z), got "2026-03-14 10:00"',
      "6:41: input 'must' is required and has a default: drop one of them",
    ]);
  });

  it('a step without with: is checked as an empty one; an empty with: reads as no parameters', () => {
    // Given an action with required parameters and a step that gives none
    expect(issuesOf(yaml(...header, '  - id: a', '    uses: github.disable-workflow'))).toEqual([
      "3:5: missing required key 'repo' in steps[0].with",
      "3:5: missing required key 'workflow' in steps[0].with",
    ]);
    // And the same with `with:` left empty (YAML null), reported at the with: key
    const text = yaml(...header, '  - id: a', '    uses: github.cancel-runs', '    with:');
    expect(issuesOf(text)).toEqual(["5:5: missing required key 'repo' in steps[0].with", "5:5: missing required key 'workflow' in steps[0].with"]);
  });

  it('an alias to an undefined anchor, and an alias bomb, at the alias', () => {
    expect(issuesOf('name: x\nsteps:\n  - *step\n')).toEqual([
      '3:5: YAML: Unresolved alias (the anchor must be set before the alias): step',
    ]);
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]', 'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]', 'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]'];
    expect(issuesOf(yaml(...bomb))[0]).toMatch(/^1:1: YAML: Excessive alias count/);
  });

  it('one YAML document per file', () => {
    expect(issuesOf('name: x\nsteps: []\n---\nname: y\n')).toEqual(["3:1: YAML syntax: a playbook file holds one YAML document: remove the second '---'"]);
  });

  it('the whole document must be a mapping with at least one step', () => {
    expect(issuesOf('')).toEqual(['1:1: the playbook is empty']);
    expect(issuesOf('- a\n- b\n')).toEqual(['1:1: a playbook is a YAML mapping (name, description, inputs, steps)']);
    expect(issuesOf('name: x\nsteps: []\n')).toEqual(['2:8: steps: a playbook needs at least one step']);
  });

  it('checks a with: field holding an expression for its references only', () => {
    // Given a list-typed field given as an expression (its type is known only at run time)
    const text = yaml(
      'name: x',
      'inputs:',
      '  roles: { type: "string[]", required: true }',
      ...header.slice(1),
      '  - id: revoke',
      '    uses: aws.revoke-role-sessions',
      '    with: { role_arns: "${{ inputs.roles }}" }',
    );
    // Then it validates, and the expression is kept for the executor
    const playbook = parsePlaybook(text, 'pb.yaml', { registry: fakeActions });
    expect(playbook.steps[0]!.with).toEqual({ role_arns: '${{ inputs.roles }}' });
  });
});

describe('resolveInputs', () => {
  const text = yaml(
    'name: x',
    'inputs:',
    '  repos: { type: "string[]", required: true, description: repositories to contain }',
    '  since: { type: timestamp, required: true }',
    '  wait: { type: duration, default: 2h }',
    '  dry: { type: boolean, default: true }',
    '  note: { type: string }',
    ...header.slice(1),
    '  - id: a',
    '    uses: github.disable-workflow',
    '    with: { repo: a/b, workflow: w }',
  );
  const playbook = parsePlaybook(text, 'pb.yaml', { registry: fakeActions });

  it('coerces each type and applies defaults; optional inputs with no value are absent', () => {
    const values = resolveInputs(playbook, { repos: 'acme/app, acme/api,', since: '2026-03-14T10:30:00+01:00', dry: 'no' });
    expect(values).toEqual({ repos: ['acme/app', 'acme/api'], since: '2026-03-14T09:30:00.000Z', wait: 7_200_000, dry: false });
    expect('note' in values).toBe(false);
    expect(resolveInputs(playbook, { repos: ['a/b'], since: '2026-03-14', wait: '1h30m', dry: true, note: 'n' })).toEqual({
      repos: ['a/b'],
      since: '2026-03-14T00:00:00.000Z',
      wait: 5_400_000,
      dry: true,
      note: 'n',
    });
  });

  it('reports missing required inputs at their definition, all at once', () => {
    // Given no --var at all
    let caught: unknown;
    try {
      resolveInputs(playbook, {});
    } catch (error) {
      caught = error;
    }
    // Then both required inputs are named, at their line:col, with exit code 2
    expect(caught).toBeInstanceOf(ValidationError);
    expect((caught as ValidationError).exitCode).toBe(2);
    expect((caught as ValidationError).message.split('\n')).toEqual([
      "pb.yaml:3:3: missing required input 'repos' (repositories to contain): set it with --var repos=<string[]>",
      "pb.yaml:4:3: missing required input 'since': set it with --var since=<timestamp>",
    ]);
  });

  it('rejects values of the wrong type and unknown --var names', () => {
    const run = (): unknown => resolveInputs(playbook, { repos: 'a/b', since: '2026-03-14T10:30:00', wait: '90', dry: 'maybe', note: ['a', 'b'], reops: 'x' });
    expect(run).toThrow(ValidationError);
    try {
      run();
    } catch (error) {
      expect((error as ValidationError).issues.map((i) => `${i.line}:${i.col}: ${i.message}`)).toEqual([
        "3:3: unknown input 'reops' given with --var (inputs: repos, since, wait, dry, note)",
        '4:3: input \'since\': expected an ISO-8601 timestamp with a zone (2026-03-14T09:30:00Z), got "2026-03-14T10:30:00"',
        '5:3: input \'wait\': expected a duration such as 30s, 15m, 2h or 1h30m, got "90"',
        '6:3: input \'dry\': expected true or false, got "maybe"',
        "7:3: input 'note': given more than once (a string takes one value)",
      ]);
    }
  });
});

describe('loadPlaybook', () => {
  it('reads a file and names it in issues', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cicd-ir-pb-'));
    const file = join(dir, 'p.yaml');
    await writeFile(file, yaml(...header, '  - id: a', '    uses: nope.x'));
    await expect(loadPlaybook(file, { registry: fakeActions })).rejects.toThrow(`${file}:4:11: unknown action 'nope.x'`);
  });

  it('an unreadable file is a usage error with exit code 2', async () => {
    const error = await loadPlaybook('/nonexistent/p.yaml').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(2);
    expect((error as UsageError).message).toBe('cannot read playbook /nonexistent/p.yaml: no such file');
  });
});

describe('coerceInput', () => {
  it('normalises any instant written with any offset to the same UTC ISO string', () => {
    // Property: an instant written in local time with an offset means that instant, in UTC
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2090-01-01T00:00:00Z'), noInvalidDate: true }),
        fc.integer({ min: -12 * 60, max: 14 * 60 }).map((minutes) => minutes - (minutes % 15)),
        (date, offset) => {
          const local = new Date(date.getTime() + offset * 60_000).toISOString().slice(0, 23);
          const sign = offset < 0 ? '-' : '+';
          const abs = Math.abs(offset);
          const zone = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
          expect(coerceInput('timestamp', `${local}${zone}`)).toEqual({ value: date.toISOString() });
        },
      ),
      { numRuns: 500 },
    );
  });

  it.each(['2026-02-30T00:00:00Z', '2026-04-31', '2026-03-14T24:00:00Z', '2026-03-14T10:61Z', '2026-13-01', '14/03/2026', '2026-03-14T10:00'])(
    'rejects %j as a timestamp',
    (text) => expect(coerceInput('timestamp', text)).toHaveProperty('error'),
  );

  it('accepts a leap day only in a leap year', () => {
    expect(coerceInput('timestamp', '2028-02-29T12:00:00Z')).toEqual({ value: '2028-02-29T12:00:00.000Z' });
    expect(coerceInput('timestamp', '2026-02-29T12:00:00Z')).toHaveProperty('error');
  });
});

describe('didYouMean', () => {
  it('suggests a close candidate and nothing for a distant or tiny name', () => {
    expect(didYouMean('disable-workfow', ['disable-workflow', 'cancel-runs'])).toBe(" Did you mean 'disable-workflow'?");
    expect(didYouMean('z', ['a', 'b'])).toBe('');
    expect(didYouMean('rotate', ['disable', 'cancel'])).toBe('');
    expect(didYouMean('same', ['same'])).toBe('');
  });
});

describe('parsePlaybook on arbitrary input', () => {
  /** Every failure is a ValidationError whose issues point inside the text. */
  function checkRobust(text: string): void {
    try {
      parsePlaybook(text, 'fuzz.yaml', { registry: fakeActions });
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      const lines = text.split('\n');
      expect(error.issues.length).toBeGreaterThan(0);
      for (const issue of error.issues) {
        expect(issue.line).toBeGreaterThanOrEqual(1);
        expect(issue.line).toBeLessThanOrEqual(lines.length);
        expect(issue.col).toBeGreaterThanOrEqual(1);
        expect(issue.col).toBeLessThanOrEqual((lines[issue.line - 1]?.length ?? 0) + 1);
      }
    }
  }

  it('raw text: fails only with located ValidationErrors', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'name:steps-id uses{}[],"\'\n  #&*!|>${}.'.split('')), maxLength: 120 }), checkRobust),
      { numRuns: 1500 },
    );
  });

  it('playbook-shaped documents: fails only with located ValidationErrors', () => {
    const key = fc.constantFrom('id', 'uses', 'with', 'needs', 'if', 'for_each', 'retry', 'timeout', 'continue_on_error', 'name', 'bogus');
    const value = fc.oneof(
      fc.constantFrom('a', 'b', 'github.disable-workflow', 'github.cancel-runs', '${{ steps.a.outputs.state }}', '${{ inputs.x }}', '${{ item }}', '${{ bad( }}', '15m', 'a/b'),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.constantFrom('a', 'b', 'c'), { maxLength: 3 }),
      fc.dictionary(fc.constantFrom('repo', 'workflow', 'attempts', 'backoff', 'force'), fc.constantFrom('a/b', 'w', 2, '1s', true, '${{ steps.b.outputs.cancelled }}')),
    );
    const step = fc.dictionary(key, value, { maxKeys: 6 });
    const doc = fc.record(
      {
        name: fc.constantFrom('x', 3),
        inputs: fc.dictionary(fc.constantFrom('x', 'y', 'Bad'), fc.record({ type: fc.constantFrom('string', 'duration', 'nope'), default: fc.constantFrom('1h', 'x', true) }, { requiredKeys: ['type'] })),
        steps: fc.array(step, { maxLength: 4 }),
      },
      { requiredKeys: [] },
    );
    fc.assert(fc.property(doc, (value) => checkRobust(stringify(value))), { numRuns: 300 });
  });
});
