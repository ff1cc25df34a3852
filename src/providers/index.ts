import type { Clients } from '../engine/context.js';
import { createAwsClients } from './aws.js';
import type { ProviderConfig } from './config.js';
import { createGitHubClients } from './github.js';
import { createNpmClient, type NpmClient } from './npm.js';

/**
 * Builds the Clients object actions get through their context, from one ProviderConfig:
 * GitHub clients from src/providers/github.ts, AWS clients from src/providers/aws.ts. Real
 * use and the lab differ only in what the config holds (endpoints, token, credentials).
 */
export function createClients(config: ProviderConfig): Clients & { destroy(): void } {
  const github = createGitHubClients(config);
  const aws = createAwsClients(config);
  let npm: NpmClient | undefined;
  return {
    config,
    github: () => github.github(),
    githubUnauthenticated: () => github.githubUnauthenticated(),
    iam: (target) => aws.iam(target),
    sts: (target) => aws.sts(target),
    cloudtrail: (region, target) => aws.cloudtrail(region, target),
    stsWithCredentials: (credentials, target) => aws.stsWithCredentials(credentials, target),
    s3: (region, target) => aws.s3(region, target),
    athena: (region, target) => aws.athena(region, target),
    organizations: (target) => aws.organizations(target),
    account: (target) => aws.account(target),
    ec2: (region, target) => aws.ec2(region, target),
    npm: () => (npm ??= createNpmClient(config)),
    destroy: () => aws.destroy(),
  };
}
