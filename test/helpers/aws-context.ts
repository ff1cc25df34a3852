import type { ActionDefinition, ApplyResult, Finding } from '../../src/actions/define.js';
import type { ActionContext, Clients } from '../../src/engine/context.js';
import type { CredentialEvent } from '../../src/engine/evidence.js';
import { createAwsClients, type AwsClients } from '../../src/providers/aws.js';
import type { ApiCallRecord, ProviderConfig } from '../../src/providers/config.js';
import { createLabContext } from '../../src/lab/context.js';
import { serveService, type ServedService } from '../../src/lab/http.js';
import { createAwsLab, type AwsLab } from '../../src/lab/aws/index.js';
import { createCloudTrailService } from '../../src/lab/cloudtrail/index.js';
import { Scenario } from '../../src/lab/scenario.js';
import type { LabContext, LabRequest } from '../../src/lab/types.js';

/** What a test context recorded: evidence, findings, log lines and API calls. */
export interface Recorded {
  evidence: Array<{ kind: string; data: unknown }>;
  findings: Finding[];
  logs: Array<{ message: string; level: string }>;
  calls: ApiCallRecord[];
}

/** An ActionContext over real provider clients, recording what actions report. */
export function actionContext(options: { config: ProviderConfig; clients?: AwsClients; stepKey?: string; now?: () => Date }): {
  ctx: ActionContext;
  recorded: Recorded;
  aws: AwsClients;
} {
  const recorded: Recorded = { evidence: [], findings: [], logs: [], calls: [] };
  const config: ProviderConfig = { ...options.config, onApiCall: (call) => recorded.calls.push(call) };
  const aws = options.clients ?? createAwsClients(config);
  const clients: Clients = {
    config,
    github: () => Promise.reject(new Error('no GitHub in AWS action tests')),
    githubUnauthenticated: () => {
      throw new Error('no GitHub in AWS action tests');
    },
    iam: aws.iam,
    sts: aws.sts,
    cloudtrail: aws.cloudtrail,
    organizations: aws.organizations,
    account: aws.account,
    ec2: aws.ec2,
    stsWithCredentials: aws.stsWithCredentials,
  };
  const ctx: ActionContext = {
    runId: 'run-test',
    incident: config.incident,
    runDir: '/nonexistent',
    dryRun: config.dryRun,
    stepKey: options.stepKey ?? 'step',
    clients,
    signal: new AbortController().signal,
    now: options.now ?? (() => new Date()),
    log: (message, level = 'info') => recorded.logs.push({ message, level }),
    evidence: (kind, data) => recorded.evidence.push({ kind, data }),
    finding: (finding) => recorded.findings.push(finding),
  };
  return { ctx, recorded, aws };
}

/** The credential evidence events recorded so far. */
export function credentialEvents(recorded: Recorded): CredentialEvent[] {
  return recorded.evidence.filter((item) => item.kind === 'credential').map((item) => item.data as CredentialEvent);
}

/** A running lab AWS side (IAM + STS on loopback) with a context for actions. */
export interface AwsLabHarness {
  lab: AwsLab;
  labCtx: LabContext;
  endpoints: { iam: string; sts: string };
  requests: LabRequest[];
  /** `credentials`: another identity than the responder's admin (a scenario user's key). */
  config(overrides?: { dryRun?: boolean; credentials?: { accessKeyId: string; secretAccessKey: string } }): ProviderConfig;
  context(overrides?: { dryRun?: boolean; now?: () => Date; credentials?: { accessKeyId: string; secretAccessKey: string } }): ReturnType<typeof actionContext>;
  close(): Promise<void>;
}

/** Starts the lab's IAM and STS for a scenario (given as the object a scenario YAML parses to). */
export async function startAwsLab(scenario: unknown): Promise<AwsLabHarness> {
  const parsed = Scenario.parse(scenario);
  const labCtx = createLabContext({ seed: parsed.seed });
  const lab = createAwsLab(parsed.aws, parsed.attacker, labCtx);
  const requests: LabRequest[] = [];
  const log = { log: (entry: LabRequest) => requests.push(entry) };
  const served: ServedService[] = [
    await serveService(lab.iam, log),
    await serveService(lab.sts, log),
    await serveService(lab.organizations, log),
    await serveService(lab.account, log),
    await serveService(lab.ec2, log),
    await serveService(createCloudTrailService(labCtx, { callerAccount: lab.callerAccount, firstAccount: lab.state.firstAccount().id }), log),
  ];
  const contexts: AwsClients[] = [];
  const config = (overrides: { dryRun?: boolean; credentials?: { accessKeyId: string; secretAccessKey: string } } = {}): ProviderConfig => ({
    dryRun: overrides.dryRun ?? false,
    incident: 'IR-test',
    github: {},
    aws: {
      region: 'us-east-1',
      endpoints: { iam: served[0]!.url, sts: served[1]!.url, organizations: served[2]!.url, account: served[3]!.url, ec2: served[4]!.url, cloudtrail: served[5]!.url },
      credentials: overrides.credentials ?? lab.responderCredentials,
      maxAttempts: 2,
    },
  });
  return {
    lab,
    labCtx,
    endpoints: { iam: served[0]!.url, sts: served[1]!.url },
    requests,
    config,
    context: (overrides = {}) => {
      const made = actionContext({ config: config(overrides), ...(overrides.now ? { now: overrides.now } : {}) });
      contexts.push(made.aws);
      return made;
    },
    close: async () => {
      for (const clients of contexts) clients.destroy();
      await Promise.all(served.map((service) => service.close()));
    },
  };
}

/** plan -> apply, the way the engine runs a step (tests assert on both). */
export async function planAndApply<Input>(action: ActionDefinition<Input>, ctx: ActionContext, rawInput: unknown) {
  const input = action.schema.parse(rawInput);
  const plan = await action.plan(ctx, input);
  const result: ApplyResult = await action.apply(ctx, input, plan);
  return { input, plan, result };
}
