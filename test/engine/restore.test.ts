import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineAction, type ActionDefinition } from '../../src/actions/define.js';
import { actions } from '../../src/actions/index.js';
import { ApiCallRelay, runPlaybook } from '../../src/engine/execute.js';
import { JournalWriter, readJournal } from '../../src/engine/journal.js';
import { Secret } from '../../src/engine/secret.js';
import { parsePlaybook, resolveInputs } from '../../src/engine/playbook.js';
import { neverRestoredReason, restoreRun, RESTORE_PLAYBOOK, type RestoreResult } from '../../src/engine/restore.js';
import { JOURNAL_FILE } from '../../src/engine/run-dir.js';
import { createClients } from '../../src/providers/index.js';
import { startFullLab, type FullLab } from '../helpers/full-lab.js';
import { ACCOUNT, OLD_KEY, restoreScenario, SUB } from './fixtures/restore-scenario.js';

const containment = `name: contain-for-restore
description: the containment restore undoes
steps:
  - id: disable
    uses: github.disable-workflow
    with: { repo: acme/app, workflow: deploy.yml }
  - id: kill
    uses: github.disable-actions
    needs: [disable]
    with: { repo: acme/app }
  - id: trust
    uses: aws.restrict-oidc-trust
    needs: [kill]
    with: { role: deploy, subjects: ['${SUB}'] }
  - id: revoke
    uses: aws.revoke-role-sessions
    needs: [trust]
    with: { role: deploy }
  - id: rotate
    uses: aws.rotate-access-key
    needs: [revoke]
    with: { user: ci-deployer, access_key_id: ${OLD_KEY}, mode: leaked }
`;

function world(lab: FullLab) {
  const role = lab.aws.state.role(ACCOUNT, 'deploy')!;
  const user = lab.aws.state.user(ACCOUNT, 'ci-deployer')!;
  return {
    workflow: lab.github.state.workflow('acme/app', 'deploy.yml').state,
    actionsEnabled: lab.github.state.repo('acme/app').actionsEnabled,
    trust: role.trustPolicy,
    rolePolicies: [...role.inlinePolicies.keys()].sort(),
    keys: user.accessKeys.map((key) => ({ id: key.id, status: key.status })),
  };
}

