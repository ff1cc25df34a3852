import type { LabContext, LabHttpRequest, LabHttpResponse, LabService } from '../types.js';
import type { AwsCore, CallInput, CallOutcome, OperationDef, OperationInput } from './core.js';
import { evaluateDetailed, MalformedPolicyError, parsePolicy, policySize, type ContextValue } from './policy.js';
import {
  AwsError,
  iamErrors,
  cloudTrailDate,
  listParam,
  paginate,
  callInput,
  readParams,
  urlEncodePolicy,
  xmlError,
  xmlResponse,
  type XmlValue,
} from './protocol.js';
import type { AccessKeyState, RoleState, UserState } from './world.js';

/** IAM's XML namespace (API version 2010-05-08). */
export const IAM_NAMESPACE = 'https://iam.amazonaws.com/doc/2010-05-08/';

/** IAM quotas the lab enforces (IAM User Guide, reference_iam-quotas; FACTS.md). */
export const IAM_LIMITS = {
  /** Aggregate inline policy size per role, whitespace not counted. */
  roleInlineChars: 10_240,
  /** Aggregate inline policy size per user. */
  userInlineChars: 2_048,
  /** Trust policy length (default quota; can be raised to 4,096). */
  trustPolicyChars: 2_048,
  accessKeysPerUser: 2,
};

function required(params: URLSearchParams, name: string): string {
  const value = params.get(name);
  if (value === null || value === '') {
    throw iamErrors.validation(`1 validation error detected: Value null at '${name.charAt(0).toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must not be null`);
  }
  return value;
}

function roleOf(input: OperationInput): RoleState {
  const name = required(input.params, 'RoleName');
  const role = input.state.role(input.account, name);
  if (!role) throw iamErrors.noSuchEntity(`The role with name ${name} cannot be found.`);
  return role;
}

/** The user a call names, or the caller itself when UserName is omitted (as IAM does). */
function userOf(input: OperationInput, optional = false): UserState {
  const name = input.params.get('UserName');
  const state = input.state;
  if (name === null || name === '') {
    if (!optional) required(input.params, 'UserName');
    const caller = input.caller;
    if (caller?.kind === 'user') return caller.user;
    if (caller?.kind === 'responder') return responderUser(input);
    throw iamErrors.validation('Must specify userName when calling with non-User credentials');
  }
  const user = state.user(input.account, name);
  if (user) return user;
  if (input.caller?.kind === 'responder' && name === input.caller.responder.userName) return responderUser(input);
  throw iamErrors.noSuchEntity(`The user with name ${name} cannot be found.`);
}

/** The responder's admin user as a read-only IAM user record (it is not part of the scenario's world). */
function responderUser(input: OperationInput): UserState {
  const r = input.core.state.responder;
  return {
    account: r.account, name: r.userName, path: '/', arn: r.arn, userId: r.userId, createDate: input.core.ctx.startedAt,
    accessKeys: [{ id: r.accessKeyId, secret: r.secretAccessKey, status: 'Active', created: input.core.ctx.startedAt, origin: 'scenario' }],
    inlinePolicies: new Map([['lab-admin', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] })]]),
    managedPolicies: new Map(),
  };
}

function roleXml(role: RoleState): XmlValue {
  return {
    Path: role.path,
    RoleName: role.name,
    RoleId: role.roleId,
    Arn: role.arn,
    CreateDate: role.createDate,
    AssumeRolePolicyDocument: urlEncodePolicy(role.trustPolicy),
    MaxSessionDuration: role.maxSessionDuration,
    RoleLastUsed: role.lastUsed ? { LastUsedDate: role.lastUsed.date, Region: role.lastUsed.region } : {},
  };
}

function userXml(user: UserState): XmlValue {
  return { Path: user.path, UserName: user.name, UserId: user.userId, Arn: user.arn, CreateDate: user.createDate };
}

function keyMetadata(user: UserState, key: AccessKeyState): XmlValue {
  return { UserName: user.name, AccessKeyId: key.id, Status: key.status, CreateDate: key.created };
}

