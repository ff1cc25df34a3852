import type { Severity } from '../actions/define.js';
import type { Cutoffs, EvidenceEvent, HuntedIdentity, HuntFinding, HuntFindingKind, HuntInput, TrailRecord } from './model.js';
import type { ScanFilter } from './predicate.js';

/** Calls that blind the defenders: stopping, deleting or narrowing logs and detectors. */
export const DEFENSE_EVASION_EVENTS = [
  'StopLogging',
  'DeleteTrail',
  'UpdateTrail',
  'PutEventSelectors',
  'PutInsightSelectors',
  'DeleteEventDataStore',
  'StopEventDataStoreIngestion',
  'DeleteFlowLogs',
  'DeleteResolverQueryLogConfig',
  'DisassociateResolverQueryLogConfig',
  'DeleteLogGroup',
  'DeleteLogStream',
  'PutRetentionPolicy',
  'DeleteDetector',
  'DisassociateFromMasterAccount',
  'UpdateDetector',
  'DisableSecurityHub',
  'StopConfigurationRecorder',
  'DeleteConfigurationRecorder',
  'DeleteDeliveryChannel',
  'LeaveOrganization',
] as const;

/** Calls that create a credential; the ones with an access key in the response are followed. */
export const MINTING_EVENTS = [
  'CreateAccessKey',
  'CreateLoginProfile',
  'UpdateLoginProfile',
  'AssumeRole',
  'AssumeRoleWithWebIdentity',
  'AssumeRoleWithSAML',
  'GetSessionToken',
  'GetFederationToken',
] as const;

const AUTH_ERROR = /denied|unauthori[sz]ed|forbidden|expiredtoken|invalidclienttoken|authfailure|unrecognizedclient|invalidaccesskey|signaturedoesnotmatch/i;

/** One identity being hunted: from the input, or discovered by following a minted credential. */
export interface TrackedIdentity {
  id: string;
  spec: HuntedIdentity;
  origin: 'input' | 'minted';
  /** For minted identities: `eventName eventID` of the call that minted it, and who did. */
  via?: string;
  parent?: string;
  cutoffs: Cutoffs;
  /** When a minted credential was issued. */
  issuedAt?: string;
}

/** The principal a record names, for evidence and messages. */
export function principalOf(record: TrailRecord): string {
  const identity = record.userIdentity ?? {};
  return identity.arn ?? identity.userName ?? identity.principalId ?? identity.type ?? 'unknown';
}

/** The trimmed evidence form of a record (see `cloudtrail-events` in src/engine/evidence.ts). */
export function trimEvent(record: TrailRecord): EvidenceEvent {
  const out: EvidenceEvent = {
    eventID: String(record.eventID ?? ''),
    eventTime: String(record.eventTime ?? ''),
    eventSource: String(record.eventSource ?? ''),
    eventName: String(record.eventName ?? ''),
    awsRegion: String(record.awsRegion ?? ''),
    identity: principalOf(record),
  };
  if (record.userIdentity?.accessKeyId) out.accessKeyId = record.userIdentity.accessKeyId;
  if (record.sourceIPAddress) out.sourceIPAddress = record.sourceIPAddress;
  if (record.userAgent) out.userAgent = record.userAgent;
  if (record.errorCode) out.errorCode = record.errorCode;
  return out;
}

function identityId(spec: HuntedIdentity): string {
  switch (spec.kind) {
    case 'access-key':
      return spec.accessKeyId;
    case 'role':
      return spec.sessionName ? `${spec.roleArn}/${spec.sessionName}` : spec.roleArn;
    case 'user':
      return `user:${spec.userName}`;
    case 'oidc-subject':
      return `oidc:${spec.subject}`;
  }
}

