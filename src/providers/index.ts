import type { Clients } from '../engine/context.js';
import { UsageError } from '../engine/errors.js';
import type { ProviderConfig } from './config.js';
import { createGitHubClients } from './github.js';

/**
 * Builds the Clients object actions get through their context. GitHub clients come from
 * src/providers/github.ts; the AWS side is not wired on this branch (the lead merges it with
 * src/providers/aws.ts): asking for an AWS client says so instead of failing obscurely.
 */
export function createClients(config: ProviderConfig): Clients {
  const github = createGitHubClients(config);
  const noAws = (): never => {
    throw new UsageError('AWS not configured: this build has no AWS client factory');
  };
  return {
    config,
    github: () => github.github(),
    githubUnauthenticated: () => github.githubUnauthenticated(),
    iam: noAws,
    sts: noAws,
    cloudtrail: noAws,
  };
}
