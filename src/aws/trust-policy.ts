import type { Finding, Severity } from '../actions/define.js';
import {
  actionCovers,
  asList,
  clonePolicy,
  globAdmitsPrefix,
  globMatch,
  statementsOf,
  type PolicyDocument,
  type PolicyStatement,
} from './policy.js';
import { canonicalSubject, GITHUB_OIDC_ISSUER, subjectBreadth, subjectVariants } from './github-oidc.js';

/** The Sid of the Deny statement cicd-ir adds to a trust policy (a second issuer gets a suffix). */
export const DENY_SID = 'CicdIrDenyCompromisedSubject';

/** Trust policy size quota: 2,048 characters by default, raisable to 4,096 (FACTS.md). */
export const TRUST_POLICY_DEFAULT_LIMIT = 2_048;
export const TRUST_POLICY_MAX_LIMIT = 4_096;

const WEB_IDENTITY = 'sts:AssumeRoleWithWebIdentity';

/** One statement of a trust policy that lets GitHub Actions OIDC tokens assume the role. */
export interface GithubTrustStatement {
  index: number;
  statement: PolicyStatement;
  /** OIDC provider ARNs (or bare issuers) in `Principal.Federated`. */
  providers: string[];
  /** Issuers, which are also the condition-key prefixes: `token.actions.githubusercontent.com`. */
  issuers: string[];
  /** The `sub` conditions, each with its operator. Empty when the statement does not check `sub`. */
  sub: ClaimCondition[];
  aud: ClaimCondition[];
}

export interface ClaimCondition {
  /** As written: `StringLike`, `ForAllValues:StringEquals`, `StringNotEquals`. */
  operator: string;
  key: string;
  values: string[];
}

