import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ActionDefinition } from '../../src/actions/define.js';
import type { EngineEvent } from '../../src/engine/events.js';
import { itemWiseNeeds, runPlaybook, stepPriorities, type RunOptions } from '../../src/engine/execute.js';
import { dependencyGraph } from '../../src/engine/plan.js';
import { readJournal } from '../../src/engine/journal.js';
import type { Playbook } from '../../src/engine/model.js';
import { StepFailedError } from '../../src/engine/errors.js';
import { deterministicError } from '../../src/engine/retry-policy.js';
import { holdingSlot, outsideSlot, Semaphore } from '../../src/engine/slots.js';
import { noClients, playbook, probeActions, type ProbeBehaviour } from './fixtures/fake-actions.js';

let out: string;
let behaviour: ProbeBehaviour;
let registry: ActionDefinition[];
let events: EngineEvent[];

beforeEach(() => {
  out = mkdtempSync(join(tmpdir(), 'cicd-ir-flow-'));
  behaviour = { log: [] };
  registry = probeActions(behaviour);
  events = [];
});
afterEach(() => rmSync(out, { recursive: true, force: true }));

function run(book: Playbook, extra: Partial<RunOptions> = {}) {
  return runPlaybook({
    playbook: book,
    inputs: {},
    clients: noClients,
    dryRun: false,
    incident: 'IR-1',
    outDir: out,
    registry,
    onEvent: (event) => events.push(event),
    ...extra,
  });
}

const ROLES = ['deploy', 'service-linked', 'audit'];

