import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import type { ActionDefinition } from '../actions/define.js';
import { actions as registeredActions } from '../actions/index.js';
import { UsageError, ValidationError, type SourceLocation, type ValidationIssue } from './errors.js';
import {
  collectReferences,
  ExpressionError,
  hasExpression,
  wholeExpression,
  type ExpressionReference,
} from './expressions.js';
import type { InputSpec, InputType, InputValues, Playbook, Step } from './model.js';
import { ALLOWED_KEYS, INPUT_TYPES, parseDuration, PlaybookSchema } from './playbook-schema.js';

/** Options of parsePlaybook / loadPlaybook. */
export interface ParseOptions {
  /** The actions `uses:` may name; the real registry (src/actions/index.ts) by default. Tests inject fakes. */
  registry?: readonly ActionDefinition[];
}

/** The fields of `run.*` in expressions. */
const RUN_FIELDS = ['id', 'incident', 'dry_run', 'started_at'];

type Path = Array<string | number>;

/**
 * Parses and validates a playbook. Every problem found is collected (not just the first) and
 * thrown as one ValidationError whose issues carry file:line:col of the offending YAML node.
 *
 * Checks, in order: YAML syntax (stops there); structure against the zod schema (unknown keys,
 * wrong types, missing keys); inputs (names, defaults of the declared type); steps (unique ids,
 * `uses` in the registry, `with:` against the action's strict schema, `needs` naming existing
 * steps, expressions parse and name known inputs, steps, outputs and `run` fields, `item` only
 * under `for_each`); and finally cycles in the dependency graph.
 *
 * Implicit dependencies: a step whose `with`, `if` or `for_each` reads `steps.X` (outputs or
 * status) depends on X even when `needs` does not list it; the returned `Step.needs` holds the
 * explicit ids first, then the implicit ones. So the executor only has to follow `needs`, and a
 * cycle made through expressions is reported like one made through `needs`.
 *
 * A `with:` field whose value holds `${{ }}` is checked only for its references: its type is
 * known at run time, when the action's schema checks the evaluated value again.
 */
export function parsePlaybook(text: string, file: string, options: ParseOptions = {}): Playbook {
  return new PlaybookValidator(text, file, options.registry ?? registeredActions).run();
}

/** Reads and validates a playbook file. An unreadable file is bad input (exit 2) too. */
export async function loadPlaybook(file: string, options: ParseOptions = {}): Promise<Playbook> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
    throw new UsageError(`cannot read playbook ${file}: ${reason}`);
  }
  return parsePlaybook(text, file, options);
}

class PlaybookValidator {
  private readonly issues: ValidationIssue[] = [];
  private readonly lineCounter = new LineCounter();
  private doc!: Document.Parsed;

  constructor(
    private readonly text: string,
    private readonly file: string,
    private readonly registry: readonly ActionDefinition[],
  ) {}