function timeOf(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The key id a minting call handed out, if its response carries one. */
export function mintedKeyOf(record: TrailRecord): string | undefined {
  const response = record.responseElements;
  if (!response || typeof response !== 'object') return undefined;
  return response.credentials?.accessKeyId ?? response.accessKey?.accessKeyId;
}

/** The hunted identities, growing as minted credentials are followed to a fixpoint. */
export class IdentityTracker {
  readonly #byId = new Map<string, TrackedIdentity>();
  readonly #keys = new Map<string, TrackedIdentity>();
  readonly #roles: TrackedIdentity[] = [];
  readonly #users = new Map<string, TrackedIdentity>();
  readonly #subjects = new Map<string, TrackedIdentity>();

  constructor(input: HuntInput) {
    for (const spec of input.identities) this.add({ id: identityId(spec), spec, origin: 'input', cutoffs: { ...input.cutoffs, ...spec.cutoffs } });
  }

  /** Adds an identity; false when it was already hunted. */
  add(tracked: TrackedIdentity): boolean {
    if (this.#byId.has(tracked.id)) return false;
    this.#byId.set(tracked.id, tracked);
    const spec = tracked.spec;
    if (spec.kind === 'access-key') this.#keys.set(spec.accessKeyId, tracked);
    else if (spec.kind === 'role') this.#roles.push(tracked);
    else if (spec.kind === 'user') this.#users.set(spec.userName, tracked);
    else this.#subjects.set(spec.subject, tracked);
    return true;
  }

  all(): TrackedIdentity[] {
    return [...this.#byId.values()];
  }

  /** The filter that finds the records of the given identities. */
  static filterFor(identities: TrackedIdentity[], eventNames: readonly string[], from?: string, to?: string): ScanFilter {
    const filter: ScanFilter = { accessKeyIds: [], roles: [], userNames: [], oidcSubjects: [], eventNames: [...eventNames], from, to };
    for (const { spec } of identities) {
      if (spec.kind === 'access-key') filter.accessKeyIds.push(spec.accessKeyId);
      else if (spec.kind === 'role') filter.roles.push({ arn: spec.roleArn, sessionName: spec.sessionName });
      else if (spec.kind === 'user') filter.userNames.push(spec.userName);
      else filter.oidcSubjects.push(spec.subject);
    }
    return filter;
  }

  /**
   * Which hunted identity made this call: the most specific wins (key, then role session,
   * then user, then OIDC subject). `target` is set when only the assumed role matched.
   */
  resolve(record: TrailRecord): { tracked: TrackedIdentity; byTarget: boolean } | undefined {
    const identity = record.userIdentity ?? {};
    const key = identity.accessKeyId && this.#keys.get(identity.accessKeyId);
    if (key) return { tracked: key, byTarget: false };
    const issuer = identity.sessionContext?.sessionIssuer?.arn;
    if (issuer) {
      for (const role of this.#roles) {
        const spec = role.spec as Extract<HuntedIdentity, { kind: 'role' }>;
        if (spec.roleArn === issuer && (!spec.sessionName || String(identity.arn ?? '').endsWith(`/${spec.sessionName}`))) return { tracked: role, byTarget: false };
      }
    }
    if (identity.type !== 'WebIdentityUser' && identity.userName && this.#users.has(identity.userName)) return { tracked: this.#users.get(identity.userName)!, byTarget: false };
    const subject = (identity.type === 'WebIdentityUser' && identity.userName) || record.responseElements?.subjectFromWebIdentityToken;
    if (subject && this.#subjects.has(subject)) return { tracked: this.#subjects.get(subject)!, byTarget: false };
    const target = record.requestParameters?.roleArn;
    if (target) {
      const role = this.#roles.find((candidate) => (candidate.spec as { roleArn: string }).roleArn === target);
      if (role) return { tracked: role, byTarget: true };
    }
    return undefined;
  }

  /**
   * Follows a successful minting call: the key it handed out becomes a hunted identity.
   * Returns the new identity, or undefined when nothing new was minted.
   */
  follow(record: TrailRecord, parent: TrackedIdentity): TrackedIdentity | undefined {
    if (record.errorCode) return undefined;
    const key = mintedKeyOf(record);
    if (!key || !/^(AKIA|ASIA)[A-Z0-9]{12,}$/.test(key)) return undefined;
    // A session minted from the OIDC subject is a session of the role: the role's revocation
    // covers it (by issue time), and the job's end applies when it was minted during the job.
    // Chained or user-made sessions are not covered by the parent's revocation (FACTS.md).
    const inherited: Cutoffs = {};
    if (parent.spec.kind === 'oidc-subject' || (parent.spec.kind === 'role' && record.eventName !== 'CreateAccessKey')) {
      if (parent.cutoffs.revokedAt) inherited.revokedAt = parent.cutoffs.revokedAt;
      const job = timeOf(parent.cutoffs.jobCompletedAt);
      const minted = timeOf(record.eventTime);
      if (job !== undefined && minted !== undefined && minted <= job) inherited.jobCompletedAt = parent.cutoffs.jobCompletedAt;
    }
    const tracked: TrackedIdentity = {
      id: key,
      spec: { kind: 'access-key', accessKeyId: key },
      origin: 'minted',
      via: `${record.eventName} ${record.eventID ?? ''}`.trim(),
      parent: parent.id,
      cutoffs: inherited,
      issuedAt: typeof record.eventTime === 'string' ? record.eventTime : undefined,
    };
    return this.add(tracked) ? tracked : undefined;
  }
}

/** IPs seen for principals other than EC2 instance-profile sessions (for the instance-credential check). */
export type SourceIndex = Map<string, string[]>;

/** Adds a record's source to the index, bounded so memory stays flat on any corpus. */
export function indexSource(index: SourceIndex, record: TrailRecord, maxIps = 200_000): void {
  const ip = record.sourceIPAddress;
  if (typeof ip !== 'string' || isEc2InstanceSession(record)) return;
  const principal = principalOf(record);
  const seen = index.get(ip);
  if (seen) {
    if (seen.length < 4 && !seen.includes(principal)) seen.push(principal);
  } else if (index.size < maxIps) index.set(ip, [principal]);
}

/** Credentials the EC2 instance metadata service delivered to an instance. */
export function isEc2InstanceSession(record: TrailRecord): boolean {
  const context = record.userIdentity?.sessionContext;
  return Boolean(context?.ec2RoleDelivery) || /assumed-role\/[^/]+\/i-[0-9a-fA-F]{8,17}$/.test(String(record.userIdentity?.arn ?? ''));
}

/** A request parameter as CloudTrail writes it (camelCase), or as some emitters do (PascalCase). */
function param(record: TrailRecord, name: string): unknown {
  const params = record.requestParameters;
  if (!params || typeof params !== 'object') return undefined;
  return params[name] ?? params[name.charAt(0).toUpperCase() + name.slice(1)];
}

const strings = (value: unknown): string[] => (Array.isArray(value) ? value : [value]).filter((item): item is string => typeof item === 'string' && item !== '');

/**
 * What a successful call read that the attacker now holds, by resource name: a Secrets Manager
 * secret (GetSecretValue, BatchGetSecretValue), an SSM parameter read with decryption (a
 * SecureString's plaintext), a KMS key used to Decrypt (not when an AWS service decrypted on the
 * caller's behalf: the GetSecretValue or GetParameter is the read), or S3 objects (named by
 * bucket and prefix, so one item covers many objects). Empty for any other call.
 */
export function secretsRead(record: TrailRecord): string[] {
  if (record.errorCode) return [];
  const source = String(record.eventSource ?? '');
  const name = String(record.eventName ?? '');
  if (source === 'secretsmanager.amazonaws.com' && name === 'GetSecretValue') return strings(param(record, 'secretId'));
  if (source === 'secretsmanager.amazonaws.com' && name === 'BatchGetSecretValue') return strings(param(record, 'secretIdList'));
  const decrypted = param(record, 'withDecryption') === true || param(record, 'withDecryption') === 'true';
  if (source === 'ssm.amazonaws.com' && /^GetParameters?(ByPath)?$/.test(name) && decrypted) {
    return name === 'GetParametersByPath' ? strings(param(record, 'path')).map((path) => `${path.replace(/\/?$/, '/')}*`) : strings(param(record, name === 'GetParameter' ? 'name' : 'names'));
  }
  if (source === 'kms.amazonaws.com' && name === 'Decrypt' && !record.userIdentity?.invokedBy) {
    const key = strings(param(record, 'keyId'));
    const arns = Array.isArray(record.resources) ? record.resources.map((r: { ARN?: unknown }) => r?.ARN).filter((arn: unknown): arn is string => typeof arn === 'string') : [];
    return key.length ? key : arns.length ? arns : ['a KMS key (not named in the event)'];
  }
  if (source === 's3.amazonaws.com' && name === 'GetObject') {
    const bucket = strings(param(record, 'bucketName'))[0] ?? strings(param(record, 'bucket'))[0];
    const key = strings(param(record, 'key'))[0] ?? '';
    if (!bucket) return [];
    const slash = key.lastIndexOf('/');
    return [`s3://${bucket}/${slash >= 0 ? key.slice(0, slash + 1) : ''}`];
  }
  return [];
}

interface Group {
  kind: HuntFindingKind;
  severity: Severity;
  identity: string;
  resource?: string;
  summary: (events: TrailRecord[]) => string;
  events: TrailRecord[];
}

/**
 * Turns the records a scan matched into findings, grouped per (kind, identity, severity), each
 * with its evidence events in time order.
 */
export function classify(records: Iterable<TrailRecord>, tracker: IdentityTracker, input: HuntInput, sourceIndex?: SourceIndex): HuntFinding[] {
  const groups = new Map<string, Group>();
  const add = (kind: HuntFindingKind, severity: Severity, identity: string, record: TrailRecord, summary: Group['summary'], resource?: string) => {
    const key = `${kind}\u0000${identity}\u0000${severity}\u0000${resource ?? ''}`;
    const group = groups.get(key) ?? { kind, severity, identity, summary, events: [], ...(resource !== undefined && { resource }) };
    group.events.push(record);
    groups.set(key, group);
  };
  const since = timeOf(input.since);
  const skewMs = input.skewSeconds * 1000;
  const evasion = new Set<string>(DEFENSE_EVASION_EVENTS);
  const reportedMints = new Map<string, { parent: string; severity: Severity }>();
  const mintSummary = (id: string) => (events: TrailRecord[]) => {
    const mints = events.filter((e) => (MINTING_EVENTS as readonly string[]).includes(String(e.eventName)));
    const keys = [...new Set(mints.map(mintedKeyOf).filter(Boolean))];
    const uses = events.length - mints.length;
    return `${id} minted credentials: ${[...new Set(mints.map((e) => e.eventName))].join(', ')}${keys.length ? ` (new keys ${keys.join(', ')}, hunted too)` : ''}${uses ? `; ${uses} call(s) made with them` : ''}`;
  };

  // Baselines: the sources each identity used before the compromise window.
  const list = [...records];
  const resolved = list.map((record) => ({ record, match: tracker.resolve(record), at: timeOf(record.eventTime) }));
  const baseline = new Map<string, { ips: Set<string>; agents: Set<string> }>();
  if (since !== undefined) {
    for (const { record, match, at } of resolved) {
      if (!match || match.byTarget || at === undefined || at >= since) continue;
      const base = baseline.get(match.tracked.id) ?? { ips: new Set(), agents: new Set() };
      if (record.sourceIPAddress) base.ips.add(record.sourceIPAddress);
      if (record.userAgent) base.agents.add(record.userAgent);
      baseline.set(match.tracked.id, base);
    }
  }

  for (const { record, match, at } of resolved) {
    const name = String(record.eventName ?? '');
    if (evasion.has(name)) {
      const who = match && !match.byTarget ? match.tracked.id : principalOf(record);
      // High when a hunted identity did it; critical is kept for "containment failed" (exit 3).
      add('defense-evasion', record.errorCode ? 'low' : match && !match.byTarget ? 'high' : 'medium', who, record, (events) =>
        `${who} called ${[...new Set(events.map((e) => e.eventName))].join(', ')}${events.every((e) => e.errorCode) ? ' (denied)' : ''}: logging or detection tampered with`,
      );
    }
    if (!match) continue;
    const { tracked, byTarget } = match;
    const id = tracked.id;

    if ((MINTING_EVENTS as readonly string[]).includes(name) && !record.errorCode) {
      const cutoff = Math.min(
        ...[tracked.cutoffs.revokedAt, tracked.cutoffs.deactivatedAt].map(timeOf).filter((v): v is number => v !== undefined),
        (timeOf(tracked.cutoffs.jobCompletedAt) ?? Infinity) + skewMs,
      );
      // Sessions of the hunted role or subject are expected while the job runs; only later ones are news.
      const expected = (byTarget || tracked.spec.kind === 'oidc-subject') && (at === undefined || at <= cutoff);
      if (!expected) {
        const minted = mintedKeyOf(record);
        if (minted) reportedMints.set(minted, { parent: id, severity: byTarget ? 'medium' : 'high' });
        add('new-credentials-minted', byTarget ? 'medium' : 'high', id, record, mintSummary(id));
      }
    }
    if (byTarget || at === undefined) continue;

    // What a compromised identity read in the window is in the attacker's hands: rotate it.
    if (since === undefined || at >= since) {
      for (const resource of secretsRead(record)) {
        add('secret-read', 'high', id, record, (events) =>
          `rotate ${resource}: read by ${id} at ${events[0]!.eventTime} (${[...new Set(events.map((e) => e.eventName))].join(', ')}${events.length > 1 ? `, ${events.length} reads` : ''})`,
        resource);
      }
    }

    const issued = timeOf(record.userIdentity?.sessionContext?.attributes?.creationDate) ?? timeOf(tracked.issuedAt);
    const isKey = tracked.spec.kind === 'user' || (tracked.spec.kind === 'access-key' && tracked.spec.accessKeyId.startsWith('AKIA'));
    const revocation = timeOf(isKey ? (tracked.cutoffs.deactivatedAt ?? tracked.cutoffs.revokedAt) : tracked.cutoffs.revokedAt);
    if (revocation !== undefined && at > revocation && (issued === undefined || issued < revocation)) {
      const error = record.errorCode ? String(record.errorCode) : undefined;
      const cutoffIso = new Date(revocation).toISOString();
      if (!error || !AUTH_ERROR.test(error)) {
        add('used-after-revocation', 'critical', id, record, (events) =>
          `containment failed: ${id} was authorised for ${events.length} call(s) after the cutoff ${cutoffIso} (first ${events[0]!.eventSource.split('.')[0]}:${events[0]!.eventName} at ${events[0]!.eventTime})`,
        );
      } else {
        const explicit = /explicit deny/i.test(String(record.errorMessage ?? ''));
        add('denied-after-revocation', explicit ? 'info' : 'low', id, record, (events) =>
          `containment working: ${events.length} call(s) by ${id} after ${cutoffIso} were denied${explicit ? ' by the explicit deny' : ` (${error})`}`,
        );
      }
    }

    const job = timeOf(tracked.cutoffs.jobCompletedAt);
    if (job !== undefined && at > job + skewMs && (issued === undefined || issued <= job)) {
      const jobIso = new Date(job).toISOString();
      add('used-after-job-end', record.errorCode ? 'medium' : 'high', id, record, (events) =>
        `${id} outlived its job: ${events.length} call(s) after completed_at ${jobIso} + ${input.skewSeconds}s${events.every((e) => e.errorCode) ? ' (all failed)' : ''}`,
      );
    }

    if (since !== undefined && at >= since) {
      const base = baseline.get(id);
      if (base && (base.ips.size || base.agents.size)) {
        const newIp = record.sourceIPAddress && base.ips.size && !base.ips.has(record.sourceIPAddress);
        const newAgent = record.userAgent && base.agents.size && !base.agents.has(record.userAgent);
        if (newIp || newAgent) {
          add('unusual-source', 'medium', id, record, (events) =>
            `${id} used from a source not seen before ${input.since}: ${[...new Set(events.map((e) => `${e.sourceIPAddress} (${e.userAgent})`))].slice(0, 3).join('; ')}`,
          );
        }
      }
    }
    if (sourceIndex && isEc2InstanceSession(record) && record.sourceIPAddress) {
      const others = sourceIndex.get(record.sourceIPAddress);
      if (others?.length) {
        add('unusual-source', 'high', id, record, (events) =>
          `EC2 instance credentials of ${id} used outside the instance: source ${events[0]!.sourceIPAddress} also serves ${others.join(', ')} (${events[0]!.userAgent})`,
        );
      }
    }
  }

  // Calls made with credentials whose minting was reported join that finding as evidence.
  for (const { record, match } of resolved) {
    if (!match || match.byTarget || match.tracked.origin !== 'minted') continue;
    const mint = reportedMints.get(match.tracked.id);
    if (mint && !(MINTING_EVENTS as readonly string[]).includes(String(record.eventName)) && record.userIdentity?.accessKeyId === match.tracked.id) {
      add('new-credentials-minted', mint.severity, mint.parent, record, mintSummary(mint.parent));
    }
  }

  const order: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };
  return [...groups.values()]
    .map((group) => {
      const events = dedupe(group.events).sort((a, b) => String(a.eventTime).localeCompare(String(b.eventTime)));
      return {
        kind: group.kind,
        severity: group.severity,
        identity: group.identity,
        resource: group.resource ?? group.identity,
        summary: group.summary(events),
        at: events[0]?.eventTime,
        evidence: events.map(trimEvent),
      } satisfies HuntFinding;
    })
    .sort((a, b) => order[a.severity] - order[b.severity] || String(a.at).localeCompare(String(b.at)));
}

function dedupe(records: TrailRecord[]): TrailRecord[] {
  const seen = new Set<string>();
  return records.filter((record) => {
    if (!record.eventID) return true;
    if (seen.has(record.eventID)) return false;
    seen.add(record.eventID);
    return true;
  });
}
