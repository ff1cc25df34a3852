import { AthenaClient } from '@aws-sdk/client-athena';
import { S3Client } from '@aws-sdk/client-s3';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { AccountClient } from '@aws-sdk/client-account';
import { EC2Client } from '@aws-sdk/client-ec2';
import { fromNodeProviderChain, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import type { AwsTarget } from '../engine/context.js';
import { DryRunViolation } from '../engine/errors.js';
import type { ApiCallRecord, ProviderConfig } from './config.js';
import { AWS_MAX_IN_FLIGHT, RequestLimiter } from './limiter.js';
import { profileRegion } from './profile-region.js';

/** Static AWS credentials: the lab's, or a freshly created access key being checked. */
export interface AwsStaticCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** The AWS client factories actions get through `ctx.clients`. */
export interface AwsClients {
  iam(target?: AwsTarget): IAMClient;
  sts(target?: AwsTarget): STSClient;
  cloudtrail(region: string, target?: AwsTarget): CloudTrailClient;
  /**
   * An STS client that signs with the given credentials (a new access key), against the
   * same endpoint, region and middleware as every other client. Not cached: it exists to
   * prove those credentials work.
   */
  stsWithCredentials(credentials: AwsStaticCredentials, target?: AwsTarget): STSClient;
  /** S3, for the hunt's files source over `s3://` trails. */
  s3(region?: string, target?: AwsTarget): S3Client;
  /** Athena, for the hunt's athena source (StartQueryExecution counts as mutating: it writes results to S3). */
  athena(region: string, target?: AwsTarget): AthenaClient;
  /** Organizations (a global service, us-east-1): ListAccounts, to find the accounts to contain. */
  organizations(target?: AwsTarget): OrganizationsClient;
  /** The Account Management API: ListRegions (the enabled regions to hunt). */
  account(target?: AwsTarget): AccountClient;
  /** EC2, for DescribeRegions when account:ListRegions is not allowed. */
  ec2(region: string, target?: AwsTarget): EC2Client;
  /** Closes every cached client's sockets. */
  destroy(): void;
}

type AwsService = 'iam' | 'sts' | 'cloudtrail' | 's3' | 'athena' | 'organizations' | 'account' | 'ec2';

/** Operation-name prefixes that only read. Everything else counts as mutating (fail closed). */
const READ_ONLY_PREFIXES = ['Get', 'List', 'Describe', 'Lookup', 'Simulate', 'Decode'];

/** Whether an AWS operation (`PutRolePolicy`, `GetCallerIdentity`) changes anything. Unknown names count as mutating. */
export function isMutatingOperation(operation: string): boolean {
  // sts:AssumeRole mints a session of a role and changes nothing (the lab's request log agrees):
  // a dry run needs it to read another account.
  if (operation === 'AssumeRole') return false;
  return !READ_ONLY_PREFIXES.some((prefix) => operation.startsWith(prefix) && /^[A-Z]/.test(operation.slice(prefix.length)));
}

/**
 * The role session name for assumed roles: `cicd-ir-<incident>`, so CloudTrail in the other
 * account says who acted and why. IAM allows `[\w+=,.@-]`, 2 to 64 characters.
 */
export function roleSessionName(incident: string): string {
  const name = `cicd-ir-${incident}`.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
  return name.length >= 2 ? name : 'cicd-ir';
}

/**
 * Error names the SDK classifies as throttling but that are quotas: retrying cannot help and
 * only delays the clear error. @smithy/core 3.41 lists `LimitExceededException` (IAM's
 * `LimitExceeded`, HTTP 409) in THROTTLING_ERROR_CODES; test/providers/aws.test.ts pins it.
 */
const FAIL_FAST_ERRORS = new Set(['LimitExceededException', 'LimitExceeded']);

/** Carries a fail-fast error past the retry middleware, which retries only what it classifies as throttling/transient. */
class FailFast extends Error {
  readonly original: Error;
  constructor(original: Error) {
    super(original.message);
    this.name = 'CicdIrFailFast';
    this.original = original;
  }
}

interface SdkErrorShape extends Error {
  code?: string;
  $metadata?: { httpStatusCode?: number; requestId?: string; attempts?: number };
}

// Minimal structural types of the smithy middleware stack (the SDK's own types live in a
// transitive package; these are the parts used here).
type Handler = (args: { request?: unknown; input?: unknown }) => Promise<{ output: { $metadata?: { requestId?: string; httpStatusCode?: number } }; response: unknown }>;
type Middleware = (next: Handler, context: { commandName?: string }) => Handler;
interface Stack {
  add(middleware: Middleware, options: { step: string; name: string; priority?: string; override?: boolean }): void;
  addRelativeTo(middleware: Middleware, options: { relation: 'before' | 'after'; toMiddleware: string; name: string; override?: boolean }): void;
}

/** The limiter of one AWS service in one account (src/providers/limiter.ts). */
type AwsLimiters = (service: string, account: string | undefined) => RequestLimiter;

function operationOf(context: { commandName?: string }): string {
  return (context.commandName ?? 'Unknown').replace(/Command$/, '');
}

function accountOf(target: AwsTarget | undefined): string | undefined {
  if (!target) return undefined;
  return target.accountId ?? /^arn:aws[\w-]*:iam::(\d{12}):/.exec(target.roleArn ?? '')?.[1];
}

/**
 * Adds cicd-ir's middleware to a client:
 * - `cicdIrGuard` (initialize, outermost): refuses mutating operations during a dry run, the
 *   second safety net under plan-only execution; unwraps fail-fast errors.
 * - `cicdIrAttempt` (right inside the retry middleware, so once per HTTP attempt): reports the
 *   call to `onApiCall` and stops retries of quota errors (LimitExceeded).
 */
function instrument(stack: Stack, service: AwsService | 'sts-assume-role', config: ProviderConfig, target: AwsTarget | undefined, guard: boolean, limiters: AwsLimiters): void {
  const serviceName = service === 'sts-assume-role' ? 'sts' : service;
  const account = accountOf(target);
  // Its own limit per service and account, the wait and the call outside the engine's slots.
  const limiter = limiters(serviceName, account);
  stack.add(
    (next, context) => async (args) => {
      const operation = operationOf(context);
      if (guard && config.dryRun && isMutatingOperation(operation)) {
        throw new DryRunViolation(`${serviceName}:${operation}${account ? ` in ${account}` : ''}`);
      }
      try {
        return await limiter.run(() => next(args));
      } catch (error) {
        if (error instanceof FailFast) {
          const original = error.original as SdkErrorShape;
          original.$metadata = { ...original.$metadata, attempts: 1 };
          throw original;
        }
        throw error;
      }
    },
    { step: 'initialize', name: 'cicdIrGuard', priority: 'high', override: true },
  );
  stack.addRelativeTo(
    (next, context) => async (args) => {
      const operation = operationOf(context);
      const started = performance.now();
      const report = (record: Partial<ApiCallRecord>): void => {
        config.onApiCall?.({
          service: serviceName,
          operation,
          mutating: isMutatingOperation(operation),
          durationMs: Math.round(performance.now() - started),
          ...(account ? { target: account } : {}),
          ...record,
        });
      };
      try {
        const result = await next(args);
        const metadata = result.output.$metadata ?? {};
        report({ status: metadata.httpStatusCode ?? 200, requestId: metadata.requestId });
        return result;
      } catch (caught) {
        const error = caught as SdkErrorShape;
        report({ status: error.$metadata?.httpStatusCode, requestId: error.$metadata?.requestId, error: error.name || error.code || 'Error' });
        if (FAIL_FAST_ERRORS.has(error.name)) throw new FailFast(error);
        throw caught;
      }
    },
    { relation: 'after', toMiddleware: 'retryMiddleware', name: 'cicdIrAttempt', override: true },
  );
}

/**
 * Builds AWS clients the way the AWS CLI resolves things: explicit credentials (the lab's)
 * or the SDK's default chain (env, SSO, profiles, web identity, ECS/IMDS) with `--profile`;
 * region from config, AWS_REGION, then us-east-1; endpoint overrides from config (the SDK
 * also honours AWS_ENDPOINT_URL_<SERVICE>); the SDK's standard/adaptive retries. Other
 * accounts are reached by assuming `target.roleArn` with a session name naming the incident.
 * Clients are cached per service, account/role and region.
 */
export function createAwsClients(config: ProviderConfig): AwsClients {
  const limiterMap = new Map<string, RequestLimiter>();
  const limiters: AwsLimiters = (service, account) => {
    const key = `${service}|${account ?? 'default'}`;
    let limiter = limiterMap.get(key);
    if (!limiter) {
      limiter = new RequestLimiter({ name: key, maxInFlight: AWS_MAX_IN_FLIGHT[service] ?? 10 });
      limiterMap.set(key, limiter);
    }
    return limiter;
  };
  const defaultRegion = config.aws.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? profileRegion(config.aws.profile) ?? 'us-east-1';
  const baseCredentials = config.aws.credentials
    ? { ...config.aws.credentials }
    : fromNodeProviderChain(config.aws.profile ? { profile: config.aws.profile } : {});
  const retry = {
    ...(config.aws.maxAttempts !== undefined ? { maxAttempts: config.aws.maxAttempts } : {}),
    ...(config.aws.retryMode !== undefined ? { retryMode: config.aws.retryMode } : {}),
  };
  const endpointOf = (service: AwsService): { endpoint?: string } => {
    const endpoint = config.aws.endpoints?.[service];
    return endpoint ? { endpoint } : {};
  };

  const assumed = new Map<string, ReturnType<typeof fromTemporaryCredentials>>();
  const credentialsFor = (target: AwsTarget | undefined) => {
    if (!target?.roleArn) return baseCredentials;
    let provider = assumed.get(target.roleArn);
    if (!provider) {
      provider = fromTemporaryCredentials({
        params: { RoleArn: target.roleArn, RoleSessionName: roleSessionName(config.incident) },
        masterCredentials: baseCredentials,
        clientConfig: { region: defaultRegion, ...endpointOf('sts'), ...retry },
        // The AssumeRole call itself is journalled like every other call (no dry-run guard:
        // reading another account during a dry run needs it).
        clientPlugins: [{ applyToStack: (stack) => instrument(stack as unknown as Stack, 'sts-assume-role', config, target, false, limiters) }],
      });
      assumed.set(target.roleArn, provider);
    }
    return provider;
  };

  type AnyClient = IAMClient | STSClient | CloudTrailClient | S3Client | AthenaClient | OrganizationsClient | AccountClient | EC2Client;
  const cache = new Map<string, AnyClient>();
  const cached = <T extends AnyClient>(service: AwsService, region: string, target: AwsTarget | undefined, build: () => T): T => {
    const key = `${service}|${target?.roleArn ?? accountOf(target) ?? 'default'}|${region}`;
    let client = cache.get(key) as T | undefined;
    if (!client) {
      client = build();
      instrument(client.middlewareStack as unknown as Stack, service, config, target, true, limiters);
      cache.set(key, client);
    }
    return client;
  };

  return {
    iam: (target) => {
      const region = target?.region ?? defaultRegion;
      return cached('iam', region, target, () => new IAMClient({ region, credentials: credentialsFor(target), ...endpointOf('iam'), ...retry }));
    },
    sts: (target) => {
      const region = target?.region ?? defaultRegion;
      return cached('sts', region, target, () => new STSClient({ region, credentials: credentialsFor(target), ...endpointOf('sts'), ...retry }));
    },
    cloudtrail: (region, target) =>
      cached('cloudtrail', region, target, () => new CloudTrailClient({ region, credentials: credentialsFor(target), ...endpointOf('cloudtrail'), ...retry })),
    s3: (region = defaultRegion, target) =>
      cached('s3', region, target, () => new S3Client({ region, credentials: credentialsFor(target), ...endpointOf('s3'), forcePathStyle: Boolean(config.aws.endpoints?.s3), ...retry })),
    athena: (region, target) =>
      cached('athena', region, target, () => new AthenaClient({ region, credentials: credentialsFor(target), ...endpointOf('athena'), ...retry })),
    // Organizations and the Account API are global: their endpoints are in us-east-1.
    organizations: (target) =>
      cached('organizations', 'us-east-1', target, () => new OrganizationsClient({ region: 'us-east-1', credentials: credentialsFor(target), ...endpointOf('organizations'), ...retry })),
    account: (target) =>
      cached('account', 'us-east-1', target, () => new AccountClient({ region: 'us-east-1', credentials: credentialsFor(target), ...endpointOf('account'), ...retry })),
    ec2: (region, target) =>
      cached('ec2', region, target, () => new EC2Client({ region, credentials: credentialsFor(target), ...endpointOf('ec2'), ...retry })),
    stsWithCredentials: (credentials, target) => {
      const client = new STSClient({
        region: target?.region ?? defaultRegion,
        credentials: { ...credentials },
        ...endpointOf('sts'),
        ...retry,
      });
      instrument(client.middlewareStack as unknown as Stack, 'sts', config, target, true, limiters);
      return client;
    },
    destroy: () => {
      for (const client of cache.values()) client.destroy();
      cache.clear();
    },
  };
}