describe('item-wise dataflow and failure isolation', () => {
  it('a failed item skips only its own counterpart; an aggregating step gets what succeeded and is journalled incomplete', async () => {
    // Given trust restriction fanned out over three roles, the second of which IAM refuses,
    // session revocation needing it over the same roles, and a hunt reading every revocation
    behaviour.apply = async (input) => {
      if (input.label === 'restrict service-linked') throw Object.assign(new Error('UnmodifiableEntity: service-linked role'), { name: 'UnmodifiableEntityException' });
      return { value: input.label };
    };
    const book = playbook([
      { id: 'restrict', uses: 'test.probe', for_each: ROLES, with: { label: 'restrict ${{ item }}' }, retry: { attempts: 4, backoffMs: 1 } },
      { id: 'revoke', uses: 'test.probe', needs: ['restrict'], for_each: ROLES, with: { label: 'revoke ${{ item }}' } },
      { id: 'hunt', uses: 'test.read', needs: ['revoke'], with: { value: '${{ union(steps.revoke.outputs.value) }}' } },
      { id: 'deactivate', uses: 'test.probe', needs: ['hunt'], with: { label: 'deactivate' } },
    ]);
    // When it runs
    const result = await run(book);
    // Then only revoke[1] was skipped, for its own role; the hunt and what follows it ran
    expect(result.steps.map((s) => [s.key, s.status])).toEqual([
      ['restrict[0]', 'verified'],
      ['restrict[1]', 'failed'],
      ['restrict[2]', 'verified'],
      ['revoke[0]', 'verified'],
      ['revoke[1]', 'skipped'],
      ['revoke[2]', 'verified'],
      ['hunt', 'verified'],
      ['deactivate', 'verified'],
    ]);
    expect(result.steps.find((s) => s.key === 'revoke[1]')?.detail).toBe('dependency restrict[1] failed');
    // The hunt got the revocations that succeeded
    expect(behaviour.log).toContain('apply hunt');
    // The deterministic error was tried once, not four times
    expect(behaviour.log.filter((line) => line === 'apply restrict[1]')).toHaveLength(1);
    // The run still fails (exit 1): a role is not contained
    expect(result.exitCode).toBe(1);
    // And the journal says the hunt (and what read it) ran without restrict[1] and revoke[1]
    const incomplete = readJournal(join(result.runDir, 'journal.jsonl')).records.filter((r) => r.type === 'incomplete');
    expect(incomplete.map((r) => r.type === 'incomplete' && [r.step, r.missing.map((m) => `${m.key} ${m.status}`)])).toEqual([
      ['hunt', ['restrict[1] failed', 'revoke[1] skipped']],
      ['deactivate', ['restrict[1] failed', 'revoke[1] skipped']],
    ]);
    expect(events.filter((e) => e.type === 'step-incomplete').map((e) => e.type === 'step-incomplete' && e.step)).toEqual(['hunt', 'deactivate']);
  });

  it("an item runs as soon as its own inputs are ready, not when the whole fan-out it needs is done", async () => {
    // Given restrict[2] that cannot finish until revoke[0] has applied
    let revoke0Applied!: () => void;
    const revoke0 = new Promise<void>((resolve) => (revoke0Applied = resolve));
    behaviour.apply = async (input) => {
      if (input.label === 'restrict audit') await Promise.race([revoke0, sleep(3_000).then(() => Promise.reject(new Error('barrier: revoke[0] never ran before restrict[2] ended')))]);
      if (input.label === 'revoke deploy') revoke0Applied();
      return { value: input.label };
    };
    const book = playbook([
      { id: 'restrict', uses: 'test.probe', for_each: ROLES, with: { label: 'restrict ${{ item }}' } },
      { id: 'revoke', uses: 'test.probe', needs: ['restrict'], for_each: ROLES, with: { label: 'revoke ${{ item }}' } },
    ]);
    // When it runs
    const result = await run(book);
    // Then everything verified: revoke[0] ran while restrict[2] was still in flight
    expect(result.steps.every((s) => s.status === 'verified')).toBe(true);
    expect(behaviour.log.indexOf('apply revoke[0]')).toBeLessThan(behaviour.log.indexOf('verify restrict[2]'));
  });

  it('item-wise only between steps fanned out over the same items; a different fan-out waits for the whole step', () => {
    const book = playbook([
      { id: 'a', uses: 'test.probe', for_each: '${{ inputs.repos }}' },
      { id: 'b', uses: 'test.probe', needs: ['a'], for_each: '${{ inputs.repos }}' },
      { id: 'c', uses: 'test.probe', needs: ['a'], for_each: '${{ inputs.roles }}' },
      { id: 'd', uses: 'test.probe', needs: ['a'], for_each: '${{ inputs.repos }}', with: { value: '${{ steps.a.outputs.value }}' } },
    ]);
    const wise = itemWiseNeeds(book);
    expect([...wise.get('b')!]).toEqual(['a']);
    expect([...wise.get('c')!]).toEqual([]);
    // d reads a's outputs (lists over every item): it waits for all of a
    expect([...wise.get('d')!]).toEqual([]);
  });

  it('a fan-out whose every item failed still skips its whole-step dependents', async () => {
    behaviour.apply = async (input) => {
      if (input.label?.startsWith('restrict')) throw new Error('network down');
    };
    const book = playbook([
      { id: 'restrict', uses: 'test.probe', for_each: ['x', 'y'], with: { label: 'restrict ${{ item }}' } },
      { id: 'hunt', uses: 'test.read', needs: ['restrict'] },
    ]);
    const result = await run(book);
    expect(result.steps.map((s) => [s.key, s.status, s.detail])).toEqual([
      ['restrict[0]', 'failed', 'network down'],
      ['restrict[1]', 'failed', 'network down'],
      ['hunt', 'skipped', 'dependency restrict failed'],
    ]);
  });
});