  run(): Playbook {
    this.doc = parseDocument(this.text, { lineCounter: this.lineCounter, prettyErrors: false, uniqueKeys: true });
    if (this.doc.errors.length > 0) {
      // Only the first: after a syntax error the parser's later complaints are mostly echoes of it.
      const error = this.doc.errors[0]!;
      const position = error.linePos?.[0] ?? this.lineCounter.linePos(error.pos[0]);
      const more = this.doc.errors.length > 1 ? ` (fix it and validate again: the rest of the file could not be read)` : '';
      const message = error.code === 'MULTIPLE_DOCS' ? "a playbook file holds one YAML document: remove the second '---'" : firstLine(error.message);
      this.issues.push({ file: this.file, line: position.line, col: position.col, message: `YAML syntax: ${message}${more}` });
      this.fail();
    }
    let data: unknown;
    try {
      data = this.doc.toJS({ maxAliasCount: 100 });
    } catch (error) {
      // An alias to an anchor not (yet) defined, or an alias bomb: yaml throws here, not in errors.
      let offset = 0;
      visit(this.doc, {
        Alias: (_key, alias) => {
          if (alias.resolve(this.doc) === undefined) {
            offset = alias.range?.[0] ?? 0;
            return visit.BREAK;
          }
          return undefined;
        },
      });
      const { line, col } = this.lineCounter.linePos(offset);
      this.issues.push({ file: this.file, line, col, message: `YAML: ${firstLine((error as Error).message)}` });
      this.fail();
    }
    if (!isRecord(data)) {
      this.issue([], data === null || data === undefined ? 'the playbook is empty' : 'a playbook is a YAML mapping (name, description, inputs, steps)');
      this.fail();
    }

    // `with:` with nothing after it reads as null in YAML; it means "no parameters".
    if (Array.isArray(data.steps)) for (const step of data.steps) if (isRecord(step) && step.with === null) step.with = {};
    this.checkStructure(data);
    const inputs = this.checkInputs(data.inputs);
    const steps = this.checkSteps(data.steps, inputs);
    this.checkCycles(steps);
    if (this.issues.length > 0) this.fail();

    // The structure passed: the zod output (defaults applied) is now safe to read.
    const parsed = PlaybookSchema.parse(data);
    return {
      file: this.file,
      hash: createHash('sha256').update(this.text, 'utf8').digest('hex'),
      name: parsed.name,
      description: parsed.description,
      inputs: Object.fromEntries(
        Object.entries(parsed.inputs).map(([name, spec]): [string, InputSpec] => [
          name,
          {
            type: spec.type,
            ...(spec.description !== undefined && { description: spec.description }),
            required: spec.required,
            ...(spec.default !== undefined && { default: spec.default }),
            location: this.locate(['inputs', name], true),
          },
        ]),
      ),
      steps: parsed.steps.map((step, index): Step => {
        const info = steps[index]!;
        return {
          id: step.id,
          ...(step.name !== undefined && { name: step.name }),
          uses: step.uses,
          with: step.with,
          needs: [...new Set([...info.explicitNeeds, ...info.implicitNeeds])],
          ...(step.if !== undefined && { if: String(step.if) }),
          ...(step.for_each !== undefined && { for_each: step.for_each }),
          ...(step.retry && { retry: { attempts: step.retry.attempts, backoffMs: parseDuration(step.retry.backoff)! } }),
          ...(step.timeout !== undefined && { timeoutMs: parseDuration(step.timeout)! }),
          continueOnError: step.continue_on_error,
          location: this.locate(['steps', index]),
        };
      }),
    };
  }

  private fail(): never {
    const sorted = [...this.issues].sort((a, b) => a.line - b.line || a.col - b.col);
    throw new ValidationError(sorted, {
      suggestions: ['`cicd-ir schema` prints the JSON Schema of the format; `cicd-ir actions list` lists the actions.'],
    });
  }

  // -------------------------------------------------------------------------------------------
  // Positions

