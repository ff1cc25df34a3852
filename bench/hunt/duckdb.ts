/**
 * DuckDB, the peer of the files-source bench: the same filter over the same corpus (run by
 * bench/hunt/run.ts as a child, so its peak RSS is measured alone). Typed `read_json` of the
 * `Records` array (only the columns the filter needs), unnested, counted and filtered in one
 * pass with every core. Prints one JSON line.
 *
 *   node --import tsx bench/hunt/duckdb.ts CORPUS_DIR
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { DEFENSE_EVASION_EVENTS } from '../../src/hunt/classify.js';
import { LEAKED_KEY, MINTED_KEY } from './generate.js';

const dir = process.argv[2]!;
const quote = (value: string) => `'${value.replace(/'/g, "''")}'`;
const started = performance.now();
const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
const records = `read_json(${quote(`${dir}/**/*.json.gz`)}, format = 'auto', compression = 'gzip', maximum_object_size = 67108864,
  columns = {Records: 'STRUCT(eventID VARCHAR, eventTime VARCHAR, eventName VARCHAR, userIdentity STRUCT(accessKeyId VARCHAR))[]'})`;
const sql = `SELECT count(*) AS events,
  count(*) FILTER (WHERE r.userIdentity.accessKeyId IN (${quote(LEAKED_KEY)}, ${quote(MINTED_KEY)}) OR r.eventName IN (${DEFENSE_EVASION_EVENTS.map(quote).join(', ')})) AS matched
  FROM (SELECT unnest(Records) AS r FROM ${records})`;
const reader = await connection.runAndReadAll(sql);
const [row] = reader.getRowObjectsJS();
const seconds = (performance.now() - started) / 1000;
connection.closeSync();
console.log(JSON.stringify({ seconds, events: Number(row!.events), matched: Number(row!.matched), maxRssMb: process.resourceUsage().maxRSS / 1024 }));
