import { offsetMs, type Scenario } from '../scenario.js';
import type { LabContext } from '../types.js';
import type { AwsCore } from './core.js';
import type { QueryService } from './iam.js';
import { mintLabOidcToken } from './sts.js';

/** What happened to one attacker step. */
export interface AttackOutcome {
  /** Index of the step in the scenario's `attacker` list. */
  step: number;
  /** The step's call, e.g. `iam:CreateAccessKey`. */
  call: string;
  /** The credential as the scenario names it (session id, key id, `as:` name, `oidc:<sub>`). */
  credential: string;
  /** `attacker`, or `workload` for the legitimate job's own calls. */
  actor: 'attacker' | 'workload';
  /** What a correct containment should lead to, when the scenario says. */
  expected?: 'success' | 'denied';
  outcome: 'success' | 'denied';
  /** The CloudTrail eventID of the call; empty when AWS would not record it (refused credentials). */
  eventID: string;
  /** The AWS error code when denied (`AccessDenied`, `InvalidClientTokenId`, `ExpiredToken`, ...). */
  errorCode?: string;
  /** The access key id the call was made with, when there was one. */
  accessKeyId?: string;
  /** A credential the call produced (new access key id or session key id). */
  produced?: string;
}

type Step = Scenario['attacker'][number];

/** Registries and tools the lab does not emulate: steps on them are narrative (tabletop text). */
const NARRATIVE = new Set(['pypi', 'git', 'docker']);

/**
 * Who plays an attacker step: `aws` (this module), `github` (`github:METHOD /path`, with the
 * token value as `credential`: the GitHub lab's `callAs`), `npm` (`npm:publish`: the lab
 * registry, history at lab start, after-containment by the drill over HTTP), or `narrative`
 * (PyPI, ...: nothing to play, the step documents what the attacker did there).
 */
export function stepKind(step: Pick<Step, 'call'>): 'aws' | 'github' | 'npm' | 'narrative' {
  const service = (step.call.split(':')[0] ?? '').toLowerCase();
  if (service === 'github' || service === 'npm') return service;
  return NARRATIVE.has(service) ? 'narrative' : 'aws';
}

/** True when the lab's AWS part plays this step. */
export function isAwsStep(step: Pick<Step, 'call'>): boolean {
  return stepKind(step) === 'aws';
}

function toParams(action: string, version: string, params: Record<string, unknown>): URLSearchParams {
  const form = new URLSearchParams({ Action: action, Version: version });
  for (const [key, value] of Object.entries(params)) {
    if (Array.isArray(value)) value.forEach((item, index) => form.set(`${key}.member.${index + 1}`, String(item)));
    else if (typeof value === 'object' && value !== null) form.set(key, JSON.stringify(value));
    else form.set(key, String(value));
  }
  return form;
}

/** The resource ARN a non-IAM call acts on, from its params (best effort; `*` otherwise). */
function foreignResource(service: string, params: Record<string, unknown>, region: string, account: string): string {
  if (typeof params.Resource === 'string') return params.Resource;
  if (service === 'secretsmanager' && typeof params.SecretId === 'string') {
    return params.SecretId.startsWith('arn:') ? params.SecretId : `arn:aws:secretsmanager:${region}:${account}:secret:${params.SecretId}`;
  }
  if (service === 's3' && typeof params.Bucket === 'string') {
    return typeof params.Key === 'string' ? `arn:aws:s3:::${params.Bucket}/${params.Key}` : `arn:aws:s3:::${params.Bucket}`;
  }
  if (service === 'cloudformation' && typeof params.StackName === 'string') return `arn:aws:cloudformation:${region}:${account}:stack/${params.StackName}/*`;
  if (service === 'ssm' && typeof params.Name === 'string') return `arn:aws:ssm:${region}:${account}:parameter/${params.Name.replace(/^\//, '')}`;
  return '*';
}

/**
 * IAM action names that differ from the API operation (and CloudTrail eventName): S3's
 * ListBuckets is authorised as s3:ListAllMyBuckets (Service Authorization Reference, Amazon S3).
 */
const IAM_ACTION_OF: Record<string, string> = {
  's3:ListBuckets': 's3:ListAllMyBuckets',
  's3:ListObjects': 's3:ListBucket',
  's3:ListObjectsV2': 's3:ListBucket',
  's3:HeadObject': 's3:GetObject',
  's3:HeadBucket': 's3:ListBucket',
};

/**
 * CloudTrail data events (not in LookupEvents): S3 object-level operations and Lambda Invoke
 * (CloudTrail User Guide, logging-data-events). ListBuckets/GetBucket* are management events.
 */
function isDataEvent(service: string, action: string): boolean {
  if (service === 's3') return /Object|^ListObjects|^ListMultipart|^(Create|Complete|Abort)MultipartUpload|^UploadPart/.test(action);
  return service === 'lambda' && action === 'Invoke';
}

/**
 * Plays the scenario's attacker script against the lab's IAM/STS (through the same code as
 * HTTP calls: authorization by policy evaluation, CloudTrail records) and other AWS services
 * (evaluated and logged only).
 */
export class AttackerRunner {
  /** `as:` names -> the access key id they stand for. */
  private readonly named = new Map<string, string>();
  private history: AttackOutcome[] | undefined;

  constructor(
    private readonly steps: Scenario['attacker'],
    private readonly core: AwsCore,
    private readonly services: { iam: QueryService; sts: QueryService },
    private readonly ctx: LabContext,
  ) {}

