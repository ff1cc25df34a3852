import { dirname, resolve } from 'node:path';
import { createAwsLab, type AwsLab } from './aws/index.js';
import { deriveCapabilities, replayCapabilities, type Capability, type CapabilityOutcome } from './capabilities.js';
import { createCloudTrailService } from './cloudtrail/index.js';
import { createLabContext } from './context.js';
import { faultProfiles, faultProfileNames } from './faults.js';
import { createGitHubService, type GitHubLab } from './github/index.js';
import { serveService, type ServedService } from './http.js';
import { loadScenario } from './load-scenario.js';
import { createNpmService, type NpmLab } from './npm/index.js';
import { resolveSecretCredential, type Scenario } from './scenario.js';
import type { FaultProfile, Lab, LabContext, LabRequest } from './types.js';
import { UsageError } from '../engine/errors.js';

export interface StartLabOptions {
  /** A fault profile name (src/lab/faults.ts) or a profile. */
  faults?: string | FaultProfile;
  /** Overrides the scenario's seed. */
  seed?: number;
  /** First port to listen on (github, iam, sts, cloudtrail, npm, organizations, account, ec2 take eight in a row); default: any free ports. */
  basePort?: number;
}

/** A running lab with the pieces tests and drills look into. */
export interface RunningLab extends Lab {
  readonly scenario: Scenario;
  readonly scenarioFile: string;
  readonly context: LabContext;
  readonly github: GitHubLab;
  readonly aws: AwsLab;
  /** The npm registry stand-in (served for every scenario; empty without an `npm:` part). */
  readonly npm: NpmLab;
  /**
   * Ground truth: everything the attacker holds or can obtain in this scenario, and the
   * legitimate workloads, as the lab saw them at start (src/lab/capabilities.ts).
   */
  capabilities(): readonly Capability[];
  /** Replays every capability now, through the lab's own paths: what still works. */
  attackCapabilities(): Promise<CapabilityOutcome[]>;
}

function resolveFaults(faults: StartLabOptions['faults']): FaultProfile {
  if (faults === undefined) return faultProfiles.none!;
  if (typeof faults !== 'string') return faults;
  const profile = faultProfiles[faults];
  if (!profile) throw new UsageError(`unknown fault profile "${faults}"`, [`known profiles: ${faultProfileNames.join(', ')}`]);
  return profile;
}

/**
 * Starts the lab for a scenario file: GitHub REST, IAM, STS, CloudTrail, Organizations, Account,
 * EC2 (regions) and the npm registry on
 * loopback ports, with the attacker's history already played (AWS calls in the trail, npm
 * publishes in the registry). The returned providerConfig is all the
 * product needs to point its real clients at it.
 */
export async function startLab(scenarioFile: string, options: StartLabOptions = {}): Promise<RunningLab> {
  const file = resolve(scenarioFile);
  const scenario = await loadScenario(file);
  const profile = resolveFaults(options.faults);
  const seed = options.seed ?? scenario.seed;
  const context = createLabContext({ seed, scenarioDir: dirname(file) });
  const github = createGitHubService(scenario.github, context, { seed });
  const aws = createAwsLab(scenario.aws, scenario.attacker, context);
  const cloudtrail = createCloudTrailService(context, { callerAccount: aws.callerAccount, firstAccount: aws.state.firstAccount().id });
  const npm = createNpmService(scenario.npm, context, { attacker: scenario.attacker, resolveCredential: (credential) => resolveSecretCredential(scenario.github, credential) });

  const log: LabRequest[] = [];
  const served: ServedService[] = [];
  const serve = async (service: Parameters<typeof serveService>[0], offset: number): Promise<string> => {
    const server = await serveService(service, {
      ...(options.basePort !== undefined && { port: options.basePort + offset }),
      faults: profile.rules,
      random: context.random,
      startedAt: context.startedAt,
      log: (entry) => log.push(entry),
    });
    served.push(server);
    return server.url;
  };
  const endpoints = {
    github: await serve(github, 0),
    iam: await serve(aws.iam, 1),
    sts: await serve(aws.sts, 2),
    cloudtrail: await serve(cloudtrail, 3),
    npm: await serve(npm, 4),
    organizations: await serve(aws.organizations, 5),
    account: await serve(aws.account, 6),
    ec2: await serve(aws.ec2, 7),
  };

  // Derived at start: trust and keys as they were when the attacker acted, before any containment.
  const history = await aws.playAttacker('history');
  let capabilities: Capability[] | Error;
  try {
    capabilities = deriveCapabilities({ scenario, github, aws, endpoints, startedAt: context.startedAt }, history);
  } catch (error) {
    capabilities = error instanceof Error ? error : new Error(String(error));
  }
  const capabilityList = (): Capability[] => {
    if (capabilities instanceof Error) throw capabilities;
    return capabilities;
  };

  return {
    scenario,
    scenarioFile: file,
    capabilities: capabilityList,
    attackCapabilities: () => replayCapabilities({ scenario, github, aws, endpoints, startedAt: context.startedAt }, capabilityList()),
    context,
    github,
    aws,
    npm,
    endpoints,
    startedAt: context.startedAt,
    providerConfig: {
      // GitHub's write pacing is a courtesy to github.com; the lab's own limits come from fault
      // profiles, one of which asks for the production pacing (the contain bench).
      github: { apiUrl: endpoints.github, token: github.token, ...(profile.productionPacing ? {} : { writeIntervalMs: 0 }) },
      aws: {
        region: 'us-east-1',
        endpoints: { iam: endpoints.iam, sts: endpoints.sts, cloudtrail: endpoints.cloudtrail, organizations: endpoints.organizations, account: endpoints.account, ec2: endpoints.ec2 },
        credentials: aws.responderCredentials,
      },
      npm: { registryUrl: endpoints.npm, token: npm.token },
    },
    requests: () => [...log],
    attack: async (phase) => (await aws.playAttacker(phase)).map((outcome) => ({ call: outcome.call, credential: outcome.credential, outcome: outcome.outcome })),
    close: async () => {
      await Promise.all(served.map((server) => server.close()));
    },
  };
}
