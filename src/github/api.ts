import sodium from 'libsodium-wrappers';
import { z } from 'zod';

/**
 * Small helpers the GitHub actions share: names, error statuses, sealed boxes. No client
 * building here (src/providers does that) and no decisions (the actions make them).
 */

/** `owner/repo`, validated the way GitHub names them. */
export const RepoName = z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'a repository as owner/name');

/** A workflow by file name (`deploy.yml`), path (`.github/workflows/deploy.yml`) or numeric id. */
export const WorkflowRef = z.union([z.string().min(1), z.number().int().positive()]);

export function splitRepo(fullName: string): { owner: string; repo: string } {
  const [owner, repo] = fullName.split('/');
  return { owner: owner!, repo: repo! };
}

/** The API takes a workflow id or its file name, never the full path. */
export function workflowId(ref: string | number): string | number {
  return typeof ref === 'number' ? ref : ref.replace(/^\.github\/workflows\//, '');
}

/** HTTP status of an Octokit RequestError, if it is one. */
export function httpStatus(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}

export function isNotFound(error: unknown): boolean {
  return httpStatus(error) === 404;
}

/** Run statuses that mean "not finished": what cancel-runs cancels and verify checks. */
export const ACTIVE_RUN_STATUSES = ['queued', 'in_progress', 'waiting', 'requested', 'pending'] as const;

/**
 * Encrypts a value for GitHub's secrets API: a libsodium sealed box against the scope's
 * public key, both in base64 ORIGINAL (FACTS.md, "Encryption").
 */
export async function sealForGitHub(value: string, publicKeyBase64: string): Promise<string> {
  await sodium.ready;
  const key = sodium.from_base64(publicKeyBase64, sodium.base64_variants.ORIGINAL);
  const sealed = sodium.crypto_box_seal(sodium.from_string(value), key);
  return sodium.to_base64(sealed, sodium.base64_variants.ORIGINAL);
}
