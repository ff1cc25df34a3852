import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emptyStats, runHunt, type HuntSource } from '../../src/hunt/engine.js';
import { ByteSplitter, unwrapRecord, type Damage } from '../../src/hunt/json-splitter.js';
import type { TrailRecord } from '../../src/hunt/model.js';
import { compileFilter, type ScanFilter } from '../../src/hunt/predicate.js';
import { scanBytes, scanStream } from '../../src/hunt/sources/file-scan.js';
import { createFilesSource } from '../../src/hunt/sources/files.js';
import { sharedData } from '../helpers/shared-data.js';

const NOTHING: ScanFilter = { accessKeyIds: [], roles: [], userNames: [], oidcSubjects: [], eventNames: [] };

/** Every record of the Stratus Red Team detonations (real CloudTrail, 310 records), in file order. */
function stratusRecords(): TrailRecord[] {
  const dir = sharedData('cloudtrail', 'stratus-red-team');
  return readdirSync(dir)
    .sort()
    .flatMap((name) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as TrailRecord[]);
}

/** The busiest key of the corpus (56 records) and the key that mints a session used 30 times. */
const BUSY_KEY = 'AKIAW9X2Q2U25SK79UCX';
const MINTING_KEY = 'AKIAWOGXN38MFN92ING5';
const MINTED_SESSION = 'ASIANQQHHS551LWULIWD';


/** A delivery file whose record texts are given (some of them damaged): the byte offset of each. */
function deliveryFile(texts: string[]): { text: string; offsets: number[] } {
  let text = '{"Records":[';
  const offsets: number[] = [];
  texts.forEach((record, i) => {
    if (i) text += ',';
    offsets.push(Buffer.byteLength(text));
    text += record;
  });
  return { text: `${text}]}`, offsets };
}

function split(bytes: Buffer, chunk: number): { records: unknown[]; damage: Damage[] } {
  const records: unknown[] = [];
  const damage: Damage[] = [];
  const splitter = new ByteSplitter(
    (buffer, start, end) => records.push(JSON.parse(buffer.toString('utf8', start, end))),
    (d) => damage.push(d),
  );
  for (let i = 0; i < bytes.length; i += chunk) splitter.push(bytes.subarray(i, i + chunk));
  splitter.end();
  return { records, damage };
}

describe('the byte splitter', () => {
  const records = [{ eventName: 'A', s: 'tricky "}]{[ \\ text é ✓' }, { eventName: 'B', nested: [1, { deep: ['x'] }] }];
  it.each([1, 2, 5, 9, 4096])('splits every shape the same at chunk size %i', (chunk) => {
    // Given the same records as a Records wrapper, a plain array and JSON lines
    const shapes = [JSON.stringify({ Records: records }), JSON.stringify(records, null, 2), records.map((r) => JSON.stringify(r)).join('\n') + '\n', JSON.stringify({ before: { Records: 1 }, Records: records, after: [1, { k: 'v\\"}]' }] })];
    // Then each splits into the same records, whatever the chunking, with no damage
    for (const shape of shapes) expect(split(Buffer.from(shape), chunk)).toEqual({ records, damage: [] });
    // And concatenated wrappers (zcat of many delivery files) give all their records
    expect(split(Buffer.from(`${JSON.stringify({ Records: records })}\n${JSON.stringify({ Records: records })}`), chunk).records).toEqual([...records, ...records]);
  });

  it('splits any records at any chunk size (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.dictionary(fc.string(), fc.jsonValue()), { maxLength: 5 }), fc.integer({ min: 1, max: 40 }), fc.boolean(), (objects, chunk, wrapped) => {
        const text = wrapped ? JSON.stringify({ Records: objects }) : JSON.stringify(objects);
        expect(split(Buffer.from(text), chunk)).toEqual({ records: JSON.parse(text.startsWith('{') ? text : `{"Records":${text}}`).Records, damage: [] });
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    ['{"Records":[{"a":1}', [{ a: 1 }]],
    ['[{"a":1},', [{ a: 1 }]],
    ['{"Records":[{"a":1}]', [{ a: 1 }]],
    ['[{"a":1},{"a":"1}]', [{ a: 1 }]],
    ['not json', []],
    ['[{"a":1}] x', [{ a: 1 }]],
    ['[1, 2]', []],
  ])('reports the damage in %s and keeps the records before it', (text, kept) => {
    for (const chunk of [1, 3, 100]) {
      const result = split(Buffer.from(text), chunk);
      expect(result.records).toEqual(kept);
      expect(result.damage.length).toBeGreaterThan(0);
    }
  });
});

