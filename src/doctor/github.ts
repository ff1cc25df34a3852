import type { Octokit } from '@octokit/rest';
import type { Check } from './check.js';
import { describeError } from './check.js';
import { fineGrainedLabel, NO_TOKEN_PERMISSIONS, parseScopes, scopeFor, scopesGrant } from './scopes.js';

/** What kind of credential GitHub saw, told from its answers (the token itself is never read). */
export type GitHubTokenType = 'classic' | 'fine-grained' | 'installation' | 'invalid' | 'unreachable';

/** The GitHub identity doctor found. */
export interface GitHubIdentity {
  type: GitHubTokenType;
  login?: string;
  /** Classic tokens: the `x-oauth-scopes` header, parsed (implied scopes included). */
  scopes?: string[];
}

type Headers = Record<string, string | number | undefined>;

/**
 * `GET /user`: the login, and the token type from the headers. Classic PATs and OAuth tokens
 * carry `x-oauth-scopes`; fine-grained PATs answer /user without it; an App installation
 * token gets 403 "Resource not accessible by integration" (it is not a user).
 */
export async function githubIdentity(github: Octokit): Promise<{ identity: GitHubIdentity; check: Check }> {
  try {
    const response = await github.request('GET /user');
    const headers = response.headers as Headers;
    const scopeHeader = headers['x-oauth-scopes'];
    if (typeof scopeHeader === 'string') {
      const scopes = [...parseScopes(scopeHeader)].sort();
      return {
        identity: { type: 'classic', login: response.data.login, scopes },
        check: { check: 'github identity', status: 'ok', detail: `${response.data.login}, classic token (or OAuth token), scopes: ${scopeHeader || 'none'}` },
      };
    }
    return {
      identity: { type: 'fine-grained', login: response.data.login },
      check: {
        check: 'github identity',
        status: 'ok',
        detail: `${response.data.login}, fine-grained token (no x-oauth-scopes): GitHub's API does not list its permissions; reads are probed with --repo, writes cannot be checked without writing`,
      },
    };
  } catch (error) {
    const { status, message } = describeError(error);
    if (status === 403 && /not accessible by integration/i.test(message)) {
      return {
        identity: { type: 'installation' },
        check: { check: 'github identity', status: 'ok', detail: 'GitHub App installation token (not a user: GET /user is refused); its permissions are the installation\'s, not listed to the token' },
      };
    }
    if (status === 401) {
      return {
        identity: { type: 'invalid' },
        check: { check: 'github identity', status: 'missing', detail: `GitHub refused the token (401: ${message})`, fix: 'the token is expired, revoked or mistyped: set GH_TOKEN / GITHUB_TOKEN, or `gh auth login`' },
      };
    }
    return {
      identity: { type: 'unreachable' },
      check: { check: 'github identity', status: 'unknown', detail: `GET /user failed: ${message}`, fix: 'check GITHUB_API_URL / GH_HOST and the network, then run doctor again' },
    };
  }
}

/** One row per GitHub permission the actions need: classic scopes decide; other token types cannot be told. */
export function githubPermissionChecks(identity: GitHubIdentity, permissions: readonly string[]): Check[] {
  return permissions.map((permission): Check => {
    const check = `github ${permission}`;
    if (NO_TOKEN_PERMISSIONS.has(permission)) return { check, status: 'ok', detail: 'sent without a token' };
    if (identity.type === 'classic') {
      const scopes = new Set(identity.scopes);
      // Name the broadest scope that grants it (`repo` rather than the `public_repo` it implies).
      const granting = [...scopes].filter((scope) => scopesGrant(new Set([scope]), permission)).sort((a, b) => Number(a === 'public_repo') - Number(b === 'public_repo'));
      if (granting.length > 0) return { check, status: 'ok', detail: `granted by scope ${granting[0]}` };
      const scope = scopeFor(permission);
      return {
        check,
        status: 'missing',
        detail: `no scope of ${[...scopes].join(', ') || '(none)'} grants it`,
        fix: scope ? `create a token with the ${scope} scope (gh auth refresh -s ${scope})` : 'no classic scope grants it: use a fine-grained token or a GitHub App',
      };
    }
    if (identity.type === 'fine-grained' || identity.type === 'installation') {
      return {
        check,
        status: 'unknown',
        detail: `${identity.type === 'installation' ? 'an App installation token' : 'a fine-grained token'}: the API does not say whether it has ${permission}`,
        fix: `check ${fineGrainedLabel(permission)} on the ${identity.type === 'installation' ? 'App' : 'token'} settings page`,
      };
    }
    return { check, status: 'unknown', detail: 'no usable GitHub identity', fix: 'fix the github identity row first' };
  });
}

