/**
 * GitHub Actions OIDC subjects (`sub` claims) and how IAM trust policies match them.
 *
 * GitHub issues two subject formats (FACTS.md): the classic `repo:ORG/REPO:ref:refs/heads/main`
 * and, since 2026, the immutable-id form `repo:ORG@123/REPO@456:ref:refs/heads/main` for new,
 * renamed or opted-in repositories. A trust policy holds whichever its author wrote, so every
 * comparison here goes through `canonicalSubject` (names only) and every deny cicd-ir writes
 * covers both forms: never assume one.
 */

/** The issuer of github.com's Actions OIDC tokens; also the condition-key prefix in trust policies. */
export const GITHUB_OIDC_ISSUER = 'token.actions.githubusercontent.com';

/** The audience `aws-actions/configure-aws-credentials` requests by default. */
export const DEFAULT_AUDIENCE = 'sts.amazonaws.com';

interface SubjectHead {
  owner: string;
  ownerId?: string;
  repo: string;
  repoId?: string;
  /** Everything after `repo:OWNER/REPO`, including the leading `:` (may be empty). */
  rest: string;
}

const ID_SUFFIX = /@(\d+|\*)$/;

function parseHead(subject: string): SubjectHead | undefined {
  const match = /^repo:([^/]*)\/([^:]*)(.*)$/s.exec(subject);
  if (!match) return undefined;
  const [, ownerPart = '', repoPart = '', rest = ''] = match;
  const ownerId = ID_SUFFIX.exec(ownerPart)?.[1];
  const repoId = ID_SUFFIX.exec(repoPart)?.[1];
  return {
    owner: ownerPart.replace(ID_SUFFIX, ''),
    ownerId,
    repo: repoPart.replace(ID_SUFFIX, ''),
    repoId,
    rest,
  };
}

/**
 * The names-only form of a subject or subject pattern: `repo:org@123/app@456:ref:x` and
 * `repo:org@*\/app@*:ref:x` both become `repo:org/app:ref:x`. Names are present in both
 * formats, so comparing canonical forms matches a token of either format (a rename is the one
 * case names cannot follow; the immutable ids exist for it).
 */
export function canonicalSubject(subject: string): string {
  const head = parseHead(subject);
  if (!head) return subject;
  return `repo:${head.owner}/${head.repo}${head.rest}`;
}

/**
 * The patterns a deny must list so that a compromised subject is blocked in either format:
 * the names form and the immutable-id form with any id (`@*`). Over-matching is safe in a
 * Deny (it can only block more), under-matching is not.
 */
export function subjectVariants(subject: string): string[] {
  const head = parseHead(subject);
  if (!head) return [subject];
  const named = `repo:${head.owner}/${head.repo}${head.rest}`;
  const withId = (name: string, id: string | undefined): string =>
    id !== undefined ? `${name}@${id}` : name.endsWith('*') ? name : `${name}@*`;
  const immutable = `repo:${withId(head.owner, head.ownerId)}/${withId(head.repo, head.repoId)}${head.rest}`;
  return named === immutable ? [named] : [named, immutable];
}

/** `org/repo` (or `org@1/repo@2`) -> the prefix every subject of that repository starts with. */
export function repoSubjectPrefix(repo: string): string {
  const trimmed = repo.replace(/^repo:/, '');
  return canonicalSubject(`repo:${trimmed}:`);
}

/**
 * The subject a job gets for a ref, environment or event, in the default template:
 * `refs/heads/main` -> `repo:o/r:ref:refs/heads/main`, `environment:prod` ->
 * `repo:o/r:environment:prod`, `pull_request` -> `repo:o/r:pull_request`.
 */
export function subjectFor(repo: string, refOrContext: string): string {
  const prefix = repoSubjectPrefix(repo);
  if (refOrContext.startsWith('refs/')) return `${prefix}ref:${refOrContext}`;
  if (refOrContext === 'pull_request' || refOrContext.includes(':')) return `${prefix}${refOrContext}`;
  return `${prefix}ref:refs/heads/${refOrContext}`;
}

/** How wide a `sub` pattern is, for the `trust-admits-any-repo` finding. */
export type SubjectBreadth = 'any-owner' | 'any-repo-of-owner' | 'any-context-of-repo' | 'narrow';

/** Classifies a trust-policy `sub` value (a StringLike pattern when `wildcards`). */
export function subjectBreadth(value: string, wildcards: boolean): SubjectBreadth {
  if (!wildcards) return 'narrow';
  const canonical = canonicalSubject(value);
  const head = parseHead(canonical);
  if (!head) {
    // `*`, `repo:*`, `repo:org*`: nothing pins the owner.
    if (/^(\*|repo\*|repo:[^/]*[*?])/.test(canonical)) return 'any-owner';
    // A custom subject template (`repository_owner:org:...`): wide, but how wide we cannot tell.
    return /[*?]/.test(canonical) ? 'any-context-of-repo' : 'narrow';
  }
  if (/[*?]/.test(head.owner)) return 'any-owner';
  if (/[*?]/.test(head.repo)) return 'any-repo-of-owner';
  // `repo:o/r:*`, `repo:o/r:ref:refs/heads/*`: anyone who can push a branch or tag gets in.
  if (/[*?]/.test(head.rest)) return 'any-context-of-repo';
  return 'narrow';
}
