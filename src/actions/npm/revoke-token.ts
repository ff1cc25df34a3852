import { createHash } from 'node:crypto';
import { z } from 'zod';
import { defineAction } from '../define.js';
import type { CredentialEvent } from '../../engine/evidence.js';
import { StepFailedError } from '../../engine/errors.js';
import type { ActionContext } from '../../engine/context.js';
import { Secret } from '../../engine/secret.js';
import { heldSecrets } from '../../github/token-file.js';
import type { NpmClient, NpmTokenInfo } from '../../providers/npm.js';

const schema = z
  .object({
    /** Token keys (or the unique key prefix of at least 6 that `npm token list` shows as "id"). Not secret. */
    token_ids: z.array(z.string().regex(/^[0-9a-f]{6,128}$/i, 'a token key or key prefix (hex, at least 6)')).default([]),
    /** File with one token value a line, or `-` for stdin. Token values are never accepted inline. */
    tokens_file: z.string().min(1).optional(),
    /** Token values as Secrets from an earlier step (`${{ steps.scan.outputs.npm_tokens }}`). */
    leaked: z.array(z.instanceof(Secret)).default([]),
  })
  .strict();

type Input = z.infer<typeof schema>;

/** One token to revoke, named without its value. */
interface Target {
  /** `npm:<host>/token/<key prefix>` or `npm:<host>/token/sha256:...` when only the value is known. */
  label: string;
  /** The key the registry deletes by, when the token list names it. */
  key?: string;
  /** The value's fingerprint, when the responder holds the value. */
  fingerprint?: string;
  /** Where it came from: `id`, `file`, `scan`. */
  source: 'id' | 'file' | 'scan';
}

interface State {
  revoke: Target[];
  /** Already gone (not in the account's token list; a held value the registry refuses): nothing to do. */
  gone: Target[];
  /** Held values that still authenticate as another account: the responder's account cannot revoke them. */
  foreign?: Array<Target & { account: string }>;
}

const shortKey = (key: string) => key.slice(0, 12);

/**
 * Matches a held token value to the account's list without ever sending it: npm's key is the
 * sha512 of the value; failing that, the listed abbreviation (`npm_ab`) must be a prefix of the
 * value and name exactly one token, as npm's own `token revoke` decides.
 */
function matchValue(value: string, tokens: NpmTokenInfo[]): NpmTokenInfo | 'ambiguous' | undefined {
  const sha = createHash('sha512').update(value, 'utf8').digest('hex');
  const exact = tokens.find((token) => token.key.toLowerCase() === sha);
  if (exact) return exact;
  const byPrefix = tokens.filter((token) => {
    const abbreviation = token.token.replace(/…$/, '');
    return abbreviation.length > 0 && value.startsWith(abbreviation);
  });
  if (byPrefix.length === 1) return byPrefix[0];
  return byPrefix.length > 1 ? 'ambiguous' : undefined;
}

async function resolveTargets(ctx: ActionContext, npm: NpmClient, input: Input): Promise<State> {
  const tokens = await npm.listTokens();
  const state: State = { revoke: [], gone: [], foreign: [] };
  const taken = new Set<string>();
  for (const id of input.token_ids) {
    const matches = tokens.filter((token) => token.key.toLowerCase().startsWith(id.toLowerCase()));
    if (matches.length > 1) throw new StepFailedError(ctx.stepKey, `token id ${id} names ${matches.length} tokens: give more of its key`);
    const target: Target = { label: `npm:${npm.host}/token/${shortKey(matches[0]?.key ?? id)}`, source: 'id', ...(matches[0] ? { key: matches[0].key } : {}) };
    if (!matches[0]) state.gone.push(target);
    else if (!taken.has(matches[0].key)) state.revoke.push(target), taken.add(matches[0].key);
  }
  for (const { secret, source } of await heldSecrets(input.tokens_file, input.leaked)) {
    const match = matchValue(secret.reveal(), tokens);
    if (match === undefined) {
      // Not this account's: dead, or live under another account (a maintainer's own token).
      // Asked with the token itself; never counted gone while it still authenticates.
      const label = `npm:${npm.host}/token/${secret.fingerprint}`;
      const account = await npm.whoami(secret);
      if (account === undefined) state.gone.push({ label, fingerprint: secret.fingerprint, source });
      else state.foreign!.push({ label, fingerprint: secret.fingerprint, source, account });
    } else if (match === 'ambiguous') {
      // The value itself names it: apply sends it as npm's CLI does (DELETE accepts key or token).
      state.revoke.push({ label: `npm:${npm.host}/token/${secret.fingerprint}`, fingerprint: secret.fingerprint, source });
    } else if (!taken.has(match.key)) {
      taken.add(match.key);
      state.revoke.push({ label: `npm:${npm.host}/token/${shortKey(match.key)}`, key: match.key, fingerprint: secret.fingerprint, source });
    }
  }
  return state;
}

function foreignFinding(host: string, target: Target & { account: string }) {
  return {
    kind: 'npm-token-other-account',
    severity: 'high' as const,
    resource: target.label,
    summary: `npm token ${target.fingerprint} (${target.source === 'scan' ? 'found in build logs' : 'held by the responder'}) still authenticates as ${target.account}, which the responder's account does not own: revoke it signed in as ${target.account} (npm token revoke), then move publishing to trusted publishing`,
  };
}

function npmClient(ctx: ActionContext): NpmClient {
  if (!ctx.clients.npm) throw new StepFailedError(ctx.stepKey, 'no npm client: this build of cicd-ir has no npm provider');
  return ctx.clients.npm();
}

