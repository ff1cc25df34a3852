import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scanRunLogs } from '../../../src/actions/github/scan-run-logs.js';
import { revokeToken } from '../../../src/actions/npm/revoke-token.js';
import { DryRunViolation } from '../../../src/engine/errors.js';
import { fingerprint, Secret } from '../../../src/engine/secret.js';
import { npmTokenKey } from '../../../src/lab/npm/index.js';
import { testContext } from '../../helpers/action-context.js';
import { jobLog, planted } from '../../scan/fixtures.js';
import { expectIdempotent } from '../github/idempotency.js';
import { startNpmLab, type NpmLabHarness } from './lab.js';

// Shaped like real npm tokens (npm_ + 36 characters); made up for the lab.
const LEAKED = 'npm_' + 'Q7wE9rT1yU3iO5pA7sD9fG1hJ3kL5zX7cV9b';
const HELD = 'npm_' + 'M2nB4vC6xZ8lK0jH2gF4dS6aP8oI0uY2tR4e';
const BY_ID = 'npm_' + 'Z1xC3vB5nM7aS9dF1gH3jK5lQ7wE9rT1yU3i';
const SAME_PREFIX_A = 'npm_' + 'Ab0000000000000000000000000000000001';
const SAME_PREFIX_B = 'npm_' + 'Ab0000000000000000000000000000000002';
const ALL_VALUES = [LEAKED, HELD, BY_ID, SAME_PREFIX_A, SAME_PREFIX_B];

