import { LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { GetRoleCommand, SimulatePrincipalPolicyCommand, type EvaluationResult } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { Clients } from '../engine/context.js';
import { describeError, isDenied, type Check } from './check.js';

/** The AWS identity doctor found, and the principal whose policies decide what it may do. */
export interface AwsIdentity {
  account?: string;
  arn?: string;
  /** What SimulatePrincipalPolicy is asked about: the user, or the role behind an assumed-role session. */
  principalArn?: string;
}

const ASSUMED_ROLE = /^arn:(aws[\w-]*):sts::(\d{12}):assumed-role\/([^/]+)\/(.+)$/;

/**
 * STS GetCallerIdentity, then the principal to simulate: an IAM user is itself; an assumed-role
 * session is its role (read with GetRole for the role's path; if that is refused, the
 * path-less ARN, which is right for roles at `/`); the root user cannot be simulated.
 */
export async function awsIdentity(clients: Clients, signal?: AbortSignal): Promise<{ identity: AwsIdentity; checks: Check[] }> {
  let caller: { Account?: string; Arn?: string };
  try {
    caller = await clients.sts().send(new GetCallerIdentityCommand({}), { abortSignal: signal });
  } catch (error) {
    const { code, message } = describeError(error);
    const credentials = /Credential|InvalidClientTokenId|ExpiredToken|SignatureDoesNotMatch/i.test(`${code} ${message}`);
    return {
      identity: {},
      checks: [
        {
          check: 'aws identity',
          status: credentials ? 'missing' : 'unknown',
          detail: `STS GetCallerIdentity failed: ${code}: ${message}`,
          fix: credentials ? 'set AWS credentials: AWS_PROFILE (after aws sso login for an SSO profile), or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY' : 'check AWS_REGION, endpoint settings and the network',
        },
      ],
    };
  }
  const arn = caller.Arn ?? '';
  const checks: Check[] = [{ check: 'aws identity', status: 'ok', detail: `${arn} (account ${caller.Account})` }];
  const assumed = ASSUMED_ROLE.exec(arn);
  if (/:root$/.test(arn)) {
    checks.push({ check: 'aws principal', status: 'unknown', detail: 'the account root user: allowed everything, cannot be simulated', fix: 'respond with a role or user of least privilege (docs/iam-policy.json), not root' });
    return { identity: { account: caller.Account, arn }, checks };
  }
  if (!assumed) return { identity: { account: caller.Account, arn, principalArn: arn }, checks };

  const [, partition, account, roleName] = assumed;
  let principalArn = `arn:${partition}:iam::${account}:role/${roleName}`;
  try {
    const role = await clients.iam().send(new GetRoleCommand({ RoleName: roleName }), { abortSignal: signal });
    principalArn = role.Role?.Arn ?? principalArn;
    checks.push({ check: 'aws principal', status: 'ok', detail: `session of role ${principalArn}` });
  } catch (error) {
    checks.push({ check: 'aws principal', status: 'ok', detail: `session of role ${principalArn} (GetRole refused: ${describeError(error).code}; assuming the role's path is /)` });
  }
  return { identity: { account: caller.Account, arn, principalArn }, checks };
}

/**
 * IAM SimulatePrincipalPolicy for every AWS action the playbook needs (all pages): one row
 * each, ok when `allowed`, missing on an implicit or explicit deny. The simulation evaluates
 * the principal's identity policies (and permissions boundary); resource policies, SCPs the
 * caller cannot see and live conditions may still differ, which the detail says.
 */
export async function awsPermissionChecks(clients: Clients, identity: AwsIdentity, actions: readonly string[], signal?: AbortSignal): Promise<Check[]> {
  if (actions.length === 0) return [];
  if (!identity.principalArn) {
    return actions.map((action) => ({ check: `aws ${action}`, status: 'unknown' as const, detail: 'no principal to simulate', fix: 'fix the aws identity row first' }));
  }
  const results: EvaluationResult[] = [];
  try {
    let marker: string | undefined;
    do {
      const page = await clients.iam().send(new SimulatePrincipalPolicyCommand({ PolicySourceArn: identity.principalArn, ActionNames: [...actions], Marker: marker }), { abortSignal: signal });
      results.push(...(page.EvaluationResults ?? []));
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
  } catch (error) {
    const { code, message } = describeError(error);
    return actions.map((action) => ({
      check: `aws ${action}`,
      status: 'unknown' as const,
      detail: `SimulatePrincipalPolicy failed: ${code}: ${message}`,
      fix: isDenied(error) ? `allow iam:SimulatePrincipalPolicy on ${identity.principalArn} so doctor can check` : 'run doctor again',
    }));
  }
  return actions.map((action): Check => {
    const result = results.find((candidate) => candidate.EvalActionName?.toLowerCase() === action.toLowerCase());
    if (!result) return { check: `aws ${action}`, status: 'unknown', detail: 'no simulation result returned', fix: 'check it in the IAM policy simulator' };
    if (result.EvalDecision === 'allowed') return { check: `aws ${action}`, status: 'ok', detail: `allowed for ${identity.principalArn}` };
    const how = result.EvalDecision === 'explicitDeny' ? 'explicitly denied' : 'not allowed by any policy';
    const by = (result.MatchedStatements ?? []).map((statement) => statement.SourcePolicyId).filter(Boolean);
    return {
      check: `aws ${action}`,
      status: 'missing',
      detail: `${how} for ${identity.principalArn}${by.length > 0 ? ` (${by.join(', ')})` : ''}`,
      fix: result.EvalDecision === 'explicitDeny' ? `remove the deny on ${action} (or respond with another principal)` : `add ${action} to the responder's policy (see docs/iam-policy.json)`,
    };
  });
}

/** CloudTrail LookupEvents (MaxResults 1) per region: proves the hunt can read that region. */
export async function cloudTrailChecks(clients: Clients, regions: readonly string[], signal?: AbortSignal): Promise<Check[]> {
  const checks: Check[] = [];
  for (const region of regions) {
    try {
      const page = await clients.cloudtrail(region).send(new LookupEventsCommand({ MaxResults: 1 }), { abortSignal: signal });
      const newest = page.Events?.[0]?.EventTime;
      checks.push({ check: `cloudtrail ${region}`, status: 'ok', detail: `LookupEvents answered${newest ? `, newest event ${newest.toISOString()}` : ', no events in the last 90 days'}` });
    } catch (error) {
      const { code, message } = describeError(error);
      checks.push({
        check: `cloudtrail ${region}`,
        status: isDenied(error) ? 'missing' : 'unknown',
        detail: `LookupEvents failed: ${code}: ${message}`,
        fix: isDenied(error) ? 'allow cloudtrail:LookupEvents' : `check that ${region} is enabled for the account and reachable`,
      });
    }
  }
  return checks;
}