describe('no retry of deterministic errors', () => {
  const cases: Array<[string, unknown, string | undefined]> = [
    ['IAM LimitExceeded (classified as throttling by the SDK)', Object.assign(new Error('quota'), { name: 'LimitExceededException', $metadata: { httpStatusCode: 409 } }), 'LimitExceeded'],
    ['UnmodifiableEntity', Object.assign(new Error('slr'), { name: 'UnmodifiableEntityException', $metadata: { httpStatusCode: 400 } }), 'UnmodifiableEntity'],
    ['MalformedPolicyDocument', Object.assign(new Error('bad'), { name: 'MalformedPolicyDocumentException', $metadata: { httpStatusCode: 400 } }), 'MalformedPolicyDocument'],
    [
      'the 2,048-character trust quota, refused before calling IAM',
      new StepFailedError('restrict[0]', 'role r: the restricted trust policy would be 2100 characters (whitespace not counted), over the 2048-character trust policy quota; IAM would answer LimitExceeded'),
      'LimitExceeded',
    ],
    ['an SDK error wrapped by an action', new StepFailedError('x', 'role r: error', { cause: Object.assign(new Error('nope'), { name: 'NoSuchEntityException', $metadata: { httpStatusCode: 404 } }) }), 'HTTP 404'],
    ['GitHub 422 validation', Object.assign(new Error('Validation Failed'), { name: 'HttpError', status: 422, response: { headers: {} } }), 'HTTP 422'],
    ['a zod validation error', Object.assign(new Error('invalid'), { name: 'ZodError', issues: [] }), 'invalid input'],
    ['GitHub 429', Object.assign(new Error('slow down'), { name: 'HttpError', status: 429, response: { headers: {} } }), undefined],
    ['GitHub 403 secondary rate limit', Object.assign(new Error('You have exceeded a secondary rate limit'), { name: 'HttpError', status: 403, response: { headers: { 'retry-after': '60' } } }), undefined],
    ['GitHub 403 primary rate limit', Object.assign(new Error('API rate limit exceeded'), { name: 'HttpError', status: 403, response: { headers: { 'x-ratelimit-remaining': '0' } } }), undefined],
    ['IAM Throttling (400)', Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } }), undefined],
    ['a 5xx', Object.assign(new Error('ServiceFailure'), { name: 'ServiceFailureException', $metadata: { httpStatusCode: 500 } }), undefined],
    ['a network error', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), undefined],
  ];
  for (const [what, error, expected] of cases) {
    it(`${what}: ${expected ? `not retried (${expected})` : 'retried'}`, () => {
      expect(deterministicError(error)).toBe(expected);
    });
  }

  it('the engine makes one attempt on a deterministic error and says why it did not retry', async () => {
    behaviour.apply = async () => {
      throw Object.assign(new Error('Cannot exceed quota for ACLSizePerRole: 2048'), { name: 'LimitExceededException', $metadata: { httpStatusCode: 409 } });
    };
    const result = await run(playbook([{ id: 'restrict', uses: 'test.probe', retry: { attempts: 4, backoffMs: 1_000 } }]));
    expect(behaviour.log.filter((line) => line.startsWith('apply'))).toEqual(['apply restrict']);
    expect(result.steps[0]?.detail).toBe('Cannot exceed quota for ACLSizePerRole: 2048 (not retried: LimitExceeded)');
    expect(events.some((e) => e.type === 'step-retry')).toBe(false);
  });

  it('and still retries a throttled call', async () => {
    let calls = 0;
    behaviour.apply = async () => {
      if (++calls < 3) throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } });
      return { value: calls };
    };
    const result = await run(playbook([{ id: 'restrict', uses: 'test.probe', retry: { attempts: 4, backoffMs: 1 } }]));
    expect(result.steps[0]?.status).toBe('verified');
    expect(calls).toBe(3);
  });
});

