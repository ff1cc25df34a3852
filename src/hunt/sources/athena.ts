import { GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand, type AthenaClient } from '@aws-sdk/client-athena';
import type { HuntSource } from '../engine.js';
import type { ScanStats, TrailRecord } from '../model.js';
import { normaliseTime, predicateOf, toSql, type ScanFilter } from '../predicate.js';

/** Where the trail lives and how the Athena table is named. */
export interface AthenaTableSpec {
  database: string;
  table: string;
  /** `s3://bucket/prefix` holding `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/`. */
  location: string;
  accountId: string;
  regions: string[];
  /** First day partition projection covers (`YYYY/MM/DD`). */
  projectionStart?: string;
}

function identifier(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`not a valid Athena identifier: ${name}`);
  return name;
}

/**
 * The CREATE TABLE for CloudTrail logs in S3 with partition projection on region and day (the
 * AWSLogs layout: `.../CloudTrail/<region>/YYYY/MM/DD/`), so queries prune to the days and
 * regions asked for without MSCK REPAIR or crawlers.
 */
export function createTableSql(spec: AthenaTableSpec): string {
  const base = `${spec.location.replace(/\/+$/, '')}/AWSLogs/${spec.accountId}/CloudTrail`;
  return `CREATE EXTERNAL TABLE IF NOT EXISTS ${identifier(spec.database)}.${identifier(spec.table)} (
  eventversion STRING,
  useridentity STRUCT<
    type: STRING, principalid: STRING, arn: STRING, accountid: STRING, invokedby: STRING, accesskeyid: STRING, username: STRING,
    sessioncontext: STRUCT<
      attributes: STRUCT<mfaauthenticated: STRING, creationdate: STRING>,
      sessionissuer: STRUCT<type: STRING, principalid: STRING, arn: STRING, accountid: STRING, username: STRING>,
      ec2roledelivery: STRING,
      sourceidentity: STRING>>,
  eventtime STRING,
  eventsource STRING,
  eventname STRING,
  awsregion STRING,
  sourceipaddress STRING,
  useragent STRING,
  errorcode STRING,
  errormessage STRING,
  requestparameters STRING,
  responseelements STRING,
  additionaleventdata STRING,
  requestid STRING,
  eventid STRING,
  readonly STRING,
  resources ARRAY<STRUCT<arn: STRING, accountid: STRING, type: STRING>>,
  eventtype STRING,
  recipientaccountid STRING,
  sharedeventid STRING,
  vpcendpointid STRING
)
PARTITIONED BY (region STRING, day STRING)
ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'
STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION '${base}/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.region.type' = 'enum',
  'projection.region.values' = '${spec.regions.join(',')}',
  'projection.day.type' = 'date',
  'projection.day.format' = 'yyyy/MM/dd',
  'projection.day.range' = '${spec.projectionStart ?? '2020/01/01'},NOW',
  'projection.day.interval' = '1',
  'projection.day.interval.unit' = 'DAYS',
  'storage.location.template' = '${base}/\${region}/\${day}'
)`;
}

/** The columns the hunt reads back, in order; `toRecord` rebuilds a CloudTrail record from them. */
export const HUNT_COLUMNS = [
  ['eventid', 'eventid'],
  ['eventtime', 'eventtime'],
  ['eventsource', 'eventsource'],
  ['eventname', 'eventname'],
  ['awsregion', 'awsregion'],
  ['sourceipaddress', 'sourceipaddress'],
  ['useragent', 'useragent'],
  ['errorcode', 'errorcode'],
  ['errormessage', 'errormessage'],
  ['requestparameters', 'requestparameters'],
  ['responseelements', 'responseelements'],
  ['readonly', 'readonly'],
  ['ui_type', 'useridentity.type'],
  ['ui_arn', 'useridentity.arn'],
  ['ui_principalid', 'useridentity.principalid'],
  ['ui_accesskeyid', 'useridentity.accesskeyid'],
  ['ui_username', 'useridentity.username'],
  ['ui_issuer_arn', 'useridentity.sessioncontext.sessionissuer.arn'],
  ['ui_creationdate', 'useridentity.sessioncontext.attributes.creationdate'],
  ['ui_ec2roledelivery', 'useridentity.sessioncontext.ec2roledelivery'],
] as const;

function day(iso: string, shiftDays: number): string {
  const date = new Date(Date.parse(iso) + shiftDays * 86_400_000);
  return date.toISOString().slice(0, 10).replace(/-/g, '/');
}

/**
 * The hunt query for a filter: the same predicate the files source evaluates, as SQL, plus
 * partition pruning. Folders are by delivery time, not event time, so the day range is
 * widened by a day on each side.
 */
export function huntQuerySql(spec: Pick<AthenaTableSpec, 'database' | 'table' | 'regions'>, filter: ScanFilter): string {
  const normalised = { ...filter, from: filter.from && normaliseTime(filter.from), to: filter.to && normaliseTime(filter.to) };
  const where = [toSql(predicateOf(normalised))];
  if (spec.regions.length) where.push(`region IN (${spec.regions.map((r) => `'${r.replace(/'/g, "''")}'`).join(', ')})`);
  if (normalised.from) where.push(`day >= '${day(normalised.from, -1)}'`);
  if (normalised.to) where.push(`day <= '${day(normalised.to, 1)}'`);
  return `SELECT ${HUNT_COLUMNS.map(([alias, expr]) => (alias === expr ? expr : `${expr} AS ${alias}`)).join(', ')}
FROM ${identifier(spec.database)}.${identifier(spec.table)}
WHERE ${where.join('\n  AND ')}`;
}

