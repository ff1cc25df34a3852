import type { Octokit } from '@octokit/rest';
import { z } from 'zod';
import { isNotFound, RepoName, splitRepo } from './api.js';

/**
 * Where a GitHub Actions secret lives: a repository, one of its environments, or an
 * organization. One place builds the three families of endpoints so the secret actions
 * cannot mix them up.
 */
export type SecretScope =
  | { kind: 'repo'; repo: string }
  | { kind: 'environment'; repo: string; environment: string }
  | { kind: 'org'; org: string };

/** The `with:` fields that name a scope: `repo` (+ `environment`) or `org`. */
export const secretScopeFields = {
  repo: RepoName.optional(),
  environment: z.string().min(1).optional(),
  org: z.string().regex(/^[A-Za-z0-9-]+$/, 'an organization login').optional(),
  /** Secret name as GitHub stores it (case-insensitive, upper-cased by GitHub). */
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a secret name: letters, digits, underscore'),
};

/** Cross-field rule: exactly one of repo / org; environment only with repo. */
export function checkScope(value: { repo?: string | undefined; org?: string | undefined; environment?: string | undefined }, ctx: z.RefinementCtx): void {
  if (Boolean(value.repo) === Boolean(value.org)) ctx.addIssue({ code: 'custom', message: 'give exactly one of `repo` or `org`', path: ['repo'] });
  if (value.environment && !value.repo) ctx.addIssue({ code: 'custom', message: '`environment` needs `repo`', path: ['environment'] });
}

export function scopeOf(value: { repo?: string | undefined; org?: string | undefined; environment?: string | undefined }): SecretScope {
  if (value.org) return { kind: 'org', org: value.org };
  if (value.environment) return { kind: 'environment', repo: value.repo!, environment: value.environment };
  return { kind: 'repo', repo: value.repo! };
}

/** `secret:o/r/NAME`, `secret:o/r:env:prod/NAME`, `secret:org:acme/NAME`: the journal's and report's name for it. */
export function secretResource(scope: SecretScope, name: string): string {
  switch (scope.kind) {
    case 'repo':
      return `secret:${scope.repo}/${name}`;
    case 'environment':
      return `secret:${scope.repo}:env:${scope.environment}/${name}`;
    case 'org':
      return `secret:org:${scope.org}/${name}`;
  }
}

/** The REST path of the secret (for plans and dry-run output). */
export function secretPath(scope: SecretScope): string {
  switch (scope.kind) {
    case 'repo':
      return '/repos/{owner}/{repo}/actions/secrets/{secret_name}';
    case 'environment':
      return '/repos/{owner}/{repo}/environments/{environment_name}/secrets/{secret_name}';
    case 'org':
      return '/orgs/{org}/actions/secrets/{secret_name}';
  }
}

export interface SecretMeta {
  name: string;
  created_at: string;
  updated_at: string;
  visibility?: 'all' | 'private' | 'selected';
}

/** The secret's metadata (never its value), or undefined when it does not exist. */
export async function getSecretMeta(github: Octokit, scope: SecretScope, name: string): Promise<SecretMeta | undefined> {
  try {
    if (scope.kind === 'org') {
      const { data } = await github.rest.actions.getOrgSecret({ org: scope.org, secret_name: name });
      return { name: data.name, created_at: data.created_at, updated_at: data.updated_at, visibility: data.visibility };
    }
    const { owner, repo } = splitRepo(scope.repo);
    const { data } =
      scope.kind === 'environment'
        ? await github.rest.actions.getEnvironmentSecret({ owner, repo, environment_name: scope.environment, secret_name: name })
        : await github.rest.actions.getRepoSecret({ owner, repo, secret_name: name });
    return { name: data.name, created_at: data.created_at, updated_at: data.updated_at };
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** The scope's public key for sealed boxes. */
export async function getPublicKey(github: Octokit, scope: SecretScope): Promise<{ key_id: string; key: string }> {
  if (scope.kind === 'org') return (await github.rest.actions.getOrgPublicKey({ org: scope.org })).data;
  const { owner, repo } = splitRepo(scope.repo);
  if (scope.kind === 'environment') {
    return (await github.rest.actions.getEnvironmentPublicKey({ owner, repo, environment_name: scope.environment })).data;
  }
  return (await github.rest.actions.getRepoPublicKey({ owner, repo })).data;
}

/**
 * Writes an already sealed value. An org secret's PUT requires its visibility (and, for
 * `selected`, keeps its repository list only when sent again): both come from `existing`.
 */
export async function putSecret(
  github: Octokit,
  scope: SecretScope,
  name: string,
  sealed: { encrypted_value: string; key_id: string },
  existing?: { visibility?: 'all' | 'private' | 'selected'; selectedRepositoryIds?: number[] },
): Promise<void> {
  if (scope.kind === 'org') {
    const visibility = existing?.visibility ?? 'private';
    await github.rest.actions.createOrUpdateOrgSecret({
      org: scope.org,
      secret_name: name,
      ...sealed,
      visibility,
      ...(visibility === 'selected' && existing?.selectedRepositoryIds ? { selected_repository_ids: existing.selectedRepositoryIds } : {}),
    });
    return;
  }
  const { owner, repo } = splitRepo(scope.repo);
  if (scope.kind === 'environment') {
    await github.rest.actions.createOrUpdateEnvironmentSecret({ owner, repo, environment_name: scope.environment, secret_name: name, ...sealed });
  } else {
    await github.rest.actions.createOrUpdateRepoSecret({ owner, repo, secret_name: name, ...sealed });
  }
}

/** Deletes the secret; false when it was already gone (404). */
export async function deleteSecret(github: Octokit, scope: SecretScope, name: string): Promise<boolean> {
  try {
    if (scope.kind === 'org') await github.rest.actions.deleteOrgSecret({ org: scope.org, secret_name: name });
    else {
      const { owner, repo } = splitRepo(scope.repo);
      if (scope.kind === 'environment') await github.rest.actions.deleteEnvironmentSecret({ owner, repo, environment_name: scope.environment, secret_name: name });
      else await github.rest.actions.deleteRepoSecret({ owner, repo, secret_name: name });
    }
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}