function checkPolicy(text: string, kind: 'identity' | 'trust'): void {
  try {
    parsePolicy(text, kind);
  } catch (error) {
    if (error instanceof MalformedPolicyError) throw iamErrors.malformed(error.message);
    throw error;
  }
}

function inlineTotal(policies: Map<string, string>, replacing: string, added: string): number {
  let total = policySize(added);
  for (const [name, text] of policies) if (name !== replacing) total += policySize(text);
  return total;
}

function refuseServiceLinked(role: RoleState): void {
  if (role.serviceLinked) {
    throw iamErrors.unmodifiable(`Cannot perform the operation on the protected role '${role.name}' - this role is only modifiable by AWS`);
  }
}

const ARN = (account: string, kind: 'role' | 'user', name: string | null): string => `arn:aws:iam::${account}:${kind}/${name ?? '*'}`;

/** The IAM operations the lab serves, by Action name. */
function iamOperations(): Record<string, OperationDef> {
  const roleResource = (params: URLSearchParams, account: string) => ARN(account, 'role', params.get('RoleName'));
  const userResource = (params: URLSearchParams, account: string, caller: Parameters<OperationDef['resource']>[2]) => {
    const name = params.get('UserName') ?? (caller?.kind === 'user' ? caller.user.name : caller?.kind === 'responder' ? caller.responder.userName : null);
    return ARN(account, 'user', name);
  };

  return {
    GetRole: {
      readOnly: true,
      resource: roleResource,
      run: (input) => ({ result: { Role: roleXml(roleOf(input)) } }),
    },
    ListRoles: {
      readOnly: true,
      resource: (_params, account) => `arn:aws:iam::${account}:role/`,
      run: (input) => {
        const prefix = input.params.get('PathPrefix') ?? '/';
        const roles = [...input.state.account(input.account)!.roles.values()]
          .filter((role) => role.path.startsWith(prefix))
          .sort((a, b) => a.name.localeCompare(b.name));
        const { page, isTruncated, marker } = paginate(roles, input.params);
        return { result: { Roles: page.map(roleXml), IsTruncated: isTruncated, Marker: marker } };
      },
    },
    GetRolePolicy: {
      readOnly: true,
      resource: roleResource,
      run: (input) => {
        const role = roleOf(input);
        const name = required(input.params, 'PolicyName');
        const text = role.inlinePolicies.get(name);
        if (text === undefined) throw iamErrors.noSuchEntity(`The role policy with name ${name} cannot be found.`);
        return { result: { RoleName: role.name, PolicyName: name, PolicyDocument: urlEncodePolicy(text) } };
      },
    },
    PutRolePolicy: {
      readOnly: false,
      resource: roleResource,
      run: (input) => {
        const role = roleOf(input);
        const name = required(input.params, 'PolicyName');
        const text = required(input.params, 'PolicyDocument');
        refuseServiceLinked(role);
        checkPolicy(text, 'identity');
        if (inlineTotal(role.inlinePolicies, name, text) > IAM_LIMITS.roleInlineChars) {
          throw iamErrors.limitExceeded(`Maximum policy size of ${IAM_LIMITS.roleInlineChars} bytes exceeded for role ${role.name}`);
        }
        role.inlinePolicies.set(name, text);
        return { result: null, responseElements: null };
      },
    },
    DeleteRolePolicy: {
      readOnly: false,
      resource: roleResource,
      run: (input) => {
        const role = roleOf(input);
        const name = required(input.params, 'PolicyName');
        refuseServiceLinked(role);
        if (!role.inlinePolicies.delete(name)) throw iamErrors.noSuchEntity(`The role policy with name ${name} cannot be found.`);
        return { result: null, responseElements: null };
      },
    },
    ListRolePolicies: {
      readOnly: true,
      resource: roleResource,
      run: (input) => {
        const role = roleOf(input);
        const { page, isTruncated, marker } = paginate([...role.inlinePolicies.keys()].sort(), input.params);
        return { result: { PolicyNames: page, IsTruncated: isTruncated, Marker: marker } };
      },
    },
    ListAttachedRolePolicies: {
      readOnly: true,
      resource: roleResource,
      run: (input) => {
        const role = roleOf(input);
        const names = [...role.managedPolicies.keys()].sort();
        const { page, isTruncated, marker } = paginate(names, input.params);
        return {
          result: {
            AttachedPolicies: page.map((name) => ({ PolicyName: name, PolicyArn: `arn:aws:iam::${role.account}:policy/${name}` })),
            IsTruncated: isTruncated,
            Marker: marker,
          },
        };
      },
    },
    UpdateAssumeRolePolicy: {
      readOnly: false,
      resource: roleResource,
      run: (input) => {
        const role = roleOf(input);
        const text = required(input.params, 'PolicyDocument');
        refuseServiceLinked(role);
        checkPolicy(text, 'trust');
        if (policySize(text) > IAM_LIMITS.trustPolicyChars) {
          throw iamErrors.limitExceeded(`Cannot exceed quota for ACLSizePerRole: ${IAM_LIMITS.trustPolicyChars}`);
        }
        role.trustPolicy = text;
        return { result: null, responseElements: null };
      },
    },
    ListUsers: {
      readOnly: true,
      resource: (_params, account) => `arn:aws:iam::${account}:user/`,
      run: (input) => {
        const users = [...input.state.account(input.account)!.users.values()].sort((a, b) => a.name.localeCompare(b.name));
        const { page, isTruncated, marker } = paginate(users, input.params);
        return { result: { Users: page.map(userXml), IsTruncated: isTruncated, Marker: marker } };
      },
    },
    GetUser: {
      readOnly: true,
      resource: userResource,
      run: (input) => ({ result: { User: userXml(userOf(input, true)) } }),
    },
    ListAccessKeys: {
      readOnly: true,
      resource: userResource,
      run: (input) => {
        const user = userOf(input, true);
        const { page, isTruncated, marker } = paginate(user.accessKeys, input.params);
        return { result: { AccessKeyMetadata: page.map((key) => keyMetadata(user, key)), IsTruncated: isTruncated, Marker: marker } };
      },
    },
    CreateAccessKey: {
      readOnly: false,
      resource: userResource,
      run: (input) => {
        const user = userOf(input, true);
        if (input.caller?.kind === 'responder' && user.name === input.caller.responder.userName) {
          throw iamErrors.unmodifiable('The lab responder user is not part of the scenario and cannot be changed.');
        }
        if (user.accessKeys.length >= IAM_LIMITS.accessKeysPerUser) {
          throw iamErrors.limitExceeded(`Cannot exceed quota for AccessKeysPerUser: ${IAM_LIMITS.accessKeysPerUser}`);
        }
        const state = input.state;
        const key: AccessKeyState = {
          id: state.ids.awsId('AKIA'),
          secret: state.ids.secret(),
          status: 'Active',
          created: input.at,
          origin: { createdBy: input.caller ? state.arnOf(input.caller) : 'unknown', at: input.at },
        };
        user.accessKeys.push(key);
        return {
          result: { AccessKey: { UserName: user.name, AccessKeyId: key.id, Status: key.status, SecretAccessKey: key.secret, CreateDate: key.created } },
          // CloudTrail logs the new key's id but never its secret.
          responseElements: { accessKey: { userName: user.name, accessKeyId: key.id, status: key.status, createDate: cloudTrailDate(key.created, false) } },
          produced: key.id,
        };
      },
    },
    UpdateAccessKey: {
      readOnly: false,
      resource: userResource,
      run: (input) => {
        const user = userOf(input, true);
        const id = required(input.params, 'AccessKeyId');
        const status = required(input.params, 'Status');
        if (status !== 'Active' && status !== 'Inactive') throw iamErrors.validation(`1 validation error detected: Value '${status}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]`);
        const key = user.accessKeys.find((candidate) => candidate.id === id);
        if (!key) throw iamErrors.noSuchEntity(`The Access Key with id ${id} cannot be found.`);
        key.status = status;
        return { result: null, responseElements: null };
      },
    },
    DeleteAccessKey: {
      readOnly: false,
      resource: userResource,
      run: (input) => {
        const user = userOf(input, true);
        const id = required(input.params, 'AccessKeyId');
        const index = user.accessKeys.findIndex((candidate) => candidate.id === id);
        if (index < 0) throw iamErrors.noSuchEntity(`The Access Key with id ${id} cannot be found.`);
        user.accessKeys.splice(index, 1);
        return { result: null, responseElements: null };
      },
    },
    GetAccessKeyLastUsed: {
      readOnly: true,
      resource: () => '*',
      run: (input) => {
        const id = required(input.params, 'AccessKeyId');
        const state = input.state;
        const found = state.findKey(id) ?? (id === state.responder.accessKeyId ? { user: responderUser(input), key: responderUser(input).accessKeys[0]! } : undefined);
        // IAM answers AccessDenied (not NoSuchEntity) for a key id it does not know in this account.
        if (!found || found.user.account !== input.account) throw iamErrors.accessDenied(`User: ${input.caller ? state.arnOf(input.caller) : 'anonymous'} is not authorized to perform: iam:GetAccessKeyLastUsed on resource: access key ${id}`);
        const used = found.key.lastUsed;
        return {
          result: {
            UserName: found.user.name,
            AccessKeyLastUsed: used ? { LastUsedDate: used.date, ServiceName: used.service, Region: used.region } : { ServiceName: 'N/A', Region: 'N/A' },
          },
        };
      },
    },
    PutUserPolicy: {
      readOnly: false,
      resource: userResource,
      run: (input) => {
        const user = userOf(input);
        const name = required(input.params, 'PolicyName');
        const text = required(input.params, 'PolicyDocument');
        checkPolicy(text, 'identity');
        if (inlineTotal(user.inlinePolicies, name, text) > IAM_LIMITS.userInlineChars) {
          throw iamErrors.limitExceeded(`Maximum policy size of ${IAM_LIMITS.userInlineChars} bytes exceeded for user ${user.name}`);
        }
        user.inlinePolicies.set(name, text);
        return { result: null, responseElements: null };
      },
    },
    GetUserPolicy: {
      readOnly: true,
      resource: userResource,
      run: (input) => {
        const user = userOf(input);
        const name = required(input.params, 'PolicyName');
        const text = user.inlinePolicies.get(name);
        if (text === undefined) throw iamErrors.noSuchEntity(`The user policy with name ${name} cannot be found.`);
        return { result: { UserName: user.name, PolicyName: name, PolicyDocument: urlEncodePolicy(text) } };
      },
    },
    DeleteUserPolicy: {
      readOnly: false,
      resource: userResource,
      run: (input) => {
        const user = userOf(input);
        const name = required(input.params, 'PolicyName');
        if (!user.inlinePolicies.delete(name)) throw iamErrors.noSuchEntity(`The user policy with name ${name} cannot be found.`);
        return { result: null, responseElements: null };
      },
    },
    ListUserPolicies: {
      readOnly: true,
      resource: userResource,
      run: (input) => {
        const user = userOf(input);
        const { page, isTruncated, marker } = paginate([...user.inlinePolicies.keys()].sort(), input.params);
        return { result: { PolicyNames: page, IsTruncated: isTruncated, Marker: marker } };
      },
    },
    SimulatePrincipalPolicy: {
      readOnly: true,
      resource: () => '*',
      run: (input) => simulatePrincipalPolicy(input),
    },
  };
}

