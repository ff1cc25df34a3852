import { z } from 'zod';
import { defineAction } from '../define.js';
import type { CredentialEvent } from '../../engine/evidence.js';
import { Secret } from '../../engine/secret.js';
import type { Clients } from '../../engine/context.js';
import { httpStatus } from '../../github/api.js';
import { heldSecrets } from '../../github/token-file.js';
import { TokenBucket } from '../../github/token-bucket.js';

const schema = z
  .object({
    /** File with one token a line, or `-` for stdin; empty or absent: none. Tokens are never accepted inline. */
    tokens_file: z.string().optional(),
    /** Token values as Secrets from an earlier step (`${{ steps.scan.outputs.github_tokens }}`). */
    leaked: z.array(z.instanceof(Secret)).default([]),
    /** Tokens per request: GitHub takes at most 1,000. */
    batch_size: z.number().int().min(1).max(1000).default(1000),
    /** GitHub allows 60 requests an hour to this endpoint. */
    requests_per_hour: z.number().int().min(1).max(60).default(60),
    /** How many requests may go at once before pacing starts. */
    burst: z.number().int().min(1).max(60).default(60),
    /** Ask GitHub (GET /user with the token) which tokens still work, and revoke only those. */
    check_first: z.boolean().default(true),
  })
  .strict();

type Input = z.infer<typeof schema>;

const HOUR_MS = 3_600_000;

/** The tokens to revoke: the file's, then the scan's, deduplicated by fingerprint. */
async function heldTokens(input: Input): Promise<Secret[]> {
  return (await heldSecrets(input.tokens_file, input.leaked)).map((held) => held.secret);
}

/**
 * Whether a token still authenticates: 401 means revoked or never valid. Anything else
 * (200, 403 for an app token, 404, 5xx) counts as live, so a doubtful token is revoked
 * rather than skipped.
 */
async function isLive(clients: Clients, token: Secret): Promise<boolean> {
  try {
    await clients.githubUnauthenticated().request('GET /user', { headers: { authorization: `token ${token.reveal()}` } });
    return true;
  } catch (error) {
    return httpStatus(error) !== 401;
  }
}

async function liveTokens(clients: Clients, tokens: Secret[], input: Input): Promise<Secret[]> {
  if (!input.check_first) return tokens;
  const live: Secret[] = [];
  for (const token of tokens) if (await isLive(clients, token)) live.push(token);
  return live;
}

/**
 * Revokes leaked personal access tokens and OAuth tokens through `POST /credentials/revoke`,
 * which must be sent unauthenticated: batches of at most 1,000, paced to 60 requests an hour.
 * Irreversible. Evidence and outputs carry fingerprints only.
 */
export const revokeTokens = defineAction<Input>({
  id: 'github.revoke-tokens',
  summary: 'Revoke leaked GitHub PATs / OAuth tokens read from a file, stdin or a log scan (irreversible).',
  schema,
  permissions: ['github:unauthenticated'],
  mutating: true,
  closesCredential: true,
  outputs: {
    revoked: 'fingerprints of the tokens sent for revocation',
    skipped: 'fingerprints of tokens that no longer authenticated',
    failed: 'fingerprints of tokens in batches GitHub refused',
  },
  example: { tokens_file: 'leaked-tokens.txt' },

  async plan(ctx, input) {
    const tokens = await heldTokens(input);
    const live = await liveTokens(ctx.clients, tokens, input);
    const liveSet = new Set(live);
    const batches = Math.ceil(live.length / input.batch_size);
    return {
      changes: live.map((token) => ({
        resource: `token:${token.fingerprint}`,
        action: 'revoke-token',
        summary: `revoke token ${token.fingerprint} (IRREVERSIBLE)`,
        before: 'valid',
        after: 'revoked',
      })),
      calls: [
        ...(input.check_first ? [{ service: 'github', operation: 'GET /user', params: { tokens: tokens.length }, mutating: false }] : []),
        ...Array.from({ length: batches }, (_, i) => ({
          service: 'github',
          operation: 'POST /credentials/revoke',
          params: { credentials: live.slice(i * input.batch_size, (i + 1) * input.batch_size) },
          mutating: true,
        })),
      ],
      ...(live.length > 0
        ? { findings: [{ kind: 'irreversible', severity: 'info' as const, resource: 'github:/credentials/revoke', summary: `${live.length} token(s) will be revoked; this cannot be undone` }] }
        : {}),
      state: { revoke: live.map((t) => t.fingerprint), skip: tokens.filter((t) => !liveSet.has(t)).map((t) => t.fingerprint) },
    };
  },

  async apply(ctx, input, plan) {
    const state = plan.state as { revoke: string[]; skip: string[] };
    const tokens = (await heldTokens(input)).filter((t) => state.revoke.includes(t.fingerprint));
    if (tokens.length === 0) return { changed: false, outputs: { revoked: [], skipped: state.skip, failed: [] } };
    const bucket = new TokenBucket(input.requests_per_hour, HOUR_MS, Math.min(input.burst, input.requests_per_hour));
    const github = ctx.clients.githubUnauthenticated();
    const revoked: string[] = [];
    const failed: string[] = [];
    for (let i = 0; i < tokens.length; i += input.batch_size) {
      const batch = tokens.slice(i, i + input.batch_size);
      const waited = await bucket.take(ctx.signal);
      if (waited > 0) ctx.log(`paced /credentials/revoke: waited ${Math.round(waited / 1000)} s`);
      try {
        await github.rest.credentials.revoke({ credentials: batch.map((t) => t.reveal()) });
        const at = ctx.now().toISOString();
        for (const token of batch) {
          revoked.push(token.fingerprint);
          ctx.evidence('credential', { credential: token.fingerprint, kind: 'github-token', event: 'revoked', at, fingerprint: token.fingerprint } satisfies CredentialEvent);
        }
      } catch (error) {
        if (httpStatus(error) !== 422) throw error;
        failed.push(...batch.map((t) => t.fingerprint));
        ctx.finding({
          kind: 'token-revocation-refused',
          severity: 'high',
          resource: 'github:/credentials/revoke',
          summary: `GitHub refused a batch of ${batch.length} token(s) (422): revoke them by hand or report them to GitHub`,
          at: ctx.now().toISOString(),
          evidence: batch.map((t) => t.fingerprint),
        });
      }
    }
    return { changed: revoked.length > 0, outputs: { revoked, skipped: state.skip, failed } };
  },

  async verify(ctx, input, result) {
    const sent = new Set(result.outputs['revoked'] as string[]);
    const tokens = (await heldTokens(input)).filter((t) => sent.has(t.fingerprint));
    const live: string[] = [];
    for (const token of tokens) if (await isLive(ctx.clients, token)) live.push(token.fingerprint);
    const failed = (result.outputs['failed'] as string[]).length;
    if (live.length === 0 && failed === 0) return { verified: true, detail: `${tokens.length} token(s) no longer authenticate` };
    return { verified: false, detail: `${live.length} revoked token(s) still authenticate (revocation is asynchronous: check again); ${failed} refused` };
  },
});
