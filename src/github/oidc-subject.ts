/**
 * What a repository's OIDC `sub` claim really looks like. reach.ts computes subjects under
 * the default template (`repo:o/r:<context>`); a repository may customize the template
 * (`include_claim_keys`) or, since 2026, present immutable ids (`repo:org@123/repo@456:...`,
 * FACTS.md). Trust policies match what GitHub presents, so the inventory rewrites its
 * subjects through the repository's customization.
 */
export interface SubjectCustomization {
  use_default: boolean;
  include_claim_keys?: string[];
  use_immutable_subject?: boolean;
  /** The lab (and, unverified, GitHub) returns the prefix the repository's tokens carry. */
  sub_claim_prefix?: string;
}

export interface RepoIdentity {
  fullName: string;
  owner: string;
  ownerId: number;
  repoId: number;
}

/** `repo:o/r:environment:prod` -> `environment:prod`; undefined when it is not a default-form subject of the repo. */
function contextOf(subject: string, fullName: string): string | undefined {
  const prefix = `repo:${fullName}:`;
  return subject.toLowerCase().startsWith(prefix.toLowerCase()) ? subject.slice(prefix.length) : undefined;
}

/**
 * Rewrites a default-form subject into the form the repository's tokens carry. Claims whose
 * value is only known at run time (actor, workflow ref, ...) become `*`.
 */
export function presentSubject(subject: string, repo: RepoIdentity, customization: SubjectCustomization | undefined): string {
  const context = contextOf(subject, repo.fullName);
  if (!customization || context === undefined) return subject;
  const repoClaim = customization.sub_claim_prefix?.replace(/^repo:/, '') ?? (customization.use_immutable_subject ? `${repo.owner}@${repo.ownerId}/${repo.fullName.split('/')[1]}@${repo.repoId}` : repo.fullName);
  if (customization.use_default || !customization.include_claim_keys || customization.include_claim_keys.length === 0) {
    return `repo:${repoClaim}:${context}`;
  }
  const environment = context.startsWith('environment:') ? context.slice('environment:'.length) : undefined;
  const ref = context.startsWith('ref:') ? context.slice('ref:'.length) : undefined;
  const claim = (key: string): string => {
    switch (key) {
      case 'repo':
        return `repo:${repoClaim}`;
      case 'context':
        return context;
      case 'repository':
        return `repository:${repo.fullName}`;
      case 'repository_owner':
        return `repository_owner:${repo.owner}`;
      case 'repository_owner_id':
        return `repository_owner_id:${repo.ownerId}`;
      case 'repository_id':
        return `repository_id:${repo.repoId}`;
      case 'environment':
        return `environment:${environment ?? '*'}`;
      case 'ref':
        return `ref:${ref ?? '*'}`;
      case 'event_name':
        return `event_name:${context === 'pull_request' ? 'pull_request' : '*'}`;
      default:
        return `${key}:*`;
    }
  };
  return customization.include_claim_keys.map(claim).join(':');
}
