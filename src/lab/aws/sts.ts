import type { LabContext } from '../types.js';
import type { AwsCore, OperationDef, OperationInput, OperationOutput } from './core.js';
import { QueryService } from './iam.js';
import { evaluate, type ContextValue } from './policy.js';
import { AwsError, cloudTrailDate } from './protocol.js';
import type { RoleState, SessionState } from './world.js';

/** STS's XML namespace (API version 2011-06-15). */
export const STS_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';

const stsErrors = {
  accessDenied: (message: string) => new AwsError('AccessDenied', message, 403),
  invalidIdentityToken: (message: string) => new AwsError('InvalidIdentityToken', message, 400),
  expiredToken: (message: string) => new AwsError('ExpiredTokenException', message, 400),
  validation: (message: string) => new AwsError('ValidationError', message, 400),
};

/** Claims the lab reads from a web identity token. */
export interface WebIdentityClaims {
  iss: string;
  sub: string;
  aud: string;
  exp?: number;
  [claim: string]: unknown;
}

/**
 * Reads a JWT's payload WITHOUT verifying its signature: the lab does not hold GitHub's OIDC
 * signing keys, and scenarios/tests mint unsigned tokens (`alg: none`). The trust-policy
 * decision on `sub`/`aud` is what the lab exercises.
 */
export function readWebIdentityToken(token: string): WebIdentityClaims {
  const parts = token.split('.');
  if (parts.length < 2) throw stsErrors.invalidIdentityToken("Couldn't parse web identity token.");
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
  } catch {
    throw stsErrors.invalidIdentityToken("Couldn't parse web identity token.");
  }
  const claims = payload as Record<string, unknown>;
  if (typeof claims.iss !== 'string' || typeof claims.sub !== 'string' || (typeof claims.aud !== 'string' && !Array.isArray(claims.aud))) {
    throw stsErrors.invalidIdentityToken('The web identity token is missing iss, sub or aud.');
  }
  return { ...claims, iss: claims.iss, sub: claims.sub, aud: Array.isArray(claims.aud) ? String(claims.aud[0]) : claims.aud } as WebIdentityClaims;
}

/** An unsigned GitHub-Actions-like OIDC token for the lab (and for tests and the attacker runner). */
export function mintLabOidcToken(claims: { sub: string; aud?: string; iss?: string; exp?: number; [claim: string]: unknown }): string {
  const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
  const payload = Buffer.from(JSON.stringify({ iss: 'https://token.actions.githubusercontent.com', aud: 'sts.amazonaws.com', ...claims })).toString('base64url');
  return `${header}.${payload}.`;
}

function required(input: OperationInput, name: string): string {
  const value = input.params.get(name);
  if (value === null || value === '') throw stsErrors.validation(`1 validation error detected: Value null at '${name.charAt(0).toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must not be null`);
  return value;
}

function duration(input: OperationInput, fallback: number, max: number): number {
  const raw = input.params.get('DurationSeconds');
  const seconds = raw === null ? fallback : Number(raw);
  if (!Number.isInteger(seconds) || seconds < 900 || seconds > max) {
    throw stsErrors.validation(`The requested DurationSeconds exceeds the MaxSessionDuration set for this role.`);
  }
  return seconds;
}

function credentialsXml(session: SessionState) {
  return { AccessKeyId: session.accessKeyId, SecretAccessKey: session.secret, SessionToken: session.sessionToken, Expiration: session.expiresAt };
}

function roleSessionResult(input: OperationInput, role: RoleState, session: SessionState): { assumedRoleUser: { AssumedRoleId: string; Arn: string } } {
  input.trail.recipientAccountId = role.account;
  input.trail.resources = [{ accountId: role.account, type: 'AWS::IAM::Role', ARN: role.arn }];
  return { assumedRoleUser: { AssumedRoleId: `${role.roleId}:${session.sessionName}`, Arn: `arn:aws:sts::${role.account}:assumed-role/${role.name}/${session.sessionName}` } };
}

function sessionName(input: OperationInput): string {
  const name = required(input, 'RoleSessionName');
  if (!/^[\w+=,.@-]{2,64}$/.test(name)) throw stsErrors.validation(`1 validation error detected: Value '${name}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`);
  return name;
}