describe('damaged CloudTrail files (real events)', () => {
  const all = stratusRecords();
  const texts = all.map((record) => JSON.stringify(record));
  const busy = all.flatMap((record, i) => (record.userIdentity?.accessKeyId === BUSY_KEY ? [i] : []));
  const filter: ScanFilter = { ...NOTHING, accessKeyIds: [BUSY_KEY] };

  it('skips a record with a bad token alone, reports its index and offset, and hunts the others', async () => {
    // Given the 310 records in one delivery file, one of the busy key's records damaged inside (balanced, not JSON)
    const victim = busy[10]!;
    const damaged = texts.map((text, i) => (i === victim ? text.replace('"eventName":', '"eventName": tru, "x":') : text));
    const { text, offsets } = deliveryFile(damaged);
    // When the file is scanned, gzipped, for the busy key
    const result = await scanBytes(gzipSync(text), true, filter);
    // Then exactly that record is reported, with its 1-based index and its byte offset
    expect(result.damaged).toEqual([expect.objectContaining({ record: victim + 1, offset: offsets[victim] })]);
    expect(result.damagedRecords).toBe(1);
    expect(result.error).toBeUndefined();
    // And every other record of the key is found
    expect(result.matched.map((record) => record.eventID).sort()).toEqual(busy.filter((i) => i !== victim).map((i) => all[i]!.eventID).sort());
    expect(result.records).toBe(all.length - 1);
  });

  it('resynchronises after a record cut short (a lost tail and quote), keeping every record after it', async () => {
    // Given record 100 cut in the middle of a string (its closing quotes and braces lost)
    const victim = 100;
    const cut = texts[victim]!.slice(0, texts[victim]!.indexOf('"eventSource":"') + 20);
    const { text, offsets } = deliveryFile(texts.map((t, i) => (i === victim ? cut : t)));
    const result = await scanBytes(Buffer.from(text), false, filter);
    // Then the damage is reported at that record's offset
    expect(result.damaged[0]).toMatchObject({ record: victim + 1, offset: offsets[victim] });
    // And every record of the busy key except a damaged one is still found
    const found = new Set(result.matched.map((record) => record.eventID));
    expect([...found].sort()).toEqual(busy.filter((i) => i !== victim).map((i) => all[i]!.eventID).sort());
  });

  it('keeps the records before the cut of a truncated gzip and reports the file', async () => {
    // Given the delivery file, the key's records spread through it, gzipped and cut at 60% of its bytes
    const order = all.map((_, i) => i).sort((a, b) => ((a * 7919) % 311) - ((b * 7919) % 311));
    const { text } = deliveryFile(order.map((i) => texts[i]!));
    const gz = gzipSync(text);
    const result = await scanBytes(gz.subarray(0, Math.floor(gz.length * 0.6)), true, filter);
    // Then the file is reported (a cut gzip), the record cut in two is reported too
    expect(result.error).toMatch(/gzip: .*kept/);
    expect(result.damaged).toEqual([expect.objectContaining({ record: result.records + 1, reason: expect.stringMatching(/truncated/) })]);
    // And the records before the cut are hunted
    const before = result.records;
    expect(before).toBeGreaterThan(100);
    expect(before).toBeLessThan(all.length);
    const expected = order.slice(0, before).filter((i) => busy.includes(i)).map((i) => all[i]!.eventID);
    expect(expected.length).toBeGreaterThan(5);
    expect(result.matched.map((record) => record.eventID).sort()).toEqual(expected.sort());
  });

  it('keeps the records before the cut when a truncated gzip is streamed (large files, S3 objects)', async () => {
    const order = all.map((_, i) => i).sort((a, b) => ((a * 7919) % 311) - ((b * 7919) % 311));
    const gz = gzipSync(deliveryFile(order.map((i) => texts[i]!)).text);
    const cut = gz.subarray(0, Math.floor(gz.length * 0.6));
    // When it arrives in small chunks
    const chunks = Array.from({ length: Math.ceil(cut.length / 4096) }, (_, i) => cut.subarray(i * 4096, (i + 1) * 4096));
    const result = await scanStream(Readable.from(chunks), true, filter);
    // Then the stream's failure is reported and what came before it is hunted
    expect(result.error).toMatch(/kept/);
    expect(result.records).toBeGreaterThan(50);
    const expected = order.slice(0, result.records).filter((i) => busy.includes(i)).map((i) => all[i]!.eventID);
    expect(expected.length).toBeGreaterThan(0);
    expect(result.matched.map((record) => record.eventID).sort()).toEqual(expected.sort());
  });

  it('counts damaged records and files in the hunt stats, so the hunt does not look complete', async () => {
    // Given a directory with a good file, a file with one bad record and a truncated gzip (both holding the key)
    const dir = mkdtempSync(join(tmpdir(), 'hunt-damage-'));
    writeFileSync(join(dir, 'a-good.json.gz'), gzipSync(deliveryFile(texts.slice(0, 100)).text));
    const bad = texts.slice(100, 200).map((t) => (t.includes(BUSY_KEY) ? t.replace('"eventName":', '"eventName":,') : t));
    writeFileSync(join(dir, 'b-bad-record.json'), deliveryFile(bad).text);
    const gz = gzipSync(deliveryFile(texts.slice(200)).text);
    writeFileSync(join(dir, 'c-cut.json.gz'), gz.subarray(0, gz.length - 200));
    const stats = emptyStats();
    for await (const _ of createFilesSource(dir, { workers: 1 }).scan(filter, stats)) void _;
    // Then both damaged files are counted, each damaged record listed with file, index and offset
    expect(stats.damaged.files).toBe(2);
    const badRecords = bad.filter((t) => t.includes(BUSY_KEY)).length;
    expect(stats.damaged.records).toBeGreaterThanOrEqual(badRecords + 1);
    const listed = stats.skipped.filter((skip) => skip.path.endsWith('b-bad-record.json') && skip.record !== undefined);
    expect(listed).toHaveLength(Math.min(badRecords, 10));
    expect(listed.every((skip) => skip.record! > 0 && skip.offset! > 0)).toBe(true);
    expect(stats.skipped.some((skip) => skip.path.endsWith('c-cut.json.gz') && /gzip/.test(skip.reason))).toBe(true);
  });
});