/**
 * Revokes npm registry tokens the responder holds (by key, or by value from a file / stdin)
 * or that `github.scan-run-logs` found in build logs: `DELETE /-/npm/v1/tokens/token/{key}` with
 * the account's own token (NPM_TOKEN / .npmrc). A token no longer listed counts as revoked
 * (changed: false). Irreversible. Outputs and evidence name tokens by key prefix and value
 * fingerprint only.
 */
export const revokeToken = defineAction<Input>({
  id: 'npm.revoke-token',
  summary: 'Revoke npm registry tokens by key, from a file / stdin, or found by the log scan (irreversible).',
  schema,
  permissions: ['npm:tokens:write'],
  mutating: true,
  outputs: {
    revoked: 'tokens revoked: [label] (key prefix or value fingerprint)',
    already_gone: 'tokens that were no longer listed: [label]',
  },
  example: { tokens_file: 'leaked-npm-tokens.txt', token_ids: ['a1b2c3d4'] },

  async plan(ctx, input) {
    const npm = npmClient(ctx);
    const state = await resolveTargets(ctx, npm, input);
    return {
      changes: state.revoke.map((target) => ({
        resource: target.label,
        action: 'revoke-token',
        summary: `revoke npm token ${target.key ? shortKey(target.key) : target.fingerprint} on ${npm.host} (IRREVERSIBLE)`,
        before: 'valid',
        after: 'revoked',
      })),
      calls: [
        { service: 'npm', operation: 'GET /-/npm/v1/tokens', params: {}, mutating: false, target: npm.host },
        ...[...state.gone, ...(state.foreign ?? [])].filter((target) => target.source !== 'id').map((target) => ({ service: 'npm', operation: 'GET /-/whoami', params: { as: target.fingerprint }, mutating: false, target: npm.host })),
        ...state.revoke.map((target) => ({
          service: 'npm',
          operation: 'DELETE /-/npm/v1/tokens/token/{key}',
          params: { key: target.key ? shortKey(target.key) : target.fingerprint },
          mutating: true,
          target: npm.host,
        })),
      ],
      findings: [
        ...(state.revoke.length > 0 ? [{ kind: 'irreversible', severity: 'info' as const, resource: `npm:${npm.host}`, summary: `${state.revoke.length} npm token(s) will be revoked; this cannot be undone` }] : []),
        ...(state.foreign ?? []).map((target) => foreignFinding(npm.host, target)),
      ],
      state,
    };
  },

  async apply(ctx, input, plan) {
    const npm = npmClient(ctx);
    const state = plan.state as State;
    const held = new Map((await heldSecrets(input.tokens_file, input.leaked)).map(({ secret }) => [secret.fingerprint, secret]));
    const revoked: string[] = [];
    const alreadyGone = state.gone.map((target) => target.label);
    // A held value the registry already refuses is dead: say so in the evidence, so the report can
    // close the secret that held it (by fingerprint) instead of listing a dead token as open.
    for (const target of state.gone) {
      if (!target.fingerprint) continue;
      ctx.evidence('credential', {
        credential: target.label,
        kind: 'npm-token',
        event: 'revoked',
        at: ctx.now().toISOString(),
        fingerprint: target.fingerprint,
        detail: `registry ${npm.host}; already refused by the registry (401) when checked: revoked before this step`,
      } satisfies CredentialEvent);
    }
    for (const target of state.revoke) {
      const by = target.key ?? held.get(target.fingerprint!);
      if (!by) throw new StepFailedError(ctx.stepKey, `token ${target.label}: its value is no longer readable (stdin is read once)`);
      const outcome = await npm.revokeToken(by);
      if (outcome === 'gone') {
        alreadyGone.push(target.label);
        continue;
      }
      revoked.push(target.label);
      ctx.evidence('credential', {
        credential: target.label,
        kind: 'npm-token',
        event: 'revoked',
        at: ctx.now().toISOString(),
        ...(target.fingerprint ? { fingerprint: target.fingerprint } : {}),
        detail: `registry ${npm.host}; ${target.source === 'scan' ? 'found in build logs' : target.source === 'file' ? 'held by the responder' : 'named by key'}`,
      } satisfies CredentialEvent);
    }
    return { changed: revoked.length > 0, outputs: { revoked, already_gone: alreadyGone } };
  },

  async verify(ctx, input, result) {
    const npm = npmClient(ctx);
    const revoked = new Set(result.outputs['revoked'] as string[]);
    // A resumed run verifies with the input as journalled: defaults not applied, and the leaked
    // values back as fingerprints (never the values). Resolve what is still held, then check every
    // token revoked by key is gone from the account's list.
    const held: Input = { token_ids: input.token_ids ?? [], ...(input.tokens_file && { tokens_file: input.tokens_file }), leaked: (input.leaked ?? []).filter((value) => value instanceof Secret) };
    const now = await resolveTargets(ctx, npm, held);
    const listed = await npm.listTokens();
    const keyOf = (label: string) => /\/token\/([0-9a-f]{6,128})$/i.exec(label)?.[1]?.toLowerCase();
    const stillListed = [...revoked].filter((label) => {
      const key = keyOf(label);
      return key !== undefined && listed.some((token) => token.key.toLowerCase().startsWith(key));
    });
    const still = [...new Set([...now.revoke.map((target) => target.label).filter((label) => revoked.has(label)), ...stillListed])];
    const foreign = now.foreign ?? [];
    if (foreign.length > 0) {
      return { verified: false, detail: `${foreign.length} token(s) still authenticate as another account (${[...new Set(foreign.map((target) => target.account))].join(', ')}): not revocable with the responder's npm account${still.length ? `; ${still.length} revoked token(s) still listed` : ''}` };
    }
    if (still.length === 0) return { verified: true, detail: `${revoked.size} token(s) no longer listed on ${npm.host}` };
    return { verified: false, detail: `${still.length} revoked token(s) still listed: ${still.join(', ')}` };
  },
});
