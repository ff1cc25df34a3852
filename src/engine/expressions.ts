import { CicdIrError } from './errors.js';
import { ExitCode } from './exit-codes.js';
import { isSecret } from './secret.js';

/**
 * The `${{ ... }}` expression language of playbooks: a hand-written tokenizer, a recursive
 * descent parser and a tree-walking evaluator. Nothing is ever handed to `eval` or
 * `new Function`, property access only reads own properties of plain data (no prototype
 * walk), and a Secret may only travel whole: any operator, function or string template that
 * would look inside one is refused.
 *
 * Grammar (lowest precedence first):
 * ```
 * or       := and ('||' and)*
 * and      := equality ('&&' equality)*
 * equality := compare (('==' | '!=') compare)*
 * compare  := unary (('<' | '<=' | '>' | '>=') unary)*
 * unary    := '!' unary | postfix
 * postfix  := primary ('.' name | '[' or ']')*
 * primary  := literal | context | name '(' args ')' | '(' or ')'
 * context  := 'inputs' | 'steps' | 'item' | 'run'
 * ```
 * Names may hold `-` after the first character (`steps.disable-workflow.outputs.run-ids`),
 * as in GitHub Actions; the language has no arithmetic, so `-` is never ambiguous.
 */

/** What expressions can see while a playbook runs. */
export interface ExpressionScope {
  inputs: Record<string, unknown>;
  steps: Record<string, { outputs: Record<string, unknown>; status?: string }>;
  /** The current element of a `for_each` fan-out. */
  item?: unknown;
  run?: { id: string; incident: string; dry_run: boolean; started_at: string };
}

/**
 * The value of a step output not known yet: a dry run plans a mutating step without applying
 * it, so `steps.x.outputs.y` of a step with status `planned` has no value. It flows through
 * expressions (anything computed from it is Unresolved too) and renders as `<expression>`
 * inside a longer string, so the plan still shows where the value goes.
 */
export class Unresolved {
  constructor(readonly expression: string) {}

  toString(): string {
    return `<${this.expression}>`;
  }

  toJSON(): { unresolved: string } {
    return { unresolved: this.expression };
  }
}

export function isUnresolved(value: unknown): value is Unresolved {
  return value instanceof Unresolved;
}

/**
 * A bad expression: syntax, unknown function or context, or a runtime refusal (a secret
 * inside a string). Exit 2: it is a fault of the playbook. Validation turns syntax errors
 * into file:line:col issues at the string that holds the expression.
 */
export class ExpressionError extends CicdIrError {
  constructor(
    message: string,
    /** The expression text (without `${{ }}`). */
    readonly expression: string,
    /** Offset of the fault inside `expression`, when known. */
    readonly offset?: number,
  ) {
    super(message, { exitCode: ExitCode.BadInput });
  }
}

/** The contexts an expression can start from. */
export const EXPRESSION_CONTEXTS = ['inputs', 'steps', 'item', 'run'] as const;
export type ExpressionContext = (typeof EXPRESSION_CONTEXTS)[number];

/** A reference to a context found in an expression, as validation and the executor see it. */
export interface ExpressionReference {
  /** The reference as written, normalised: `steps.disable.outputs.run_ids`. */
  expression: string;
  context: ExpressionContext;
  /**
   * The static part of the path after the context: `['disable', 'outputs', 'run_ids']`.
   * It stops at the first computed index (`steps.x.outputs[inputs.k]` gives `['x', 'outputs']`).
   */
  path: string[];
}

// ---------------------------------------------------------------------------------------------
// Tokenizer

type TokenKind = 'name' | 'number' | 'string' | 'op' | 'punct' | 'end';

interface Token {
  kind: TokenKind;
  text: string;
  value?: string | number;
  offset: number;
}