function parseJson(value: string | undefined): unknown {
  if (value === undefined || value === '') return null;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** Rebuilds the CloudTrail record shape the classifiers read from one result row. */
export function toRecord(row: Record<string, string | undefined>): TrailRecord {
  const sessionContext =
    row.ui_issuer_arn || row.ui_creationdate || row.ui_ec2roledelivery
      ? {
          ...(row.ui_issuer_arn ? { sessionIssuer: { arn: row.ui_issuer_arn } } : {}),
          ...(row.ui_creationdate ? { attributes: { creationDate: row.ui_creationdate } } : {}),
          ...(row.ui_ec2roledelivery ? { ec2RoleDelivery: row.ui_ec2roledelivery } : {}),
        }
      : undefined;
  const userIdentity = Object.fromEntries(
    Object.entries({ type: row.ui_type, arn: row.ui_arn, principalId: row.ui_principalid, accessKeyId: row.ui_accesskeyid, userName: row.ui_username, sessionContext }).filter(
      ([, value]) => value !== undefined && value !== '',
    ),
  );
  const record: TrailRecord = {
    eventID: row.eventid,
    eventTime: row.eventtime,
    eventSource: row.eventsource,
    eventName: row.eventname,
    awsRegion: row.awsregion,
    userIdentity,
    requestParameters: parseJson(row.requestparameters),
    responseElements: parseJson(row.responseelements),
  };
  for (const [key, column] of [
    ['sourceIPAddress', 'sourceipaddress'],
    ['userAgent', 'useragent'],
    ['errorCode', 'errorcode'],
    ['errorMessage', 'errormessage'],
  ] as const) {
    if (row[column]) record[key] = row[column];
  }
  if (row.readonly) record.readOnly = row.readonly === 'true';
  return record;
}

export interface AthenaSourceOptions {
  client: AthenaClient;
  table: AthenaTableSpec;
  workGroup?: string;
  /** `s3://...` for results when the work group does not set one. */
  outputLocation?: string;
  /** Poll interval for GetQueryExecution (ms; doubles up to 5 s). */
  pollMs?: number;
  /** Create the table first (CREATE EXTERNAL TABLE IF NOT EXISTS). */
  createTable?: boolean;
  sleep?: (ms: number) => Promise<void>;
  /** Receives every SQL text run (for --dry-run printing and tests). */
  onQuery?: (sql: string) => void;
}

/**
 * The athena source: the scale-out path for years of trails. Runs the generated SQL with
 * StartQueryExecution, polls GetQueryExecution, pages GetQueryResults.
 */
export function createAthenaSource(options: AthenaSourceOptions): HuntSource {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let tableReady = !options.createTable;

  const run = async function* (sql: string): AsyncIterable<Record<string, string | undefined>> {
    options.onQuery?.(sql);
    const started = await options.client.send(
      new StartQueryExecutionCommand({
        QueryString: sql,
        QueryExecutionContext: { Database: options.table.database },
        ...(options.workGroup ? { WorkGroup: options.workGroup } : {}),
        ...(options.outputLocation ? { ResultConfiguration: { OutputLocation: options.outputLocation } } : {}),
      }),
    );
    const id = started.QueryExecutionId!;
    let wait = options.pollMs ?? 500;
    for (;;) {
      const execution = await options.client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
      const state = execution.QueryExecution?.Status?.State;
      if (state === 'SUCCEEDED') break;
      if (state === 'FAILED' || state === 'CANCELLED') {
        throw new Error(`Athena query ${id} ${state}: ${execution.QueryExecution?.Status?.StateChangeReason ?? 'no reason given'}`);
      }
      await sleep(wait);
      wait = Math.min(wait * 2, 5000);
    }
    let token: string | undefined;
    let header: string[] | undefined;
    do {
      const page = await options.client.send(new GetQueryResultsCommand({ QueryExecutionId: id, NextToken: token, MaxResults: 1000 }));
      for (const row of page.ResultSet?.Rows ?? []) {
        const values = (row.Data ?? []).map((datum) => datum.VarCharValue);
        // The first row of the first page is the header.
        if (!header) {
          header = values.map((value) => value ?? '');
          continue;
        }
        yield Object.fromEntries(header.map((name, index) => [name, values[index]]));
      }
      token = page.NextToken;
    } while (token);
  };

  return {
    name: 'athena',
    async *scan(filter: ScanFilter, stats: ScanStats): AsyncIterable<TrailRecord> {
      if (!tableReady) {
        for await (const _ of run(createTableSql(options.table))) void _;
        tableReady = true;
      }
      for await (const row of run(huntQuerySql(options.table, filter))) {
        stats.recordsRead++;
        yield toRecord(row);
      }
    },
  };
}