describe('no slot held while waiting', () => {
  it("a retry's backoff holds no slot: other work runs meanwhile", async () => {
    // Given one slot, a step whose first attempt fails with a 500 ms backoff, and an independent step
    let flakyCalls = 0;
    behaviour.apply = async (input) => {
      if (input.label === 'flaky' && ++flakyCalls === 1) throw new Error('503 Service Unavailable');
      return { value: input.label };
    };
    const book = playbook([
      { id: 'flaky', uses: 'test.probe', with: { label: 'flaky' }, retry: { attempts: 2, backoffMs: 500 } },
      { id: 'other', uses: 'test.probe', with: { label: 'other' } },
    ]);
    // When it runs with concurrency 1
    await run(book, { concurrency: 1 });
    // Then the other step applied between the two attempts
    const applies = behaviour.log.filter((line) => line.startsWith('apply'));
    expect(applies).toEqual(['apply flaky', 'apply other', 'apply flaky']);
  });

  it('an action waiting (a poll interval, a client queue) through outsideSlot gives its slot to others', async () => {
    // Given one slot and an action that polls: it waits 300 ms outside its slot
    const during: string[] = [];
    let polling = false;
    behaviour.apply = async (input) => {
      if (input.label === 'cancel') {
        expect(holdingSlot()).toBe(true);
        polling = true;
        await outsideSlot(async () => {
          expect(holdingSlot()).toBe(false);
          await sleep(300);
        });
        polling = false;
        // It has its slot back before it goes on
        expect(holdingSlot()).toBe(true);
      } else if (polling) during.push(input.label ?? '');
      return { value: input.label };
    };
    const book = playbook([
      { id: 'cancel', uses: 'test.probe', with: { label: 'cancel' } },
      { id: 'scan', uses: 'test.read', for_each: ['a', 'b', 'c'], with: { label: 'scan ${{ item }}' } },
    ]);
    const result = await run(book, { concurrency: 1 });
    expect(result.exitCode).toBe(0);
    // Then all three scans ran while cancel was polling
    expect(during).toEqual(['scan a', 'scan b', 'scan c']);
  });

  it('Semaphore: a slot given back while waiting is taken back at the caller priority, and never leaks', async () => {
    const semaphore = new Semaphore(1);
    const order: string[] = [];
    const waiter = semaphore.use(async () => {
      await outsideSlot(() => sleep(50));
      order.push('waiter back');
    });
    await sleep(5);
    expect(semaphore.inUse).toBe(0);
    const other = semaphore.use(async () => {
      order.push('other');
      await sleep(100);
    });
    await Promise.all([waiter, other]);
    expect(order).toEqual(['other', 'waiter back']);
    expect(semaphore.inUse).toBe(0);
  });
});

describe('priority order', () => {
  it('a read that a credential-closing step waits for is as urgent as that step; a read nothing urgent waits for is last', () => {
    const book = playbook([
      { id: 'inventory', uses: 'test.read' },
      { id: 'disable', uses: 'test.close', needs: ['inventory'] },
      { id: 'purge', uses: 'test.probe', needs: ['disable'] },
      { id: 'evidence-after', uses: 'test.read', needs: ['purge'] },
      { id: 'audit', uses: 'test.read' },
    ]);
    const definitions = new Map<string, ActionDefinition>([
      ['inventory', { mutating: false } as ActionDefinition],
      ['disable', { mutating: true, closesCredential: true } as ActionDefinition],
      ['purge', { mutating: true } as ActionDefinition],
      ['evidence-after', { mutating: false } as ActionDefinition],
      ['audit', { mutating: false } as ActionDefinition],
    ]);
    const priorities = stepPriorities(book, dependencyGraph(book), definitions);
    expect(Object.fromEntries(priorities)).toEqual({ inventory: 2, disable: 2, purge: 1, 'evidence-after': 0, audit: 0 });
  });

  it('within a priority the oldest key goes first: items finish one after another', async () => {
    // Given one slot and three keys of one priority, each working, then waiting on a call, then working again
    const semaphore = new Semaphore(1);
    const order: string[] = [];
    const key = (name: string, age: number) =>
      semaphore.use(
        async () => {
          order.push(`${name} a`);
          await sleep(20); // working, in its slot
          await outsideSlot(() => sleep(5)); // a call on the wire: the slot goes to another key
          order.push(`${name} b`);
        },
        0,
        age,
      );
    await Promise.all([key('k0', 0), key('k1', 1), key('k2', 2)]);
    // Then k0's second half went before k2 ever started
    expect(order.indexOf('k0 b')).toBeLessThan(order.indexOf('k2 a'));
  });

  it('queued containment changes get a free slot before queued read-only work, whatever order they queued in', async () => {
    // Given one slot held by a first read, then reads and changes queued alternately
    const semaphore = new Semaphore(1);
    const order: string[] = [];
    const task = (name: string, urgent: boolean) => semaphore.use(async () => void order.push(name), urgent);
    let release!: () => void;
    const first = semaphore.use(() => new Promise<void>((resolve) => (release = resolve)));
    await sleep(1);
    const queued = [task('read 1', false), task('revoke 1', true), task('read 2', false), task('revoke 2', true)];
    release();
    await Promise.all([first, ...queued]);
    expect(order).toEqual(['revoke 1', 'revoke 2', 'read 1', 'read 2']);
  });

  it('a change waiting on its retry backoff rejoins ahead of read-only work', async () => {
    // Given one slot, a change whose first attempt fails, and many reads queued
    let calls = 0;
    behaviour.apply = async (input) => {
      if (input.label === 'revoke' && ++calls === 1) throw new Error('503');
      await sleep(20);
      return { value: input.label };
    };
    const book = playbook([
      { id: 'revoke', uses: 'test.probe', with: { label: 'revoke' }, retry: { attempts: 2, backoffMs: 30 } },
      { id: 'scan', uses: 'test.read', for_each: [1, 2, 3, 4, 5, 6], with: { label: 'scan' } },
    ]);
    await run(book, { concurrency: 1 });
    const applies = behaviour.log.filter((line) => line.startsWith('apply'));
    // The retry took the first slot free after its backoff, not the last
    const retryAt = applies.lastIndexOf('apply revoke');
    expect(retryAt).toBeGreaterThan(0);
    expect(retryAt).toBeLessThan(5);
  });
});

