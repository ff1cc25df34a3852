import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  collectReferences,
  evaluate,
  evaluateCondition,
  ExpressionError,
  findExpressions,
  parseExpression,
  Unresolved,
  type ExpressionScope,
} from '../../src/engine/expressions.js';
import { Secret } from '../../src/engine/secret.js';

const scope = (over: Partial<ExpressionScope> = {}): ExpressionScope => ({
  inputs: { repos: ['acme/app', 'acme/api'], dry: false, since: '2026-03-14T09:30:00.000Z', count: 3, 'kebab-name': 'k' },
  steps: {
    disable: { outputs: { workflow_id: 42, state: 'disabled_manually', runs: [{ id: 7 }, { id: 8 }] }, status: 'applied' },
    rotate: { outputs: {}, status: 'planned' },
    'cancel-runs': { outputs: { cancelled: [1, 2] }, status: 'verified' },
  },
  run: { id: 'r-1', incident: 'INC-7', dry_run: true, started_at: '2026-03-14T10:00:00.000Z' },
  ...over,
});

describe('evaluate', () => {
  it('returns the raw value when a string is exactly one expression', () => {
    // Given a field that is one expression naming a list input
    // When it is evaluated
    const value = evaluate('${{ inputs.repos }}', scope());
    // Then the list itself comes back, not its text
    expect(value).toEqual(['acme/app', 'acme/api']);
    expect(evaluate('  ${{ inputs.dry }}\n', scope())).toBe(false);
    expect(evaluate('${{ steps.disable.outputs.workflow_id }}', scope())).toBe(42);
  });

  it('renders expressions embedded in text, lists as JSON and missing values as empty', () => {
    // Given text with several expressions
    const text = 'wf ${{ steps.disable.outputs.workflow_id }} in ${{ join(inputs.repos, \', \') }} ${{ inputs.nope }}|${{ inputs.repos }}';
    // When evaluated
    // Then each is rendered in place
    expect(evaluate(text, scope())).toBe('wf 42 in acme/app, acme/api |["acme/app","acme/api"]');
  });

  it('evaluates objects and lists deeply and leaves non-strings alone', () => {
    // Given a with: block mixing literals and expressions
    const withBlock = { repo: '${{ item }}', ids: ['${{ steps.disable.outputs.workflow_id }}', 5], nested: { on: true, at: '${{ run.started_at }}' } };
    // When evaluated with an item
    const out = evaluate(withBlock, scope({ item: 'acme/app' }));
    // Then every string was evaluated and the rest kept
    expect(out).toEqual({ repo: 'acme/app', ids: [42, 5], nested: { on: true, at: '2026-03-14T10:00:00.000Z' } });
  });

  it('passes a Secret through unchanged as a whole value', () => {
    // Given a step output that is a Secret
    const secret = new Secret('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'access key secret');
    const s = scope({ steps: { create: { outputs: { secret_access_key: secret }, status: 'applied' } } });
    // When a field is exactly that expression
    const value = evaluate({ value: '${{ steps.create.outputs.secret_access_key }}' }, s) as { value: unknown };
    // Then the same Secret object arrives, never a string
    expect(value.value).toBe(secret);
  });

  it('refuses to build a string that contains a secret', () => {
    // Given a Secret output
    const secret = new Secret('ghp_0123456789abcdefghijklmnopqrstuvwxyz', 'token');
    const s = scope({ steps: { create: { outputs: { token: secret, both: [secret] }, status: 'applied' } } });
    // When it is embedded in text, or handed to a function or operator
    // Then evaluation fails, and the message does not hold the value
    for (const text of [
      'Bearer ${{ steps.create.outputs.token }}',
      'x ${{ steps.create.outputs.both }}',
      '${{ format(\'{0}\', steps.create.outputs.token) }}',
      '${{ toJSON(steps.create.outputs.both) }}',
      '${{ steps.create.outputs.token == \'ghp\' }}',
      '${{ contains(steps.create.outputs.token, \'ghp\') }}',
    ]) {
      const run = (): unknown => evaluate(text, s);
      expect(run).toThrow(ExpressionError);
      expect(() => run()).toThrow(/secret/);
      try {
        run();
      } catch (error) {
        expect((error as Error).message).not.toContain(secret.reveal());
      }
    }
  });

  it('gives an Unresolved for an output of a step that is only planned, rendered <expr> in text', () => {
    // Given a dry run where step rotate is planned (its outputs are not known)
    const s = scope();
    // When its output is read whole, further indexed, and embedded
    const whole = evaluate('${{ steps.rotate.outputs.new_key_id }}', s);
    const deeper = evaluate('${{ steps.rotate.outputs.keys[0] }}', s);
    const text = evaluate('key ${{ steps.rotate.outputs.new_key_id }} done', s);
    // Then it is Unresolved, naming the expression
    expect(whole).toBeInstanceOf(Unresolved);
    expect((whole as Unresolved).expression).toBe('steps.rotate.outputs.new_key_id');
    expect((deeper as Unresolved).expression).toBe('steps.rotate.outputs.keys[0]');
    expect(text).toBe('key <steps.rotate.outputs.new_key_id> done');
    // And anything computed from it is Unresolved too
    expect(evaluate("${{ format('{0}!', steps.rotate.outputs.x) }}", s)).toBeInstanceOf(Unresolved);
    // But a missing output of an applied step is just missing
    expect(evaluate('${{ steps.disable.outputs.nothing }}', s)).toBeUndefined();
  });

  it('reads names with dashes, bracket properties and list indexes', () => {
    const s = scope();
    expect(evaluate("${{ steps.cancel-runs.outputs.cancelled[1] }}", s)).toBe(2);
    expect(evaluate("${{ steps['cancel-runs'].outputs['cancelled'][0] }}", s)).toBe(1);
    expect(evaluate('${{ inputs.kebab-name }}', s)).toBe('k');
    expect(evaluate('${{ steps.disable.outputs.runs[1].id }}', s)).toBe(8);
    expect(evaluate("${{ fromJSON('{\"a\":[1,{\"b\":2}]}').a[1].b }}", s)).toBe(2);
  });

  it('does not reach prototypes or class internals', () => {
    // Given expressions that try to walk to constructors or prototypes
    const secret = new Secret('super-secret-value-123');
    const s = scope({ item: secret });
    // Then they read nothing
    expect(evaluate('${{ inputs.constructor }}', s)).toBeUndefined();
    expect(evaluate("${{ inputs['__proto__'] }}", s)).toBeUndefined();
    expect(evaluate('${{ inputs.repos.length }}', s)).toBeUndefined();
    expect(evaluate('${{ item.value }}', s)).toBeUndefined();
    // While a Secret's public fingerprint stays readable
    expect(evaluate('${{ item.fingerprint }}', s)).toBe(secret.fingerprint);
  });
});

describe('operators and functions', () => {
  const value = (expr: string, over: Partial<ExpressionScope> = {}): unknown => evaluate(`\${{ ${expr} }}`, scope(over));

  it('compares with ==, !=, <, <=, >, >= and combines with && || !', () => {
    expect(value("steps.disable.outputs.state == 'DISABLED_MANUALLY'")).toBe(true); // strings: case-insensitive
    expect(value("steps.disable.outputs.workflow_id == '42'")).toBe(true); // number vs numeric string
    expect(value('inputs.count != 3')).toBe(false);
    expect(value('inputs.count < 4 && inputs.count >= 3')).toBe(true);
    expect(value("run.started_at > inputs.since")).toBe(true); // ISO timestamps order as strings
    expect(value('inputs.count <= 2 || !inputs.dry')).toBe(true);
    expect(value('!(inputs.count > 2)')).toBe(false);
    expect(value('inputs.missing == null')).toBe(true);
    expect(value("inputs.repos == fromJSON('[\"acme/app\",\"acme/api\"]')")).toBe(true);
    expect(value("inputs.repos < 'x'")).toBe(false); // lists do not order
  });

  it('short-circuits && and || and returns the deciding operand', () => {
    // The right side would fail (bad JSON) if it were evaluated
    expect(value("inputs.dry && fromJSON('nope')")).toBe(false);
    expect(value("inputs.count || fromJSON('nope')")).toBe(3);
    expect(value("inputs.missing || 'fallback'")).toBe('fallback');
  });

  it('has contains, startsWith, endsWith, join, length, format, toJSON, fromJSON', () => {
    expect(value("contains(inputs.repos, 'acme/api')")).toBe(true);
    expect(value("contains(inputs.repos, 'acme/web')")).toBe(false);
    expect(value("contains('Deploy to prod', 'PROD')")).toBe(true);
    expect(value("startsWith(run.incident, 'inc-')")).toBe(true);
    expect(value("endsWith('deploy.yml', '.yml')")).toBe(true);
    expect(value('join(inputs.repos)')).toBe('acme/app,acme/api');
    expect(value('length(inputs.repos)')).toBe(2);
    expect(value("length('abc')")).toBe(3);
    expect(value('length(steps.disable.outputs)')).toBe(3);
    expect(value("format('{0}-{1}-{0} {{literal}}', run.incident, 2)")).toBe('INC-7-2-INC-7 {literal}');
    expect(value('toJSON(steps.disable.outputs.runs)')).toBe('[{"id":7},{"id":8}]');
    expect(value("fromJSON('[1,2]')")).toEqual([1, 2]);
    expect(value("format('}}{0}', '}}')")).toBe('}}}');
  });

  it('fails at run time on bad fromJSON input and a format index with no argument', () => {
    expect(() => value("fromJSON('{')")).toThrow(/fromJSON\(\): not JSON/);
    expect(() => value("format('{1}', 'a')")).toThrow(/no argument for \{1\}/);
    expect(() => value('length(inputs.count)')).toThrow(/length\(\) needs/);
  });
});

describe('union()', () => {
  it('flattens the lists of fanned-out steps, dropping empties and duplicates in first-seen order', () => {
    // Given per-repo role lists from a for_each step and roles given as an input
    const s = scope({
      inputs: { roles: ['deploy', ''] },
      steps: { find: { outputs: { role_names: [['deploy', 'release'], [], ['release', 'audit']] }, status: 'applied' } },
    });
    // When they are united
    const roles = evaluate('${{ union(inputs.roles, steps.find.outputs.role_names) }}', s);
    // Then each role appears once
    expect(roles).toEqual(['deploy', 'release', 'audit']);
  });

  it('moves Secrets whole (one per value, wherever it was found) and lets length() count them, but reads none', () => {
    // Given the npm tokens of a fanned-out scan: the same value found in two repositories' logs, and another
    const a = new Secret('npm_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'npm-token found in run 1');
    const again = new Secret('npm_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'npm-token found in run 2');
    const b = new Secret('npm_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', 'npm-token found in run 2');
    const s = scope({ steps: { scan: { outputs: { npm_tokens: [[a], [again, b]] }, status: 'applied' } } });
    // When united and counted
    const tokens = evaluate('${{ union(steps.scan.outputs.npm_tokens) }}', s) as unknown[];
    // Then the same Secret objects arrive, one per value
    expect(tokens).toEqual([a, b]);
    expect(tokens[0]).toBe(a);
    expect(evaluate('${{ length(union(steps.scan.outputs.npm_tokens)) }}', s)).toBe(2);
    // And a function that could read a value still refuses them (length of a bare Secret is its value's length)
    const one = scope({ inputs: { key: a as unknown as string } });
    expect(() => evaluate('${{ length(inputs.key) }}', one)).toThrow(/secret/);
    expect(() => evaluate("${{ join(union(steps.scan.outputs.npm_tokens), ',') }}", s)).toThrow(/secret/);
    expect(() => evaluate('${{ toJSON(union(steps.scan.outputs.npm_tokens)) }}', s)).toThrow(/secret/);
  });
});

describe('evaluateCondition', () => {
  it('accepts bare and wrapped expressions and uses truthiness', () => {
    expect(evaluateCondition('inputs.count == 3', scope())).toBe(true);
    expect(evaluateCondition('${{ inputs.dry }}', scope())).toBe(false);
    expect(evaluateCondition("${{ inputs.missing }}", scope())).toBe(false);
    expect(evaluateCondition("steps.disable.status == 'applied'", scope())).toBe(true);
  });

  it('treats an Unresolved condition as true so a dry run still shows the step', () => {
    expect(evaluateCondition('steps.rotate.outputs.changed == false', scope())).toBe(true);
    expect(evaluateCondition('!steps.rotate.outputs.changed', scope())).toBe(true);
  });

  it('refuses a condition that mixes text and an expression', () => {
    expect(() => evaluateCondition('${{ inputs.dry }} and more', scope())).toThrow(/one expression/);
  });
});

describe('syntax errors', () => {
  it.each([
    ['unknown function', 'eval(1)', /unknown function 'eval'/],
    ['unknown context', 'env.HOME', /unknown name 'env'/],
    ['unclosed parenthesis', "contains(inputs.repos, 'a'", /expected '\)'/],
    ['dangling operator', 'inputs.a ==', /unexpected end/],
    ['single =', "inputs.a = 'b'", /unexpected character '='/],
    ['unterminated string', "inputs.a == 'b", /unterminated string/],
    ['wrong arity', 'length(inputs.a, 2)', /length\(\) takes 1 argument, got 2/],
    ['empty', '   ', /empty expression/],
    ['trailing tokens', 'inputs.a inputs.b', /unexpected 'inputs'/],
    ['property after dot', 'inputs.', /property name/],
  ])('%s', (_name, source, message) => {
    // Given a malformed expression; when parsed; then an ExpressionError with a position
    let caught: unknown;
    try {
      parseExpression(source);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ExpressionError);
    expect((caught as ExpressionError).message).toMatch(message);
    expect((caught as ExpressionError).exitCode).toBe(2);
  });

  it('finds }} only outside string literals and reports an unclosed ${{', () => {
    expect(findExpressions("a ${{ format('{{0}}', 1) }} b ${{ x }}").map((p) => p.source.trim())).toEqual([
      "format('{{0}}', 1)",
      'x',
    ]);
    expect(() => findExpressions('a ${{ inputs.x ')).toThrow(/unclosed/);
  });

  it('never crashes with anything but an ExpressionError on arbitrary input', () => {
    // Property: for any text, parsing either succeeds or throws ExpressionError (no TypeError, no hang)
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'inputsteprm.[]()\'"=!<>&|, 0123-_abc'.split('')), maxLength: 40 }), (source) => {
        try {
          parseExpression(source);
        } catch (error) {
          if (!(error instanceof ExpressionError)) throw error;
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('evaluates any well-formed expression to a value or an ExpressionError, never a crash', () => {
    // Property: expressions built from the grammar over a scope with lists, objects, null and a
    // planned step either evaluate or fail as ExpressionError (fromJSON of text, format index...)
    const { expr } = fc.letrec((tie) => ({
      expr: fc.oneof(
        { depthSize: 'small' },
        fc.constantFrom('inputs.dry', 'inputs.repos', 'inputs.repos[1]', "inputs['count']", 'steps.disable.outputs.runs', 'steps.rotate.outputs.x', 'item', 'run.id', 'null', 'true', '1', "'x'", 'steps.disable.outputs[inputs.k]'),
        fc.tuple(tie('expr'), fc.constantFrom('==', '!=', '<', '<=', '>', '>=', '&&', '||'), tie('expr')).map(([a, op, b]) => `(${a} ${op} ${b})`),
        tie('expr').map((a) => `!${a}`),
        fc
          .tuple(fc.constantFrom('contains', 'startsWith', 'endsWith', 'join', 'format', 'toJSON', 'fromJSON', 'length'), fc.array(tie('expr'), { minLength: 1, maxLength: 2 }))
          .map(([name, args]) => `${name}(${args.join(', ')})`),
        tie('expr').map((a) => `(${a}).id`),
      ),
    }));
    fc.assert(
      fc.property(expr, fc.boolean(), (source, embedded) => {
        try {
          evaluate(embedded ? `a \${{ ${source} }} b` : `\${{ ${source} }}`, scope({ item: { id: 1 } }));
        } catch (error) {
          if (!(error instanceof ExpressionError)) throw error;
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('round-trips any JSON value through toJSON and fromJSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (json) => {
        const s = scope({ inputs: { v: json } });
        const text = evaluate('${{ toJSON(inputs.v) }}', s) as string;
        expect(evaluate('${{ fromJSON(inputs.t) }}', scope({ inputs: { t: text } }))).toEqual(JSON.parse(JSON.stringify(json)));
      }),
      { numRuns: 300 },
    );
  });
});

describe('collectReferences', () => {
  it('lists context references with their static paths, deeply', () => {
    // Given a with: block and a computed index
    const refs = collectReferences({
      a: 'x ${{ steps.disable.outputs.workflow_id }} ${{ inputs.repos }}',
      b: ["${{ contains(item, 'x') && run.dry_run }}"],
      c: "${{ steps['cancel-runs'].outputs.cancelled[inputs.index] }}",
      d: 'no expressions',
    });
    // Then each reference appears with its context and path
    expect(refs.map((r) => [r.context, r.path.join('/'), r.expression])).toEqual([
      ['steps', 'disable/outputs/workflow_id', 'steps.disable.outputs.workflow_id'],
      ['inputs', 'repos', 'inputs.repos'],
      ['item', '', 'item'],
      ['run', 'dry_run', 'run.dry_run'],
      ['steps', 'cancel-runs/outputs/cancelled', 'steps.cancel-runs.outputs.cancelled'],
      ['inputs', 'index', 'inputs.index'],
    ]);
  });

  it('reads a bare condition with { bare: true }', () => {
    expect(collectReferences("steps.a.status == 'applied'", { bare: true }).map((r) => r.expression)).toEqual(['steps.a.status']);
    expect(collectReferences("steps.a.status == 'applied'")).toEqual([]);
  });

  it('throws ExpressionError on bad syntax', () => {
    expect(() => collectReferences({ x: '${{ nope() }}' })).toThrow(ExpressionError);
  });
});
