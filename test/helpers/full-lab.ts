import { createLabContext } from '../../src/lab/context.js';
import { createAwsLab, type AwsLab } from '../../src/lab/aws/index.js';
import { createGitHubService, type GitHubLab } from '../../src/lab/github/index.js';
import { serveService, type ServedService } from '../../src/lab/http.js';
import { Scenario } from '../../src/lab/scenario.js';
import type { LabRequest, LabService } from '../../src/lab/types.js';
import type { ProviderConfig } from '../../src/providers/config.js';

/** GitHub + IAM/STS (and optionally a CloudTrail responder) of one scenario on loopback ports. */
export interface FullLab {
  github: GitHubLab;
  aws: AwsLab;
  /** Every request any service served, in order (the host's log: method, operation, mutating). */
  requests: LabRequest[];
  urls: { github: string; iam: string; sts: string; cloudtrail?: string };
  /** Provider config pointed at the lab; `aws` overrides the credentials (another identity). */
  config(options?: { dryRun?: boolean; aws?: { accessKeyId: string; secretAccessKey: string }; githubToken?: string }): ProviderConfig;
  close(): Promise<void>;
}

/** Starts a scenario's GitHub and AWS sides, built by hand from the lab's parts. */
export async function startFullLab(scenario: unknown, extra: { cloudtrail?: LabService } = {}): Promise<FullLab> {
  const parsed = Scenario.parse(scenario);
  const ctx = createLabContext({ seed: parsed.seed });
  const github = createGitHubService(parsed.github, ctx, { seed: parsed.seed });
  const aws = createAwsLab(parsed.aws, parsed.attacker, ctx);
  const requests: LabRequest[] = [];
  const log = { log: (entry: LabRequest) => requests.push(entry), startedAt: ctx.startedAt };
  const served: ServedService[] = [await serveService(github, log), await serveService(aws.iam, log), await serveService(aws.sts, log)];
  if (extra.cloudtrail) served.push(await serveService(extra.cloudtrail, log));
  const urls = { github: served[0]!.url, iam: served[1]!.url, sts: served[2]!.url, ...(served[3] ? { cloudtrail: served[3].url } : {}) };
  return {
    github,
    aws,
    requests,
    urls,
    config: (options = {}) => ({
      dryRun: options.dryRun ?? false,
      incident: 'IR-restore',
      // Writes unpaced: the lab has no secondary rate limit to respect.
      github: { apiUrl: urls.github, token: options.githubToken ?? github.token, writeIntervalMs: 0 },
      aws: {
        region: 'us-east-1',
        endpoints: { iam: urls.iam, sts: urls.sts, ...(urls.cloudtrail ? { cloudtrail: urls.cloudtrail } : {}) },
        credentials: options.aws ?? aws.responderCredentials,
        maxAttempts: 2,
      },
    }),
    close: async () => {
      await Promise.all(served.map((service) => service.close()));
    },
  };
}