/** A read endpoint per permission family: answering it proves the read side of that family for the repo. */
const PROBES: Record<string, { route: string; per_page?: boolean }> = {
  metadata: { route: 'GET /repos/{owner}/{repo}' },
  actions: { route: 'GET /repos/{owner}/{repo}/actions/workflows', per_page: true },
  administration: { route: 'GET /repos/{owner}/{repo}/actions/permissions' },
  secrets: { route: 'GET /repos/{owner}/{repo}/actions/secrets/public-key' },
  environments: { route: 'GET /repos/{owner}/{repo}/environments', per_page: true },
  organization_secrets: { route: 'GET /orgs/{owner}/actions/secrets/public-key' },
};

/**
 * For `--repo`, one GET per endpoint family the permissions touch (metadata always): 2xx ok,
 * 401/403/404 missing (GitHub hides what a token may not see behind 404), anything else
 * unknown. The repository's `permissions.admin` tells whether administration writes can work.
 */
export async function githubRepoProbes(github: Octokit, repo: string, permissions: readonly string[]): Promise<Check[]> {
  const [owner, name] = repo.split('/') as [string, string];
  const families = new Set(['metadata', ...permissions.map((permission) => permission.split(':')[1] ?? '')]);
  const checks: Check[] = [];
  for (const [family, probe] of Object.entries(PROBES)) {
    if (!families.has(family)) continue;
    const path = probe.route.replace('{owner}', owner).replace('{repo}', name);
    const check = `github ${path}`;
    try {
      const response = await github.request(probe.route, { owner, repo: name, ...(probe.per_page ? { per_page: 1 } : {}) });
      let detail = `${response.status}: ${family} readable`;
      if (family === 'metadata') {
        const admin = (response.data as { permissions?: { admin?: boolean } }).permissions?.admin;
        if (admin === false && families.has('administration')) {
          checks.push({ check, status: 'missing', detail: `${response.status}, but the token's user is not an admin of ${repo}: administration writes (Actions permissions, deploy keys) will be refused`, fix: `make the responder an admin of ${repo}, or use a GitHub App with Administration: Read and write` });
          continue;
        }
        if (admin !== undefined) detail += `, admin: ${admin}`;
      }
      checks.push({ check, status: 'ok', detail });
    } catch (error) {
      const { status, message } = describeError(error);
      const accepted = ((error as { response?: { headers?: Headers } }).response?.headers ?? {})['x-accepted-github-permissions'];
      if (status === 401 || status === 403 || status === 404) {
        checks.push({
          check,
          status: 'missing',
          detail: `${status}: ${message}${accepted ? ` (GitHub accepts: ${accepted})` : ''}`,
          fix: family === 'organization_secrets' ? `org secrets need an org owner's token with admin:org (or ${fineGrainedLabel('github:organization_secrets:read')})` : `give the token ${fineGrainedLabel(`github:${family}:read`)} on ${repo} (classic: the repo scope)`,
        });
      } else {
        checks.push({ check, status: 'unknown', detail: `${status ?? 'no answer'}: ${message}`, fix: 'run doctor again; check the network and GitHub status' });
      }
    }
  }
  return checks;
}