describe('restore: undo a containment run in the lab', () => {
  let lab: FullLab;
  let out: string;
  let before: ReturnType<typeof world>;
  let runId: string;
  let first: RestoreResult;

  beforeAll(async () => {
    // Given a lab world and a containment run through the engine with real clients
    lab = await startFullLab(restoreScenario);
    out = mkdtempSync(join(tmpdir(), 'cicd-ir-restore-'));
    before = world(lab);
    const playbook = parsePlaybook(containment, 'contain.yaml', { registry: actions });
    const relay = new ApiCallRelay();
    const run = await runPlaybook({
      playbook,
      inputs: resolveInputs(playbook, {}),
      clients: createClients({ ...lab.config(), onApiCall: relay.onApiCall }),
      apiCalls: relay,
      dryRun: false,
      incident: 'IR-restore',
      outDir: out,
      registry: actions,
    });
    expect(run.steps.map((step) => `${step.key}:${step.status}`)).toEqual(expect.arrayContaining(['disable:verified', 'kill:verified', 'trust:verified', 'revoke:verified', 'rotate:verified']));
    runId = run.runId;
  });

  afterAll(async () => {
    await lab?.close();
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it('contained first: workflow and Actions off, trust changed, revocation policy on, old key inactive, a new key active', () => {
    const now = world(lab);
    expect(now.workflow).toBe('disabled_manually');
    expect(now.actionsEnabled).toBe(false);
    expect(now.trust).not.toBe(before.trust);
    expect(now.rolePolicies).toContain('AWSRevokeOlderSessions');
    expect(now.keys.find((key) => key.id === OLD_KEY)?.status).toBe('Inactive');
    expect(now.keys.filter((key) => key.status === 'Active')).toHaveLength(1);
  });

  it('a dry run plans the undo in reverse order and sends no request at all', async () => {
    // When restore runs with --dry-run
    const seen = lab.requests.length;
    const plan = await restoreRun({ source: runId, clients: createClients(lab.config({ dryRun: true })), dryRun: true, outDir: out });
    // Then nothing reached the lab, the plan lists the undos newest first, and the rotation is refused by rule
    expect(lab.requests.length).toBe(seen);
    expect(plan.exitCode).toBe(0);
    expect(plan.items.map((item) => `${item.key}:${item.decision}:${item.status}`)).toEqual([
      'rotate:never:skipped',
      'revoke:undo:planned',
      'trust:undo:planned',
      'kill:undo:planned',
      'disable:undo:planned',
    ]);
    const seqs = plan.items.map((item) => item.sourceSeq);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    expect(plan.items[0]!.detail).toMatch(/never reactivates an access key/);
    expect(world(lab).workflow).toBe('disabled_manually');
  });

  it('restores the pre-containment world except the rotated credentials, as a journalled run of its own', async () => {
    // When restore runs for real
    const relay = new ApiCallRelay();
    first = await restoreRun({ source: runId, clients: createClients({ ...lab.config(), onApiCall: relay.onApiCall }), apiCalls: relay, dryRun: false, outDir: out });
    // Then every undo ran, newest first, and the world is as before except the keys
    expect(first.exitCode).toBe(0);
    expect(first.items.map((item) => `${item.key}:${item.status}`)).toEqual(['rotate:skipped', 'revoke:restored', 'trust:restored', 'kill:restored', 'disable:restored']);
    const now = world(lab);
    expect(now.workflow).toBe('active');
    expect(now.actionsEnabled).toBe(true);
    expect(now.rolePolicies).toEqual(before.rolePolicies);
    expect(JSON.parse(now.trust)).toEqual(JSON.parse(before.trust));
    // The leaked key stays inactive and the new one stays active: rotation is never undone
    expect(now.keys.find((key) => key.id === OLD_KEY)?.status).toBe('Inactive');
    const fresh = now.keys.filter((key) => key.id !== OLD_KEY);
    expect(fresh).toHaveLength(1);
    expect(fresh[0]!.status).toBe('Active');

    // And the restore's own journal points at the containment run, its API calls included
    const { records } = readJournal(join(first.runDir, JOURNAL_FILE));
    const start = records.find((record) => record.type === 'run-start');
    expect(start).toMatchObject({ playbook: RESTORE_PLAYBOOK, inputs: { restore_of: runId }, dryRun: false });
    const compensated = records.filter((record) => record.type === 'step' && record.phase === 'compensated');
    expect(compensated).toHaveLength(4);
    for (const record of compensated) expect(record).toMatchObject({ restoreOf: { runId } });
    expect(records.filter((record) => record.type === 'api-call' && record.mutating).length).toBeGreaterThanOrEqual(4);
  });

  it('is idempotent: a second restore finds the first and sends no mutating request', async () => {
    // Given the restore above; when restore runs again
    const seen = lab.requests.length;
    const second = await restoreRun({ source: runId, clients: createClients(lab.config()), dryRun: false, outDir: out });
    // Then nothing changed
    expect(second.exitCode).toBe(0);
    expect(second.items.filter((item) => item.decision === 'undo')).toEqual([]);
    expect(second.items.filter((item) => item.decision === 'already').map((item) => item.detail)).toEqual(Array(4).fill(`already undone by restore run ${first.runId}`));
    expect(lab.requests.slice(seen).filter((request) => request.mutating)).toEqual([]);
    expect(world(lab).workflow).toBe('active');
  });

  it('a declined undo is left as it is and the restore ends needing a human (exit 3)', async () => {
    // Given a second containment of the same world
    const playbook = parsePlaybook(containment.replace(/  - id: kill[\s\S]*$/, ''), 'contain.yaml', { registry: actions });
    const run = await runPlaybook({ playbook, inputs: {}, clients: createClients(lab.config()), dryRun: false, incident: 'IR-2', outDir: out, registry: actions });
    expect(run.exitCode).toBe(0);
    // When the responder declines the one undo
    const asked: string[] = [];
    const result = await restoreRun({
      source: run.runId,
      clients: createClients(lab.config()),
      dryRun: false,
      outDir: out,
      confirm: async (item) => {
        asked.push(item.key);
        return false;
      },
    });
    // Then it was asked, nothing changed, and a human must act
    expect(asked).toEqual(['disable']);
    expect(result.items[0]!.status).toBe('declined');
    expect(result.exitCode).toBe(3);
    expect(world(lab).workflow).toBe('disabled_manually');
  });

  it('refuses to restore a restore run (exit 2)', async () => {
    await expect(restoreRun({ source: first.runId, clients: createClients(lab.config()), dryRun: true, outDir: out })).rejects.toMatchObject({ exitCode: 2 });
  });
});

describe('neverRestoredReason', () => {
  it('refuses every credential action and lets containment actions through', () => {
    for (const id of ['aws.rotate-access-key', 'aws.deactivate-access-key', 'aws.delete-access-key', 'github.rotate-secret', 'github.delete-secret', 'github.delete-deploy-key', 'github.revoke-tokens']) {
      expect(neverRestoredReason(id), id).toBeDefined();
    }
    for (const id of ['github.disable-workflow', 'github.disable-actions', 'aws.restrict-oidc-trust', 'aws.revoke-role-sessions', 'aws.revoke-user-sessions']) {
      expect(neverRestoredReason(id), id).toBeUndefined();
    }
  });
});

describe('restore of steps it cannot or must not undo (journal written by hand)', () => {
  it('a step whose input held a secret is reported for a human (exit 3); one without undo is skipped; compensate is never called for them', async () => {
    // Given a journal with three applied steps: a secret-taking action, one without compensate, and an unknown one
    const dir = mkdtempSync(join(tmpdir(), 'cicd-ir-restore-secret-'));
    const calls: string[] = [];
    const withSecret = defineAction<{ repo: string; token: string }>({
      id: 'test.set-token',
      summary: 'sets a token',
      schema: z.object({ repo: z.string(), token: z.string() }).strict(),
      permissions: ['github:secrets:write'],
      mutating: true,
      outputs: {},
      example: { repo: 'a/b', token: 'x' },
      plan: async () => ({ changes: [], calls: [] }),
      apply: async () => ({ changed: true, outputs: {} }),
      verify: async () => ({ verified: true, detail: '' }),
      compensate: async () => {
        calls.push('compensate');
        return { changed: true, outputs: {} };
      },
    });
    const noUndo = { ...withSecret, id: 'test.cancel-thing', schema: z.object({ repo: z.string() }).strict(), compensate: undefined } as unknown as ActionDefinition;
    const runId = '2026-11-25T10-00-00Z-abcd';
    mkdirSync(join(dir, runId), { recursive: true });
    const journal = JournalWriter.open(join(dir, runId, JOURNAL_FILE), runId);
    journal.append({ type: 'run-start', playbook: 'p.yaml', playbookHash: 'sha256:x', inputs: {}, dryRun: false, incident: 'IR-s' });
    const steps: Array<[string, unknown]> = [
      ['test.set-token', { repo: 'a/b', token: new Secret('s3cr3t-value-for-restore-test', 'token') }],
      ['test.cancel-thing', { repo: 'a/b' }],
      ['test.gone', { repo: 'a/b' }],
    ];
    steps.forEach(([action, input], index) => {
      const step = { step: `s${index}`, key: `s${index}`, action, inputHash: `sha256:${index}` };
      journal.append({ type: 'step', ...step, phase: 'start', input });
      journal.append({ type: 'step', ...step, phase: 'applied', result: { changed: true, outputs: {} } });
    });
    journal.close();
    try {
      // When restore runs
      const result = await restoreRun({ source: runId, clients: {} as never, dryRun: false, outDir: dir, registry: [withSecret, noUndo] });
      // Then nothing was called, and the secret step and the unknown action need a human
      expect(calls).toEqual([]);
      expect(result.items.map((item) => `${item.key}:${item.decision}`)).toEqual(['s2:cannot', 's1:no-undo', 's0:cannot']);
      expect(result.items[2]!.detail).toMatch(/held a secret, journalled only as a fingerprint/);
      expect(result.exitCode).toBe(3);
      // And the secret itself is nowhere in the restore's journal
      expect(readFileSync(join(result.runDir, JOURNAL_FILE), 'utf8')).not.toContain('s3cr3t-value');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
