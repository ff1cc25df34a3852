import { createHash } from 'node:crypto';
import type { Scenario } from '../scenario.js';
import type { LabContext } from '../types.js';

/**
 * The AWS side of the lab as mutable state: accounts with roles and users, access keys,
 * temporary sessions. IAM/STS handlers change it; tests read it for assertions.
 */

export interface RoleState {
  account: string;
  name: string;
  path: string;
  arn: string;
  roleId: string;
  createDate: Date;
  /** Trust policy, as JSON text exactly as last put. */
  trustPolicy: string;
  /** Inline policies by name (insertion order = IAM's listing order here). */
  inlinePolicies: Map<string, string>;
  /** Managed policies attached to the role: name -> document (inlined for the evaluator). */
  managedPolicies: Map<string, string>;
  serviceLinked: boolean;
  maxSessionDuration: number;
  lastUsed?: { date: Date; region: string };
}

export interface AccessKeyState {
  id: string;
  secret: string;
  status: 'Active' | 'Inactive';
  created: Date;
  lastUsed?: { date: Date; service: string; region: string };
  /** Who made it: the scenario's world, or a CreateAccessKey call (by whom). */
  origin: 'scenario' | { createdBy: string; at: Date };
}

export interface UserState {
  account: string;
  name: string;
  path: string;
  arn: string;
  userId: string;
  createDate: Date;
  accessKeys: AccessKeyState[];
  inlinePolicies: Map<string, string>;
  managedPolicies: Map<string, string>;
}

export interface SessionState {
  /** Scenario id, when the scenario declared it. */
  id?: string;
  accessKeyId: string;
  secret: string;
  sessionToken: string;
  account: string;
  kind: 'role' | 'user';
  /** Role sessions. */
  roleName?: string;
  /** GetSessionToken sessions of an IAM user. */
  userName?: string;
  sessionName: string;
  issuedAt: Date;
  expiresAt: Date;
  /** OIDC web identity it was minted from. */
  webIdentity?: { provider: string; subject: string; audience: string };
  /** The credential that minted it (for role chaining / CloudTrail). */
  mintedBy?: string;
  sourceIp: string;
  userAgent: string;
}

export interface AccountState {
  id: string;
  alias?: string;
  regions: string[];
  roles: Map<string, RoleState>;
  users: Map<string, UserState>;
}

/** The responder's admin identity the lab hands to the product. */
export interface ResponderIdentity {
  account: string;
  userName: string;
  userId: string;
  arn: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** Who is calling, resolved from the request's access key id. */
export type Caller =
  | { kind: 'responder'; responder: ResponderIdentity; accessKeyId: string }
  | { kind: 'user'; user: UserState; key: AccessKeyState; accessKeyId: string }
  | { kind: 'session'; session: SessionState; accessKeyId: string };

/** Why a credential was refused before any authorization (authentication failures). */
export type CredentialProblem = 'unknown-key' | 'inactive-key' | 'expired-token' | 'token-mismatch';

/**
 * The lab's responder credential: an administrator user of the first account. The key id is
 * fake but well-formed (AKIA + 16 uppercase letters/digits); the secret is never checked,
 * because the lab does not verify SigV4 signatures.
 */
export const RESPONDER_ACCESS_KEY_ID = 'AKIALABRESPONDER0001';
export const RESPONDER_SECRET_ACCESS_KEY = 'labResponderSecretKeyNotARealSecret00000';
export const RESPONDER_USER_NAME = 'cicd-ir-responder';
const DEFAULT_ACCOUNT = '111122223333';

const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const BASE64ISH = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Generates ids and keys from the scenario's seeded random, so runs replay identically. */
export class IdFactory {
  constructor(private readonly random: () => number) {}

  chars(alphabet: string, length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[Math.floor(this.random() * alphabet.length)];
    return out;
  }

  /** `AKIA`/`ASIA`/`AROA`/`AIDA` + 16 uppercase letters and digits, as AWS ids look. */
  awsId(prefix: 'AKIA' | 'ASIA' | 'AROA' | 'AIDA'): string {
    return prefix + this.chars(UPPER_ALNUM, 16);
  }

  secret(): string {
    return this.chars(BASE64ISH, 40);
  }

  sessionToken(): string {
    return `IQoJb3JpZ2luX2VjE${this.chars(BASE64ISH, 300)}`;
  }

