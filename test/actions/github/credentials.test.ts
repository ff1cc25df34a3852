import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deleteDeployKey } from '../../../src/actions/github/delete-deploy-key.js';
import { deleteSecret } from '../../../src/actions/github/delete-secret.js';
import { revokeTokens } from '../../../src/actions/github/revoke-tokens.js';
import { rotateSecret } from '../../../src/actions/github/rotate-secret.js';
import { StepFailedError } from '../../../src/engine/errors.js';
import { fingerprint, Secret } from '../../../src/engine/secret.js';
import { testWorld } from '../../fixtures/github-world.js';
import { testContext } from '../../helpers/action-context.js';
import { expectIdempotent } from './idempotency.js';
import { startGitHubLab, type GitHubLabHarness } from './lab.js';

let harness: GitHubLabHarness;
/** Folders of the token files a test wrote (the tokens are test values; removed all the same). */
const tokenDirs: string[] = [];
const tokenDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'cicd-ir-tokens-'));
  tokenDirs.push(dir);
  return dir;
};
beforeEach(async () => {
  harness = await startGitHubLab(testWorld);
});
afterEach(async () => {
  await harness.close();
  for (const dir of tokenDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('github.rotate-secret', () => {
  for (const scope of [
    { label: 'repo', with: { repo: 'acme/api' }, state: () => harness.lab.state.repo('acme/api').secrets.get('AWS_ROLE')!, name: 'AWS_ROLE' },
    { label: 'environment', with: { repo: 'acme/api', environment: 'prod' }, state: () => harness.lab.state.repo('acme/api').environments.get('prod')!.secrets.get('PROD_DB_PASSWORD')!, name: 'PROD_DB_PASSWORD' },
    { label: 'org', with: { org: 'acme' }, state: () => harness.lab.state.orgs.get('acme')!.secrets.get('DEPLOY_ONLY')!, name: 'DEPLOY_ONLY' },
  ]) {
    it(`seals the new value for the ${scope.label} key: the lab decrypts exactly it, outputs carry only the fingerprint`, async () => {
      // Given a new value produced by an earlier step
      const value = new Secret(`new-${scope.label}-value-0001`, 'test value');
      const ctx = testContext({ clients: harness.clients() });
      const input = rotateSecret.schema.parse({ ...scope.with, name: scope.name, value });
      // When planned and applied
      const plan = await rotateSecret.plan(ctx, input);
      expect(plan.changes).toHaveLength(1);
      expect(JSON.stringify(plan)).not.toContain(value.reveal());
      const result = await rotateSecret.apply(ctx, input, plan);
      // Then the lab opened the sealed box to the same plaintext
      expect(scope.state().fingerprint).toBe(fingerprint(value.reveal()));
      expect(result.outputs['fingerprint']).toBe(value.fingerprint);
      expect(await rotateSecret.verify(ctx, input, result)).toMatchObject({ verified: true });
      // And nothing the step returns or records holds the value
      expect(JSON.stringify([result, ctx.evidenceRecords, ctx.logs])).not.toContain(value.reveal());
      expect(ctx.evidenceRecords[0]).toMatchObject({ kind: 'credential', data: { kind: 'github-secret', event: 'rotated', fingerprint: value.fingerprint } });
    });
  }

  it('re-run: GitHub never returns a value, so plan shows the write again and re-sets the same value', async () => {
    // Given a value already written once
    const value = new Secret('same-value-twice-1');
    const ctx = testContext({ clients: harness.clients() });
    const input = rotateSecret.schema.parse({ repo: 'acme/api', name: 'SLACK_WEBHOOK', value });
    await rotateSecret.apply(ctx, input, await rotateSecret.plan(ctx, input));
    // When planned and applied again
    const again = await rotateSecret.plan(ctx, input);
    expect(again.changes.map((c) => c.action)).toEqual(['update-secret']);
    await rotateSecret.apply(ctx, input, again);
    // Then the lab holds the same value, written twice (harmless); the journal's resume is what skips a done step
    const state = harness.lab.state.repo('acme/api').secrets.get('SLACK_WEBHOOK')!;
    expect(state.fingerprint).toBe(value.fingerprint);
    expect(state.puts).toBe(2);
  });

  it('keeps an org secret shared with the same selected repositories', async () => {
    const ctx = testContext({ clients: harness.clients() });
    const before = [...harness.lab.state.orgs.get('acme')!.secrets.get('DEPLOY_ONLY')!.selectedRepositoryIds];
    const input = rotateSecret.schema.parse({ org: 'acme', name: 'DEPLOY_ONLY', value: new Secret('rotated-selected-1') });
    await rotateSecret.apply(ctx, input, await rotateSecret.plan(ctx, input));
    const after = harness.lab.state.orgs.get('acme')!.secrets.get('DEPLOY_ONLY')!;
    expect(after.visibility).toBe('selected');
    expect(after.selectedRepositoryIds).toEqual(before);
  });

  it('plans with a placeholder string but refuses to write a plain string', async () => {
    const ctx = testContext({ clients: harness.clients() });
    const input = rotateSecret.schema.parse({ repo: 'acme/api', name: 'AWS_ROLE', value: 'typed-in-plaintext' });
    const plan = await rotateSecret.plan(ctx, input);
    // The plan names the string by fingerprint only, and warns
    expect(JSON.stringify(plan)).not.toContain('typed-in-plaintext');
    expect(plan.changes[0]!.summary).toMatch(/apply will refuse it/);
    await expect(rotateSecret.apply(ctx, input, plan)).rejects.toThrow(StepFailedError);
    expect(harness.lab.state.repo('acme/api').secrets.get('AWS_ROLE')!.puts).toBe(0);
  });

  it('writes a plain string only with allow_plaintext (an access key id is not secret)', async () => {
    const ctx = testContext({ clients: harness.clients() });
    const input = rotateSecret.schema.parse({ repo: 'acme/api', name: 'AWS_ACCESS_KEY_ID', value: 'AKIAIOSFODNN7EXAMPLE', allow_plaintext: true });
    const result = await rotateSecret.apply(ctx, input, await rotateSecret.plan(ctx, input));
    expect(harness.lab.state.repo('acme/api').secrets.get('AWS_ACCESS_KEY_ID')!.fingerprint).toBe(fingerprint('AKIAIOSFODNN7EXAMPLE'));
    expect(result.outputs['fingerprint']).toBe(fingerprint('AKIAIOSFODNN7EXAMPLE'));
    expect(ctx.evidenceRecords[0]).toMatchObject({ data: { event: 'issued' } });
  });

  it('rejects a scope that is neither or both of repo and org', () => {
    expect(rotateSecret.schema.safeParse({ name: 'X', value: 'v' }).success).toBe(false);
    expect(rotateSecret.schema.safeParse({ repo: 'a/b', org: 'a', name: 'X', value: 'v' }).success).toBe(false);
    expect(rotateSecret.schema.safeParse({ org: 'a', environment: 'prod', name: 'X', value: 'v' }).success).toBe(false);
  });
});

describe('github.delete-secret', () => {
  it('deletes a repo secret once; already gone is changed: false', async () => {
    const ctx = testContext({ clients: harness.clients() });
    await expectIdempotent(deleteSecret, ctx, { repo: 'acme/api', name: 'SLACK_WEBHOOK' });
    expect(harness.lab.state.repo('acme/api').secrets.has('SLACK_WEBHOOK')).toBe(false);
    expect(ctx.evidenceRecords.map((e) => (e.data as { event: string }).event)).toEqual(['deleted']);
  });

  it('deletes environment and org secrets', async () => {
    const ctx = testContext({ clients: harness.clients() });
    await expectIdempotent(deleteSecret, ctx, { repo: 'acme/api', environment: 'prod', name: 'PROD_DB_PASSWORD' });
    await expectIdempotent(deleteSecret, ctx, { org: 'acme', name: 'NPM_TOKEN' });
    expect(harness.lab.state.orgs.get('acme')!.secrets.has('NPM_TOKEN')).toBe(false);
  });
});

describe('github.delete-deploy-key', () => {
  it('deletes by title, then by id; gone is changed: false', async () => {
    const ctx = testContext({ clients: harness.clients() });
    const { first } = await expectIdempotent(deleteDeployKey, ctx, { repo: 'acme/api', title: 'ci deploy key' });
    expect(first.outputs).toEqual({ deleted: [501] });
    await expectIdempotent(deleteDeployKey, ctx, { repo: 'acme/api', id: 502 });
    expect(harness.lab.state.repo('acme/api').deployKeys).toEqual([]);
  });

  it('needs exactly one of id and title', () => {
    expect(deleteDeployKey.schema.safeParse({ repo: 'a/b' }).success).toBe(false);
    expect(deleteDeployKey.schema.safeParse({ repo: 'a/b', id: 1, title: 't' }).success).toBe(false);
  });
});

describe('github.revoke-tokens', () => {
  it('revokes the live tokens of a file unauthenticated, in batches, and a re-run finds nothing to revoke', async () => {
    // Given a file with two leaked tokens, a duplicate, a comment and an unknown token
    const dir = tokenDir();
    const file = join(dir, 'tokens.txt');
    const [alice, bob] = testWorld.tokens!.map((t) => t.value);
    writeFileSync(file, `# leaked in run 9002\n${alice}\n${bob}\n${alice}\n\n`);
    const ctx = testContext({ clients: harness.clients() });
    // When revoked with batches of one
    const { first } = await expectIdempotent(revokeTokens, ctx, { tokens_file: file, batch_size: 1 });
    // Then both are revoked in the lab, in two unauthenticated requests, and only fingerprints were recorded
    expect(harness.lab.state.tokens.filter((t) => t.revokedAt).map((t) => t.owner).sort()).toEqual(['alice', 'bob']);
    expect(harness.lab.state.revokeRequests).toHaveLength(2);
    expect(first.outputs['revoked']).toEqual([fingerprint(alice!), fingerprint(bob!)]);
    const recorded = JSON.stringify([first, ctx.evidenceRecords, ctx.findings, ctx.logs]);
    expect(recorded).not.toContain(alice);
    expect(recorded).not.toContain(bob);
    expect(ctx.evidenceRecords.map((e) => (e.data as { kind: string; event: string }).event)).toEqual(['revoked', 'revoked']);
  });

  it('says in the plan that revocation is irreversible', async () => {
    const dir = tokenDir();
    const file = join(dir, 'one.txt');
    writeFileSync(file, `${testWorld.tokens![0]!.value}\n`);
    const plan = await revokeTokens.plan(testContext({ clients: harness.clients() }), revokeTokens.schema.parse({ tokens_file: file }));
    expect(plan.changes[0]!.summary).toMatch(/IRREVERSIBLE/);
    expect(plan.findings?.[0]?.kind).toBe('irreversible');
  });

  it('revokes the tokens a log scan handed over as Secrets, together with the file, each once', async () => {
    // Given alice's token in the responders' file and alice's and bob's from the scan (as Secrets)
    const dir = tokenDir();
    const file = join(dir, 'tokens.txt');
    const [alice, bob] = testWorld.tokens!.map((t) => t.value);
    writeFileSync(file, `${alice}\n`);
    const ctx = testContext({ clients: harness.clients() });
    // When revoked
    const { first } = await expectIdempotent(revokeTokens, ctx, { tokens_file: file, leaked: [new Secret(alice!), new Secret(bob!)] });
    // Then both are revoked in one request, alice's once
    expect(harness.lab.state.tokens.filter((t) => t.revokedAt).map((t) => t.owner).sort()).toEqual(['alice', 'bob']);
    expect(harness.lab.state.revokeRequests).toHaveLength(1);
    expect((first.outputs['revoked'] as string[]).sort()).toEqual([fingerprint(alice!), fingerprint(bob!)].sort());
    expect(JSON.stringify([first, ctx.evidenceRecords, ctx.logs])).not.toContain(bob);
  });

  it('with neither a file nor scanned tokens, plans nothing and calls nothing', async () => {
    const ctx = testContext({ clients: harness.clients() });
    const plan = await revokeTokens.plan(ctx, revokeTokens.schema.parse({}));
    expect(plan.changes).toEqual([]);
    expect(harness.lab.state.revokeRequests).toHaveLength(0);
  });

  it('accepts tokens only from a file or an earlier step: an inline token list is a schema error', () => {
    expect(revokeTokens.schema.safeParse({ tokens: ['ghp_x'] }).success).toBe(false);
    expect(revokeTokens.schema.safeParse({ leaked: ['ghp_x'] }).success).toBe(false);
    expect(revokeTokens.schema.safeParse({ tokens_file: 'f', batch_size: 1001 }).success).toBe(false);
  });
});
