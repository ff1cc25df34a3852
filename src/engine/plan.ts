import type { ApiCall } from '../actions/define.js';
import type { Playbook, Step } from './model.js';

/** A reference to another step found in a step's `with`, `if` or `for_each`. */
export interface StepReference {
  step: string;
  /** The output named, when the reference is `steps.<id>.outputs.<name>`. */
  output?: string;
}

const EXPRESSION = /\$\{\{([\s\S]*?)\}\}/g;
const STEPS_REF = /(?<![\w.])steps\.([A-Za-z_][\w-]*)(?:\.outputs\.([A-Za-z_][\w-]*))?/g;

function referencesIn(text: string, into: StepReference[]): void {
  for (const match of text.matchAll(STEPS_REF)) {
    into.push(match[2] ? { step: match[1]!, output: match[2] } : { step: match[1]! });
  }
}

function walkStrings(value: unknown, visit: (text: string) => void): void {
  if (typeof value === 'string') visit(value);
  else if (Array.isArray(value)) value.forEach((element) => walkStrings(element, visit));
  else if (value !== null && typeof value === 'object') Object.values(value).forEach((element) => walkStrings(element, visit));
}

/**
 * The steps a step reads from: `steps.X...` inside `${{ }}` in `with` and `for_each`, and
 * anywhere in `if` (which, as in GitHub Actions, may be written without the braces).
 */
export function stepReferences(step: Step): StepReference[] {
  const found: StepReference[] = [];
  const inExpressions = (text: string) => {
    for (const match of text.matchAll(EXPRESSION)) referencesIn(match[1]!, found);
  };
  walkStrings(step.with, inExpressions);
  walkStrings(step.for_each, inExpressions);
  if (step.if !== undefined) referencesIn(step.if, found);
  return found;
}

/**
 * What each step waits for: its `needs` plus every step its expressions read. Implicit
 * dependencies make `${{ steps.a.outputs.x }}` safe without a `needs: [a]`. References to ids
 * that are not steps are left to validation (playbook.ts reports them with file:line:col).
 */
export function dependencyGraph(playbook: Playbook): Map<string, Set<string>> {
  const ids = new Set(playbook.steps.map((step) => step.id));
  const graph = new Map<string, Set<string>>();
  for (const step of playbook.steps) {
    const deps = new Set(step.needs.filter((id) => ids.has(id)));
    for (const ref of stepReferences(step)) if (ids.has(ref.step) && ref.step !== step.id) deps.add(ref.step);
    graph.set(step.id, deps);
  }
  return graph;
}

/** Every step that depends on `id`, directly or through others. */
export function dependentsOf(graph: Map<string, Set<string>>, id: string): Set<string> {
  const out = new Set<string>();
  const queue = [id];
  while (queue.length > 0) {
    const current = queue.shift()!;
    for (const [step, deps] of graph) {
      if (deps.has(current) && !out.has(step)) {
        out.add(step);
        queue.push(step);
      }
    }
  }
  return out;
}

const HTTP_METHOD = /^(GET|POST|PUT|PATCH|DELETE|HEAD)\s+\S/;
const MAX_INLINE = 80;

function inlineValue(value: unknown): string {
  if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) {
    const text = String(value);
    return text.length <= MAX_INLINE && !/\s/.test(text) ? text : `<${text.length} chars>`;
  }
  // Secret objects print as their fingerprint; other objects (policy documents) by size.
  const json = JSON.stringify(value) ?? '';
  if (json.startsWith('{"secret":true')) return String(value);
  return `<${json.length} chars of JSON>`;
}

/**
 * The exact call, as a responder reads it in a plan: GitHub REST calls with their path filled
 * in (`PUT /repos/acme/web/actions/workflows/deploy.yml/disable`), AWS calls as IAM policy
 * actions with their parameters (`iam:PutRolePolicy RoleName=deploy PolicyName=AWSRevokeOlderSessions
 * PolicyDocument=<189 chars of JSON>`). Secret parameters print as fingerprints.
 */
export function describeCall(call: ApiCall): string {
  const params = { ...call.params };
  let head: string;
  if (HTTP_METHOD.test(call.operation)) {
    head = call.operation.replace(/\{([^}]+)\}/g, (whole, name: string) => {
      if (!(name in params)) return whole;
      const value = String(params[name]);
      delete params[name];
      return value;
    });
  } else {
    head = `${call.service}:${call.operation}`;
  }
  const rest = Object.entries(params)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${inlineValue(value)}`);
  const target = call.target ? ` (${call.target})` : '';
  return [head, ...rest].join(' ') + target;
}

/** A dependency cycle as the ids along it (`[a, b, a]`), or undefined when the graph is acyclic. */
export function findCycle(graph: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === 'done') return undefined;
    if (state.get(id) === 'visiting') return [...path.slice(path.indexOf(id)), id];
    state.set(id, 'visiting');
    path.push(id);
    for (const dep of graph.get(id) ?? []) {
      const cycle = visit(dep);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const id of graph.keys()) {
    const cycle = visit(id);
    if (cycle) return cycle;
  }
  return undefined;
}
