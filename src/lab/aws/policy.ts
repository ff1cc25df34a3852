/**
 * A small IAM policy evaluator for the lab.
 *
 * Written for this project (MIT) instead of using @cloud-copilot/iam-simulate, which is
 * AGPL-3.0 and so cannot ship inside an MIT package. It covers what the lab needs to decide
 * the attacker's calls the way AWS would: explicit Deny wins, then any Allow, else an implicit
 * deny (IAM User Guide, reference_policies_evaluation-logic); Action/NotAction,
 * Resource/NotResource, Principal/NotPrincipal; the common Condition operators with the
 * ForAnyValue:/ForAllValues: set prefixes and the IfExists suffix.
 *
 * Not modelled (the lab's scenarios do not use them): permission boundaries, SCPs/RCPs,
 * session policies, policy variables (`${aws:username}`), and the cross-account rule that
 * needs both the identity and the resource policy to allow.
 */

export type Decision = 'allow' | 'explicit-deny' | 'implicit-deny';

/** A policy as IAM stores it: JSON text or the parsed object. */
export type PolicyInput = string | Record<string, unknown>;

export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string[];
  NotAction?: string[];
  Resource?: string[];
  NotResource?: string[];
  /** `'*'` or principal type -> values. */
  Principal?: '*' | Record<string, string[]>;
  NotPrincipal?: '*' | Record<string, string[]>;
  Condition?: Record<string, Record<string, string[]>>;
}

export interface PolicyDocument {
  Version?: string;
  Statement: Statement[];
}

/** Who makes the request, for Principal matching in trust (resource) policies. */
export interface RequestPrincipal {
  /** `AWS` (users, roles, sessions, accounts), `Federated` (OIDC/SAML providers) or `Service`. */
  type: 'AWS' | 'Federated' | 'Service';
  /**
   * AWS: the caller's ARN (user, or `arn:aws:sts::ACCT:assumed-role/R/S`);
   * Federated: the provider ARN (`arn:aws:iam::ACCT:oidc-provider/token.actions.githubusercontent.com`);
   * Service: the service principal (`ec2.amazonaws.com`).
   */
  id: string;
  /** AWS: the caller's account (an account or `:root` principal admits every identity in it). */
  account?: string;
  /** AWS sessions: the role ARN the session belongs to (a role principal admits its sessions). */
  roleArn?: string;
}

/** Context values: a single string or a multi-valued key. */
export type ContextValue = string | string[] | undefined;

export interface EvaluationRequest {
  principal?: RequestPrincipal;
  action: string;
  resource: string;
  /** Condition keys (`aws:TokenIssueTime`, `aws:CurrentTime`, `token.actions.githubusercontent.com:sub`, ...). */
  context: Record<string, ContextValue>;
  identityPolicies: PolicyInput[];
  resourcePolicy?: PolicyInput;
}

export interface EvaluationResult {
  decision: Decision;
  /** The statements that decided it (the denying ones, or the allowing ones). */
  matched: Array<{ policy: number; sid?: string }>;
}

/** A policy document IAM would reject (`MalformedPolicyDocument`). */
export class MalformedPolicyError extends Error {
  override readonly name = 'MalformedPolicyError';
}

function asList(value: unknown, field: string): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value as string[];
  throw new MalformedPolicyError(`${field} must be a string or a list of strings`);
}

function parseCondition(value: unknown): Statement['Condition'] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MalformedPolicyError('Condition must be an object');
  const result: Record<string, Record<string, string[]>> = {};
  for (const [operator, block] of Object.entries(value)) {
    if (typeof block !== 'object' || block === null || Array.isArray(block)) {
      throw new MalformedPolicyError(`Condition operator ${operator} must map keys to values`);
    }
    const keys: Record<string, string[]> = {};
    for (const [key, raw] of Object.entries(block)) {
      const values = Array.isArray(raw) ? raw : [raw];
      if (!values.every((item) => ['string', 'number', 'boolean'].includes(typeof item))) {
        throw new MalformedPolicyError(`Condition ${operator} ${key}: values must be strings, numbers or booleans`);
      }
      keys[key] = values.map(String);
    }
    parseOperator(operator);
    result[operator] = keys;
  }
  return result;
}

