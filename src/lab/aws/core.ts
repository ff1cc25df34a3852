import type { CloudTrailRecord, LabContext } from '../types.js';
import { evaluateDetailed, type ContextValue } from './policy.js';
import { AwsError, iamErrors, type XmlValue } from './protocol.js';
import type { AccountState, AwsWorldState, Caller, CredentialProblem } from './world.js';

/**
 * What IAM and STS share: who is calling, may they, and the CloudTrail record of every call.
 * The HTTP services and the attacker runner both go through {@link AwsCore.call}, so the
 * product's calls and the attacker's are authorised and logged by the same code.
 */

/** One call, however it arrived (HTTP from a real SDK client, or the attacker runner). */
export interface CallInput {
  service: 'iam' | 'sts' | 'organizations' | 'account' | 'ec2';
  action: string;
  params: URLSearchParams;
  /** Absent for unsigned calls (AssumeRoleWithWebIdentity). */
  accessKeyId?: string;
  sessionToken?: string;
  region: string;
  at: Date;
  sourceIp: string;
  userAgent: string;
}

export interface CallOutcome {
  requestId: string;
  result: XmlValue | null;
  error?: AwsError;
  /** The CloudTrail eventID, when the call was recorded (authentication failures are not). */
  eventID?: string;
  /** A credential the call produced (CreateAccessKey's key id, AssumeRole*'s session key id). */
  produced?: string;
}

/** What an operation's handler sees. */
export interface OperationInput {
  params: URLSearchParams;
  caller: Caller | undefined;
  /** The caller's account (the account IAM calls act on). */
  account: string;
  /** The world this operation sees: the latest state for writes, the (possibly lagging) view for reads. */
  state: AwsWorldState;
  at: Date;
  call: CallInput;
  /** Set by handlers that know the identity better than the credential (web identity callers). */
  trail: { userIdentity?: Record<string, unknown>; recipientAccountId?: string; resources?: Array<Record<string, string>> };
  core: AwsCore;
}

export interface OperationOutput {
  result: XmlValue | null;
  /** CloudTrail responseElements (never secrets); null for read-only calls, as AWS logs them. */
  responseElements?: Record<string, unknown> | null;
  produced?: string;
}

export interface OperationDef {
  readOnly: boolean;
  /** `false`: no IAM authorization (GetCallerIdentity cannot be denied; web identity is decided by the trust policy). */
  authorize?: boolean;
  /** The call needs no AWS credential (AssumeRoleWithWebIdentity). */
  unauthenticated?: boolean;
  /** The resource ARN the action is authorised against. */
  resource(params: URLSearchParams, account: string, caller: Caller | undefined): string;
  run(input: OperationInput): OperationOutput;
}

/** Request parameters CloudTrail never logs (credentials and tokens). */
const SECRET_PARAMS = new Set(['WebIdentityToken', 'SAMLAssertion', 'TokenCode', 'SecretAccessKey', 'Password', 'NewPassword', 'OldPassword']);

/** The CloudTrail errorCode each service uses for an authorization failure (spelling varies by service). */
const ACCESS_DENIED_CODE: Record<string, string> = {
  ec2: 'Client.UnauthorizedOperation',
  s3: 'AccessDenied',
  iam: 'AccessDenied',
  sts: 'AccessDenied',
  secretsmanager: 'AccessDenied',
};

function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

/** CloudTrail's requestParameters: the form fields in camelCase, lists collapsed, secrets dropped. */
export function requestParameters(params: URLSearchParams): Record<string, unknown> | null {
  const out: Record<string, unknown> = {};
  for (const [key, value] of params) {
    if (key === 'Action' || key === 'Version') continue;
    const list = /^([^.]+)\.member\.\d+$/.exec(key);
    // Nested structures (SimulatePrincipalPolicy's ContextEntries) are left out.
    if (!list && key.includes('.')) continue;
    const name = list ? list[1]! : key;
    if (SECRET_PARAMS.has(name)) continue;
    const field = lowerFirst(name);
    if (list) {
      out[field] = [...((out[field] as unknown[] | undefined) ?? []), value];
    } else if (/^(DurationSeconds|MaxItems|MaxSessionDuration)$/.test(name)) {
      out[field] = Number(value);
    } else {
      out[field] = value;
    }
  }
  return Object.keys(out).length > 0 ? out : null;
}

/** Authentication, authorization and CloudTrail for every IAM/STS call of one lab. */
export class AwsCore {
  /**
   * What reads and authorization see. The same object as `state` unless the scenario sets a
   * propagation delay; then a replica that receives each account's writes that much later.
   */
  readonly view: AwsWorldState;
  private readonly pending: Array<{ visibleAt: number; account: string; snapshot: AccountState }> = [];