/** SimulatePrincipalPolicy with the lab's evaluator (what `doctor` uses to check permissions). */
function simulatePrincipalPolicy(input: OperationInput): { result: XmlValue } {
  const state = input.state;
  const source = required(input.params, 'PolicySourceArn');
  const actions = listParam(input.params, 'ActionNames');
  if (actions.length === 0) throw iamErrors.validation("1 validation error detected: Value null at 'actionNames' failed to satisfy constraint: Member must not be null");
  const resources = listParam(input.params, 'ResourceArns');
  const context: Record<string, ContextValue> = {};
  for (let i = 1; input.params.has(`ContextEntries.member.${i}.ContextKeyName`); i++) {
    const key = input.params.get(`ContextEntries.member.${i}.ContextKeyName`)!;
    const values = listParam(input.params, `ContextEntries.member.${i}.ContextKeyValues`);
    context[key] = values.length === 1 ? values[0] : values;
  }

  let policies: string[];
  const userMatch = /^arn:aws:iam::(\d{12}):user\/(?:.*\/)?([^/]+)$/.exec(source);
  const role = state.roleByArn(source);
  if (role) policies = [...role.inlinePolicies.values(), ...role.managedPolicies.values()];
  else if (source === state.responder.arn) policies = [...responderUser(input).inlinePolicies.values()];
  else if (userMatch && state.user(userMatch[1]!, userMatch[2]!)) {
    const user = state.user(userMatch[1]!, userMatch[2]!)!;
    policies = [...user.inlinePolicies.values(), ...user.managedPolicies.values()];
  } else {
    throw iamErrors.noSuchEntity(`PolicySourceArn ${source} is not a role or user ARN this account knows.`);
  }
  if (input.params.has('PolicyInputList.member.1')) policies = [...policies, ...listParam(input.params, 'PolicyInputList')];

  const decisionName = { allow: 'allowed', 'explicit-deny': 'explicitDeny', 'implicit-deny': 'implicitDeny' } as const;
  const results: XmlValue[] = [];
  for (const action of actions) {
    for (const resource of resources.length > 0 ? resources : ['*']) {
      const evaluation = evaluateDetailed({ action, resource, context: { 'aws:CurrentTime': input.at.toISOString(), ...context }, identityPolicies: policies });
      results.push({
        EvalActionName: action,
        EvalResourceName: resource,
        EvalDecision: decisionName[evaluation.decision],
        MatchedStatements: evaluation.matched.map((m) => ({ SourcePolicyId: m.sid ?? `policy-${m.policy}`, SourcePolicyType: 'IAM Policy' })),
        MissingContextValues: [],
      });
    }
  }
  return { result: { EvaluationResults: results, IsTruncated: false } };
}