describe('npm.revoke-token against the lab registry', () => {
  let lab: NpmLabHarness;
  let dir: string;

  beforeEach(async () => {
    lab = await startNpmLab({
      tokens: [
        { value: LEAKED },
        { value: HELD, readonly: true },
        { value: BY_ID, id: 'c0ffee' + '0'.repeat(122) },
        // Keys npm did not derive from the value and a shared listed prefix: only the value names them.
        { value: SAME_PREFIX_A, id: 'aaaa01' },
        { value: SAME_PREFIX_B, id: 'aaaa02' },
      ],
    });
    dir = mkdtempSync(join(tmpdir(), 'cicd-ir-npm-'));
  });

  afterEach(async () => {
    await lab.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('verifies on a resume, where the leaked value comes back from the journal as a fingerprint and defaults are not applied', async () => {
    // Given a leaked token revoked by a run that was then killed (crash matrix: kill after the revocation)
    const ctx = testContext({ clients: lab.clients() });
    const secret = new Secret(LEAKED, 'npm token from a log');
    const input = revokeToken.schema.parse({ leaked: [secret] });
    const result = await revokeToken.apply(ctx, input, await revokeToken.plan(ctx, input));
    expect(result.outputs['revoked']).toHaveLength(1);
    // When the resumed run verifies with the input as the journal holds it
    const journalled = JSON.parse(JSON.stringify({ leaked: [secret] })) as never;
    // Then it is verified from the registry's list, not from the value
    await expect(revokeToken.verify(ctx, journalled, result)).resolves.toMatchObject({ verified: true });
    // And a token named revoked that is still listed is not
    const listed = { ...result, outputs: { ...result.outputs, revoked: ["npm:registry/token/c0ffee000000"] } };
    await expect(revokeToken.verify(ctx, journalled, listed)).resolves.toMatchObject({ verified: false });
  });

  it('revokes tokens held in a file, by id and found by the scan; plan again shows none; apply again is changed: false', async () => {
    // Given a file with a held token value (and a comment), a token key prefix, and a leaked Secret from the log scan
    const file = join(dir, 'tokens.txt');
    writeFileSync(file, `# held by the release team\n${HELD}\n`);
    const ctx = testContext({ clients: lab.clients() });
    const withBlock = { tokens_file: file, token_ids: ['c0ffee00'], leaked: [new Secret(LEAKED, 'npm token from a log')] };

    // When the action is planned, applied, verified, planned and applied again
    const plan = await revokeToken.plan(ctx, revokeToken.schema.parse(withBlock));
    expect(plan.changes.map((change) => change.summary).every((summary) => summary.includes('IRREVERSIBLE'))).toBe(true);
    expect(plan.calls.filter((call) => call.mutating)).toHaveLength(3);
    const { first, second } = await expectIdempotent(revokeToken, ctx, withBlock);

    // Then the registry no longer has the three tokens, and the responder's own token still works
    expect(lab.npm.revoked.sort()).toEqual([npmTokenKey(LEAKED), npmTokenKey(HELD), 'c0ffee' + '0'.repeat(122)].sort());
    expect(lab.npm.tokens.find((token) => token.value === lab.npm.token)?.revokedAt).toBeUndefined();
    expect(first.outputs['revoked']).toHaveLength(3);
    expect(second.outputs['revoked']).toEqual([]);
    // And each revocation is credential evidence of kind npm-token, with the value's fingerprint where it was held
    // (the second apply finds the held values refused and says so: dead, not revoked twice)
    const all = ctx.evidenceRecords.filter((record) => record.kind === 'credential').map((record) => record.data as Record<string, unknown>);
    const events = all.filter((event) => !String(event['detail']).includes('already refused'));
    expect(all.length - events.length).toBe(2);
    expect(events).toHaveLength(3);
    expect(events.every((event) => event['kind'] === 'npm-token' && event['event'] === 'revoked')).toBe(true);
    expect(events.map((event) => event['fingerprint']).filter(Boolean).sort()).toEqual([fingerprint(LEAKED), fingerprint(HELD)].sort());

    // And no token value appears in plan, outputs, evidence, logs or the journal's API call records
    const text = JSON.stringify({ plan, first, second, evidence: ctx.evidenceRecords, findings: ctx.findings, logs: ctx.logs, calls: lab.apiCalls });
    for (const value of [...ALL_VALUES, lab.npm.token]) expect(text).not.toContain(value);
    // And the journal names the route template, not a key or a value
    expect(lab.apiCalls.filter((call) => call.mutating).map((call) => call.operation)).toEqual(Array(3).fill('DELETE /-/npm/v1/tokens/token/{key}'));
  });

  it('sends the value itself only when the listed prefix is shared and the key is not its hash', async () => {
    // Given a held value whose key the list cannot name (two tokens share the abbreviation npm lists)
    const file = join(dir, 'ambiguous.txt');
    writeFileSync(file, `${SAME_PREFIX_B}\n`);
    const ctx = testContext({ clients: lab.clients() });

    // When it is revoked
    const input = revokeToken.schema.parse({ tokens_file: file });
    const result = await revokeToken.apply(ctx, input, await revokeToken.plan(ctx, input));

    // Then exactly that token is gone, and the other with the same prefix is untouched
    expect(result.changed).toBe(true);
    expect(lab.npm.revoked).toEqual(['aaaa02']);
    expect(JSON.stringify(result)).not.toContain(SAME_PREFIX_B);
  });

  it('makes zero mutating requests in a dry run, and the client refuses a DELETE if apply is reached', async () => {
    // Given a dry-run client and a held token
    const file = join(dir, 'dry.txt');
    writeFileSync(file, `${HELD}\n`);
    const ctx = testContext({ clients: lab.clients({ dryRun: true }) });
    const input = revokeToken.schema.parse({ tokens_file: file });

    // When the plan is made, and apply is (wrongly) called
    const plan = await revokeToken.plan(ctx, input);
    await expect(revokeToken.apply(ctx, input, plan)).rejects.toBeInstanceOf(DryRunViolation);

    // Then the plan shows the change, and the registry saw reads only
    expect(plan.changes).toHaveLength(1);
    expect(lab.requests.filter((request) => request.mutating)).toEqual([]);
    expect(lab.npm.revoked).toEqual([]);
  });

  it('counts a token already revoked elsewhere as done (changed: false)', async () => {
    // Given a token revoked by someone else before cicd-ir runs
    const file = join(dir, 'gone.txt');
    writeFileSync(file, `${LEAKED}\n`);
    const ctx = testContext({ clients: lab.clients() });
    await lab.clients().npm!().revokeToken(npmTokenKey(LEAKED));

    // When the action plans and applies
    const input = revokeToken.schema.parse({ tokens_file: file });
    const plan = await revokeToken.plan(ctx, input);
    const result = await revokeToken.apply(ctx, input, plan);

    // Then nothing changes and the token is reported as already gone
    expect(plan.changes).toEqual([]);
    expect(result).toMatchObject({ changed: false, outputs: { revoked: [], already_gone: [`npm:${new URL(lab.clients().config.npm!.registryUrl!).host}/token/${fingerprint(LEAKED)}`] } });
    // And it was asked with the token itself (401), and the evidence says it is dead, by fingerprint
    expect(lab.apiCalls.filter((call) => call.operation === 'GET /-/whoami').map((call) => call.status)).toEqual([401]);
    const events = ctx.evidenceRecords.filter((record) => record.kind === 'credential').map((record) => record.data as Record<string, unknown>);
    expect(events).toMatchObject([{ kind: 'npm-token', event: 'revoked', fingerprint: fingerprint(LEAKED) }]);
  });

  it('never counts a live token of another npm account as gone: it is named, and verify fails', async () => {
    // Given a maintainer's own token (another account) leaked in a log: the responder's account does not list it
    await lab.close();
    const FOREIGN = 'npm_' + 'F0r31gn0000000000000000000000000000001';
    lab = await startNpmLab({ tokens: [{ value: LEAKED }, { value: FOREIGN, account: 'maintainer-bob' }] });
    const ctx = testContext({ clients: lab.clients() });
    const input = revokeToken.schema.parse({ leaked: [new Secret(FOREIGN, 'npm token from a log')] });

    // When planned, applied and verified
    const plan = await revokeToken.plan(ctx, input);
    const result = await revokeToken.apply(ctx, input, plan);
    const verdict = await revokeToken.verify(ctx, input, result);

    // Then nothing is revoked or claimed gone, a high finding names the account, and verify fails loudly
    expect(plan.changes).toEqual([]);
    expect(result.outputs).toEqual({ revoked: [], already_gone: [] });
    expect(plan.findings?.map((f) => [f.kind, f.severity])).toEqual([['npm-token-other-account', 'high']]);
    expect(plan.findings?.[0]?.summary).toContain('still authenticates as maintainer-bob');
    expect(verdict).toMatchObject({ verified: false });
    expect(verdict.detail).toContain('maintainer-bob');
    expect(lab.npm.tokens.find((token) => token.value === FOREIGN)?.revokedAt).toBeUndefined();
    expect(ctx.evidenceRecords.filter((record) => record.kind === 'credential')).toEqual([]);
    expect(JSON.stringify({ plan, result, verdict, calls: lab.apiCalls })).not.toContain(FOREIGN);
  });

  it('verify reads the registry back: a token reported revoked but still listed is not verified', async () => {
    // Given a held token that was never really revoked, and an apply result that claims it was
    const file = join(dir, 'claimed.txt');
    writeFileSync(file, `${HELD}\n`);
    const ctx = testContext({ clients: lab.clients() });
    const input = revokeToken.schema.parse({ tokens_file: file });
    const label = (await revokeToken.plan(ctx, input)).changes[0]!.resource;
    // When verify checks it
    const verdict = await revokeToken.verify(ctx, input, { changed: true, outputs: { revoked: [label], already_gone: [] } });
    // Then it is not verified, and names the token by its key prefix only
    expect(verdict.verified).toBe(false);
    expect(verdict.detail).toContain(label);
    expect(verdict.detail).not.toContain(HELD);
  });

  it('rejects a token value given inline (only files, stdin or Secrets carry values)', () => {
    // Given a with: block that passes the value as a plain string
    const parsed = revokeToken.schema.safeParse({ leaked: [LEAKED] });
    // Then validation fails
    expect(parsed.success).toBe(false);
  });
});

describe('npm.revoke-token fed by github.scan-run-logs', () => {
  it('revokes the npm token the log scan found, base64-encoded in a build log, without the value leaving a Secret', async () => {
    // Given a run whose log holds an npm token twice base64-encoded (the tj-actions dump shape), and the registry that issued it
    const leaked = planted.npm;
    const encoded = Buffer.from(Buffer.from(JSON.stringify({ NPM_TOKEN: { value: leaked, isSecret: true } })).toString('base64')).toString('base64');
    const lab = await startNpmLab(
      { tokens: [{ value: leaked }] },
      {
        repos: [
          {
            full_name: 'acme/web',
            workflows: [{ path: '.github/workflows/ci.yml', content: 'name: CI\non: push\njobs: {}\n' }],
            runs: [{ id: 42, workflow: '.github/workflows/ci.yml', actor: 'alice', head_sha: '1'.repeat(40), created_at: '-2h', jobs: [{ name: 'build', started_at: '-2h' }], logs: { build: jobLog(['npm ci', encoded, 'done']) } }],
          },
        ],
      },
    );
    try {
      const ctx = testContext({ clients: lab.clients() });
      const scanInput = scanRunLogs.schema.parse({ repo: 'acme/web', workflow: 'ci.yml', since: new Date(Date.now() - 86_400_000).toISOString() });
      const scan = await scanRunLogs.apply(ctx, scanInput, await scanRunLogs.plan(ctx, scanInput));
      const npmTokens = scan.outputs['npm_tokens'] as Secret[];
      expect(npmTokens.map((token) => token.fingerprint)).toEqual([fingerprint(leaked)]);

      // When the scan's output is handed to npm.revoke-token, as the example playbook does
      const input = revokeToken.schema.parse({ leaked: npmTokens });
      const result = await revokeToken.apply(ctx, input, await revokeToken.plan(ctx, input));

      // Then the registry revoked it, and no output, evidence or journalled call holds the value
      expect(result.changed).toBe(true);
      expect(lab.npm.revoked).toEqual([npmTokenKey(leaked)]);
      expect(JSON.stringify({ scan, result, evidence: ctx.evidenceRecords, findings: ctx.findings, calls: lab.apiCalls })).not.toContain(leaked);
    } finally {
      await lab.close();
    }
  });
});