describe('journal', () => {
  it('one finding record however many items of a fan-out report it', async () => {
    const { defineAction } = await import('../../src/actions/define.js');
    const { z } = await import('zod');
    const seesRole = defineAction<{ repo: string }>({
      id: 'test.sees-role',
      summary: 'reports the same role for every repository',
      schema: z.strictObject({ repo: z.string() }),
      permissions: [],
      mutating: false,
      outputs: {},
      example: { repo: 'a' },
      async plan() {
        return { changes: [], calls: [] };
      },
      async apply(ctx, input) {
        ctx.finding({ kind: 'trust-wildcard', severity: 'high', resource: 'role:deploy', summary: 'deploy admits repo:acme/*' });
        ctx.finding({ kind: 'repo-seen', severity: 'info', resource: `repo:${input.repo}`, summary: `saw ${input.repo}` });
        return { changed: false, outputs: {} };
      },
      async verify() {
        return { verified: true, detail: 'ok' };
      },
    });
    registry = [...registry, seesRole as unknown as ActionDefinition];
    const result = await run(playbook([{ id: 'find', uses: 'test.sees-role', for_each: ['a', 'b', 'c', 'd'], with: { repo: '${{ item }}' } }]));
    const findings = readJournal(join(result.runDir, 'journal.jsonl')).records.filter((r) => r.type === 'finding');
    // The shared one once, each repository's own once
    expect(findings.map((r) => r.type === 'finding' && r.finding.summary).sort()).toEqual(['deploy admits repo:acme/*', 'saw a', 'saw b', 'saw c', 'saw d']);
  });

  it('group fsync: records appended together share one fsync, and durable() resolves once they are on disk', async () => {
    const { JournalWriter } = await import('../../src/engine/journal.js');
    const writer = JournalWriter.open(join(out, 'j.jsonl'), 'r1');
    for (let i = 0; i < 50; i++) writer.append({ type: 'evidence', kind: 'x', data: i });
    expect(writer.fsyncs).toBe(0);
    await writer.durable();
    expect(writer.fsyncs).toBe(1);
    // Nothing new: no fsync
    await writer.durable();
    expect(writer.fsyncs).toBe(1);
    writer.append({ type: 'evidence', kind: 'x', data: 'last' });
    writer.close();
    expect(writer.fsyncs).toBe(2);
    expect(readJournal(join(out, 'j.jsonl')).records).toHaveLength(51);
  });
});