  /** The YAML node at `path` (or, with `key`, the key node of its pair), and the deepest node reached. */
  private nodeAt(path: Path, key = false): { node: YamlNode | null; exact: boolean } {
    let node: unknown = this.doc.contents;
    let last: YamlNode | null = (this.doc.contents as YamlNode | null) ?? null;
    for (let i = 0; i < path.length; i++) {
      const segment = path[i]!;
      if (isMap(node)) {
        const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment));
        if (!pair) return { node: last, exact: false };
        const isLast = i === path.length - 1;
        if (isLast && key) return { node: pair.key as YamlNode, exact: true };
        // `with:` with nothing after it has no value node, or an empty one: the key stands for it.
        const value = pair.value as YamlNode | null;
        node = value && !(isScalar(value) && value.range && value.range[0] === value.range[1]) ? value : pair.key;
      } else if (isSeq(node) && typeof segment === 'number') {
        node = node.items[segment];
        if (node === undefined) return { node: last, exact: false };
      } else {
        return { node: last, exact: false };
      }
      last = node as YamlNode;
    }
    return { node: last, exact: true };
  }

  private locate(path: Path, key = false): SourceLocation {
    const { node } = this.nodeAt(path, key);
    const offset = node?.range?.[0] ?? 0;
    const { line, col } = this.lineCounter.linePos(offset);
    return { file: this.file, line, col };
  }

  private issue(path: Path, message: string, key = false): void {
    this.issues.push({ ...this.locate(path, key), message });
  }

  // -------------------------------------------------------------------------------------------
  // Structure

  private checkStructure(data: Record<string, unknown>): void {
    const result = PlaybookSchema.safeParse(data);
    if (result.success) return;
    for (const issue of result.error.issues) this.reportZodIssue(issue, [], data, allowedKeysAt);
  }

  /**
   * Turns one zod issue into located messages. `base` is where the validated value sits in the
   * document (the playbook itself, or a step's `with`).
   */
  private reportZodIssue(
    issue: z.core.$ZodIssue,
    base: Path,
    root: unknown,
    allowed: (path: Path) => readonly string[] | undefined,
  ): void {
    const path = [...base, ...(issue.path as Path)];
    const relative = issue.path as Path;
    if (issue.code === 'unrecognized_keys') {
      const keys = allowed(path);
      for (const key of issue.keys) {
        const hint = keys ? ` (allowed: ${keys.join(', ')})${didYouMean(key, keys)}` : '';
        this.issue([...path, key], `unknown key '${key}' in ${describePath(path)}${hint}`, true);
      }
      return;
    }
    if (issue.code === 'invalid_key') {
      const name = String(path[path.length - 1]);
      const what = path[0] === 'inputs' && path.length === 2 ? `input name '${name}'` : `key '${name}' in ${describePath(path.slice(0, -1))}`;
      const use = path[0] === 'inputs' ? ` (it is used as inputs.${name} and --var ${name}=...)` : '';
      this.issue(path, `${what} must be lower-case kebab or snake case${use}`, true);
      return;
    }
    const parent = valueAt(root, relative.slice(0, -1));
    const last = relative[relative.length - 1];
    if (issue.code === 'invalid_type' && last !== undefined && isRecord(parent) && !(String(last) in parent)) {
      this.issue(path.slice(0, -1), `missing required key '${String(last)}' in ${describePath(path.slice(0, -1))}`);
      return;
    }
    const actual = valueAt(root, relative);
    let message = issue.message;
    if (issue.code === 'invalid_type') message = `expected ${EXPECTED[issue.expected] ?? issue.expected}, got ${kindOf(actual)}`;
    else if (issue.code === 'invalid_value') message = `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(actual)}`;
    this.issue(path, `${describePath(path)}: ${message}`);
  }

  // -------------------------------------------------------------------------------------------
  // Inputs

  private checkInputs(raw: unknown): Map<string, InputType | undefined> {
    const inputs = new Map<string, InputType | undefined>();
    if (!isRecord(raw)) return inputs;
    for (const [name, spec] of Object.entries(raw)) {
      const type = isRecord(spec) && (INPUT_TYPES as readonly unknown[]).includes(spec.type) ? (spec.type as InputType) : undefined;
      inputs.set(name, type);
      if (!isRecord(spec) || spec.default === undefined) continue;
      if (spec.required === true) {
        this.issue(['inputs', name, 'default'], `input '${name}' is required and has a default: drop one of them`, true);
      } else if (type) {
        const coerced = coerceInput(type, spec.default);
        if ('error' in coerced) this.issue(['inputs', name, 'default'], `default of input '${name}': ${coerced.error}`);
      }
    }
    return inputs;
  }

  // -------------------------------------------------------------------------------------------
  // Steps

  private checkSteps(raw: unknown, inputs: Map<string, InputType | undefined>): StepInfo[] {
    const list = Array.isArray(raw) ? raw : [];
    const infos: StepInfo[] = list.map((step, index) => ({
      index,
      id: isRecord(step) && typeof step.id === 'string' ? step.id : undefined,
      action: undefined,
      explicitNeeds: [],
      implicitNeeds: [],
      edges: new Map(),
    }));
    const firstIndex = new Map<string, number>();
    for (const info of infos) {
      if (info.id === undefined) continue;
      const first = firstIndex.get(info.id);
      if (first === undefined) {
        firstIndex.set(info.id, info.index);
      } else {
        const where = this.locate(['steps', first, 'id']);
        this.issue(['steps', info.index, 'id'], `duplicate step id '${info.id}' (first defined at line ${where.line}:${where.col})`);
      }
    }
    const ids = [...firstIndex.keys()];

    list.forEach((step, index) => {
      if (!isRecord(step)) return;
      const info = infos[index]!;
      info.action = this.checkUses(step, index);
      // No `with:` at all is an empty one: an action with required parameters must still say so.
      const withBlock = step.with === undefined ? {} : step.with;
      if (info.action && isRecord(withBlock)) this.checkWith(withBlock, info.action, index);
      this.checkNeeds(step.needs, index, info, firstIndex, ids);
    });

    // References need every step's action known first (outputs of later steps are legal).
    const actionOf = new Map<string, ActionDefinition | undefined>();
    for (const info of infos) if (info.id !== undefined && !actionOf.has(info.id)) actionOf.set(info.id, info.action);
    list.forEach((step, index) => {
      if (isRecord(step)) this.checkExpressions(step, infos[index]!, inputs, actionOf, ids);
    });
    return infos;
  }

  private checkUses(step: Record<string, unknown>, index: number): ActionDefinition | undefined {
    if (typeof step.uses !== 'string') return undefined;
    const action = this.registry.find((candidate) => candidate.id === step.uses);
    if (!action) {
      const valid = this.registry.map((candidate) => candidate.id).sort();
      this.issue(
        ['steps', index, 'uses'],
        `unknown action '${step.uses}' (${valid.length > 0 ? `valid actions: ${valid.join(', ')}` : 'no actions are registered'})${didYouMean(step.uses, valid)}`,
      );
    }
    return action;
  }

  private checkWith(value: Record<string, unknown>, action: ActionDefinition, index: number): void {
    const result = action.schema.safeParse(value);
    if (result.success) return;
    const base: Path = ['steps', index, 'with'];
    const keys = objectKeys(action.schema);
    for (const issue of result.error.issues) {
      // A field holding an expression has its type checked at run time, on the evaluated value.
      if (issue.code !== 'unrecognized_keys' && hitsExpression(value, issue.path as Path)) continue;
      this.reportZodIssue(issue, base, value, (path) => (path.length === base.length ? keys : undefined));
    }
  }

  private checkNeeds(raw: unknown, index: number, info: StepInfo, firstIndex: Map<string, number>, ids: string[]): void {
    const entries: Array<{ id: unknown; path: Path }> =
      typeof raw === 'string'
        ? [{ id: raw, path: ['steps', index, 'needs'] }]
        : Array.isArray(raw)
          ? raw.map((id, position) => ({ id, path: ['steps', index, 'needs', position] }))
          : [];
    for (const { id, path } of entries) {
      if (typeof id !== 'string') continue;
      if (id === info.id) {
        this.issue(path, `step '${id}' needs itself`);
      } else if (!firstIndex.has(id)) {
        this.issue(path, `needs '${id}': no such step (steps: ${ids.join(', ') || 'none'})${didYouMean(id, ids)}`);
      } else if (!info.explicitNeeds.includes(id)) {
        info.explicitNeeds.push(id);
        info.edges.set(id, path);
      }
    }
  }

  private checkExpressions(
    step: Record<string, unknown>,
    info: StepInfo,
    inputs: Map<string, InputType | undefined>,
    actionOf: Map<string, ActionDefinition | undefined>,
    ids: string[],
  ): void {
    const base: Path = ['steps', info.index];
    const hasForEach = step.for_each !== undefined;
    const visit = (value: unknown, path: Path, mode: 'template' | 'condition' | 'for_each'): void => {
      if (typeof value === 'string') {
        this.checkExpressionString(value, path, mode, { info, inputs, actionOf, ids, itemAllowed: hasForEach && path[2] !== 'for_each' });
      } else if (Array.isArray(value)) {
        value.forEach((element, position) => visit(element, [...path, position], 'template'));
      } else if (isRecord(value)) {
        for (const [key, element] of Object.entries(value)) visit(element, [...path, key], 'template');
      }
    };
    visit(step.with, [...base, 'with'], 'template');
    if (typeof step.if === 'string') visit(step.if, [...base, 'if'], 'condition');
    if (step.for_each !== undefined) visit(step.for_each, [...base, 'for_each'], 'for_each');
  }

  private checkExpressionString(
    value: string,
    path: Path,
    mode: 'template' | 'condition' | 'for_each',
    context: {
      info: StepInfo;
      inputs: Map<string, InputType | undefined>;
      actionOf: Map<string, ActionDefinition | undefined>;
      ids: string[];
      itemAllowed: boolean;
    },
  ): void {
    if (mode === 'template' && !hasExpression(value)) return;
    let references: ExpressionReference[];
    try {
      if (mode === 'for_each' && wholeExpression(value) === undefined) {
        this.issue(path, "for_each is a list or one '${{ ... }}' expression that gives a list");
        return;
      }
      references = collectReferences(value, { bare: mode === 'condition' });
    } catch (error) {
      if (!(error instanceof ExpressionError)) throw error;
      this.issue(path, `bad expression: ${error.message}`);
      return;
    }
    const shown = (reference: ExpressionReference): string => `'\${{ ${reference.expression} }}'`;
    for (const reference of references) {
      const [first, second, third] = reference.path;
      switch (reference.context) {
        case 'inputs':
          if (first !== undefined && !context.inputs.has(first)) {
            const declared = [...context.inputs.keys()];
            this.issue(path, `${shown(reference)} names unknown input '${first}' (inputs: ${declared.join(', ') || 'none declared'})${didYouMean(first, declared)}`);
          }
          break;
        case 'item':
          if (!context.itemAllowed) {
            this.issue(path, `${shown(reference)}: 'item' exists only in a step with for_each (and not in for_each itself)`);
          }
          break;
        case 'run':
          if (first !== undefined && !RUN_FIELDS.includes(first)) {
            this.issue(path, `${shown(reference)}: run has no field '${first}' (fields: ${RUN_FIELDS.join(', ')})`);
          }
          break;
        case 'steps': {
          // The step must be named literally: the dependency it creates is fixed before the run.
          if (first === undefined) {
            this.issue(path, 'a step must be named literally (steps.<id>.outputs.<name> or steps.<id>.status), not computed or left out');
            break;
          }
          if (!context.actionOf.has(first)) {
            this.issue(path, `${shown(reference)} names unknown step '${first}' (steps: ${context.ids.join(', ') || 'none'})${didYouMean(first, context.ids)}`);
            break;
          }
          if (first === context.info.id) {
            this.issue(path, `${shown(reference)}: a step cannot read its own outputs or status`);
            break;
          }
          if (second !== undefined && second !== 'outputs' && second !== 'status') {
            this.issue(path, `${shown(reference)}: a step has 'outputs' and 'status', not '${second}'`);
            break;
          }
          const action = context.actionOf.get(first);
          if (second === 'outputs' && third !== undefined && action && !Object.hasOwn(action.outputs, third)) {
            const outputs = Object.keys(action.outputs);
            this.issue(path, `${shown(reference)}: action ${action.id} has no output '${third}' (outputs: ${outputs.join(', ') || 'none'})${didYouMean(third, outputs)}`);
            break;
          }
          if (!context.info.explicitNeeds.includes(first) && !context.info.implicitNeeds.includes(first)) {
            context.info.implicitNeeds.push(first);
          }
          if (!context.info.edges.has(first)) context.info.edges.set(first, path);
          break;
        }
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Cycles

  /** Reports each cycle of the needs graph (explicit + implicit) once, naming its ids in order. */
  private checkCycles(infos: StepInfo[]): void {
    const byId = new Map<string, StepInfo>();
    for (const info of infos) if (info.id !== undefined && !byId.has(info.id)) byId.set(info.id, info);
    const state = new Map<string, 'visiting' | 'done'>();
    const stack: string[] = [];
    const reported = new Set<string>();
    // Depth-first with an explicit stack: a chain of thousands of steps must give a cycle
    // message, not a RangeError from recursion.
    const visit = (root: string): void => {
      const frames: Array<{ id: string; nexts: string[]; at: number }> = [];
      const enter = (id: string) => {
        state.set(id, 'visiting');
        stack.push(id);
        const info = byId.get(id)!;
        frames.push({ id, nexts: [...info.explicitNeeds, ...info.implicitNeeds], at: 0 });
      };
      enter(root);
      while (frames.length > 0) {
        const frame = frames[frames.length - 1]!;
        if (frame.at >= frame.nexts.length) {
          frames.pop();
          stack.pop();
          state.set(frame.id, 'done');
          continue;
        }
        const next = frame.nexts[frame.at++]!;
        const info = byId.get(frame.id)!;
        if (!byId.has(next)) continue;
        if (state.get(next) === 'visiting') {
          const cycle = stack.slice(stack.indexOf(next));
          const key = [...cycle].sort().join('\u0000');
          if (!reported.has(key)) {
            reported.add(key);
            // Needs point backwards (a needs b): show the order they would have to run in,
            // starting from the step written first so the message does not depend on the walk.
            const reversed = [...cycle].reverse();
            const start = reversed.indexOf([...cycle].sort((x, y) => byId.get(x)!.index - byId.get(y)!.index)[0]!);
            const order = [...reversed.slice(start), ...reversed.slice(0, start)];
            const path = info.edges.get(next) ?? ['steps', info.index, 'id'];
            const shown = order.length > 12 ? [...order.slice(0, 10), `... ${order.length - 11} more ...`, order[order.length - 1]!] : order;
            this.issue(path, `dependency cycle: ${[...shown, order[0]].join(' -> ')} (through needs or steps.<id> references)`);
          }
        } else if (!state.has(next)) {
          enter(next);
        }
      }
    };
    for (const id of byId.keys()) if (!state.has(id)) visit(id);
  }
}

interface StepInfo {
  index: number;
  id: string | undefined;
  action: ActionDefinition | undefined;
  explicitNeeds: string[];
  implicitNeeds: string[];
  /** Where each dependency was declared (a needs entry or an expression), for cycle messages. */
  edges: Map<string, Path>;
}

/** ` Did you mean 'x'?` for the candidate closest to a misspelt name, or '' when none is close. */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  // Close means a typo or two, and less than half the name: 'z' is not a misspelt 'a'.
  const close = bestDistance > 0 && bestDistance <= Math.max(1, Math.floor(name.length / 3)) && bestDistance * 2 < name.length;
  return best !== undefined && close ? ` Did you mean '${best}'?` : '';
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

function allowedKeysAt(path: Path): readonly string[] | undefined {
  if (path.length === 0) return ALLOWED_KEYS.playbook;
  if (path[0] === 'inputs' && path.length === 2) return ALLOWED_KEYS.input;
  if (path[0] === 'steps' && path.length === 2) return ALLOWED_KEYS.step;
  if (path[0] === 'steps' && path.length === 3 && path[2] === 'retry') return ALLOWED_KEYS.retry;
  return undefined;
}

/** The keys of a zod object schema (for "allowed:" lists), when it is one. */
function objectKeys(schema: z.ZodType): string[] | undefined {
  const shape = (schema as unknown as { shape?: unknown }).shape;
  return isRecord(shape) ? Object.keys(shape) : undefined;
}

function hitsExpression(root: unknown, path: Path): boolean {
  let value = root;
  for (const segment of path) {
    if (typeof value === 'string') return hasExpression(value);
    if (Array.isArray(value) || isRecord(value)) value = (value as Record<string | number, unknown>)[segment];
    else return false;
  }
  return typeof value === 'string' && hasExpression(value);
}

function valueAt(root: unknown, path: Path): unknown {
  let value = root;
  for (const segment of path) {
    if (Array.isArray(value) || isRecord(value)) value = (value as Record<string | number, unknown>)[segment];
    else return undefined;
  }
  return value;
}

/** zod's type names in the words of YAML. */
const EXPECTED: Record<string, string> = {
  record: 'a mapping',
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'a boolean',
};

function describePath(path: Path): string {
  if (path.length === 0) return 'the playbook';
  let out = '';
  for (const segment of path) out += typeof segment === 'number' ? `[${segment}]` : out === '' ? segment : `.${segment}`;
  return out;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.trim();
}

// ---------------------------------------------------------------------------------------------
// Inputs at run time

/** ISO-8601 date, or date-time with seconds optional, fraction optional, and a zone (Z or ±hh:mm). */
const TIMESTAMP_PATTERN = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-](\d{2}):?(\d{2})))?$/i;