function parsePrincipal(value: unknown, field: string): Statement['Principal'] {
  if (value === '*') return '*';
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MalformedPolicyError(`${field} must be "*" or an object`);
  const result: Record<string, string[]> = {};
  for (const [type, ids] of Object.entries(value)) result[type] = asList(ids, `${field}.${type}`);
  return result;
}

/**
 * Parses and checks a policy document (JSON text or object). `kind: 'trust'` requires a
 * Principal in every statement and `'identity'` a Resource, as IAM does.
 * @throws MalformedPolicyError with a message in IAM's spirit.
 */
export function parsePolicy(input: PolicyInput, kind: 'identity' | 'trust' | 'any' = 'any'): PolicyDocument {
  let raw: unknown = input;
  if (typeof input === 'string') {
    try {
      raw = JSON.parse(input);
    } catch {
      throw new MalformedPolicyError('Syntax errors in policy.');
    }
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new MalformedPolicyError('The policy must be a JSON object.');
  const doc = raw as Record<string, unknown>;
  if (doc.Version !== undefined && doc.Version !== '2012-10-17' && doc.Version !== '2008-10-17') {
    throw new MalformedPolicyError('The policy must contain a valid version string');
  }
  if (doc.Statement === undefined) throw new MalformedPolicyError('Missing required field Statement');
  const rawStatements = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  const statements = rawStatements.map((item, index): Statement => {
    if (typeof item !== 'object' || item === null) throw new MalformedPolicyError(`Statement ${index} must be an object`);
    const s = item as Record<string, unknown>;
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw new MalformedPolicyError('Invalid effect: must be Allow or Deny');
    const statement: Statement = { Effect: s.Effect };
    if (typeof s.Sid === 'string') statement.Sid = s.Sid;
    if (s.Action !== undefined) statement.Action = asList(s.Action, 'Action');
    if (s.NotAction !== undefined) statement.NotAction = asList(s.NotAction, 'NotAction');
    if (!statement.Action && !statement.NotAction) throw new MalformedPolicyError('Policy statement must contain actions.');
    if (s.Resource !== undefined) statement.Resource = asList(s.Resource, 'Resource');
    if (s.NotResource !== undefined) statement.NotResource = asList(s.NotResource, 'NotResource');
    if (s.Principal !== undefined) statement.Principal = parsePrincipal(s.Principal, 'Principal');
    if (s.NotPrincipal !== undefined) statement.NotPrincipal = parsePrincipal(s.NotPrincipal, 'NotPrincipal');
    if (s.Condition !== undefined) statement.Condition = parseCondition(s.Condition);
    if (kind === 'identity' && !statement.Resource && !statement.NotResource) throw new MalformedPolicyError('Policy statement must contain resources.');
    if (kind === 'identity' && (statement.Principal || statement.NotPrincipal)) throw new MalformedPolicyError('Policy document should not specify a principal.');
    if (kind === 'trust' && !statement.Principal && !statement.NotPrincipal) throw new MalformedPolicyError('Missing required field Principal');
    return statement;
  });
  return { ...(typeof doc.Version === 'string' ? { Version: doc.Version } : {}), Statement: statements };
}

/** Glob with `*` and `?`, anchored; `ignoreCase` for actions. */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const source = pattern
    .split('')
    .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, ignoreCase ? 'is' : 's').test(value);
}

function actionMatches(patterns: string[], action: string): boolean {
  return patterns.some((pattern) => wildcardMatch(pattern, action, true));
}

function resourceMatches(patterns: string[], resource: string): boolean {
  return patterns.some((pattern) => wildcardMatch(pattern, resource));
}

function principalListMatches(spec: '*' | Record<string, string[]>, principal: RequestPrincipal | undefined): boolean {
  if (!principal) return false;
  if (spec === '*') return true;
  const values = spec[principal.type] ?? [];
  return values.some((value) => {
    if (value === '*') return true;
    if (principal.type !== 'AWS') return value === principal.id;
    // An account id or its root ARN admits every identity of that account.
    const account = /^\d{12}$/.test(value) ? value : /^arn:aws:iam::(\d{12}):root$/.exec(value)?.[1];
    if (account) return principal.account === account;
    return value === principal.id || (principal.roleArn !== undefined && value === principal.roleArn);
  });
}

interface ParsedOperator {
  set?: 'ForAnyValue' | 'ForAllValues';
  base: string;
  ifExists: boolean;
}