function stsOperations(): Record<string, OperationDef> {
  return {
    GetCallerIdentity: {
      readOnly: true,
      // GetCallerIdentity needs no permission and cannot be denied (STS API Reference).
      authorize: false,
      resource: () => '*',
      run: (input) => {
        const state = input.state;
        const caller = input.caller!;
        let userId: string;
        if (caller.kind === 'responder') userId = caller.responder.userId;
        else if (caller.kind === 'user') userId = caller.user.userId;
        else if (caller.session.kind === 'user') userId = state.user(caller.session.account, caller.session.userName ?? '')?.userId ?? caller.accessKeyId;
        else userId = `${state.role(caller.session.account, caller.session.roleName ?? '')?.roleId ?? 'AROAUNKNOWN'}:${caller.session.sessionName}`;
        return { result: { UserId: userId, Account: state.accountOf(caller), Arn: state.arnOf(caller) }, responseElements: null };
      },
    },
    AssumeRole: {
      // CloudTrail records STS credential calls as readOnly: true (shared data: stratus-red-team
      // AssumeRole records); they change no IAM state, so a dry run may assume roles to read.
      readOnly: true,
      // Decided inside: the role's trust policy AND the caller's identity policy (responder: admin).
      authorize: false,
      resource: (params) => params.get('RoleArn') ?? '*',
      run: (input): OperationOutput => {
        const core = input.core;
        const state = input.state;
        const caller = input.caller!;
        const roleArn = required(input, 'RoleArn');
        const name = sessionName(input);
        const denied = stsErrors.accessDenied(`User: ${state.arnOf(caller)} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`);
        const role = state.roleByArn(roleArn);
        // AWS does not reveal whether the role exists: a missing role is AccessDenied too.
        if (!role) throw denied;
        const principal = {
          type: 'AWS' as const,
          id: state.arnOf(caller),
          account: state.accountOf(caller),
          ...(caller.kind === 'session' && caller.session.kind === 'role' ? { roleArn: core.principalArn(caller) } : {}),
        };
        const context = core.requestContext(caller, input.at, input.call.sourceIp);
        const trust = evaluate({ principal, action: 'sts:AssumeRole', resource: role.arn, context, identityPolicies: [], resourcePolicy: role.trustPolicy });
        if (trust !== 'allow') throw denied;
        // Within one account a trust policy that names the caller itself is enough; one that
        // only names the account (root) delegates to the caller's identity policy, which must
        // then allow sts:AssumeRole too (IAM User Guide, policy evaluation across/within accounts).
        const sameAccount = principal.account === role.account;
        const namesCaller =
          sameAccount &&
          evaluate({ principal: { ...principal, account: '' }, action: 'sts:AssumeRole', resource: role.arn, context, identityPolicies: [], resourcePolicy: role.trustPolicy }) === 'allow';
        if (!namesCaller && !core.authorize(caller, 'sts:AssumeRole', role.arn, input.at, input.call.sourceIp).allowed) throw denied;
        // An explicit deny in the caller's own policies wins even then (IAM User Guide, policy
        // evaluation logic): AWSRevokeOlderSessions on the caller's role stops its role chaining.
        if (namesCaller && evaluate({ action: 'sts:AssumeRole', resource: role.arn, context, identityPolicies: core.identityPolicies(caller) }) === 'explicit-deny') throw denied;
        // Role chaining limits the session to one hour (IAM User Guide, id_roles_terms-and-concepts).
        const chained = caller.kind === 'session';
        const seconds = duration(input, 3600, chained ? 3600 : role.maxSessionDuration);
        const session = state.issueSession({
          account: role.account, kind: 'role', roleName: role.name, sessionName: name, issuedAt: input.at,
          expiresAt: new Date(input.at.getTime() + seconds * 1000), mintedBy: caller.accessKeyId, sourceIp: input.call.sourceIp, userAgent: input.call.userAgent,
        });
        const { assumedRoleUser } = roleSessionResult(input, role, session);
        return {
          result: { Credentials: credentialsXml(session), AssumedRoleUser: assumedRoleUser },
          // AWS logs the new session's key id and expiry, never its secret.
          responseElements: {
            credentials: { accessKeyId: session.accessKeyId, expiration: cloudTrailDate(session.expiresAt, true) },
            assumedRoleUser: { assumedRoleId: assumedRoleUser.AssumedRoleId, arn: assumedRoleUser.Arn },
          },
          produced: session.accessKeyId,
        };
      },
    },
    AssumeRoleWithWebIdentity: {
      // CloudTrail records STS credential calls as readOnly: true (shared data: stratus-red-team
      // AssumeRole records); they change no IAM state, so a dry run may assume roles to read.
      readOnly: true,
      unauthenticated: true,
      authorize: false,
      resource: (params) => params.get('RoleArn') ?? '*',
      run: (input): OperationOutput => {
        const state = input.state;
        const roleArn = required(input, 'RoleArn');
        const name = sessionName(input);
        const claims = readWebIdentityToken(required(input, 'WebIdentityToken'));
        const provider = claims.iss.replace(/^https:\/\//, '').replace(/\/$/, '');
        const roleAccount = /^arn:aws:iam::(\d{12}):/.exec(roleArn)?.[1] ?? input.account;
        const providerArn = `arn:aws:iam::${roleAccount}:oidc-provider/${provider}`;
        input.trail.recipientAccountId = roleAccount;
        input.trail.userIdentity = { type: 'WebIdentityUser', principalId: `${providerArn}:${claims.aud}:${claims.sub}`, userName: claims.sub, identityProvider: providerArn };
        if (claims.exp !== undefined && claims.exp * 1000 <= input.at.getTime()) {
          throw stsErrors.expiredToken(`Token expired: current date/time ${input.at.getTime() / 1000} must be before the expiration date/time ${claims.exp}`);
        }
        const denied = stsErrors.accessDenied('Not authorized to perform sts:AssumeRoleWithWebIdentity');
        const role = state.roleByArn(roleArn);
        if (!role) throw denied;
        // The provider's condition keys: `<provider>:sub` and `<provider>:aud` (IAM User Guide,
        // reference_policies_iam-condition-keys, "Available keys for OIDC federation").
        const context: Record<string, ContextValue> = {
          'aws:CurrentTime': input.at.toISOString(),
          'aws:SourceIp': input.call.sourceIp,
          [`${provider}:sub`]: claims.sub,
          [`${provider}:aud`]: claims.aud,
        };
        const trust = evaluate({ principal: { type: 'Federated', id: providerArn }, action: 'sts:AssumeRoleWithWebIdentity', resource: role.arn, context, identityPolicies: [], resourcePolicy: role.trustPolicy });
        if (trust !== 'allow') throw denied;
        const seconds = duration(input, 3600, role.maxSessionDuration);
        const session = state.issueSession({
          account: role.account, kind: 'role', roleName: role.name, sessionName: name, issuedAt: input.at,
          expiresAt: new Date(input.at.getTime() + seconds * 1000), webIdentity: { provider, subject: claims.sub, audience: claims.aud },
          sourceIp: input.call.sourceIp, userAgent: input.call.userAgent,
        });
        const { assumedRoleUser } = roleSessionResult(input, role, session);
        return {
          result: {
            Credentials: credentialsXml(session), SubjectFromWebIdentityToken: claims.sub, AssumedRoleUser: assumedRoleUser,
            Provider: providerArn, Audience: claims.aud,
          },
          responseElements: {
            credentials: { accessKeyId: session.accessKeyId, expiration: cloudTrailDate(session.expiresAt, true) },
            subjectFromWebIdentityToken: claims.sub,
            assumedRoleUser: { assumedRoleId: assumedRoleUser.AssumedRoleId, arn: assumedRoleUser.Arn },
            provider: providerArn,
            audience: claims.aud,
          },
          produced: session.accessKeyId,
        };
      },
    },
    GetSessionToken: {
      // CloudTrail records STS credential calls as readOnly: true (shared data: stratus-red-team
      // AssumeRole records); they change no IAM state, so a dry run may assume roles to read.
      readOnly: true,
      // Needs no permission; only long-term user keys may call it (STS API Reference).
      authorize: false,
      resource: () => '*',
      run: (input): OperationOutput => {
        const state = input.state;
        const caller = input.caller!;
        if (caller.kind === 'session') throw stsErrors.accessDenied('Cannot call GetSessionToken with session credentials');
        const seconds = duration(input, 43_200, 129_600);
        const userName = caller.kind === 'user' ? caller.user.name : caller.responder.userName;
        const session = state.issueSession({
          account: state.accountOf(caller), kind: 'user', userName, sessionName: userName, issuedAt: input.at,
          expiresAt: new Date(input.at.getTime() + seconds * 1000), mintedBy: caller.accessKeyId, sourceIp: input.call.sourceIp, userAgent: input.call.userAgent,
        });
        return {
          result: { Credentials: credentialsXml(session) },
          responseElements: { credentials: { accessKeyId: session.accessKeyId, expiration: cloudTrailDate(session.expiresAt, true) } },
          produced: session.accessKeyId,
        };
      },
    },
  };
}

/** The STS service of the lab (AWS Query protocol, API version 2011-06-15). */
export function createStsService(core: AwsCore, ctx: LabContext): QueryService {
  return new QueryService('sts', STS_NAMESPACE, core, stsOperations(), ctx);
}
