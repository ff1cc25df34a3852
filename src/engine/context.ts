import type { Octokit } from '@octokit/rest';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { STSClient } from '@aws-sdk/client-sts';
import type { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import type { S3Client } from '@aws-sdk/client-s3';
import type { AthenaClient } from '@aws-sdk/client-athena';
import type { OrganizationsClient } from '@aws-sdk/client-organizations';
import type { AccountClient } from '@aws-sdk/client-account';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { ProviderConfig } from '../providers/config.js';
import type { Finding } from '../actions/define.js';
import type { NpmClient } from '../providers/npm.js';

/** Which AWS account an action works in: the default credentials, or a role assumed into another account. */
export interface AwsTarget {
  accountId?: string;
  /** Role to assume with fromTemporaryCredentials; the session name names the incident. */
  roleArn?: string;
  region?: string;
}

/** Client factories, built by src/providers. Actions get clients only from here. */
export interface Clients {
  readonly config: ProviderConfig;
  /** Authenticated Octokit with retry + throttling, pinned API version, dry-run guard. */
  github(): Promise<Octokit>;
  /** Octokit with no credentials: POST /credentials/revoke must be sent unauthenticated. */
  githubUnauthenticated(): Octokit;
  iam(target?: AwsTarget): IAMClient;
  sts(target?: AwsTarget): STSClient;
  cloudtrail(region: string, target?: AwsTarget): CloudTrailClient;
  /** S3, for the hunt's files source over `s3://` trails (optional: added by the hunt). */
  s3?(region?: string, target?: AwsTarget): S3Client;
  /** Athena, for the hunt's athena source (optional: added by the hunt). */
  athena?(region: string, target?: AwsTarget): AthenaClient;
  /** Organizations ListAccounts (optional: src/providers/aws.ts provides it). */
  organizations?(target?: AwsTarget): OrganizationsClient;
  /** account:ListRegions (optional: src/providers/aws.ts provides it). */
  account?(target?: AwsTarget): AccountClient;
  /** ec2:DescribeRegions (optional: src/providers/aws.ts provides it). */
  ec2?(region: string, target?: AwsTarget): EC2Client;
  /**
   * STS signed with given credentials (a new access key being proven), same endpoint and
   * middleware as `sts()`. Optional: src/providers/aws.ts `createAwsClients` provides it.
   */
  /** The npm registry client (optional: src/providers/npm.ts; built once per run). */
  npm?(): NpmClient;
  stsWithCredentials?(credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }, target?: AwsTarget): STSClient;
}

/** What an action sees while it plans, applies, verifies or compensates. */
export interface ActionContext {
  readonly runId: string;
  readonly incident: string;
  /** The run folder (.cicd-ir/runs/<run-id>): evidence files go here. */
  readonly runDir: string;
  readonly dryRun: boolean;
  /** The step id, with the for_each index when fanned out (e.g. `revoke[2]`). */
  readonly stepKey: string;
  readonly clients: Clients;
  readonly signal: AbortSignal;
  now(): Date;
  log(message: string, level?: 'debug' | 'info' | 'warn'): void;
  /** Records evidence for the timeline report (journalled as an `evidence` record). */
  evidence(kind: string, data: unknown): void;
  /** Records a finding (journalled as a `finding` record, merged into the report). */
  finding(finding: Finding): void;
}