const BASE_OPERATORS = new Set([
  'StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase', 'StringLike', 'StringNotLike',
  'NumericEquals', 'NumericNotEquals', 'NumericLessThan', 'NumericLessThanEquals', 'NumericGreaterThan', 'NumericGreaterThanEquals',
  'DateEquals', 'DateNotEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan', 'DateGreaterThanEquals',
  'Bool', 'ArnEquals', 'ArnLike', 'ArnNotEquals', 'ArnNotLike', 'IpAddress', 'NotIpAddress', 'Null',
]);

function parseOperator(operator: string): ParsedOperator {
  let rest = operator;
  let set: ParsedOperator['set'];
  const prefix = /^(ForAnyValue|ForAllValues):/.exec(rest);
  if (prefix) {
    set = prefix[1] as ParsedOperator['set'];
    rest = rest.slice(prefix[0].length);
  }
  const ifExists = rest.endsWith('IfExists') && rest !== 'IfExists';
  if (ifExists) rest = rest.slice(0, -'IfExists'.length);
  if (!BASE_OPERATORS.has(rest)) throw new MalformedPolicyError(`Invalid Condition type : ${operator}`);
  return { ...(set ? { set } : {}), base: rest, ifExists };
}

/** Negated operators: true when the value matches none of the policy's values. */
const NEGATED = new Set(['StringNotEquals', 'StringNotEqualsIgnoreCase', 'StringNotLike', 'NumericNotEquals', 'DateNotEquals', 'ArnNotEquals', 'ArnNotLike', 'NotIpAddress']);

const POSITIVE_OF: Record<string, string> = {
  StringNotEquals: 'StringEquals', StringNotEqualsIgnoreCase: 'StringEqualsIgnoreCase', StringNotLike: 'StringLike',
  NumericNotEquals: 'NumericEquals', DateNotEquals: 'DateEquals', ArnNotEquals: 'ArnEquals', ArnNotLike: 'ArnLike', NotIpAddress: 'IpAddress',
};

function parseDate(value: string): number {
  // Dates in conditions are ISO 8601 or epoch seconds (IAM User Guide, Date condition operators).
  return /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value);
}