/** Date.parse rolls 2026-02-30 over to March 2: check the fields are a real calendar time first. */
function isRealTime(match: RegExpExecArray): boolean {
  const [year, month, day, hour = 0, minute = 0, second = 0, offsetHours = 0, offsetMinutes = 0] = match
    .slice(1)
    .map((part) => (part === undefined ? undefined : Number(part)));
  const daysInMonth = new Date(Date.UTC(year!, month!, 0)).getUTCDate();
  return (
    month! >= 1 && month! <= 12 && day! >= 1 && day! <= daysInMonth &&
    hour < 24 && minute < 60 && second < 60 && offsetHours < 24 && offsetMinutes < 60
  );
}

type Coerced = { value: string | string[] | boolean | number } | { error: string };

/**
 * Coerces one input value (a --var or a default) to its type. A timestamp must carry its zone
 * (`Z` or an offset): a responder's "14:05" in an unknown zone would move the revocation cutoff.
 */
export function coerceInput(type: InputType, raw: unknown): Coerced {
  const list = Array.isArray(raw) ? raw : [raw];
  const single = (): unknown => (list.length === 1 ? list[0] : undefined);
  switch (type) {
    case 'string': {
      const value = single();
      if (typeof value === 'string') return { value };
      if (typeof value === 'number' || typeof value === 'boolean') return { value: String(value) };
      return { error: list.length > 1 ? 'given more than once (a string takes one value)' : 'expected a string' };
    }
    case 'string[]': {
      const out: string[] = [];
      for (const element of list) {
        if (typeof element !== 'string') return { error: 'expected a list of strings or comma-separated text' };
        out.push(...element.split(',').map((part) => part.trim()).filter((part) => part !== ''));
      }
      return { value: out };
    }
    case 'boolean': {
      const value = single();
      if (typeof value === 'boolean') return { value };
      if (typeof value === 'string') {
        const normalised = value.trim().toLowerCase();
        if (['true', 'yes', '1', 'on'].includes(normalised)) return { value: true };
        if (['false', 'no', '0', 'off'].includes(normalised)) return { value: false };
      }
      return { error: `expected true or false, got ${JSON.stringify(value ?? list)}` };
    }
    case 'duration': {
      const value = single();
      const ms = typeof value === 'string' ? parseDuration(value) : undefined;
      if (ms === undefined) return { error: `expected a duration such as 30s, 15m, 2h or 1h30m, got ${JSON.stringify(value ?? list)}` };
      return { value: ms };
    }
    case 'timestamp': {
      const value = single();
      const match = typeof value === 'string' ? TIMESTAMP_PATTERN.exec(value.trim()) : null;
      if (typeof value !== 'string' || !match) {
        return { error: `expected an ISO-8601 timestamp with a zone (2026-03-14T09:30:00Z), got ${JSON.stringify(value ?? list)}` };
      }
      const time = Date.parse(value.trim());
      if (Number.isNaN(time) || !isRealTime(match)) return { error: `not a real date and time: ${JSON.stringify(value)}` };
      return { value: new Date(time).toISOString() };
    }
  }
}