/** The Query-protocol front of an operation table, shared by IAM and STS. */
export class QueryService implements LabService {
  constructor(
    readonly name: 'iam' | 'sts',
    private readonly namespace: string,
    private readonly core: AwsCore,
    private readonly operations: Record<string, OperationDef>,
    private readonly ctx: LabContext,
  ) {}

  operation(request: LabHttpRequest): string {
    return readParams(request).get('Action') ?? 'Unknown';
  }

  mutating(request: LabHttpRequest): boolean {
    const op = this.operations[this.operation(request)];
    return op ? !op.readOnly : !/^(Get|List|Simulate)/.test(this.operation(request));
  }

  async handle(request: LabHttpRequest): Promise<LabHttpResponse> {
    const params = readParams(request);
    const action = params.get('Action') ?? '';
    const outcome = this.run(callInput(request, this.name, action, params, this.ctx));
    if (outcome.error) return xmlError(outcome.error, outcome.requestId);
    return xmlResponse(action, this.namespace, outcome.result, outcome.requestId);
  }

  /** Runs a call in-process (the attacker runner uses this). */
  run(input: CallInput): CallOutcome {
    return this.core.call(input, this.operations);
  }

  faultResponse(kind: 'throttle' | '5xx'): LabHttpResponse {
    const requestId = this.core.state.ids.uuid();
    // IAM/STS throttling is HTTP 400 with code `Throttling`, which the SDK retries as a throttle.
    if (kind === 'throttle') return xmlError(new AwsError('Throttling', 'Rate exceeded', 400), requestId);
    return xmlError(new AwsError(this.name === 'iam' ? 'ServiceFailure' : 'InternalFailure', 'The request processing has failed because of an unknown error, exception or failure.', 500), requestId);
  }
}

/** The IAM service of the lab (AWS Query protocol, API version 2010-05-08). */
export function createIamService(core: AwsCore, ctx: LabContext): QueryService {
  return new QueryService('iam', IAM_NAMESPACE, core, iamOperations(), ctx);
}
