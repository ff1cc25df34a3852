import { randomUUID } from 'node:crypto';
import type { HuntSource } from '../../src/hunt/engine.js';
import type { TrailRecord } from '../../src/hunt/model.js';
import { compileFilter } from '../../src/hunt/predicate.js';

export const ACCOUNT = '111122223333';
export const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/deploy`;
export const SUBJECT = 'repo:acme/web:ref:refs/heads/main';

/** Minutes after a fixed t0, as CloudTrail writes times. */
export function t(minutes: number): string {
  return new Date(Date.UTC(2026, 10, 20, 12, 0, 0) + minutes * 60_000).toISOString().replace('.000Z', 'Z');
}

interface Call {
  at: number;
  name: string;
  source?: string;
  ip?: string;
  agent?: string;
  error?: string;
  message?: string;
  request?: Record<string, unknown>;
  response?: Record<string, unknown> | null;
}

function base(call: Call, userIdentity: Record<string, unknown>): TrailRecord {
  return {
    eventVersion: '1.08',
    userIdentity,
    eventTime: t(call.at),
    eventSource: call.source ?? 'iam.amazonaws.com',
    eventName: call.name,
    awsRegion: 'us-east-1',
    sourceIPAddress: call.ip ?? '4.148.0.10',
    userAgent: call.agent ?? 'aws-sdk-js/3 configure-aws-credentials',
    ...(call.error ? { errorCode: call.error, errorMessage: call.message ?? '' } : {}),
    requestParameters: call.request ?? null,
    responseElements: call.response ?? null,
    eventID: randomUUID(),
    readOnly: false,
    eventType: 'AwsApiCall',
    recipientAccountId: ACCOUNT,
  };
}

/** A call by a role session (AssumedRole identity), as CloudTrail logs it. */
export function bySession(key: string, issuedAt: number, call: Call, session = 'GitHubActions'): TrailRecord {
  return base(call, {
    type: 'AssumedRole',
    principalId: `AROAEXAMPLE:${session}`,
    arn: `arn:aws:sts::${ACCOUNT}:assumed-role/deploy/${session}`,
    accountId: ACCOUNT,
    accessKeyId: key,
    sessionContext: {
      sessionIssuer: { type: 'Role', principalId: 'AROAEXAMPLE', arn: ROLE_ARN, accountId: ACCOUNT, userName: 'deploy' },
      attributes: { creationDate: t(issuedAt), mfaAuthenticated: 'false' },
    },
  });
}

/** A call by an IAM user's long-term key. */
export function byUser(user: string, key: string, call: Call): TrailRecord {
  return base(call, { type: 'IAMUser', principalId: 'AIDAEXAMPLE', arn: `arn:aws:iam::${ACCOUNT}:user/${user}`, accountId: ACCOUNT, accessKeyId: key, userName: user });
}

/** The AssumeRoleWithWebIdentity a GitHub job makes with its OIDC token. */
export function oidcAssume(at: number, key: string, subject = SUBJECT, ip = '4.148.0.10'): TrailRecord {
  return base(
    {
      at,
      name: 'AssumeRoleWithWebIdentity',
      source: 'sts.amazonaws.com',
      ip,
      request: { roleArn: ROLE_ARN, roleSessionName: 'GitHubActions', durationSeconds: 3600 },
      response: {
        credentials: { accessKeyId: key, expiration: t(at + 60) },
        subjectFromWebIdentityToken: subject,
        assumedRoleUser: { arn: `arn:aws:sts::${ACCOUNT}:assumed-role/deploy/GitHubActions`, assumedRoleId: 'AROAEXAMPLE:GitHubActions' },
        provider: `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`,
        audience: 'sts.amazonaws.com',
      },
    },
    {
      type: 'WebIdentityUser',
      principalId: `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com:sts.amazonaws.com:${subject}`,
      userName: subject,
      identityProvider: `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`,
    },
  );
}

/** A source over records in memory, applying the same predicate as the files source. */
export function memorySource(records: TrailRecord[]): HuntSource & { scans: number } {
  const source = {
    name: 'files' as const,
    scans: 0,
    async *scan(filter: Parameters<HuntSource['scan']>[0], stats: Parameters<HuntSource['scan']>[1]) {
      source.scans++;
      const matches = compileFilter(filter);
      for (const record of records) {
        stats.recordsRead++;
        if (matches(record)) yield record;
      }
    },
  };
  return source;
}