/** The issuer in an OIDC provider ARN (`arn:aws:iam::1:oidc-provider/token.actions...`) or a bare issuer. */
export function issuerOf(federated: string): string {
  const marker = ':oidc-provider/';
  const at = federated.indexOf(marker);
  return at >= 0 ? federated.slice(at + marker.length) : federated.replace(/^https:\/\//, '');
}

/**
 * Whether an issuer is GitHub Actions': github.com's (optionally with an enterprise slug,
 * `token.actions.githubusercontent.com/acme`) or a GitHub Enterprise Server's (`HOST/_services/token`).
 */
export function isGithubIssuer(issuer: string): boolean {
  return issuer === GITHUB_OIDC_ISSUER || issuer.startsWith(`${GITHUB_OIDC_ISSUER}/`) || issuer.endsWith('/_services/token');
}

function claimConditions(statement: PolicyStatement, issuers: string[], claim: 'sub' | 'aud'): ClaimCondition[] {
  const wanted = new Set(issuers.map((issuer) => `${issuer}:${claim}`.toLowerCase()));
  const out: ClaimCondition[] = [];
  for (const [operator, block] of Object.entries(statement.Condition ?? {})) {
    for (const [key, value] of Object.entries(block ?? {})) {
      // Condition keys are case-insensitive in IAM.
      if (wanted.has(key.toLowerCase())) out.push({ operator, key, values: asList(value as string | string[]).map(String) });
    }
  }
  return out;
}

/** The statements of a trust policy that concern GitHub Actions OIDC web-identity federation. */
export function githubTrustStatements(document: PolicyDocument): GithubTrustStatement[] {
  const out: GithubTrustStatement[] = [];
  statementsOf(document).forEach((statement, index) => {
    const principal = statement.Principal;
    if (!principal || principal === '*' || typeof principal !== 'object') return;
    const providers = asList(principal.Federated).filter((federated) => isGithubIssuer(issuerOf(federated)));
    if (providers.length === 0) return;
    if (!actionCovers(statement.Action, WEB_IDENTITY) && statement.Action !== undefined) return;
    const issuers = [...new Set(providers.map(issuerOf))];
    out.push({
      index,
      statement,
      providers,
      issuers,
      sub: claimConditions(statement, issuers, 'sub'),
      aud: claimConditions(statement, issuers, 'aud'),
    });
  });
  return out;
}

type Probe = { kind: 'subject'; value: string } | { kind: 'prefix'; value: string };

function baseOperator(operator: string): { quantifier?: 'ForAnyValue' | 'ForAllValues'; base: string; ifExists: boolean } {
  const [first, second] = operator.split(':');
  const quantified = second !== undefined;
  const rawBase = quantified ? second! : first!;
  const ifExists = rawBase.endsWith('IfExists');
  return {
    quantifier: quantified ? (first as 'ForAnyValue' | 'ForAllValues') : undefined,
    base: ifExists ? rawBase.slice(0, -'IfExists'.length) : rawBase,
    ifExists,
  };
}

/** Whether a single value (a subject, or "some subject with this prefix") passes one condition. */
function conditionAdmits(condition: ClaimCondition, probe: Probe, canonical: (value: string) => string): boolean {
  const { base } = baseOperator(condition.operator);
  const target = canonical(probe.value);
  const values = condition.values.map(canonical);
  const equalsOne = (ignoreCase: boolean): boolean =>
    values.some((value) => {
      const a = ignoreCase ? value.toLowerCase() : value;
      const b = ignoreCase ? target.toLowerCase() : target;
      return probe.kind === 'subject' ? a === b : a.startsWith(b);
    });
  const likeOne = (): boolean =>
    values.some((value) => (probe.kind === 'subject' ? globMatch(value, target) : globAdmitsPrefix(value, target)));
  switch (base) {
    case 'StringEquals':
      return equalsOne(false);
    case 'StringEqualsIgnoreCase':
      return equalsOne(true);
    case 'StringLike':
      return likeOne();
    // Negations: for a prefix probe some subject of the repo can always avoid a finite list.
    case 'StringNotEquals':
      return probe.kind === 'prefix' || !equalsOne(false);
    case 'StringNotEqualsIgnoreCase':
      return probe.kind === 'prefix' || !equalsOne(true);
    case 'StringNotLike':
      return probe.kind === 'prefix' || !likeOne();
    default:
      // An operator we do not model (Null, ArnLike on sub): assume it can pass, so a role
      // that might be reachable is reported rather than missed.
      return true;
  }
}

/**
 * Whether a GitHub statement's `sub` (and, when an audience is given, `aud`) conditions let
 * the probe through. Conditions on other keys are not known here and assumed satisfiable:
 * for "which roles can this repo reach" a false positive costs a revocation, a false
 * negative leaves a door open.
 */
export function statementAdmits(statement: GithubTrustStatement, probe: Probe, audience?: string): boolean {
  const subOk = statement.sub.every((condition) => conditionAdmits(condition, probe, canonicalSubject));
  if (!subOk) return false;
  if (audience === undefined) return true;
  return statement.aud.every((condition) => conditionAdmits(condition, { kind: 'subject', value: audience }, (value) => value));
}

/** How a trust policy treats a repository's (or a subject's) OIDC tokens. */
export interface TrustEvaluation {
  /** Allow statements (indexes) that admit it. */
  allowedBy: number[];
  /** Deny statements (indexes) that block it for every probe given (a full block). */
  deniedBy: number[];
  /** The `sub` values of the admitting statements, or `(no sub condition)`. */
  admittingPatterns: string[];
  /** Admitted and not denied. */
  admits: boolean;
}

/**
 * Evaluates a trust policy against subjects (exact `sub` claims) or a repository prefix
 * (`repo:org/app:`: any subject of the repo). Both subject formats match (see github-oidc.ts).
 */
export function evaluateTrust(document: PolicyDocument, probes: Probe[], audience?: string): TrustEvaluation {
  const statements = githubTrustStatements(document);
  const allowedBy: number[] = [];
  const deniedBy: number[] = [];
  const patterns = new Set<string>();
  for (const statement of statements) {
    if (statement.statement.Effect === 'Allow') {
      const admitting = probes.filter((probe) => statementAdmits(statement, probe, audience));
      if (admitting.length === 0) continue;
      allowedBy.push(statement.index);
      if (statement.sub.length === 0) patterns.add('(no sub condition)');
      for (const condition of statement.sub) for (const value of condition.values) patterns.add(value);
    } else if (statement.statement.Effect === 'Deny') {
      // A deny only counts when it certainly blocks: every subject given matches its sub
      // patterns. For a prefix probe a deny blocks all only with a pattern that covers the prefix.
      const blocks = probes.length > 0 && probes.every((probe) => denyBlocks(statement, probe));
      if (blocks) deniedBy.push(statement.index);
    }
  }
  return { allowedBy, deniedBy, admittingPatterns: [...patterns], admits: allowedBy.length > 0 && deniedBy.length === 0 };
}

function denyBlocks(statement: GithubTrustStatement, probe: Probe): boolean {
  if (statement.sub.length === 0) return Object.keys(statement.statement.Condition ?? {}).length === 0;
  return statement.sub.every((condition) => {
    const { base } = baseOperator(condition.operator);
    const values = condition.values.map(canonicalSubject);
    const target = canonicalSubject(probe.value);
    if (probe.kind === 'subject') {
      if (base === 'StringLike') return values.some((value) => globMatch(value, target));
      if (base === 'StringEquals') return values.includes(target);
      return false;
    }
    // Every subject with the prefix is blocked when a pattern is `<prefix>*`-like.
    if (base === 'StringLike') return values.some((value) => coversPrefix(value, target));
    return false;
  });
}

/** Whether the pattern matches every string that starts with the prefix (`repo:o/r:*` covers `repo:o/r:`). */
function coversPrefix(pattern: string, prefix: string): boolean {
  const star = pattern.indexOf('*');
  if (star < 0) return false;
  const head = pattern.slice(0, star);
  return prefix.startsWith(head) && /^\*+$/.test(pattern.slice(star));
}

/** Findings for trust statements that admit any repository, any branch, or rely on ForAllValues. */
export function overBroadTrustFindings(document: PolicyDocument, resource: string): Finding[] {
  const findings: Finding[] = [];
  const add = (severity: Severity, summary: string, evidence: unknown): void => {
    findings.push({ kind: 'trust-admits-any-repo', severity, resource, summary, evidence: [evidence] });
  };
  for (const statement of githubTrustStatements(document)) {
    if (statement.statement.Effect !== 'Allow') continue;
    const sid = statement.statement.Sid ? ` (Sid ${statement.statement.Sid})` : '';
    if (statement.sub.length === 0) {
      add('critical', `trust policy statement ${statement.index}${sid} has no sub condition: any GitHub repository, of any owner, can assume this role`, statement.statement);
      continue;
    }
    for (const condition of statement.sub) {
      const { quantifier, base } = baseOperator(condition.operator);
      if (quantifier === 'ForAllValues') {
        add('high', `trust policy statement ${statement.index}${sid} uses ${condition.operator} on ${condition.key} in an Allow: it is true when the claim is missing`, condition);
      }
      if (base.startsWith('StringNot')) {
        add('high', `trust policy statement ${statement.index}${sid} allows by exclusion (${condition.operator} on ${condition.key}): every other repository is admitted`, condition);
        continue;
      }
      const wildcards = base === 'StringLike';
      for (const value of condition.values) {
        const breadth = subjectBreadth(value, wildcards);
        if (breadth === 'any-owner') add('critical', `trust policy admits any GitHub repository of any owner: ${condition.key} ${condition.operator} "${value}"`, condition);
        else if (breadth === 'any-repo-of-owner') add('high', `trust policy admits every repository of the owner: ${condition.key} ${condition.operator} "${value}"`, condition);
        else if (breadth === 'any-context-of-repo') add('medium', `trust policy admits any branch, tag, environment or event of the repository: ${condition.key} ${condition.operator} "${value}"`, condition);
      }
    }
  }
  return findings;
}

/** What a trust-policy rewrite did. */
export interface TrustRewrite {
  document: PolicyDocument;
  changed: boolean;
  /** Human notes: what was added or removed, what else a removal also locks out. */
  notes: string[];
}

/**
 * Adds (or extends) an explicit Deny on `sts:AssumeRoleWithWebIdentity` for the compromised
 * subjects, in both subject formats, one statement per GitHub issuer the policy trusts.
 * Everything else in the document is kept as it is.
 */
export function addSubjectDeny(document: PolicyDocument, subjects: string[]): TrustRewrite {
  const github = githubTrustStatements(document).filter((statement) => statement.statement.Effect === 'Allow');
  if (github.length === 0) return { document, changed: false, notes: ['the trust policy does not trust GitHub Actions OIDC: nothing to deny'] };
  const out = clonePolicy(document);
  const statements = statementsOf(out);
  out.Statement = statements;
  const providersByIssuer = new Map<string, Set<string>>();
  for (const statement of github) {
    for (const provider of statement.providers) {
      const issuer = issuerOf(provider);
      if (!providersByIssuer.has(issuer)) providersByIssuer.set(issuer, new Set());
      providersByIssuer.get(issuer)!.add(provider);
    }
  }
  const wanted = [...new Set(subjects.flatMap(subjectVariants))];
  const notes: string[] = [];
  let changed = false;
  [...providersByIssuer.keys()].sort().forEach((issuer, position) => {
    const sid = position === 0 ? DENY_SID : `${DENY_SID}${position + 1}`;
    const key = `${issuer}:sub`;
    let deny = statements.find((statement) => statement.Sid === sid);
    if (!deny) {
      const providers = [...providersByIssuer.get(issuer)!];
      deny = {
        Sid: sid,
        Effect: 'Deny',
        Principal: { Federated: providers.length === 1 ? providers[0]! : providers },
        Action: WEB_IDENTITY,
        Condition: { StringLike: { [key]: [] } },
      };
      statements.push(deny);
    }
    deny.Condition ??= {};
    deny.Condition.StringLike ??= {};
    const current = asList(deny.Condition.StringLike[key] as string | string[] | undefined).map(String);
    const added = wanted.filter((value) => !current.includes(value));
    if (added.length > 0) {
      deny.Condition.StringLike[key] = [...current, ...added];
      notes.push(`deny ${issuer} subjects: ${added.join(', ')}`);
      changed = true;
    }
  });
  return changed ? { document: out, changed, notes } : { document, changed: false, notes: ['the compromised subjects are already denied'] };
}

/**
 * Removes from the GitHub Allow statements every `sub` value that admits a compromised
 * subject (a statement left with no value, or that had no `sub` condition at all, is removed).
 * This narrows an over-broad `StringLike`; it can also lock out other repositories the
 * removed pattern admitted, which the notes name so the plan shows it.
 */
export function removeSubjectAllows(document: PolicyDocument, subjects: string[]): TrustRewrite {
  const out = clonePolicy(document);
  const statements = statementsOf(out);
  const github = githubTrustStatements(out).filter((statement) => statement.statement.Effect === 'Allow');
  const targets = subjects.map(canonicalSubject);
  const admitsCompromised = (value: string): boolean => {
    const canonical = canonicalSubject(value);
    return targets.some((target) => globMatch(canonical, target) || globMatch(target, canonical));
  };
  const notes: string[] = [];
  const drop = new Set<number>();
  for (const statement of github) {
    const positive = statement.sub.filter((condition) => !baseOperator(condition.operator).base.startsWith('StringNot'));
    if (positive.length === 0) {
      drop.add(statement.index);
      notes.push(`remove statement ${statement.index}: it has no sub condition, so it admits the compromised subject (and every other repository)`);
      continue;
    }
    for (const condition of positive) {
      const kept = condition.values.filter((value) => !admitsCompromised(value));
      const removed = condition.values.filter((value) => admitsCompromised(value));
      if (removed.length === 0) continue;
      for (const value of removed) {
        const breadth = subjectBreadth(value, baseOperator(condition.operator).base === 'StringLike');
        notes.push(
          breadth === 'narrow'
            ? `remove ${condition.key} "${value}"`
            : `remove ${condition.key} "${value}" (it also admitted other ${breadth === 'any-context-of-repo' ? 'refs of the repository' : 'repositories'}: re-add narrow subjects for them)`,
        );
      }
      const block = statement.statement.Condition![condition.operator]!;
      if (kept.length === 0) {
        drop.add(statement.index);
        notes.push(`remove statement ${statement.index}: no ${condition.key} value left`);
      } else {
        block[condition.key] = kept.length === 1 ? kept[0]! : kept;
      }
    }
  }
  if (notes.length === 0) return { document, changed: false, notes: ['no Allow statement admits the compromised subjects'] };
  out.Statement = statements.filter((_, index) => !drop.has(index));
  return { document: out, changed: true, notes };
}
