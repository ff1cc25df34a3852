/**
 * DuckDB, the peer of the files-source bench: the same filter over the same corpus, run by
 * bench/hunt/run.ts as a plain-Node child (no tsx: its start-up is not DuckDB's) so its wall
 * time and peak RSS are measured alone. Typed `read_json` of the `Records` array (only the
 * columns the filter needs), unnested, counted and filtered in one pass with every core.
 * Prints one JSON line.
 *
 *   node bench/hunt/duckdb.mjs CORPUS_DIR '{"keys":["ASIA..."],"names":["StopLogging"]}'
 */
import { DuckDBInstance } from '@duckdb/node-api';

const [dir, filterJson] = process.argv.slice(2);
const { keys, names } = JSON.parse(filterJson);
const quote = (value) => `'${String(value).replace(/'/g, "''")}'`;
const started = performance.now();
const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
const records = `read_json(${quote(`${dir}/**/*.json.gz`)}, format = 'auto', compression = 'gzip', maximum_object_size = 67108864,
  columns = {Records: 'STRUCT(eventID VARCHAR, eventTime VARCHAR, eventName VARCHAR, userIdentity STRUCT(accessKeyId VARCHAR))[]'})`;
const sql = `SELECT count(*) AS events,
  count(*) FILTER (WHERE r.userIdentity.accessKeyId IN (${keys.map(quote).join(', ')}) OR r.eventName IN (${names.map(quote).join(', ')})) AS matched
  FROM (SELECT unnest(Records) AS r FROM ${records})`;
const reader = await connection.runAndReadAll(sql);
const [row] = reader.getRowObjectsJS();
const seconds = (performance.now() - started) / 1000;
connection.closeSync();
console.log(JSON.stringify({ seconds, events: Number(row.events), matched: Number(row.matched), maxRssMb: process.resourceUsage().maxRSS / 1024 }));
