/**
 * IAM policy documents as plain data: parse what IAM returns, count characters the way IAM's
 * quotas do, print them for humans. No API calls here.
 */

/** A condition block: operator (`StringLike`, `ForAnyValue:StringEquals`) -> key -> value(s). */
export type PolicyCondition = Record<string, Record<string, string | string[] | boolean | number>>;

/** One statement. Unknown fields are kept as they are so a rewrite never drops them. */
export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: '*' | Record<string, string | string[]>;
  NotPrincipal?: Record<string, string | string[]>;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: PolicyCondition;
  [field: string]: unknown;
}

export interface PolicyDocument {
  Version?: string;
  Id?: string;
  Statement: PolicyStatement[] | PolicyStatement;
  [field: string]: unknown;
}

/** The policy language version every document cicd-ir writes uses. */
export const POLICY_VERSION = '2012-10-17';

/**
 * Parses a policy document as IAM returns it. IAM's query API returns documents URL-encoded
 * (RFC 3986) and the SDK does not decode them; tools and tests sometimes hand over plain JSON.
 * Both are accepted: plain JSON starts with `{` once trimmed, which an encoded one never does.
 */
export function parsePolicyDocument(text: string): PolicyDocument {
  const trimmed = text.trim();
  const json = trimmed.startsWith('{') ? trimmed : decodeURIComponent(trimmed);
  const parsed: unknown = JSON.parse(json);
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed) || !('Statement' in parsed)) {
    throw new Error('not an IAM policy document (no Statement)');
  }
  return parsed as PolicyDocument;
}

/** The statements of a document, always as a list (IAM allows a single object). */
export function statementsOf(document: PolicyDocument): PolicyStatement[] {
  return Array.isArray(document.Statement) ? document.Statement : [document.Statement];
}

/** A field that IAM allows as a string or a list, always as a list. */
export function asList<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/**
 * The size IAM counts against its quotas: characters of the document without whitespace
 * ("IAM does not count white space"). Counted on the compact JSON so a pretty-printed
 * document and its compact form weigh the same.
 */
export function policySize(document: PolicyDocument | string): number {
  const text = typeof document === 'string' ? document : JSON.stringify(document);
  return text.replace(/\s/g, '').length;
}

/** The document as IAM should receive it: compact JSON. */
export function serializePolicy(document: PolicyDocument): string {
  return JSON.stringify(document);
}

/** The document as a human reviews it: two-space JSON. */
export function prettyPolicy(document: PolicyDocument): string {
  return JSON.stringify(document, null, 2);
}

/** Deep copy, so a rewrite never mutates the document it was given. */
export function clonePolicy(document: PolicyDocument): PolicyDocument {
  return structuredClone(document);
}

/** Whether two documents say the same thing, ignoring formatting and key order. */
export function samePolicy(a: PolicyDocument, b: PolicyDocument): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Whether an action pattern list (`sts:*`, `*`, `sts:AssumeRoleWithWebIdentity`) covers an action. */
export function actionCovers(patterns: string | string[] | undefined, action: string): boolean {
  return asList(patterns).some((pattern) => globMatch(pattern.toLowerCase(), action.toLowerCase()));
}

/**
 * IAM's wildcard match (StringLike, Action): `*` any run of characters, `?` exactly one.
 * Anchored: the whole value must match.
 */
export function globMatch(pattern: string, value: string): boolean {
  // Iterative matcher with backtracking on the last star: linear enough for policy strings
  // and free of regex-injection concerns for characters like `(` or `+` in a pattern.
  let p = 0;
  let v = 0;
  let starP = -1;
  let starV = 0;
  while (v < value.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === value[v])) {
      p++;
      v++;
    } else if (p < pattern.length && pattern[p] === '*') {
      starP = p++;
      starV = v;
    } else if (starP >= 0) {
      p = starP + 1;
      v = ++starV;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/**
 * Whether some value that starts with `prefix` matches the wildcard pattern: "could any
 * subject of this repository pass this condition". After the prefix is consumed, the rest
 * of a pattern can always be satisfied by some suffix, so only the prefix has to fit.
 */
export function globAdmitsPrefix(pattern: string, prefix: string): boolean {
  // States: positions in the pattern reachable after consuming the prefix so far.
  let states = closeOverStars(pattern, new Set([0]));
  for (const char of prefix) {
    const next = new Set<number>();
    for (const p of states) {
      if (p >= pattern.length) continue;
      const token = pattern[p];
      if (token === '*') next.add(p);
      else if (token === '?' || token === char) next.add(p + 1);
    }
    states = closeOverStars(pattern, next);
    if (states.size === 0) return false;
  }
  return states.size > 0;
}

function closeOverStars(pattern: string, states: Set<number>): Set<number> {
  const out = new Set(states);
  for (const p of states) {
    let q = p;
    while (q < pattern.length && pattern[q] === '*') out.add(++q);
  }
  return out;
}
