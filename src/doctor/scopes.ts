/**
 * How cicd-ir's GitHub permission strings (`github:<permission>:<read|write>`, named after the
 * fine-grained / GitHub App permissions) relate to the scopes of classic tokens, whose
 * `x-oauth-scopes` header is the only thing GitHub's API says about what a token may do.
 *
 * From GitHub's REST reference ("OAuth app tokens and personal access tokens (classic) need
 * the ... scope to use this endpoint") for the endpoints cicd-ir calls:
 *
 * | classic scope | grants (cicd-ir permission strings)                                           |
 * |---------------|--------------------------------------------------------------------------------|
 * | `repo`        | actions, administration, contents, secrets, environments: read and write; metadata:read |
 * | `public_repo` | contents and metadata on public repositories only (not Actions secrets)        |
 * | `workflow`    | workflows:write (changing files under .github/workflows)                       |
 * | `admin:org`   | organization_secrets: read and write (org Actions secrets)                     |
 *
 * A scope is necessary, not sufficient: `administration` endpoints (repo Actions permissions,
 * deploy keys) also need the token's user to be an admin of the repository, and org secrets
 * an org owner; `doctor --repo` probes a read endpoint of each family to see that side.
 * Fine-grained tokens and App installation tokens send no scope header: the API does not list
 * their permissions, so doctor reports their write permissions as unknown.
 */
export const CLASSIC_SCOPE_GRANTS: Readonly<Record<string, readonly string[]>> = {
  repo: [
    'github:actions:read',
    'github:actions:write',
    'github:administration:read',
    'github:administration:write',
    'github:contents:read',
    'github:contents:write',
    'github:secrets:read',
    'github:secrets:write',
    'github:environments:read',
    'github:environments:write',
    'github:metadata:read',
  ],
  public_repo: ['github:contents:read', 'github:metadata:read'],
  workflow: ['github:workflows:write'],
  'admin:org': ['github:organization_secrets:read', 'github:organization_secrets:write'],
};

/** Classic scopes that include others (GitHub's scope hierarchy, the parts that matter here). */
const IMPLIED_SCOPES: Readonly<Record<string, readonly string[]>> = {
  repo: ['public_repo'],
};

/** Permissions that need no token at all (POST /credentials/revoke is sent unauthenticated). */
export const NO_TOKEN_PERMISSIONS = new Set(['github:unauthenticated']);

/** Parses an `x-oauth-scopes` header (`"repo, workflow, admin:org"`) into scopes, implied ones included. */
export function parseScopes(header: string): Set<string> {
  const scopes = new Set(
    header
      .split(',')
      .map((scope) => scope.trim())
      .filter(Boolean),
  );
  for (const scope of [...scopes]) for (const implied of IMPLIED_SCOPES[scope] ?? []) scopes.add(implied);
  return scopes;
}

/** Whether classic `scopes` grant a cicd-ir permission; a write permission also grants its read. */
export function scopesGrant(scopes: ReadonlySet<string>, permission: string): boolean {
  if (NO_TOKEN_PERMISSIONS.has(permission)) return true;
  return [...scopes].some((scope) => (CLASSIC_SCOPE_GRANTS[scope] ?? []).includes(permission));
}

/** The smallest classic scope that grants a permission, for the fix hint; undefined when none does. */
export function scopeFor(permission: string): string | undefined {
  const order = ['repo', 'admin:org', 'workflow'];
  return order.find((scope) => CLASSIC_SCOPE_GRANTS[scope]!.includes(permission));
}

/** Where a permission is set on a fine-grained token or GitHub App (`Repository permissions → Actions: Read and write`). */
export function fineGrainedLabel(permission: string): string {
  const [, name = '', level = 'read'] = permission.split(':');
  const labels: Record<string, string> = {
    actions: 'Repository permissions → Actions',
    administration: 'Repository permissions → Administration',
    contents: 'Repository permissions → Contents',
    metadata: 'Repository permissions → Metadata',
    secrets: 'Repository permissions → Secrets',
    environments: 'Repository permissions → Environments',
    workflows: 'Repository permissions → Workflows',
    organization_secrets: 'Organization permissions → Secrets',
  };
  return `${labels[name] ?? name}: ${level === 'write' ? 'Read and write' : 'Read-only'}`;
}