  constructor(
    /** The latest state: writes go here; tests assert on it. */
    readonly state: AwsWorldState,
    readonly ctx: LabContext,
    private readonly propagationDelayMs = 0,
  ) {
    this.view = propagationDelayMs > 0 ? state.replica() : state;
  }

  /** Makes writes whose propagation delay has passed visible to reads and authorization. */
  settle(now: Date = this.ctx.now()): void {
    while (this.pending.length > 0 && this.pending[0]!.visibleAt <= now.getTime()) {
      const { account, snapshot } = this.pending.shift()!;
      this.view.accounts.set(account, snapshot);
    }
  }

  /** Resolves a credential as IAM currently sees it (after settling propagated writes). */
  identify(accessKeyId: string, sessionToken: string | undefined, at: Date): Caller | { problem: CredentialProblem } {
    this.settle();
    return this.view.identify(accessKeyId, sessionToken, at);
  }

  /** CloudTrail userIdentity of a caller, as AWS writes it. */
  userIdentity(caller: Caller): Record<string, unknown> {
    if (caller.kind === 'responder') {
      const r = caller.responder;
      return { type: 'IAMUser', principalId: r.userId, arn: r.arn, accountId: r.account, accessKeyId: caller.accessKeyId, userName: r.userName };
    }
    if (caller.kind === 'user') {
      const u = caller.user;
      return { type: 'IAMUser', principalId: u.userId, arn: u.arn, accountId: u.account, accessKeyId: caller.accessKeyId, userName: u.name };
    }
    const s = caller.session;
    const attributes = { creationDate: s.issuedAt.toISOString().replace(/\.\d{3}Z$/, 'Z'), mfaAuthenticated: 'false' };
    if (s.kind === 'user') {
      const user = this.state.user(s.account, s.userName ?? '');
      return {
        type: 'IAMUser', principalId: user?.userId ?? s.userName, arn: `arn:aws:iam::${s.account}:user/${s.userName}`, accountId: s.account,
        accessKeyId: s.accessKeyId, userName: s.userName, sessionContext: { attributes },
      };
    }
    const role = this.state.role(s.account, s.roleName ?? '');
    const roleId = role?.roleId ?? 'AROAUNKNOWNROLE00000';
    return {
      type: 'AssumedRole',
      principalId: `${roleId}:${s.sessionName}`,
      arn: `arn:aws:sts::${s.account}:assumed-role/${s.roleName}/${s.sessionName}`,
      accountId: s.account,
      accessKeyId: s.accessKeyId,
      sessionContext: {
        sessionIssuer: { type: 'Role', principalId: roleId, arn: role?.arn ?? `arn:aws:iam::${s.account}:role/${s.roleName}`, accountId: s.account, userName: s.roleName },
        ...(s.webIdentity ? { webIdFederationData: { federatedProvider: `arn:aws:iam::${s.account}:oidc-provider/${s.webIdentity.provider}`, attributes: {} } } : {}),
        attributes,
      },
    };
  }

  /** The identity policies that apply to a caller right now (so a policy put later applies at once). */
  identityPolicies(caller: Caller): string[] {
    if (caller.kind === 'user') {
      const user = this.view.user(caller.user.account, caller.user.name) ?? caller.user;
      return [...user.inlinePolicies.values(), ...user.managedPolicies.values()];
    }
    if (caller.kind === 'session') {
      const s = caller.session;
      if (s.kind === 'user') {
        const user = this.view.user(s.account, s.userName ?? '');
        return user ? [...user.inlinePolicies.values(), ...user.managedPolicies.values()] : [];
      }
      const role = this.view.role(s.account, s.roleName ?? '');
      return role ? [...role.inlinePolicies.values(), ...role.managedPolicies.values()] : [];
    }
    return [];
  }

  /** Global condition keys of a request by this caller. */
  requestContext(caller: Caller, at: Date, sourceIp: string): Record<string, ContextValue> {
    const context: Record<string, ContextValue> = {
      'aws:CurrentTime': at.toISOString(),
      'aws:EpochTime': String(Math.floor(at.getTime() / 1000)),
      'aws:SourceIp': sourceIp,
      'aws:SecureTransport': 'true',
      'aws:PrincipalArn': this.principalArn(caller),
      'aws:PrincipalAccount': this.state.accountOf(caller),
      'aws:PrincipalType': caller.kind === 'session' && caller.session.kind === 'role' ? 'AssumedRole' : 'User',
    };
    // aws:TokenIssueTime exists only for temporary credentials: why AWSRevokeOlderSessions
    // does not touch long-term access keys (FACTS.md, "Not covered").
    if (caller.kind === 'session') context['aws:TokenIssueTime'] = caller.session.issuedAt.toISOString();
    return context;
  }