function ipv4(value: string): number | undefined {
  const parts = value.split('.').map(Number);
  if (parts.length !== 4 || parts.some((part) => !Number.isInteger(part) || part < 0 || part > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

function inCidr(address: string, cidr: string): boolean {
  const [base, bits = '32'] = cidr.split('/');
  const ip = ipv4(address);
  const net = ipv4(base ?? '');
  if (ip === undefined || net === undefined) return address === cidr;
  const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  return (ip & mask) === (net & mask);
}

/** One context value against one policy value, for a positive base operator. */
function compare(base: string, actual: string, expected: string): boolean {
  switch (base) {
    case 'StringEquals':
      return actual === expected;
    case 'StringEqualsIgnoreCase':
      return actual.toLowerCase() === expected.toLowerCase();
    case 'StringLike':
      return wildcardMatch(expected, actual);
    case 'NumericEquals':
      return Number(actual) === Number(expected);
    case 'NumericLessThan':
      return Number(actual) < Number(expected);
    case 'NumericLessThanEquals':
      return Number(actual) <= Number(expected);
    case 'NumericGreaterThan':
      return Number(actual) > Number(expected);
    case 'NumericGreaterThanEquals':
      return Number(actual) >= Number(expected);
    case 'DateEquals':
      return parseDate(actual) === parseDate(expected);
    case 'DateLessThan':
      return parseDate(actual) < parseDate(expected);
    case 'DateLessThanEquals':
      return parseDate(actual) <= parseDate(expected);
    case 'DateGreaterThan':
      return parseDate(actual) > parseDate(expected);
    case 'DateGreaterThanEquals':
      return parseDate(actual) >= parseDate(expected);
    case 'Bool':
      return actual.toLowerCase() === expected.toLowerCase();
    case 'ArnEquals':
    case 'ArnLike':
      return wildcardMatch(expected, actual);
    case 'IpAddress':
      return inCidr(actual, expected);
    default:
      return false;
  }
}

function lookup(context: Record<string, ContextValue>, key: string): string[] | undefined {
  // Condition key names are case-insensitive (IAM User Guide, reference_policies_condition-keys).
  const lower = key.toLowerCase();
  for (const [name, value] of Object.entries(context)) {
    if (name.toLowerCase() !== lower || value === undefined) continue;
    return Array.isArray(value) ? value : [value];
  }
  return undefined;
}

function conditionKeyMatches(operator: ParsedOperator, key: string, expected: string[], context: Record<string, ContextValue>): boolean {
  const actual = lookup(context, key);
  if (operator.base === 'Null') {
    // "Null": {"k": "true"} is true when the key is absent.
    const absent = actual === undefined || actual.length === 0;
    return expected.some((value) => (value.toLowerCase() === 'true') === absent);
  }
  const negated = NEGATED.has(operator.base);
  const positive = POSITIVE_OF[operator.base] ?? operator.base;
  const matchesAny = (value: string): boolean => expected.some((candidate) => compare(positive, value, candidate));
  const satisfies = (value: string): boolean => (negated ? !matchesAny(value) : matchesAny(value));

  if (actual === undefined || actual.length === 0) {
    if (operator.set === 'ForAllValues') return true; // vacuously true: why FACTS.md forbids it in an Allow
    if (operator.set === 'ForAnyValue') return false;
    if (operator.ifExists) return true;
    // A negated operator on a missing key evaluates to true (IAM User Guide, condition operators).
    return negated;
  }
  if (operator.set === 'ForAllValues') return actual.every(satisfies);
  if (operator.set === 'ForAnyValue') return actual.some(satisfies);
  // Single-valued operators on a multi-valued key: negated ones need every value to miss.
  return negated ? actual.every(satisfies) : actual.some(satisfies);
}

function conditionsMatch(condition: Statement['Condition'], context: Record<string, ContextValue>): boolean {
  if (!condition) return true;
  return Object.entries(condition).every(([name, keys]) => {
    const operator = parseOperator(name);
    return Object.entries(keys).every(([key, expected]) => conditionKeyMatches(operator, key, expected, context));
  });
}

function statementApplies(statement: Statement, request: EvaluationRequest, checkPrincipal: boolean): boolean {
  if (statement.Action && !actionMatches(statement.Action, request.action)) return false;
  if (statement.NotAction && actionMatches(statement.NotAction, request.action)) return false;
  if (statement.Resource && !resourceMatches(statement.Resource, request.resource)) return false;
  if (statement.NotResource && resourceMatches(statement.NotResource, request.resource)) return false;
  if (checkPrincipal) {
    if (statement.Principal && !principalListMatches(statement.Principal, request.principal)) return false;
    if (statement.NotPrincipal && principalListMatches(statement.NotPrincipal, request.principal)) return false;
  }
  return conditionsMatch(statement.Condition, request.context);
}

/** The same as {@link evaluate}, with the statements that decided it. */
export function evaluateDetailed(request: EvaluationRequest): EvaluationResult {
  const policies: Array<{ doc: PolicyDocument; resource: boolean }> = request.identityPolicies.map((input) => ({ doc: parsePolicy(input), resource: false }));
  if (request.resourcePolicy !== undefined) policies.push({ doc: parsePolicy(request.resourcePolicy), resource: true });
  const denies: EvaluationResult['matched'] = [];
  const allows: EvaluationResult['matched'] = [];
  policies.forEach(({ doc, resource }, policy) => {
    for (const statement of doc.Statement) {
      // Resource (trust) policies name who they apply to; identity policies apply to their holder.
      if (resource && !statement.Principal && !statement.NotPrincipal) continue;
      if (!statementApplies(statement, request, resource)) continue;
      (statement.Effect === 'Deny' ? denies : allows).push({ policy, ...(statement.Sid ? { sid: statement.Sid } : {}) });
    }
  });
  if (denies.length > 0) return { decision: 'explicit-deny', matched: denies };
  if (allows.length > 0) return { decision: 'allow', matched: allows };
  return { decision: 'implicit-deny', matched: [] };
}

/**
 * Decides a request as IAM does within one account: an explicit Deny in any policy wins,
 * otherwise any Allow (identity or resource policy) allows, otherwise it is implicitly denied.
 */
export function evaluate(request: EvaluationRequest): Decision {
  return evaluateDetailed(request).decision;
}

/** Policy size as IAM counts it against its quotas: whitespace is not counted. */
export function policySize(text: string): number {
  return text.replace(/\s/g, '').length;
}
