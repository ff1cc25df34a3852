import { AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { emptyStats, runHunt } from '../../src/hunt/engine.js';
import type { HuntInputJson, TrailRecord } from '../../src/hunt/model.js';
import { evaluate, normaliseTime, predicateOf, type ScanFilter } from '../../src/hunt/predicate.js';
import { createAthenaSource, createTableSql, huntQuerySql } from '../../src/hunt/sources/athena.js';
import { createFilesSource } from '../../src/hunt/sources/files.js';
import { sharedData } from '../helpers/shared-data.js';
import { compileWhere, partsOf, rowOf } from './sql-where.js';

const athena = mockClient(AthenaClient);
afterEach(() => athena.reset());

const TABLE = { database: 'security', table: 'cloudtrail', location: 's3://trail-bucket/org', accountId: '111122223333', regions: ['us-east-1', 'us-west-2'] };

async function collectAll(source: ReturnType<typeof createFilesSource>, filter: ScanFilter): Promise<TrailRecord[]> {
  // Every record has an eventSource ending in amazonaws.com or a name: the widest literal filter is every eventName seen.
  const names = new Set<string>();
  const { readFileSync, readdirSync } = await import('node:fs');
  const dir = sharedData('cloudtrail');
  for (const sub of readdirSync(dir)) {
    for (const file of readdirSync(`${dir}/${sub}`)) {
      for (const match of readFileSync(`${dir}/${sub}/${file}`, 'utf8').matchAll(/"eventName":\s*"([^"]+)"/g)) names.add(match[1]!);
    }
  }
  const out: TrailRecord[] = [];
  for await (const record of source.scan({ ...filter, eventNames: [...names] }, emptyStats())) out.push(record);
  return out;
}

function partitions(record: TrailRecord) {
  const time = typeof record.eventTime === 'string' && !Number.isNaN(Date.parse(record.eventTime)) ? record.eventTime : '1970-01-01T00:00:00Z';
  return { region: String(record.awsRegion ?? 'us-east-1'), day: new Date(time).toISOString().slice(0, 10).replace(/-/g, '/') };
}

const FILTERS: Array<[string, ScanFilter]> = [
  ['keys', { accessKeyIds: ['ASIAP5CT9NN8EYVU1FXV', 'AKIAI44QH8DHBEXAMPLE'], roles: [], userNames: [], oidcSubjects: [], eventNames: [] }],
  ['role', { accessKeyIds: [], roles: [{ arn: 'arn:aws:iam::017622104382:role/stratus-red-team-ec2-steal-credentials-role' }], userNames: [], oidcSubjects: [], eventNames: [] }],
  ['role session', { accessKeyIds: [], roles: [{ arn: 'arn:aws:iam::017622104382:role/stratus-red-team-ec2-steal-credentials-role', sessionName: 'i-786a3A8B5C0d92eF4' }], userNames: [], oidcSubjects: [], eventNames: [] }],
  ['assumed role by request', { accessKeyIds: [], roles: [{ arn: 'arn:aws:iam::111122223333:role/EC2-dev' }], userNames: [], oidcSubjects: [], eventNames: [] }],
  ['users', { accessKeyIds: [], roles: [], userNames: ['christophe', "o'brien"], oidcSubjects: [], eventNames: [] }],
  ['evasion in a window', { accessKeyIds: [], roles: [], userNames: [], oidcSubjects: [], eventNames: ['StopLogging', 'DeleteTrail', 'PutEventSelectors'], from: '2021-01-01T00:00:00.000Z', to: '2024-08-02T08:30:00+00:00' }],
  ['source ips', { accessKeyIds: [], roles: [], userNames: [], oidcSubjects: [], eventNames: [], sourceIps: ['18.236.253.47'] }],
  ['nothing', { accessKeyIds: [], roles: [], userNames: [], oidcSubjects: [], eventNames: [] }],
];

describe('the Athena source', () => {
  it.each(FILTERS)('generates SQL that selects exactly what the files predicate selects: %s', async (_name, filter) => {
    // Given every record of the shared corpora
    const records = await collectAll(createFilesSource(sharedData('cloudtrail'), { workers: 0 }), { accessKeyIds: [], roles: [], userNames: [], oidcSubjects: [], eventNames: [] });
    expect(records.length).toBeGreaterThan(700);
    // When the hunt query's WHERE clause is interpreted over each record as Athena would see it
    const { where } = partsOf(huntQuerySql({ ...TABLE, regions: [...new Set(records.map((r) => String(r.awsRegion)))] }, filter));
    const condition = compileWhere(where);
    const normalised = { ...filter, from: filter.from && normaliseTime(filter.from), to: filter.to && normaliseTime(filter.to) };
    const predicate = predicateOf(normalised);
    const bySql = records.filter((record) => condition(rowOf(record, partitions(record)))).map((r) => r.eventID);
    const byPredicate = records.filter((record) => evaluate(predicate, record)).map((r) => r.eventID);
    // Then both select the same records
    expect(bySql).toEqual(byPredicate);
    if (_name !== 'nothing') expect(bySql.length).toBeGreaterThan(0);
  });

  it('creates the table with partition projection over the AWSLogs layout', () => {
    // When the DDL is generated
    const ddl = createTableSql(TABLE);
    // Then it projects region and day onto the S3 layout, with no crawler or MSCK REPAIR
    expect(ddl).toContain("LOCATION 's3://trail-bucket/org/AWSLogs/111122223333/CloudTrail/'");
    expect(ddl).toContain("'projection.enabled' = 'true'");
    expect(ddl).toContain("'projection.region.values' = 'us-east-1,us-west-2'");
    expect(ddl).toContain("'projection.day.format' = 'yyyy/MM/dd'");
    expect(ddl).toContain("'storage.location.template' = 's3://trail-bucket/org/AWSLogs/111122223333/CloudTrail/${region}/${day}'");
    expect(() => createTableSql({ ...TABLE, table: 'x; DROP TABLE y' })).toThrow(/identifier/);
  });

  it('runs the hunt through Athena, paging results, with the same findings as the files source', async () => {
    // Given a mocked Athena that "executes" each query over the Stratus corpus with the interpreter
    const records = await collectAll(createFilesSource(sharedData('cloudtrail', 'stratus-red-team'), { workers: 0 }), { accessKeyIds: [], roles: [], userNames: [], oidcSubjects: [], eventNames: [] });
    const queries: string[] = [];
    const results = new Map<string, string[][]>();
    athena.on(StartQueryExecutionCommand).callsFake((input) => {
      const id = `q${queries.length}`;
      queries.push(input.QueryString);
      const { columns, where } = partsOf(input.QueryString);
      const condition = compileWhere(where);
      const rows = records
        .filter((record) => condition(rowOf(record, partitions(record))))
        .map((record) => columns.map(({ expression }) => rowOf(record, partitions(record))(expression) ?? ''));
      results.set(id, [columns.map((column) => column.alias), ...rows]);
      return { QueryExecutionId: id };
    });
    let polls = 0;
    athena.on(GetQueryExecutionCommand).callsFake(() => ({ QueryExecution: { Status: { State: polls++ % 2 === 0 ? 'RUNNING' : 'SUCCEEDED' } } }));
    athena.on(GetQueryResultsCommand).callsFake((input) => {
      // Pages of 3 rows, so paging is exercised
      const all = results.get(input.QueryExecutionId)!;
      const start = input.NextToken ? Number(input.NextToken) : 0;
      return {
        ResultSet: { Rows: all.slice(start, start + 3).map((row) => ({ Data: row.map((value) => (value === '' ? {} : { VarCharValue: value })) })) },
        ...(start + 3 < all.length ? { NextToken: String(start + 3) } : {}),
      };
    });
    const input: HuntInputJson = {
      identities: [
        { kind: 'role', roleArn: 'arn:aws:iam::017622104382:role/stratus-red-team-ec2-steal-credentials-role' },
        { kind: 'user', userName: 'christophe', cutoffs: { deactivatedAt: '2024-08-02T08:00:00Z' } },
      ],
    };
    const now = new Date('2024-09-01T00:00:00Z');

    // When the same hunt runs through Athena and through the files source
    // (Stratus anonymised its regions: the table's region enum lists the ones in the data.)
    const table = { ...TABLE, regions: [...new Set(records.map((record) => String(record.awsRegion)))] };
    const viaAthena = await runHunt(input, createAthenaSource({ client: new AthenaClient({ region: 'us-east-1' }), table, sleep: async () => {} }), { now });
    const viaFiles = await runHunt(input, createFilesSource(sharedData('cloudtrail', 'stratus-red-team')), { now });

    // Then the findings are the same, evidence and all
    const shape = (result: typeof viaFiles) => result.findings.map((f) => ({ kind: f.kind, severity: f.severity, identity: f.identity, ids: f.evidence.map((e) => e.eventID) }));
    expect(shape(viaAthena)).toEqual(shape(viaFiles));
    expect(viaFiles.findings.map((f) => f.kind)).toEqual(expect.arrayContaining(['used-after-revocation', 'unusual-source', 'defense-evasion']));
    // And the SQL pruned partitions only where a window was given, and polled until SUCCEEDED
    expect(queries[0]).toMatch(/^SELECT eventid, eventtime/);
    expect(athena.commandCalls(GetQueryResultsCommand).length).toBeGreaterThan(queries.length);
  });

  it('reports a failed query with its reason', async () => {
    // Given an Athena that fails the query
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q1' });
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'FAILED', StateChangeReason: 'TABLE_NOT_FOUND: security.cloudtrail' } } });
    const source = createAthenaSource({ client: new AthenaClient({ region: 'us-east-1' }), table: TABLE, sleep: async () => {} });
    // Then the hunt fails with Athena's reason
    await expect(runHunt({ identities: [{ kind: 'user', userName: 'ci' }] }, source)).rejects.toThrow(/TABLE_NOT_FOUND/);
  });
});