  /** aws:PrincipalArn: the role ARN for role sessions, the user ARN otherwise. */
  principalArn(caller: Caller): string {
    if (caller.kind === 'session' && caller.session.kind === 'role') {
      return this.state.role(caller.session.account, caller.session.roleName ?? '')?.arn ?? this.state.arnOf(caller);
    }
    return this.state.arnOf(caller);
  }

  /**
   * Authorises `action` on `resource` for a caller with the policy evaluator. The responder's
   * lab admin is allowed everything (it stands for the responder's real admin role).
   */
  authorize(caller: Caller, action: string, resource: string, at: Date, sourceIp: string): { allowed: true } | { allowed: false; message: string } {
    if (caller.kind === 'responder') return { allowed: true };
    const result = evaluateDetailed({ action, resource, context: this.requestContext(caller, at, sourceIp), identityPolicies: this.identityPolicies(caller) });
    if (result.decision === 'allow') return { allowed: true };
    const who = this.state.arnOf(caller);
    const resourceText = resource === '*' ? '*' : resource;
    // AWS's wording since 2021: explicit denies name the policy type; implicit ones say no policy allows.
    const message =
      result.decision === 'explicit-deny'
        ? `User: ${who} is not authorized to perform: ${action} on resource: ${resourceText} with an explicit deny in an identity-based policy`
        : `User: ${who} is not authorized to perform: ${action} on resource: ${resourceText} because no identity-based policy allows the ${action} action`;
    return { allowed: false, message };
  }

