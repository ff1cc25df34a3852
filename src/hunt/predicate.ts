import type { TrailRecord } from './model.js';

/**
 * The record filter every source applies, described once as data. The files source evaluates
 * it in JavaScript (`evaluate`), the Athena source renders it as SQL (`toSql`): both come from
 * the same description so they cannot drift apart.
 */
export interface ScanFilter {
  accessKeyIds: string[];
  roles: Array<{ arn: string; sessionName?: string }>;
  userNames: string[];
  oidcSubjects: string[];
  /** Event names matched for any principal (defense evasion). */
  eventNames: string[];
  /** Records from these source IPs (any principal): context for the instance-credential check. */
  sourceIps?: string[];
  /** Inclusive eventTime bounds (ISO). */
  from?: string;
  to?: string;
}

/** The CloudTrail fields the filter reads: a JavaScript getter and the Athena column expression. */
export const FIELDS = {
  accessKeyId: { get: (r: TrailRecord) => r.userIdentity?.accessKeyId, sql: 'useridentity.accesskeyid' },
  issuerArn: { get: (r: TrailRecord) => r.userIdentity?.sessionContext?.sessionIssuer?.arn, sql: 'useridentity.sessioncontext.sessionissuer.arn' },
  principalArn: { get: (r: TrailRecord) => r.userIdentity?.arn, sql: 'useridentity.arn' },
  userName: { get: (r: TrailRecord) => r.userIdentity?.userName, sql: 'useridentity.username' },
  eventName: { get: (r: TrailRecord) => r.eventName, sql: 'eventname' },
  sourceIp: { get: (r: TrailRecord) => r.sourceIPAddress, sql: 'sourceipaddress' },
  eventTime: { get: (r: TrailRecord) => r.eventTime, sql: 'eventtime' },
  requestRoleArn: { get: (r: TrailRecord) => r.requestParameters?.roleArn, sql: "json_extract_scalar(requestparameters, '$.roleArn')" },
  webIdentitySubject: {
    get: (r: TrailRecord) => r.responseElements?.subjectFromWebIdentityToken,
    sql: "json_extract_scalar(responseelements, '$.subjectFromWebIdentityToken')",
  },
} as const satisfies Record<string, { get: (r: TrailRecord) => unknown; sql: string }>;

export type FieldName = keyof typeof FIELDS;

export type Predicate =
  | { op: 'or' | 'and'; args: Predicate[] }
  | { op: 'in'; field: FieldName; values: string[] }
  | { op: 'suffix'; field: FieldName; value: string }
  | { op: 'gte' | 'lte'; field: FieldName; value: string }
  | { op: 'false' };

/** Builds the predicate for a filter: (any identity clause OR a watched event name) AND the time bounds. */
export function predicateOf(filter: ScanFilter): Predicate {
  const any: Predicate[] = [];
  if (filter.accessKeyIds.length) any.push({ op: 'in', field: 'accessKeyId', values: filter.accessKeyIds });
  for (const role of filter.roles) {
    const bySession: Predicate = role.sessionName
      ? { op: 'and', args: [{ op: 'in', field: 'issuerArn', values: [role.arn] }, { op: 'suffix', field: 'principalArn', value: `/${role.sessionName}` }] }
      : { op: 'in', field: 'issuerArn', values: [role.arn] };
    any.push(bySession);
    // AssumeRole* of the role itself: the event that minted each session (its key is in responseElements).
    any.push({ op: 'in', field: 'requestRoleArn', values: [role.arn] });
  }
  if (filter.userNames.length) any.push({ op: 'in', field: 'userName', values: filter.userNames });
  if (filter.oidcSubjects.length) {
    // WebIdentityUser events carry the sub as userName; AssumeRoleWithWebIdentity also echoes it in responseElements.
    any.push({ op: 'in', field: 'userName', values: filter.oidcSubjects });
    any.push({ op: 'in', field: 'webIdentitySubject', values: filter.oidcSubjects });
  }
  if (filter.eventNames.length) any.push({ op: 'in', field: 'eventName', values: filter.eventNames });
  if (filter.sourceIps?.length) any.push({ op: 'in', field: 'sourceIp', values: filter.sourceIps });
  const all: Predicate[] = [any.length ? { op: 'or', args: any } : { op: 'false' }];
  if (filter.from) all.push({ op: 'gte', field: 'eventTime', value: filter.from });
  if (filter.to) all.push({ op: 'lte', field: 'eventTime', value: filter.to });
  return all.length === 1 ? all[0]! : { op: 'and', args: all };
}

/**
 * ISO times in CloudTrail are `YYYY-MM-DDTHH:MM:SSZ`; bounds given by a person may carry
 * milliseconds or an offset, so both sides are normalised to the second before comparing
 * (string comparison then agrees with Athena's comparison of the same strings).
 */
export function normaliseTime(value: string): string {
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? value : new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Evaluates a predicate against one record. */
export function evaluate(predicate: Predicate, record: TrailRecord): boolean {
  switch (predicate.op) {
    case 'false':
      return false;
    case 'or':
      return predicate.args.some((arg) => evaluate(arg, record));
    case 'and':
      return predicate.args.every((arg) => evaluate(arg, record));
    case 'in': {
      const value = FIELDS[predicate.field].get(record);
      return typeof value === 'string' && predicate.values.includes(value);
    }
    case 'suffix': {
      const value = FIELDS[predicate.field].get(record);
      return typeof value === 'string' && value.endsWith(predicate.value);
    }
    case 'gte':
    case 'lte': {
      const value = FIELDS[predicate.field].get(record);
      if (typeof value !== 'string') return false;
      return predicate.op === 'gte' ? value >= predicate.value : value <= predicate.value;
    }
  }
}

/** A compiled matcher: sets instead of arrays for the hot path of the files source. */
export function compileFilter(filter: ScanFilter): (record: TrailRecord) => boolean {
  const normalised = { ...filter, from: filter.from && normaliseTime(filter.from), to: filter.to && normaliseTime(filter.to) };
  const predicate = predicateOf(normalised);
  return (record) => evaluate(predicate, record);
}

function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Renders a predicate as a Presto/Trino (Athena) boolean expression. */
export function toSql(predicate: Predicate): string {
  switch (predicate.op) {
    case 'false':
      return 'FALSE';
    case 'or':
    case 'and':
      return `(${predicate.args.map(toSql).join(` ${predicate.op.toUpperCase()} `)})`;
    case 'in':
      return `${FIELDS[predicate.field].sql} IN (${predicate.values.map(sqlString).join(', ')})`;
    case 'suffix':
      // LIKE with an escape so `_` and `%` in session names stay literal.
      return `${FIELDS[predicate.field].sql} LIKE ${sqlString(`%${predicate.value.replace(/[\\%_]/g, (c) => `\\${c}`)}`)} ESCAPE '\\'`;
    case 'gte':
      return `${FIELDS[predicate.field].sql} >= ${sqlString(predicate.value)}`;
    case 'lte':
      return `${FIELDS[predicate.field].sql} <= ${sqlString(predicate.value)}`;
  }
}
