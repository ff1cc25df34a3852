import type { InventoryItem } from '../engine/evidence.js';

/**
 * What external system a credential a workflow reaches opens, for the inventory's `opens`
 * column: `aws:<account>`, `npm:<registry host>`, `github:<org>`, or `unknown`.
 */

/** Names of secrets that are static npm publish tokens (how setup-node and most projects name them). */
export const NPM_TOKEN_NAME = /(^|_)NPM(_[A-Z0-9]+)*_TOKEN$|^NODE_AUTH_TOKEN$|^NPM_AUTH(_TOKEN)?$/i;

const AWS_NAME = /(^|_)AWS(_|$)|ACCESS_KEY|SECRET_KEY|AKIA|ROLE(_ARN|_TO_ASSUME)?$|_ROLE_|ROLE_ARN/i;
const ROLE_ARN = /arn:aws[a-z-]*:iam::(\d{12}):role\//g;
const REGISTRY_URL = /registry-url:\s*['"]?(https?:\/\/[^\s'"]+)/g;

/** What the workflow text says about where its credentials lead. */
export interface WorkflowTargets {
  /** Accounts of the role ARNs written in the workflow (`role-to-assume: arn:aws:iam::1111...`). */
  awsAccounts: string[];
  /** Hosts of `registry-url:` (actions/setup-node); empty means the public registry. */
  npmRegistries: string[];
}

/** Reads the AWS accounts and npm registries a workflow file names. */
export function workflowTargets(text: string): WorkflowTargets {
  const awsAccounts = [...new Set([...text.matchAll(ROLE_ARN)].map((match) => match[1]!))].sort();
  const npmRegistries = [
    ...new Set(
      [...text.matchAll(REGISTRY_URL)].flatMap((match) => {
        try {
          return [new URL(match[1]!).host];
        } catch {
          return [];
        }
      }),
    ),
  ].sort();
  return { awsAccounts, npmRegistries };
}

/** The external system one inventory item opens, given its repository owner and the workflow's targets. */
export function opensFor(item: Pick<InventoryItem, 'kind' | 'name' | 'rotation'>, org: string, targets: WorkflowTargets): string {
  const aws = () => (targets.awsAccounts.length > 0 ? targets.awsAccounts.map((account) => `aws:${account}`).join(',') : 'aws:unknown');
  if (item.kind === 'all-secrets') return 'unknown';
  if (item.kind === 'oidc-role') return targets.awsAccounts.length > 0 ? aws() : 'unknown';
  if (item.kind === 'github-token' || item.rotation === 'github.revoke-tokens') return `github:${org}`;
  if (NPM_TOKEN_NAME.test(item.name)) {
    const hosts = targets.npmRegistries.length > 0 ? targets.npmRegistries : ['registry.npmjs.org'];
    return hosts.map((host) => `npm:${host}`).join(',');
  }
  if (item.rotation === 'aws.rotate-access-key' || AWS_NAME.test(item.name)) return aws();
  return 'unknown';
}
