import { Offset, type Scenario } from '../scenario.js';
import type { CloudTrailRecord, LabContext, LabService } from '../types.js';
import { AttackerRunner, type AttackOutcome } from './attacker.js';
import { AwsCore } from './core.js';
import { createIamService } from './iam.js';
import { cloudTrailDate, isoSeconds } from './protocol.js';
import { createStsService } from './sts.js';
import { createEc2Service } from './ec2.js';
import { createAccountService, createOrganizationsService } from './organizations.js';
import { regionUsable } from './regions.js';
import { AwsWorldState, RESPONDER_ACCESS_KEY_ID, RESPONDER_SECRET_ACCESS_KEY } from './world.js';

export type { AttackOutcome } from './attacker.js';
export { isAwsStep, stepKind } from './attacker.js';
export { evaluate, evaluateDetailed, parsePolicy } from './policy.js';
export { mintLabOidcToken } from './sts.js';
export { AwsWorldState, RESPONDER_ACCESS_KEY_ID, RESPONDER_SECRET_ACCESS_KEY } from './world.js';
export type { AccessKeyState, RoleState, SessionState, UserState } from './world.js';

/** The lab's AWS side: IAM and STS services over one world, and the attacker's script. */
export interface AwsLab {
  iam: LabService;
  sts: LabService;
  /** Organizations (ListAccounts), the Account API (ListRegions) and EC2 (DescribeRegions). */
  organizations: LabService;
  account: LabService;
  ec2: LabService;
  /**
   * The account a credential acts in and whether it may call a region, for the lab's CloudTrail
   * (each account sees its own trail; a disabled opt-in region does not know the credential).
   */
  callerAccount(accessKeyId: string, sessionToken: string | undefined): { account: string; regionUsable(region: string): boolean } | undefined;
  /** The world as it is now (roles, trust and inline policies, users and keys, sessions): for assertions. */
  state: AwsWorldState;
  /** The responder's lab credentials: an administrator user of the first account. */
  responderCredentials: { accessKeyId: string; secretAccessKey: string };
  /**
   * Plays the attacker's steps of a phase. `history` was played when the lab was created
   * (stamped at the steps' `at` offsets, in the past) and returns those outcomes again;
   * `after-containment` plays now. Steps on non-AWS services (`github:`, `npm:`) are skipped here.
   */
  playAttacker(phase: 'history' | 'after-containment'): Promise<AttackOutcome[]>;
  /** Plays AWS steps that are not in the script, now, as the attacker's own are played (src/lab/capabilities.ts). */
  playSteps(steps: readonly Scenario['attacker'][number][]): AttackOutcome[];
}

/** Writes the scenario's raw CloudTrail history; `eventTime` may be an offset (`-3d`). */
function seedHistory(world: Scenario['aws'], core: AwsCore, ctx: LabContext): void {
  for (const account of world.accounts) {
    for (const raw of account.cloudtrail_history) {
      const record = { ...raw } as Record<string, unknown>;
      if (typeof record.eventTime === 'string' && Offset.safeParse(record.eventTime).success) record.eventTime = isoSeconds(ctx.at(record.eventTime));
      record.eventID ??= core.state.ids.uuid();
      record.awsRegion ??= 'us-east-1';
      record.recipientAccountId ??= account.id;
      ctx.trail.record(record as CloudTrailRecord);
    }
  }
}

/**
 * The AssumeRoleWithWebIdentity event that minted each scenario session with an OIDC subject:
 * hunts find the job's session key in its `responseElements.credentials.accessKeyId` (FACTS.md).
 */
function seedSessionMints(core: AwsCore): void {
  for (const session of core.state.sessions.values()) {
    if (!session.webIdentity || session.id === undefined) continue;
    const role = core.state.role(session.account, session.roleName ?? '');
    const providerArn = `arn:aws:iam::${session.account}:oidc-provider/${session.webIdentity.provider}`;
    const roleArn = role?.arn ?? `arn:aws:iam::${session.account}:role/${session.roleName}`;
    const assumedRoleId = `${role?.roleId ?? 'AROAUNKNOWN'}:${session.sessionName}`;
    core.record({
      eventSource: 'sts.amazonaws.com',
      eventName: 'AssumeRoleWithWebIdentity',
      awsRegion: 'us-east-1',
      at: session.issuedAt,
      userIdentity: { type: 'WebIdentityUser', principalId: `${providerArn}:${session.webIdentity.audience}:${session.webIdentity.subject}`, userName: session.webIdentity.subject, identityProvider: providerArn },
      sourceIp: session.sourceIp,
      userAgent: session.userAgent,
      requestParameters: { roleArn, roleSessionName: session.sessionName, durationSeconds: Math.round((session.expiresAt.getTime() - session.issuedAt.getTime()) / 1000) },
      responseElements: {
        credentials: { accessKeyId: session.accessKeyId, expiration: cloudTrailDate(session.expiresAt, true) },
        subjectFromWebIdentityToken: session.webIdentity.subject,
        assumedRoleUser: { assumedRoleId, arn: `arn:aws:sts::${session.account}:assumed-role/${session.roleName}/${session.sessionName}` },
        provider: providerArn,
        audience: session.webIdentity.audience,
      },
      readOnly: true,
      recipientAccountId: session.account,
      requestId: core.state.ids.uuid(),
      resources: [{ accountId: session.account, type: 'AWS::IAM::Role', ARN: roleArn }],
    });
  }
}

/**
 * Builds the AWS side of a lab from a scenario: the world, IAM and STS services (serve them
 * with `serveService`), the CloudTrail history (raw records, the sessions' mint events, and
 * the attacker's `history` steps played at their offsets).
 */
export function createAwsLab(world: Scenario['aws'], attacker: Scenario['attacker'], ctx: LabContext): AwsLab {
  const state = new AwsWorldState(world, ctx);
  const core = new AwsCore(state, ctx, world.propagation_delay_ms ?? 0);
  const iam = createIamService(core, ctx);
  const sts = createStsService(core, ctx);
  const runner = new AttackerRunner(attacker, core, { iam, sts }, ctx);
  seedHistory(world, core, ctx);
  seedSessionMints(core);
  runner.play('history');
  return {
    iam,
    sts,
    organizations: createOrganizationsService(core, ctx),
    account: createAccountService(core, ctx),
    ec2: createEc2Service(core, ctx),
    callerAccount: (accessKeyId, sessionToken) => {
      const caller = core.identify(accessKeyId, sessionToken, ctx.now());
      if ('problem' in caller) return undefined;
      const account = state.accountOf(caller);
      const regions = state.account(account)?.regions ?? ['us-east-1'];
      return { account, regionUsable: (region) => regionUsable(regions, region) };
    },
    state,
    responderCredentials: { accessKeyId: RESPONDER_ACCESS_KEY_ID, secretAccessKey: RESPONDER_SECRET_ACCESS_KEY },
    playAttacker: async (phase) => runner.play(phase),
    playSteps: (steps) => runner.playExtra(steps),
  };
}
