import type { Clients } from '../engine/context.js';
import type { ProviderConfig } from './config.js';
import { createAwsClients } from './aws.js';
import { createGitHubClients } from './github.js';

/**
 * Builds the Clients object actions get through their context: GitHub clients from
 * src/providers/github.ts and AWS clients from src/providers/aws.ts, from one ProviderConfig
 * (real endpoints or the lab's: nothing else differs).
 */
export function createClients(config: ProviderConfig): Clients {
  const github = createGitHubClients(config);
  const aws = createAwsClients(config);
  return {
    config,
    github: () => github.github(),
    githubUnauthenticated: () => github.githubUnauthenticated(),
    iam: (target) => aws.iam(target),
    sts: (target) => aws.sts(target),
    cloudtrail: (region, target) => aws.cloudtrail(region, target),
    stsWithCredentials: (credentials, target) => aws.stsWithCredentials(credentials, target),
  };
}