/** The slow path: parse every record and apply the filter (what the byte test must agree with). */
function slowMatches(text: string, filter: ScanFilter): string[] {
  const matches = compileFilter(filter);
  return (JSON.parse(text).Records as unknown[]).map((value) => unwrapRecord(value)!).filter(matches).map((record) => String(record.eventID));
}

/** JSON text of a value with some characters spelt other ways (`\/`, `\uXXXX`), as other encoders write. */
function respell(text: string, choices: number[]): string {
  let k = 0;
  return text.replace(/"(?:[^"\\]|\\.)*"/g, (literal) =>
    literal.replace(/[A-Za-z0-9/:.@+=,_-]/g, (c) => {
      const choice = choices[k++ % choices.length]!;
      if (choice === 1 && c === '/') return '\\/';
      if (choice === 2) return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
      if (choice === 3) return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}`;
      return c;
    }),
  );
}

describe('the byte test before decoding', () => {
  it('never misses a record the slow path matches, however its identities are spelt (property)', async () => {
    const all = stratusRecords();
    const keys = [...new Set(all.map((r) => r.userIdentity?.accessKeyId).filter(Boolean))] as string[];
    const issuers = [...new Set(all.map((r) => r.userIdentity?.sessionContext?.sessionIssuer?.arn).filter(Boolean))] as string[];
    const users = [...new Set(all.map((r) => r.userIdentity?.userName).filter(Boolean))] as string[];
    const names = [...new Set(all.map((r) => String(r.eventName)))];
    await fc.assert(
      fc.asyncProperty(
        fc.subarray(all.map((_, i) => i), { minLength: 1, maxLength: 30 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 50 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 30 }),
        fc.record({
          keys: fc.subarray(keys, { maxLength: 3 }),
          roles: fc.subarray(issuers, { maxLength: 2 }),
          users: fc.subarray(users, { maxLength: 2 }),
          names: fc.subarray(names, { maxLength: 3 }),
        }),
        fc.boolean(),
        async (picked, choices, respelt, chosen, pretty) => {
          // Given real records, some written with escaped characters, and a filter over their identities
          const records = picked.map((i) => all[i]!);
          const texts = records.map((record, i) => {
            const text = pretty ? JSON.stringify(record, null, 1) : JSON.stringify(record);
            return respelt[i % respelt.length] ? respell(text, choices) : text;
          });
          const file = `{"Records":[${texts.join(',')}]}`;
          const filter: ScanFilter = { accessKeyIds: chosen.keys, roles: chosen.roles.map((arn) => ({ arn })), userNames: chosen.users, oidcSubjects: [], eventNames: chosen.names };
          // When the byte test picks the candidates
          const fast = await scanBytes(Buffer.from(file), false, filter);
          // Then it matches exactly what parsing every record matches
          expect(fast.matched.map((record) => String(record.eventID)).sort()).toEqual(slowMatches(file, filter).sort());
          expect(fast.records).toBe(records.length);
          expect(fast.damagedRecords).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('later rounds read only what the first indexed', () => {
  it('follows a minted session as a full re-read does, re-reading only the files that mention it', async () => {
    // Given the Stratus records spread over files of three records (104 files)
    const all = stratusRecords();
    const dir = mkdtempSync(join(tmpdir(), 'hunt-follow-'));
    const files: string[] = [];
    for (let i = 0; i < all.length; i += 3) files.push(JSON.stringify({ Records: all.slice(i, i + 3) }));
    files.forEach((text, i) => writeFileSync(join(dir, `${String(i).padStart(3, '0')}.json.gz`), gzipSync(text)));
    const input = { identities: [{ kind: 'access-key' as const, accessKeyId: MINTING_KEY }], cutoffs: { revokedAt: '2020-01-01T00:00:00Z' } };
    const now = { now: new Date('2025-01-01T00:00:00Z') };

    // When the key is hunted with the indexed source, and with a source that re-reads everything each round
    const indexed = await runHunt(input, createFilesSource(dir, { workers: 0 }), now);
    const rereadAll: HuntSource = { name: 'files', scan: (filter, stats) => createFilesSource(dir, { workers: 0 }).scan(filter, stats) };
    const full = await runHunt(input, rereadAll, now);

    // Then the session it minted is followed, with the same identities, matches and findings
    expect(indexed.identities.map((identity) => identity.id)).toContain(MINTED_SESSION);
    expect(indexed.stats.rounds).toBeGreaterThanOrEqual(2);
    const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
    expect([...indexed.identities].sort(byId)).toEqual([...full.identities].sort(byId));
    expect(indexed.stats.recordsMatched).toBe(full.stats.recordsMatched);
    // (evidence at the same second comes in the order the workers finished: compared as sets)
    const canonical = (findings: typeof full.findings) => findings.map((finding) => ({ ...finding, evidence: [...finding.evidence].sort((a, b) => a.eventID.localeCompare(b.eventID)) }));
    expect(canonical(indexed.findings)).toEqual(canonical(full.findings));
    expect(indexed.findings.length).toBeGreaterThan(0);
    // And the later rounds re-read only the files that mention a new key, not all of them
    const minted = indexed.identities.filter((identity) => identity.origin === 'minted').map((identity) => identity.id);
    const mentioning = files.filter((text) => minted.some((key) => text.includes(key))).length;
    expect(full.stats.filesReread).toBeGreaterThanOrEqual(files.length);
    expect(indexed.stats.filesReread).toBeGreaterThanOrEqual(mentioning);
    expect(indexed.stats.filesReread).toBeLessThanOrEqual(mentioning * (indexed.stats.rounds - 1));
    expect(indexed.stats.filesReread).toBeLessThan(files.length / 4);
  });

  it('still finds a later-round key spelt with \\u escapes (the key index cannot rule such a file out)', async () => {
    // Given the same files, those that use the minted session written with escaped characters
    const all = stratusRecords();
    const dir = mkdtempSync(join(tmpdir(), 'hunt-follow-escaped-'));
    let escaped = 0;
    for (let i = 0; i < all.length; i += 3) {
      let text = JSON.stringify({ Records: all.slice(i, i + 3) });
      if (text.includes(`"accessKeyId":"${MINTED_SESSION}"`)) {
        text = text.replaceAll(`"accessKeyId":"${MINTED_SESSION}"`, `"accessKeyId":"\\u0041SIA${MINTED_SESSION.slice(4)}"`);
        escaped++;
      }
      writeFileSync(join(dir, `${String(i).padStart(3, '0')}.json.gz`), gzipSync(text));
    }
    expect(escaped).toBeGreaterThan(0);
    const input = { identities: [{ kind: 'access-key' as const, accessKeyId: MINTING_KEY }], cutoffs: { revokedAt: '2020-01-01T00:00:00Z' } };
    const now = { now: new Date('2025-01-01T00:00:00Z') };
    // When hunted with the index and with full re-reads
    const indexed = await runHunt(input, createFilesSource(dir, { workers: 0 }), now);
    const full = await runHunt(input, { name: 'files', scan: (filter, stats) => createFilesSource(dir, { workers: 0 }).scan(filter, stats) }, now);
    // Then the escaped uses are matched in both, the same number of records
    expect(indexed.stats.recordsMatched).toBe(full.stats.recordsMatched);
    const uses = (result: typeof full) => result.findings.flatMap((finding) => finding.evidence).filter((event) => event.accessKeyId === MINTED_SESSION).length;
    expect(uses(indexed)).toBeGreaterThan(0);
    expect(uses(indexed)).toBe(uses(full));
  });
});
