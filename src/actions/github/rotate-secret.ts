import { z } from 'zod';
import { defineAction } from '../define.js';
import { StepFailedError } from '../../engine/errors.js';
import type { CredentialEvent } from '../../engine/evidence.js';
import { fingerprint, isSecret, Secret } from '../../engine/secret.js';
import { sealForGitHub, splitRepo } from '../../github/api.js';
import { checkScope, getPublicKey, secretScopeFields, getSecretMeta, putSecret, scopeOf, secretPath, secretResource, type SecretScope } from '../../github/secret-scope.js';

const schema = z
  .object({
    ...secretScopeFields,
    /**
     * The new value: a Secret produced by an earlier step (`${{ steps.new-key.outputs.secret_access_key }}`).
     * A plain string passes the schema (so plan can show the step), but apply refuses it unless `allow_plaintext`.
     */
    value: z.union([z.instanceof(Secret), z.string()]),
    /**
     * Accept a plain string value (an access key id, which is not secret but is often stored as
     * one). Never set it to paste a secret into a playbook.
     */
    allow_plaintext: z.boolean().default(false),
  })
  .strict()
  .superRefine(checkScope);

type Input = z.infer<typeof schema>;

interface PlanState {
  exists: boolean;
  updated_at?: string;
  visibility?: 'all' | 'private' | 'selected';
  selected_repository_ids?: number[];
}

/** Whole seconds: GitHub's timestamps carry no milliseconds, so compare at that precision. */
function floorToSecond(at: Date): number {
  return Math.floor(at.getTime() / 1000) * 1000;
}

/**
 * Sets a repository, environment or organization secret to a value an earlier step produced
 * (a new access key, say), sealed against that scope's public key. The value never leaves
 * the Secret object except into the sealed box: outputs, journal and evidence hold its
 * fingerprint. GitHub never returns a secret's value, so a re-run cannot see that the value
 * is already set: plan always shows the write (re-setting the same value is harmless), and
 * verify checks that `updated_at` moved to or past the time of the write.
 */
export const rotateSecret = defineAction<Input>({
  id: 'github.rotate-secret',
  summary: 'Set a GitHub Actions secret (repo, environment or org) to a value produced by an earlier step.',
  schema,
  permissions: ['github:secrets:write', 'github:environments:write', 'github:organization_secrets:write'],
  mutating: true,
  outputs: {
    secret: 'the secret as secret:owner/repo/NAME (or :env:ENV, org:ORG)',
    fingerprint: 'fingerprint of the value written (never the value)',
    applied_at: 'when the value was written (ISO)',
  },
  example: { repo: 'acme/app', name: 'AWS_SECRET_ACCESS_KEY', value: '${{ steps.new-key.outputs.secret_access_key }}' },

  async plan(ctx, input) {
    const scope = scopeOf(input);
    const github = await ctx.clients.github();
    const meta = await getSecretMeta(github, scope, input.name);
    const state: PlanState = { exists: Boolean(meta), ...(meta ? { updated_at: meta.updated_at } : {}), ...(meta?.visibility ? { visibility: meta.visibility } : {}) };
    if (scope.kind === 'org' && meta?.visibility === 'selected') {
      const repos = await github.paginate(github.rest.actions.listSelectedReposForOrgSecret, { org: scope.org, secret_name: input.name, per_page: 100 });
      state.selected_repository_ids = repos.map((r) => r.id);
    }
    // A plain string is never put in the plan (plans are printed and journalled): its fingerprint only.
    const valueFingerprint = isSecret(input.value) ? input.value.fingerprint : fingerprint(input.value);
    const note = isSecret(input.value) || input.allow_plaintext ? '' : ' (a plain string: apply will refuse it)';
    return {
      changes: [
        {
          resource: secretResource(scope, input.name),
          action: meta ? 'update-secret' : 'create-secret',
          summary: `${meta ? 'set' : 'create'} ${secretResource(scope, input.name)} to the value of fingerprint ${valueFingerprint}${note}`,
          before: meta ? { updated_at: meta.updated_at } : null,
          after: { fingerprint: valueFingerprint },
        },
      ],
      calls: [
        { service: 'github', operation: `GET ${secretPath(scope).replace('{secret_name}', 'public-key')}`, params: paramsOf(scope), mutating: false },
        { service: 'github', operation: `PUT ${secretPath(scope)}`, params: { ...paramsOf(scope), secret_name: input.name, value_fingerprint: valueFingerprint }, mutating: true },
      ],
      state,
    };
  },

  async apply(ctx, input, plan) {
    const value = isSecret(input.value) ? input.value : input.allow_plaintext ? new Secret(input.value, `value of ${input.name}`) : undefined;
    if (!value) {
      throw new StepFailedError(ctx.stepKey, `refusing to write ${input.name} from a plain string: the value must come from an earlier step's secret output`, {
        suggestions: ['produce the value in a step (e.g. aws.rotate-access-key) and pass `value: ${{ steps.<id>.outputs.<secret output> }}`', 'for a value that is not secret (an access key id) set `allow_plaintext: true`'],
      });
    }
    const scope = scopeOf(input);
    const state = plan.state as PlanState;
    const github = await ctx.clients.github();
    const key = await getPublicKey(github, scope);
    const encrypted_value = await sealForGitHub(value.reveal(), key.key);
    const appliedAt = new Date(floorToSecond(ctx.now()));
    await putSecret(github, scope, input.name, { encrypted_value, key_id: key.key_id }, {
      ...(state.visibility ? { visibility: state.visibility } : {}),
      ...(state.selected_repository_ids ? { selectedRepositoryIds: state.selected_repository_ids } : {}),
    });
    const resource = secretResource(scope, input.name);
    ctx.evidence('credential', {
      credential: resource,
      kind: 'github-secret',
      event: state.exists ? 'rotated' : 'issued',
      at: ctx.now().toISOString(),
      fingerprint: value.fingerprint,
    } satisfies CredentialEvent);
    return { changed: true, outputs: { secret: resource, fingerprint: value.fingerprint, applied_at: appliedAt.toISOString() } };
  },

  async verify(ctx, input, result) {
    const scope = scopeOf(input);
    const github = await ctx.clients.github();
    const meta = await getSecretMeta(github, scope, input.name);
    if (!meta) return { verified: false, detail: `${secretResource(scope, input.name)} does not exist` };
    const appliedAt = Date.parse(String(result.outputs['applied_at']));
    const updated = Date.parse(meta.updated_at);
    return updated >= appliedAt
      ? { verified: true, detail: `${secretResource(scope, input.name)} updated at ${meta.updated_at}` }
      : { verified: false, detail: `${secretResource(scope, input.name)} last updated ${meta.updated_at}, before the write at ${String(result.outputs['applied_at'])}` };
  },
});

function paramsOf(scope: SecretScope): Record<string, string> {
  if (scope.kind === 'org') return { org: scope.org };
  const { owner, repo } = splitRepo(scope.repo);
  return scope.kind === 'environment' ? { owner, repo, environment_name: scope.environment } : { owner, repo };
}