  /** Writes one CloudTrail record and returns its eventID. */
  record(fields: {
    eventSource: string;
    eventName: string;
    awsRegion: string;
    at: Date;
    userIdentity: Record<string, unknown>;
    sourceIp: string;
    userAgent: string;
    requestParameters: Record<string, unknown> | null;
    responseElements: Record<string, unknown> | null;
    readOnly: boolean;
    recipientAccountId: string;
    requestId: string;
    error?: { code: string; message: string };
    resources?: Array<Record<string, string>>;
    /** A data event (S3 object-level, Lambda Invoke): not returned by LookupEvents, which has management events only. */
    dataEvent?: boolean;
  }): string {
    const eventID = this.state.ids.uuid();
    const record: CloudTrailRecord = {
      eventVersion: '1.09',
      userIdentity: fields.userIdentity,
      eventTime: fields.at.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      eventSource: fields.eventSource,
      eventName: fields.eventName,
      awsRegion: fields.awsRegion,
      sourceIPAddress: fields.sourceIp,
      userAgent: fields.userAgent,
      ...(fields.error ? { errorCode: fields.error.code, errorMessage: fields.error.message } : {}),
      requestParameters: fields.requestParameters,
      responseElements: fields.error ? null : fields.responseElements,
      requestID: fields.requestId,
      eventID,
      readOnly: fields.readOnly,
      ...(fields.resources ? { resources: fields.resources } : {}),
      eventType: 'AwsApiCall',
      managementEvent: !fields.dataEvent,
      recipientAccountId: fields.recipientAccountId,
      eventCategory: fields.dataEvent ? 'Data' : 'Management',
      tlsDetails: { tlsVersion: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', clientProvidedHostHeader: `${fields.eventSource.replace('.amazonaws.com', '')}.amazonaws.com` },
    };
    this.ctx.trail.record(record);
    return eventID;
  }

  /**
   * Runs one IAM/STS call end to end: authenticate, authorise, run, record in CloudTrail.
   * Failed authentication (unknown, inactive or deleted keys, expired tokens) is refused
   * before the service and NOT recorded: CloudTrail mostly does not log such calls
   * (FACTS.md, "Expired-token calls are mostly not in CloudTrail").
   */
  call(input: CallInput, operations: Record<string, OperationDef>): CallOutcome {
    const requestId = this.state.ids.uuid();
    const operation = operations[input.action];
    if (!operation) return { requestId, result: null, error: iamErrors.invalidAction(input.action) };

    let caller: Caller | undefined;
    this.settle();
    // Unauthenticated operations ignore any signature: AWS decides them on the token alone.
    if (operation.unauthenticated) {
      caller = undefined;
    } else if (input.accessKeyId !== undefined) {
      const identified = this.view.identify(input.accessKeyId, input.sessionToken, input.at);
      if ('problem' in identified) {
        return { requestId, result: null, error: identified.problem === 'expired-token' ? iamErrors.expiredToken() : iamErrors.invalidClientTokenId() };
      }
      caller = identified;
    } else {
      return { requestId, result: null, error: iamErrors.missingAuthentication() };
    }

    const account = caller ? this.state.accountOf(caller) : this.state.firstAccount().id;
    const eventSource = `${input.service}.amazonaws.com`;
    // IAM is global: its events are logged in us-east-1 (FACTS.md, CloudTrail).
    const awsRegion = input.service === 'iam' || input.service === 'organizations' || input.service === 'account' ? 'us-east-1' : input.region;
    const opInput: OperationInput = { params: input.params, caller, account, state: operation.readOnly ? this.view : this.state, at: input.at, call: input, trail: {}, core: this };
    let output: OperationOutput | undefined;
    let error: AwsError | undefined;

    if (caller?.kind === 'session' && caller.session.kind === 'user' && input.service === 'iam') {
      // GetSessionToken credentials cannot call IAM without MFA (STS API Reference, GetSessionToken).
      error = iamErrors.accessDenied(`User: ${this.state.arnOf(caller)} is not authorized to perform: iam:${input.action} because no MFA authentication information is included in the request`);
    } else if (caller && operation.authorize !== false) {
      const decision = this.authorize(caller, `${input.service}:${input.action}`, operation.resource(input.params, account, caller), input.at, input.sourceIp);
      if (!decision.allowed) error = iamErrors.accessDenied(decision.message);
    }
    if (!error) {
      try {
        output = operation.run(opInput);
      } catch (thrown) {
        if (!(thrown instanceof AwsError)) throw thrown;
        error = thrown;
      }
    }
    if (caller) this.noteUse(caller, input);
    if (!error && !operation.readOnly && this.view !== this.state) {
      // IAM's eventual consistency: this account's new state reaches reads and authorization later.
      this.pending.push({ visibleAt: this.ctx.now().getTime() + this.propagationDelayMs, account, snapshot: this.state.snapshotAccount(account) });
    }

    const userIdentity = opInput.trail.userIdentity ?? (caller ? this.userIdentity(caller) : { type: 'Unknown' });
    const eventID = this.record({
      eventSource,
      eventName: input.action,
      awsRegion,
      at: input.at,
      userIdentity,
      sourceIp: input.sourceIp,
      userAgent: input.userAgent,
      requestParameters: requestParameters(input.params),
      responseElements: output?.responseElements ?? null,
      readOnly: operation.readOnly,
      recipientAccountId: opInput.trail.recipientAccountId ?? account,
      requestId,
      ...(error ? { error: { code: error.code, message: error.message } } : {}),
      ...(opInput.trail.resources ? { resources: opInput.trail.resources } : {}),
    });
    if (error) return { requestId, result: null, error, eventID };
    return { requestId, result: output!.result, eventID, ...(output!.produced ? { produced: output!.produced } : {}) };
  }

  /**
   * A call to a service the lab does not serve (`s3:ListBuckets`, `ec2:DescribeInstances`,
   * `secretsmanager:GetSecretValue`): authorised with the evaluator and recorded in the trail,
   * so hunts and drills see it, but nothing is returned.
   */
  foreignCall(input: { caller: Caller; service: string; action: string; iamAction: string; resource: string; params: Record<string, unknown>; region: string; at: Date; sourceIp: string; userAgent: string; readOnly: boolean; dataEvent?: boolean }): { allowed: boolean; eventID: string; errorCode?: string } {
    const decision = this.authorize(input.caller, input.iamAction, input.resource, input.at, input.sourceIp);
    this.noteUse(input.caller, { service: input.service, region: input.region, at: input.at });
    const errorCode = ACCESS_DENIED_CODE[input.service] ?? 'AccessDenied';
    const eventID = this.record({
      eventSource: `${input.service}.amazonaws.com`,
      eventName: input.action,
      awsRegion: input.region,
      at: input.at,
      userIdentity: this.userIdentity(input.caller),
      sourceIp: input.sourceIp,
      userAgent: input.userAgent,
      requestParameters: Object.keys(input.params).length > 0 ? input.params : null,
      responseElements: null,
      readOnly: input.readOnly,
      recipientAccountId: this.state.accountOf(input.caller),
      requestId: this.state.ids.uuid(),
      ...(decision.allowed ? {} : { error: { code: errorCode, message: decision.message } }),
      ...(input.dataEvent ? { dataEvent: true } : {}),
    });
    return decision.allowed ? { allowed: true, eventID } : { allowed: false, eventID, errorCode };
  }

  /** GetAccessKeyLastUsed / RoleLastUsed bookkeeping. */
  private noteUse(caller: Caller, input: { service: string; region: string; at: Date }): void {
    for (const world of new Set([this.state, this.view])) {
      if (caller.kind === 'user') {
        const key = world.findKey(caller.accessKeyId)?.key;
        if (key) key.lastUsed = { date: input.at, service: input.service, region: input.region };
      }
      if (caller.kind === 'session' && caller.session.kind === 'role') {
        const role = world.role(caller.session.account, caller.session.roleName ?? '');
        if (role && (!role.lastUsed || role.lastUsed.date < input.at)) role.lastUsed = { date: input.at, region: input.region };
      }
    }
  }
}