  uuid(): string {
    const hex = this.chars('0123456789abcdef', 32).split('');
    hex[12] = '4';
    hex[16] = '89ab'[Math.floor(this.random() * 4)]!;
    const s = hex.join('');
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
  }
}

function policyText(doc: string | Record<string, unknown>): string {
  return typeof doc === 'string' ? doc : JSON.stringify(doc);
}

/** Normalises a role/user path to IAM's `/.../` form. */
function normalisePath(path: string): string {
  let p = path.startsWith('/') ? path : `/${path}`;
  if (!p.endsWith('/')) p += '/';
  return p;
}

/**
 * The role Organizations creates in an account it creates: AdministratorAccess, trusting the
 * management account's root (so its administrators can assume it). Its id is derived from the
 * account, not drawn from the seeded random, so adding an organization shifts no other id.
 */
function organizationAccessRole(account: string, name: string, management: string, ctx: LabContext): RoleState {
  const digest = createHash('sha256').update(`${account}/${name}`).digest();
  const roleId = `AROA${[...digest.subarray(0, 16)].map((byte) => UPPER_ALNUM[byte % UPPER_ALNUM.length]).join('')}`;
  return {
    account,
    name,
    path: '/',
    arn: `arn:aws:iam::${account}:role/${name}`,
    roleId,
    createDate: ctx.at('-400d'),
    trustPolicy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${management}:root` }, Action: 'sts:AssumeRole' }] }),
    inlinePolicies: new Map(),
    managedPolicies: new Map([['AdministratorAccess', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] })]]),
    serviceLinked: false,
    maxSessionDuration: 3600,
  };
}

export class AwsWorldState {
  readonly accounts = new Map<string, AccountState>();
  /** Every temporary credential ever issued, by its ASIA key id. */
  readonly sessions = new Map<string, SessionState>();
  readonly responder: ResponderIdentity;
  readonly ids: IdFactory;
  /** The Organization the accounts belong to (Organizations ListAccounts), if any. */
  readonly organization: Scenario['aws']['organization'];

  constructor(world: Scenario['aws'], private readonly ctx: LabContext) {
    this.ids = new IdFactory(ctx.random);
    const accounts = world.accounts.length > 0 ? world.accounts : [{ id: DEFAULT_ACCOUNT, regions: ['us-east-1'], roles: [], users: [], cloudtrail_history: [] }];
    for (const account of accounts) {
      const state: AccountState = {
        id: account.id,
        ...(account.alias ? { alias: account.alias } : {}),
        regions: account.regions,
        roles: new Map(),
        users: new Map(),
      };
      for (const role of account.roles) {
        const path = role.service_linked && role.path === '/' ? `/aws-service-role/${role.name.toLowerCase()}.amazonaws.com/` : normalisePath(role.path);
        state.roles.set(role.name.toLowerCase(), {
          account: account.id,
          name: role.name,
          path,
          arn: `arn:aws:iam::${account.id}:role${path}${role.name}`,
          roleId: this.ids.awsId('AROA'),
          createDate: ctx.at('-400d'),
          trustPolicy: policyText(role.trust_policy),
          inlinePolicies: new Map(Object.entries(role.inline_policies).map(([name, doc]) => [name, policyText(doc)])),
          managedPolicies: new Map(Object.entries(role.managed_policies).map(([name, doc]) => [name, policyText(doc)])),
          serviceLinked: role.service_linked,
          maxSessionDuration: role.max_session_duration,
        });
      }
      for (const user of account.users) {
        const path = normalisePath(user.path);
        state.users.set(user.name.toLowerCase(), {
          account: account.id,
          name: user.name,
          path,
          arn: `arn:aws:iam::${account.id}:user${path}${user.name}`,
          userId: this.ids.awsId('AIDA'),
          createDate: ctx.at('-500d'),
          accessKeys: user.access_keys.map((key) => ({
            id: key.id,
            secret: key.secret,
            status: key.status,
            created: ctx.at(key.created),
            ...(key.last_used ? { lastUsed: { date: ctx.at(key.last_used), service: 'sts', region: 'us-east-1' } } : {}),
            origin: 'scenario' as const,
          })),
          inlinePolicies: new Map(Object.entries(user.inline_policies).map(([name, doc]) => [name, policyText(doc)])),
          managedPolicies: new Map(Object.entries(user.managed_policies).map(([name, doc]) => [name, policyText(doc)])),
        });
      }
      this.accounts.set(account.id, state);
    }
    this.organization = world.organization;
    for (const member of world.organization?.members ?? []) {
      const account = this.accounts.get(member.id);
      if (account && member.access_role && !account.roles.has(member.access_role.toLowerCase())) {
        account.roles.set(member.access_role.toLowerCase(), organizationAccessRole(member.id, member.access_role, world.organization!.management_account, ctx));
      }
    }
    const first = accounts[0]!.id;
    this.responder = {
      account: first,
      userName: RESPONDER_USER_NAME,
      userId: 'AIDALABRESPONDER0001',
      arn: `arn:aws:iam::${first}:user/${RESPONDER_USER_NAME}`,
      accessKeyId: RESPONDER_ACCESS_KEY_ID,
      secretAccessKey: RESPONDER_SECRET_ACCESS_KEY,
    };
    for (const session of world.sessions) {
      const issuedAt = ctx.at(session.issued_at);
      this.sessions.set(session.access_key_id, {
        id: session.id,
        accessKeyId: session.access_key_id,
        secret: session.secret,
        sessionToken: this.ids.sessionToken(),
        account: session.account,
        kind: 'role',
        roleName: session.role,
        sessionName: session.session_name,
        issuedAt,
        expiresAt: new Date(issuedAt.getTime() + session.duration_seconds * 1000),
        ...(session.oidc_subject
          ? { webIdentity: { provider: 'token.actions.githubusercontent.com', subject: session.oidc_subject, audience: 'sts.amazonaws.com' } }
          : {}),
        sourceIp: session.source_ip,
        userAgent: session.user_agent,
      });
    }
  }

  account(id: string): AccountState | undefined {
    return this.accounts.get(id);
  }

  firstAccount(): AccountState {
    return this.accounts.values().next().value as AccountState;
  }

  role(account: string, name: string): RoleState | undefined {
    return this.accounts.get(account)?.roles.get(name.toLowerCase());
  }

  user(account: string, name: string): UserState | undefined {
    return this.accounts.get(account)?.users.get(name.toLowerCase());
  }

  /** A role by ARN (`arn:aws:iam::ACCT:role/path/Name`). */
  roleByArn(arn: string): RoleState | undefined {
    const match = /^arn:aws:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(arn);
    if (!match) return undefined;
    return this.role(match[1]!, match[2]!);
  }

  /** The session declared in the scenario under this id. */
  sessionById(id: string): SessionState | undefined {
    for (const session of this.sessions.values()) if (session.id === id) return session;
    return undefined;
  }

  /** Finds an access key id among all users (any account). */
  findKey(accessKeyId: string): { user: UserState; key: AccessKeyState } | undefined {
    for (const account of this.accounts.values()) {
      for (const user of account.users.values()) {
        const key = user.accessKeys.find((candidate) => candidate.id === accessKeyId);
        if (key) return { user, key };
      }
    }
    return undefined;
  }

  /**
   * Resolves the caller of a request from its access key id (and session token for ASIA keys),
   * or says why AWS would refuse the credential before authorization.
   */
  identify(accessKeyId: string, sessionToken: string | undefined, at: Date): Caller | { problem: CredentialProblem } {
    if (accessKeyId === this.responder.accessKeyId) return { kind: 'responder', responder: this.responder, accessKeyId };
    if (accessKeyId.startsWith('ASIA')) {
      const session = this.sessions.get(accessKeyId);
      if (!session) return { problem: 'unknown-key' };
      if (sessionToken !== undefined && sessionToken !== session.sessionToken && session.id === undefined) return { problem: 'token-mismatch' };
      if (at.getTime() >= session.expiresAt.getTime()) return { problem: 'expired-token' };
      return { kind: 'session', session, accessKeyId };
    }
    const found = this.findKey(accessKeyId);
    if (!found) return { problem: 'unknown-key' };
    if (found.key.status !== 'Active') return { problem: 'inactive-key' };
    return { kind: 'user', user: found.user, key: found.key, accessKeyId };
  }

  /** The account a caller acts in. */
  accountOf(caller: Caller): string {
    if (caller.kind === 'responder') return caller.responder.account;
    if (caller.kind === 'user') return caller.user.account;
    return caller.session.account;
  }

  /** The caller's ARN as IAM error messages and GetCallerIdentity show it. */
  arnOf(caller: Caller): string {
    if (caller.kind === 'responder') return caller.responder.arn;
    if (caller.kind === 'user') return caller.user.arn;
    const s = caller.session;
    if (s.kind === 'user') return `arn:aws:iam::${s.account}:user/${s.userName}`;
    return `arn:aws:sts::${s.account}:assumed-role/${s.roleName}/${s.sessionName}`;
  }

  /** Issues a new temporary credential and records it. */
  issueSession(fields: Omit<SessionState, 'accessKeyId' | 'secret' | 'sessionToken'>): SessionState {
    const session: SessionState = { ...fields, accessKeyId: this.ids.awsId('ASIA'), secret: this.ids.secret(), sessionToken: this.ids.sessionToken() };
    this.sessions.set(session.accessKeyId, session);
    return session;
  }

  /** A deep copy of one account's roles and users (what a lagging IAM replica holds). */
  snapshotAccount(id: string): AccountState {
    const account = this.accounts.get(id)!;
    const roles = new Map([...account.roles].map(([key, role]) => [key, { ...role, inlinePolicies: new Map(role.inlinePolicies), managedPolicies: new Map(role.managedPolicies), ...(role.lastUsed ? { lastUsed: { ...role.lastUsed } } : {}) }]));
    const users = new Map(
      [...account.users].map(([key, user]) => [
        key,
        { ...user, accessKeys: user.accessKeys.map((k) => ({ ...k, ...(k.lastUsed ? { lastUsed: { ...k.lastUsed } } : {}) })), inlinePolicies: new Map(user.inlinePolicies), managedPolicies: new Map(user.managedPolicies) },
      ]),
    );
    return { ...account, regions: [...account.regions], roles, users };
  }

  /**
   * A second view of the same world for eventual consistency: its own copy of the accounts,
   * sharing sessions, the responder and the id generator with this one.
   */
  replica(): AwsWorldState {
    const view = Object.create(AwsWorldState.prototype) as AwsWorldState;
    const accounts = new Map([...this.accounts.keys()].map((id) => [id, this.snapshotAccount(id)]));
    Object.assign(view, { accounts, sessions: this.sessions, responder: this.responder, ids: this.ids, ctx: this.ctx, organization: this.organization });
    return view;
  }

  /** Now, per the lab's clock. */
  now(): Date {
    return this.ctx.now();
  }
}
