import { fileURLToPath } from 'node:url';
import type { ActionDefinition } from '../actions/define.js';
import { POLICY_VERSION, type PolicyDocument, type PolicyStatement } from './policy.js';

/** IAM service prefixes of AWS permissions (GitHub permissions look like `github:actions:write`). */
const AWS_PREFIX = /^(iam|sts|cloudtrail|s3|athena|logs|organizations|account|ec2|kms|glue):[A-Za-z*]+$/;

/** Read-only by IAM's naming: the same rule the provider's dry-run guard uses. */
const READ_ONLY = /^[a-z0-9]+:(Get|List|Describe|Lookup|Simulate|Decode)[A-Z*]/;

/**
 * The least-privilege IAM policy a responder needs to run every shipped AWS action: the
 * union of the actions' declared permissions, reads and writes in separate statements so a
 * read-only (dry-run / hunt) responder can take the first alone. `sts:AssumeRole` is added
 * for multi-account steps (`assume_role`), on roles only.
 */
export function responderPolicy(actions: readonly ActionDefinition[]): PolicyDocument {
  const permissions = new Set<string>();
  // sts:AssumeRole has its own statement, on roles only.
  for (const action of actions) for (const permission of action.permissions) if (AWS_PREFIX.test(permission) && permission !== 'sts:AssumeRole') permissions.add(permission);
  const sorted = [...permissions].sort();
  const reads = sorted.filter((permission) => READ_ONLY.test(permission));
  const writes = sorted.filter((permission) => !READ_ONLY.test(permission));
  const statements: PolicyStatement[] = [];
  if (reads.length > 0) statements.push({ Sid: 'CicdIrRead', Effect: 'Allow', Action: reads, Resource: '*' });
  if (writes.length > 0) statements.push({ Sid: 'CicdIrContain', Effect: 'Allow', Action: writes, Resource: '*' });
  statements.push({ Sid: 'CicdIrAssumeResponderRoleInOtherAccounts', Effect: 'Allow', Action: ['sts:AssumeRole'], Resource: 'arn:aws:iam::*:role/*' });
  return { Version: POLICY_VERSION, Statement: statements };
}

/** The text of docs/iam-policy.json: pretty JSON and a final newline. */
export function responderPolicyText(actions: readonly ActionDefinition[]): string {
  return `${JSON.stringify(responderPolicy(actions), null, 2)}\n`;
}

// `npx tsx src/aws/iam-policy.ts > docs/iam-policy.json` regenerates the committed file.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { actions } = await import('../actions/index.js');
  process.stdout.write(responderPolicyText(actions));
}