const OPERATORS = ['==', '!=', '<=', '>=', '&&', '||', '<', '>', '!'];
const PUNCTUATION = ['.', '[', ']', '(', ')', ','];

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const start = i;
    if (/[A-Za-z_]/.test(ch)) {
      while (i < source.length && /[A-Za-z0-9_-]/.test(source[i]!)) i++;
      tokens.push({ kind: 'name', text: source.slice(start, i), offset: start });
      continue;
    }
    if (/[0-9]/.test(ch) || (ch === '-' && /[0-9]/.test(source[i + 1] ?? ''))) {
      i++;
      while (i < source.length && /[0-9.]/.test(source[i]!)) i++;
      const text = source.slice(start, i);
      const value = Number(text);
      if (!/^-?\d+(\.\d+)?$/.test(text) || Number.isNaN(value)) {
        throw new ExpressionError(`bad number '${text}'`, source, start);
      }
      tokens.push({ kind: 'number', text, value, offset: start });
      continue;
    }
    if (ch === "'" || ch === '"') {
      // Single quotes as in GitHub Actions ('' escapes a quote); double quotes for convenience.
      let value = '';
      i++;
      for (;;) {
        if (i >= source.length) throw new ExpressionError('unterminated string literal', source, start);
        const c = source[i]!;
        if (c === ch) {
          if (source[i + 1] === ch) {
            value += ch;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += c;
        i++;
      }
      tokens.push({ kind: 'string', text: source.slice(start, i), value, offset: start });
      continue;
    }
    const op = OPERATORS.find((candidate) => source.startsWith(candidate, i));
    if (op) {
      tokens.push({ kind: 'op', text: op, offset: start });
      i += op.length;
      continue;
    }
    if (PUNCTUATION.includes(ch)) {
      tokens.push({ kind: 'punct', text: ch, offset: start });
      i++;
      continue;
    }
    throw new ExpressionError(`unexpected character '${ch}'`, source, start);
  }
  tokens.push({ kind: 'end', text: '', offset: source.length });
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// Parser

/** A node of a parsed expression. */
export type ExpressionNode =
  | { kind: 'literal'; value: string | number | boolean | null }
  | { kind: 'ref'; context: ExpressionContext; segments: Segment[]; offset: number }
  | { kind: 'member'; object: ExpressionNode; property: Segment }
  | { kind: 'call'; name: FunctionName; args: ExpressionNode[]; offset: number }
  | { kind: 'not'; operand: ExpressionNode }
  | { kind: 'binary'; op: BinaryOp; left: ExpressionNode; right: ExpressionNode };

type Segment = { kind: 'static'; key: string | number } | { kind: 'computed'; node: ExpressionNode };
type BinaryOp = '==' | '!=' | '<' | '<=' | '>' | '>=' | '&&' | '||';

/** Functions and their [min, max] argument counts. */
const FUNCTIONS = {
  contains: [2, 2],
  startsWith: [2, 2],
  endsWith: [2, 2],
  join: [1, 2],
  length: [1, 1],
  format: [1, Infinity],
  toJSON: [1, 1],
  fromJSON: [1, 1],
  union: [1, Infinity],
} as const satisfies Record<string, readonly [number, number]>;
type FunctionName = keyof typeof FUNCTIONS;

/**
 * How deep an expression may nest (parentheses, `!`, calls, indexes, chains of operators). The
 * parser and the evaluator recurse: far deeper input (a crafted playbook) would end in a
 * RangeError instead of a located validation error. No real condition comes near it.
 */
export const MAX_EXPRESSION_DEPTH = 200;

/** The depth of a parsed tree, walked without recursion. */
function treeDepth(root: ExpressionNode): number {
  let max = 0;
  const stack: Array<[ExpressionNode, number]> = [[root, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (depth > max) max = depth;
    const push = (child: ExpressionNode) => stack.push([child, depth + 1]);
    const segment = (seg: Segment) => seg.kind === 'computed' && push(seg.node);
    switch (node.kind) {
      case 'ref':
        node.segments.forEach(segment);
        break;
      case 'member':
        push(node.object);
        segment(node.property);
        break;
      case 'call':
        node.args.forEach(push);
        break;
      case 'not':
        push(node.operand);
        break;
      case 'binary':
        push(node.left);
        push(node.right);
        break;
      default:
        break;
    }
  }
  return max;
}

class Parser {
  private position = 0;
  private nesting = 0;
  private readonly tokens: Token[];

  constructor(private readonly source: string) {
    this.tokens = tokenize(source);
  }

  parse(): ExpressionNode {
    if (this.peek().kind === 'end') throw this.fail('empty expression', this.peek());
    const node = this.parseOr();
    const rest = this.peek();
    if (rest.kind !== 'end') throw this.fail(`unexpected '${rest.text}'`, rest);
    if (treeDepth(node) > MAX_EXPRESSION_DEPTH) throw this.fail(`expression nested deeper than ${MAX_EXPRESSION_DEPTH} levels`, this.tokens[0]!);
    return node;
  }

  private peek(): Token {
    return this.tokens[this.position]!;
  }

  private next(): Token {
    return this.tokens[this.position++]!;
  }

  private accept(kind: TokenKind, text: string): boolean {
    const token = this.peek();
    if (token.kind === kind && token.text === text) {
      this.position++;
      return true;
    }
    return false;
  }

  private expect(kind: TokenKind, text: string): Token {
    const token = this.peek();
    if (token.kind !== kind || token.text !== text) {
      throw this.fail(`expected '${text}' but found ${token.kind === 'end' ? 'the end' : `'${token.text}'`}`, token);
    }
    return this.next();
  }

  private fail(message: string, token: Token): ExpressionError {
    const shown = this.source.trim();
    return new ExpressionError(`${message} in expression '${shown.length > 120 ? `${shown.slice(0, 117)}...` : shown}'`, this.source, token.offset);
  }

  private parseBinary(ops: readonly BinaryOp[], operand: () => ExpressionNode): ExpressionNode {
    let left = operand();
    for (;;) {
      const token = this.peek();
      if (token.kind === 'op' && (ops as readonly string[]).includes(token.text)) {
        this.next();
        const right = operand();
        left = { kind: 'binary', op: token.text as BinaryOp, left, right };
      } else {
        return left;
      }
    }
  }

  private parseOr = (): ExpressionNode => this.nested(() => this.parseBinary(['||'], this.parseAnd));

  /** Counts recursion (parentheses, indexes, call arguments, `!`) so deep input fails located, not with a RangeError. */
  private nested<T>(parse: () => T): T {
    if (++this.nesting > MAX_EXPRESSION_DEPTH) throw this.fail(`expression nested deeper than ${MAX_EXPRESSION_DEPTH} levels`, this.peek());
    try {
      return parse();
    } finally {
      this.nesting--;
    }
  }
  private parseAnd = (): ExpressionNode => this.parseBinary(['&&'], this.parseEquality);
  private parseEquality = (): ExpressionNode => this.parseBinary(['==', '!='], this.parseCompare);
  private parseCompare = (): ExpressionNode => this.parseBinary(['<', '<=', '>', '>='], this.parseUnary);

  private parseUnary = (): ExpressionNode => {
    if (this.accept('op', '!')) return { kind: 'not', operand: this.nested(this.parseUnary) };
    return this.parsePostfix();
  };

  private parsePostfix(): ExpressionNode {
    let node = this.parsePrimary();
    for (;;) {
      let segment: Segment;
      if (this.accept('punct', '.')) {
        const name = this.peek();
        if (name.kind !== 'name') throw this.fail("expected a property name after '.'", name);
        this.next();
        segment = { kind: 'static', key: name.text };
      } else if (this.accept('punct', '[')) {
        const index = this.parseOr();
        this.expect('punct', ']');
        segment =
          index.kind === 'literal' && (typeof index.value === 'string' || typeof index.value === 'number')
            ? { kind: 'static', key: index.value }
            : { kind: 'computed', node: index };
      } else {
        return node;
      }
      // A chain that starts at a context stays one `ref` node, so evaluation knows it is
      // looking at `steps.<id>.outputs.<name>` (for Unresolved) and validation sees the path.
      node = node.kind === 'ref' ? { ...node, segments: [...node.segments, segment] } : { kind: 'member', object: node, property: segment };
    }
  }

  private parsePrimary(): ExpressionNode {
    const token = this.next();
    switch (token.kind) {
      case 'number':
        return { kind: 'literal', value: token.value as number };
      case 'string':
        return { kind: 'literal', value: token.value as string };
      case 'name': {
        if (token.text === 'true' || token.text === 'false') return { kind: 'literal', value: token.text === 'true' };
        if (token.text === 'null') return { kind: 'literal', value: null };
        if (this.peek().kind === 'punct' && this.peek().text === '(') return this.parseCall(token);
        if ((EXPRESSION_CONTEXTS as readonly string[]).includes(token.text)) {
          return { kind: 'ref', context: token.text as ExpressionContext, segments: [], offset: token.offset };
        }
        throw this.fail(`unknown name '${token.text}' (contexts: ${EXPRESSION_CONTEXTS.join(', ')})`, token);
      }
      case 'punct':
        if (token.text === '(') {
          const inner = this.parseOr();
          this.expect('punct', ')');
          return inner;
        }
        break;
      default:
        break;
    }
    throw this.fail(token.kind === 'end' ? 'unexpected end' : `unexpected '${token.text}'`, token);
  }

  private parseCall(nameToken: Token): ExpressionNode {
    const name = nameToken.text;
    if (!Object.hasOwn(FUNCTIONS, name)) {
      throw this.fail(`unknown function '${name}' (functions: ${Object.keys(FUNCTIONS).join(', ')})`, nameToken);
    }
    this.expect('punct', '(');
    const args: ExpressionNode[] = [];
    if (!this.accept('punct', ')')) {
      do args.push(this.parseOr());
      while (this.accept('punct', ','));
      this.expect('punct', ')');
    }
    const [min, max] = FUNCTIONS[name as FunctionName];
    if (args.length < min || args.length > max) {
      const wanted = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} or ${max}`;
      throw this.fail(`${name}() takes ${wanted} argument${min === 1 && max === 1 ? '' : 's'}, got ${args.length}`, nameToken);
    }
    return { kind: 'call', name: name as FunctionName, args, offset: nameToken.offset };
  }
}

const parseCache = new Map<string, ExpressionNode>();

/** Parses one expression (the text between `${{` and `}}`). Throws ExpressionError. */
export function parseExpression(source: string): ExpressionNode {
  const cached = parseCache.get(source);
  if (cached) return cached;
  const node = new Parser(source).parse();
  if (parseCache.size > 2000) parseCache.clear();
  parseCache.set(source, node);
  return node;
}

// ---------------------------------------------------------------------------------------------
// Templates: where the `${{ }}` are in a string

/** One `${{ expr }}` inside a string. `start`/`end` delimit it, braces included. */
export interface TemplatePart {
  source: string;
  start: number;
  end: number;
}

/**
 * Finds every `${{ ... }}` in `text`. The closing `}}` is looked for outside string literals,
 * so `${{ format('{{0}}', x) }}` is one expression. An unclosed `${{` is an ExpressionError.
 */
export function findExpressions(text: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let from = 0;
  for (;;) {
    const start = text.indexOf('${{', from);
    if (start === -1) return parts;
    let i = start + 3;
    let quote: string | undefined;
    let end = -1;
    while (i < text.length) {
      const c = text[i]!;
      if (quote) {
        if (c === quote) {
          if (text[i + 1] === quote) i++;
          else quote = undefined;
        }
      } else if (c === "'" || c === '"') {
        quote = c;
      } else if (c === '}' && text[i + 1] === '}') {
        end = i + 2;
        break;
      }
      i++;
    }
    if (end === -1) {
      throw new ExpressionError(`unclosed '\${{' in '${text}'`, text.slice(start + 3), 0);
    }
    parts.push({ source: text.slice(start + 3, end - 2), start, end });
    from = end;
  }
}

/** True when `text` holds at least one `${{`. */
export function hasExpression(text: string): boolean {
  return text.includes('${{');
}

/** The inner expression when `text` is exactly one `${{ expr }}` (surrounding blanks allowed). */
export function wholeExpression(text: string): string | undefined {
  const trimmed = text.trim();
  if (!trimmed.startsWith('${{')) return undefined;
  const parts = findExpressions(trimmed);
  if (parts.length === 1 && parts[0]!.start === 0 && parts[0]!.end === trimmed.length) return parts[0]!.source;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Evaluation

/**
 * Evaluates the expressions in `value`, deeply: objects and arrays are rebuilt with their
 * strings evaluated. A string that is exactly one `${{ expr }}` gives the raw value (a list,
 * a boolean, a number, a Secret, an Unresolved); expressions embedded in longer text are
 * rendered into the string (lists and objects as JSON, null as empty, an Unresolved as
 * `<expr>`). Building a string from a Secret is refused with an ExpressionError.
 */
export function evaluate(value: unknown, scope: ExpressionScope): unknown {
  if (typeof value === 'string') return evaluateString(value, scope);
  if (Array.isArray(value)) return value.map((element) => evaluate(element, scope));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, element] of Object.entries(value)) out[key] = evaluate(element, scope);
    return out;
  }
  return value;
}

function evaluateString(text: string, scope: ExpressionScope): unknown {
  if (!hasExpression(text)) return text;
  const whole = wholeExpression(text);
  if (whole !== undefined) return evaluateExpression(whole, scope);
  let out = '';
  let last = 0;
  for (const part of findExpressions(text)) {
    out += text.slice(last, part.start) + render(evaluateExpression(part.source, scope), part.source);
    last = part.end;
  }
  return out + text.slice(last);
}

/**
 * Evaluates an `if:` condition, written bare (`inputs.dry == false`) or wrapped in `${{ }}`.
 * The result is truthy/falsy as in JavaScript (false, 0, '', null and missing are false).
 * An Unresolved result (a dry run, a condition on an output of a step only planned) counts
 * as true: the plan then shows the step that would run, rather than silently hiding it.
 */
export function evaluateCondition(expression: string, scope: ExpressionScope): boolean {
  const value = evaluateExpression(conditionSource(expression), scope);
  if (value instanceof Unresolved) return true;
  if (isSecret(value)) throw new ExpressionError('a secret cannot be used as a condition', expression);
  return truthy(value);
}

/** The expression of an `if:`: the inside of one `${{ }}`, or the bare text. */
export function conditionSource(expression: string): string {
  if (!hasExpression(expression)) return expression;
  const whole = wholeExpression(expression);
  if (whole === undefined) {
    throw new ExpressionError("a condition must be one expression: either bare or a single '${{ ... }}'", expression);
  }
  return whole;
}

/** Evaluates one expression (no `${{ }}`) to its raw value. */
export function evaluateExpression(source: string, scope: ExpressionScope): unknown {
  return new Evaluator(source, scope).eval(parseExpression(source));
}

class Evaluator {
  constructor(
    private readonly source: string,
    private readonly scope: ExpressionScope,
  ) {}

  eval(node: ExpressionNode): unknown {
    switch (node.kind) {
      case 'literal':
        return node.value;
      case 'ref':
        return this.ref(node.context, node.segments);
      case 'member': {
        const object = this.eval(node.object);
        const key = this.key(node.property);
        if (object instanceof Unresolved || key instanceof Unresolved) return this.unresolved();
        return property(object, key);
      }
      case 'not': {
        const operand = this.eval(node.operand);
        if (operand instanceof Unresolved) return operand;
        this.refuseSecret(operand, '!');
        return !truthy(operand);
      }
      case 'binary':
        return this.binary(node.op, node.left, node.right);
      case 'call':
        return this.call(node.name, node.args);
    }
  }

  private unresolved(): Unresolved {
    return new Unresolved(this.source.trim());
  }

  private refuseSecret(value: unknown, where: string): void {
    if (isSecret(value)) {
      throw new ExpressionError(`a secret cannot be used in '${where}': secrets may only be passed whole`, this.source);
    }
  }

  private key(segment: Segment): string | number | Unresolved {
    if (segment.kind === 'static') return segment.key;
    const value = this.eval(segment.node);
    if (value instanceof Unresolved) return value;
    if (typeof value === 'string' || typeof value === 'number') return value;
    throw new ExpressionError(`an index must be a string or a number, got ${describe(value)}`, this.source);
  }

  private ref(context: ExpressionContext, segments: Segment[]): unknown {
    let value: unknown;
    switch (context) {
      case 'inputs':
        value = this.scope.inputs;
        break;
      case 'steps':
        value = this.scope.steps;
        break;
      case 'item':
        value = this.scope.item;
        break;
      case 'run':
        value = this.scope.run;
        break;
    }
    const path: Array<string | number> = [];
    for (const segment of segments) {
      const key = this.key(segment);
      if (key instanceof Unresolved) return this.unresolved();
      path.push(key);
      if (value instanceof Unresolved) continue;
      const next = property(value, key);
      if (
        next === undefined &&
        context === 'steps' &&
        path.length === 3 &&
        path[1] === 'outputs' &&
        this.scope.steps[String(path[0])]?.status === 'planned'
      ) {
        value = new Unresolved(renderPath(context, path));
        continue;
      }
      value = next;
    }
    // Extend the text of an Unresolved with the rest of the path: `<steps.x.outputs.y[0]>`.
    if (value instanceof Unresolved) return new Unresolved(renderPath(context, path));
    return value;
  }

  private binary(op: BinaryOp, leftNode: ExpressionNode, rightNode: ExpressionNode): unknown {
    const left = this.eval(leftNode);
    if (op === '&&' || op === '||') {
      if (left instanceof Unresolved) return left;
      this.refuseSecret(left, op);
      if (op === '&&' ? !truthy(left) : truthy(left)) return left;
      const right = this.eval(rightNode);
      this.refuseSecret(right, op);
      return right;
    }
    const right = this.eval(rightNode);
    if (left instanceof Unresolved || right instanceof Unresolved) return this.unresolved();
    this.refuseSecret(left, op);
    this.refuseSecret(right, op);
    switch (op) {
      case '==':
        return looseEquals(left, right);
      case '!=':
        return !looseEquals(left, right);
      default:
        return compare(op, left, right);
    }
  }

  private call(name: FunctionName, argNodes: ExpressionNode[]): unknown {
    const args = argNodes.map((arg) => this.eval(arg));
    if (args.some((arg) => arg instanceof Unresolved)) return this.unresolved();
    for (const arg of args) {
      // union() moves list elements whole (a Secret stays a Secret) and length() of a list counts
      // its elements: neither can read a value. Every other function (and length of a bare
      // Secret, its value's length) could.
      const whole = name === 'union' || (name === 'length' && Array.isArray(arg));
      if (!whole && containsSecret(arg)) {
        throw new ExpressionError(`a secret cannot be passed to ${name}(): secrets may only be passed whole`, this.source);
      }
    }
    switch (name) {
      case 'contains': {
        const [haystack, needle] = args;
        if (Array.isArray(haystack)) return haystack.some((element) => looseEquals(element, needle));
        return lower(toText(haystack)).includes(lower(toText(needle)));
      }
      case 'startsWith':
        return lower(toText(args[0])).startsWith(lower(toText(args[1])));
      case 'endsWith':
        return lower(toText(args[0])).endsWith(lower(toText(args[1])));
      case 'join': {
        const separator = args.length > 1 ? toText(args[1]) : ',';
        if (Array.isArray(args[0])) return args[0].map(toText).join(separator);
        return toText(args[0]);
      }
      case 'length': {
        const [value] = args;
        if (typeof value === 'string' || Array.isArray(value)) return value.length;
        if (isPlainObject(value)) return Object.keys(value).length;
        if (value === null || value === undefined) return 0;
        throw new ExpressionError(`length() needs a string, list or object, got ${describe(value)}`, this.source);
      }
      case 'format': {
        const template = toText(args[0]);
        return template.replace(/\{\{|\}\}|\{(\d+)\}/g, (match, index: string | undefined) => {
          if (match === '{{') return '{';
          if (match === '}}') return '}';
          const position = Number(index) + 1;
          if (position >= args.length) {
            throw new ExpressionError(`format(): no argument for {${index}}`, this.source);
          }
          return toText(args[position]);
        });
      }
      case 'toJSON':
        return JSON.stringify(args[0] ?? null);
      case 'union': {
        // Lists from fanned-out steps are lists of lists: flatten them all, drop empties and
        // duplicates, so `for_each` can run once per distinct role, key or subject.
        const seen = new Set<string>();
        const out: unknown[] = [];
        const add = (value: unknown): void => {
          if (Array.isArray(value)) return value.forEach(add);
          if (value === null || value === undefined || value === '') return;
          // The same value found in two places is one Secret (its label names where it was found).
          const key = isSecret(value) ? `secret:${value.fingerprint}` : JSON.stringify(value);
          if (!seen.has(key)) {
            seen.add(key);
            out.push(value);
          }
        };
        args.forEach(add);
        return out;
      }
      case 'fromJSON': {
        const text = toText(args[0]);
        try {
          return JSON.parse(text) as unknown;
        } catch (error) {
          throw new ExpressionError(`fromJSON(): not JSON: ${(error as Error).message}`, this.source);
        }
      }
    }
  }
}

function renderPath(context: string, path: Array<string | number>): string {
  let out = context;
  for (const key of path) {
    out += typeof key === 'number' ? `[${key}]` : /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? `.${key}` : `['${key.replace(/'/g, "''")}']`;
  }
  return out;
}

/** Reads an own property of plain data. Anything else (prototype, class internals) is undefined. */
function property(object: unknown, key: string | number): unknown {
  if (object === null || object === undefined) return undefined;
  if (Array.isArray(object)) {
    const index = typeof key === 'number' ? key : /^\d+$/.test(key) ? Number(key) : NaN;
    return Number.isInteger(index) && index >= 0 ? object[index] : undefined;
  }
  if (typeof object === 'object') {
    const name = String(key);
    // Secret exposes `fingerprint` and `label` as own fields; its value is a private field.
    return Object.hasOwn(object, name) ? (object as Record<string, unknown>)[name] : undefined;
  }
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

function truthy(value: unknown): boolean {
  return Boolean(value);
}

function lower(text: string): string {
  return text.toLowerCase();
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * Equality: same-type primitives compare strictly, except strings compare case-insensitively
 * (as GitHub Actions does); a number and a numeric string compare as numbers; null and
 * missing are equal; lists and objects compare by their JSON.
 */
function looseEquals(left: unknown, right: unknown): boolean {
  if (left === undefined) left = null;
  if (right === undefined) right = null;
  if (typeof left === 'string' && typeof right === 'string') return left.toLowerCase() === right.toLowerCase();
  if (typeof left === 'number' && typeof right === 'string') return right.trim() !== '' && Number(right) === left;
  if (typeof left === 'string' && typeof right === 'number') return looseEquals(right, left);
  if (typeof left === 'object' && typeof right === 'object' && left !== null && right !== null) {
    return JSON.stringify(left) === JSON.stringify(right);
  }
  return left === right;
}

/** Ordering: numbers with numbers, strings with strings (ISO timestamps order correctly); anything else is false. */
function compare(op: '<' | '<=' | '>' | '>=', left: unknown, right: unknown): boolean {
  if (typeof left === 'string' && typeof right === 'number' && left.trim() !== '') left = Number(left);
  if (typeof left === 'number' && typeof right === 'string' && right.trim() !== '') right = Number(right);
  const comparable =
    (typeof left === 'number' && typeof right === 'number') || (typeof left === 'string' && typeof right === 'string');
  if (!comparable) return false;
  const a = left as number | string;
  const b = right as number | string;
  switch (op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
  }
}

function containsSecret(value: unknown): boolean {
  if (isSecret(value)) return true;
  if (Array.isArray(value)) return value.some(containsSecret);
  if (isPlainObject(value)) return Object.values(value).some(containsSecret);
  return false;
}

/** Text of a value inside a string: null/missing as empty, lists and objects as JSON. */
function toText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof Unresolved) return value.toString();
  return JSON.stringify(value);
}

function render(value: unknown, source: string): string {
  if (containsSecret(value)) {
    throw new ExpressionError(
      `refusing to build a string that contains a secret ('\${{ ${source.trim()} }}'): pass the secret as the whole value of a field`,
      source,
    );
  }
  return toText(value);
}

// ---------------------------------------------------------------------------------------------
// References (for validation and for the executor's implicit dependencies)

/**
 * Every context reference in `value` (deeply: strings inside objects and lists), in order.
 * Strings are read as templates (`${{ }}` parts); with `{ bare: true }` a string is read as
 * one bare expression, as an `if:` is. Throws ExpressionError on bad syntax.
 */
export function collectReferences(value: unknown, options: { bare?: boolean } = {}): ExpressionReference[] {
  const found: ExpressionReference[] = [];
  const visit = (current: unknown): void => {
    if (typeof current === 'string') {
      const sources = options.bare ? [conditionSource(current)] : findExpressions(current).map((part) => part.source);
      for (const source of sources) referencesOf(parseExpression(source), found);
    } else if (Array.isArray(current)) {
      current.forEach(visit);
    } else if (isPlainObject(current)) {
      Object.values(current).forEach(visit);
    }
  };
  visit(value);
  return found;
}

function referencesOf(node: ExpressionNode, found: ExpressionReference[]): void {
  switch (node.kind) {
    case 'literal':
      return;
    case 'ref': {
      const path: string[] = [];
      for (const segment of node.segments) {
        if (segment.kind === 'computed') break;
        path.push(String(segment.key));
      }
      found.push({ expression: renderPath(node.context, path), context: node.context, path });
      for (const segment of node.segments) if (segment.kind === 'computed') referencesOf(segment.node, found);
      return;
    }
    case 'member':
      referencesOf(node.object, found);
      if (node.property.kind === 'computed') referencesOf(node.property.node, found);
      return;
    case 'call':
      node.args.forEach((arg) => referencesOf(arg, found));
      return;
    case 'not':
      referencesOf(node.operand, found);
      return;
    case 'binary':
      referencesOf(node.left, found);
      referencesOf(node.right, found);
      return;
  }
}