  /**
   * `history` steps are stamped at their `at` offsets (in the past) and played once (later calls
   * return the same outcomes); `after-containment` steps are stamped now and played each call.
   */
  play(phase: 'history' | 'after-containment'): AttackOutcome[] {
    if (phase === 'history') {
      this.history ??= this.stepsOf('history').map(({ step, index }) => this.playStep(step, index, this.ctx.at(step.at ?? '0s')));
      return this.history;
    }
    return this.stepsOf('after-containment').map(({ step, index }) => this.playStep(step, index, this.ctx.now()));
  }

  /**
   * Plays steps that are not in the scenario's script, now, through the same path as the
   * script's own (authentication, policy evaluation, CloudTrail): the lab's capability replay
   * (src/lab/capabilities.ts). Credentials may be the script's `as:` names. `step` in each
   * outcome is the index in `steps`.
   */
  playExtra(steps: readonly Step[]): AttackOutcome[] {
    return steps.map((step, index) => this.playStep(step, index, this.ctx.now()));
  }

  /** The phase's AWS steps in time order (ties keep the scenario's order). */
  private stepsOf(phase: Step['phase']): Array<{ step: Step; index: number }> {
    return this.steps
      .map((step, index) => ({ step, index }))
      .filter(({ step }) => step.phase === phase && isAwsStep(step))
      .sort((a, b) => offsetMs(a.step.at ?? '0s') - offsetMs(b.step.at ?? '0s') || a.index - b.index);
  }

  /** The access key id a scenario credential reference stands for. */
  resolve(credential: string): string | undefined {
    if (this.named.has(credential)) return this.named.get(credential);
    const session = this.core.state.sessionById(credential);
    if (session) return session.accessKeyId;
    if (/^A[SK]IA[A-Z0-9]{12,}$/.test(credential)) return credential;
    return undefined;
  }

  private playStep(step: Step, index: number, at: Date): AttackOutcome {
    const [serviceRaw, action = ''] = step.call.split(':', 2) as [string, string?];
    const service = serviceRaw.toLowerCase();
    const base = { step: index, call: step.call, credential: step.credential, actor: step.actor, ...(step.expect ? { expected: step.expect } : {}) };
    const params = { ...step.params };

    if (service === 'iam' || service === 'sts') {
      let accessKeyId: string | undefined;
      if (step.credential.startsWith('oidc:')) {
        // Re-assuming through OIDC: the attacker can mint a token with this subject (it controls a
        // workflow that can), so the trust policy is what stands in the way.
        params.WebIdentityToken ??= mintLabOidcToken({ sub: step.credential.slice('oidc:'.length) });
      } else {
        accessKeyId = this.resolve(step.credential);
        if (!accessKeyId) throw new Error(`attacker step ${step.call}: unknown credential ${step.credential} (a session id, an access key id, or an earlier step's \`as:\` name)`);
      }
      if (/^AssumeRole/.test(action)) params.RoleSessionName ??= 'GitHubActions';
      const serviceImpl = service === 'iam' ? this.services.iam : this.services.sts;
      const session = accessKeyId ? this.core.state.sessions.get(accessKeyId) : undefined;
      const outcome = serviceImpl.run({
        service,
        action,
        params: toParams(action, service === 'iam' ? '2010-05-08' : '2011-06-15', params),
        ...(accessKeyId ? { accessKeyId } : {}),
        ...(session ? { sessionToken: session.sessionToken } : {}),
        region: step.region,
        at,
        sourceIp: step.source_ip,
        userAgent: step.user_agent,
      });
      if (step.as && outcome.produced) this.named.set(step.as, outcome.produced);
      return {
        ...base,
        outcome: outcome.error ? 'denied' : 'success',
        eventID: outcome.eventID ?? '',
        ...(outcome.error ? { errorCode: outcome.error.code } : {}),
        ...(accessKeyId ? { accessKeyId } : {}),
        ...(outcome.produced ? { produced: outcome.produced } : {}),
      };
    }

    const accessKeyId = this.resolve(step.credential);
    if (!accessKeyId) throw new Error(`attacker step ${step.call}: unknown credential ${step.credential}`);
    const session = this.core.state.sessions.get(accessKeyId);
    const caller = this.core.identify(accessKeyId, session?.sessionToken, at);
    if ('problem' in caller) {
      // Refused before authorization; CloudTrail mostly does not record these (FACTS.md).
      return { ...base, outcome: 'denied', eventID: '', errorCode: caller.problem === 'expired-token' ? 'ExpiredToken' : 'InvalidClientTokenId', accessKeyId };
    }
    const result = this.core.foreignCall({
      caller,
      service,
      action,
      iamAction: IAM_ACTION_OF[`${service}:${action}`] ?? `${service}:${action}`,
      resource: foreignResource(service, params, step.region, this.core.state.accountOf(caller)),
      params,
      region: step.region,
      at,
      sourceIp: step.source_ip,
      userAgent: step.user_agent,
      readOnly: /^(Get|List|Describe|Head|BatchGet)/.test(action),
      dataEvent: isDataEvent(service, action),
    });
    return { ...base, outcome: result.allowed ? 'success' : 'denied', eventID: result.eventID, ...(result.errorCode ? { errorCode: result.errorCode } : {}), accessKeyId };
  }
}