/**
 * The input values of a run: each `--var` coerced to its declared type (string; string[] from
 * comma-separated text or repeated --var; boolean; duration in milliseconds; timestamp as a UTC
 * ISO string), defaults for the rest. Missing required inputs, values of the wrong type and
 * --var names the playbook does not declare are all reported at once, as a ValidationError
 * (exit 2) pointing at the input's definition. Optional inputs with no value are absent.
 */
export function resolveInputs(playbook: Playbook, vars: Record<string, string | string[] | boolean>): InputValues {
  const issues: ValidationIssue[] = [];
  const values: InputValues = {};
  const declared = Object.keys(playbook.inputs);
  for (const name of Object.keys(vars)) {
    if (!Object.hasOwn(playbook.inputs, name)) {
      // No node holds a --var: point at where the inputs are declared.
      const anchor = Object.values(playbook.inputs)[0]?.location ?? { file: playbook.file, line: 1, col: 1 };
      issues.push({ ...anchor, message: `unknown input '${name}' given with --var (inputs: ${declared.join(', ') || 'none declared'})` });
    }
  }
  for (const [name, spec] of Object.entries(playbook.inputs)) {
    const given = Object.hasOwn(vars, name) ? vars[name] : undefined;
    if (given === undefined) {
      if (spec.default !== undefined) {
        const coerced = coerceInput(spec.type, spec.default);
        if ('error' in coerced) issues.push({ ...spec.location, message: `default of input '${name}': ${coerced.error}` });
        else values[name] = coerced.value;
      } else if (spec.required) {
        const hint = spec.description ? ` (${spec.description})` : '';
        issues.push({ ...spec.location, message: `missing required input '${name}'${hint}: set it with --var ${name}=<${spec.type}>` });
      }
      continue;
    }
    const coerced = coerceInput(spec.type, given);
    if ('error' in coerced) issues.push({ ...spec.location, message: `input '${name}': ${coerced.error}` });
    else values[name] = coerced.value;
  }
  if (issues.length > 0) throw new ValidationError(issues);
  return values;
}
