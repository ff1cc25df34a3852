import { z } from 'zod';
import { defineAction, type Finding } from '../define.js';
import { StepFailedError } from '../../engine/errors.js';
import type { ActionContext } from '../../engine/context.js';
import type { EvidenceByKind } from '../../engine/evidence.js';
import { RepoName, splitRepo, WorkflowRef, workflowId } from '../../github/api.js';
import { NPM_TOKEN_NAME } from '../../github/opens.js';
import type { NpmClient } from '../../providers/npm.js';

const schema = z
  .object({
    /** The project's packages (`@scope/name` or `name`). */
    packages: z.array(z.string().regex(/^(@[a-z0-9._~-]+\/)?[a-z0-9._~-]+$/, 'an npm package name')).min(1),
    /** The compromise window (ISO-8601): versions published in it are audited. */
    since: z.string().datetime({ offset: true }),
    until: z.string().datetime({ offset: true }).optional(),
    /** The repository and workflow that legitimately publish (its successful runs are the reference). */
    repo: RepoName,
    release_workflow: WorkflowRef,
    /** A publish must follow the start of a successful release run by at most this many minutes. */
    window_minutes: z.number().int().min(1).max(24 * 60).default(60),
    /**
     * The inventory's items (`${{ steps.inventory.outputs.items }}`): a static npm token among
     * them (NPM_TOKEN, NODE_AUTH_TOKEN, `opens: npm:...`) adds the trusted-publishing finding.
     */
    inventory: z.array(z.object({ name: z.string(), opens: z.string().optional() }).passthrough()).default([]),
  })
  .strict();

type Input = z.infer<typeof schema>;

/** A version and what the audit concluded about it. */
export interface AuditedPublish {
  package: string;
  version: string;
  published_at: string;
  /** The release run that accounts for it, when one does. */
  run_id?: number;
}

interface ReleaseRun {
  id: number;
  created_at: string;
  conclusion: string | null;
  html_url?: string;
}

/** Names of secrets that are static npm publish tokens (how setup-node and most projects name them). */
export function isStaticNpmToken(item: { name: string; opens?: string | undefined }): boolean {
  return (item.opens?.startsWith('npm:') ?? false) || NPM_TOKEN_NAME.test(item.name);
}

/**
 * The release run that accounts for a publish: a successful run created at most `windowMs`
 * before it (and not after it: a publish cannot precede the run that made it).
 */
export function matchRun(publishedAt: Date, runs: ReleaseRun[], windowMs: number): ReleaseRun | undefined {
  const at = publishedAt.getTime();
  return runs
    .filter((run) => run.conclusion === 'success')
    .filter((run) => {
      const started = Date.parse(run.created_at);
      return started <= at && at - started <= windowMs;
    })
    .sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at))[0];
}

function npmClient(ctx: ActionContext): NpmClient {
  if (!ctx.clients.npm) throw new StepFailedError(ctx.stepKey, 'no npm client: this build of cicd-ir has no npm provider');
  return ctx.clients.npm();
}

/**
 * Lists the versions of the project's packages published in the window (packument `time`)
 * and flags each one no successful run of the release workflow accounts for
 * (`publish-without-release-run`, high): the mark of a stolen publish token (Shai-Hulud, nx).
 * Where a static npm token was reachable, recommends trusted publishing (OIDC). Read-only.
 */
export const auditPublishes = defineAction<Input>({
  id: 'npm.audit-publishes',
  summary: 'Flag package versions published in the window without a matching release-workflow run.',
  schema,
  permissions: ['npm:packages:read', 'github:actions:read'],
  mutating: false,
  outputs: {
    publishes: 'versions published in the window: [{package, version, published_at, run_id?}]',
    unmatched: 'versions with no successful release run before them: [package@version]',
  },
  example: { packages: ['@acme/web'], since: '2025-08-26T00:00:00Z', repo: 'acme/web', release_workflow: 'release.yml' },

  async plan(_ctx, input) {
    const { owner, repo } = splitRepo(input.repo);
    return {
      changes: [],
      calls: [
        ...input.packages.map((name) => ({ service: 'npm', operation: 'GET /{package}', params: { package: name }, mutating: false })),
        { service: 'github', operation: 'GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs', params: { owner, repo, workflow_id: workflowId(input.release_workflow) }, mutating: false },
      ],
    };
  },

  async apply(ctx, input) {
    const npm = npmClient(ctx);
    const since = Date.parse(input.since);
    const until = input.until ? Date.parse(input.until) : ctx.now().getTime();
    const windowMs = input.window_minutes * 60_000;
    const findings: Finding[] = [];

    const publishes: AuditedPublish[] = [];
    for (const name of input.packages) {
      const packument = await npm.packument(name);
      if (!packument) {
        findings.push({ kind: 'package-not-found', severity: 'low', resource: `npm:${npm.host}/${name}`, summary: `${name} is not on ${npm.host}: check the package name` });
        continue;
      }
      for (const [version, at] of Object.entries(packument.time ?? {})) {
        if (version === 'created' || version === 'modified') continue;
        const time = Date.parse(at);
        // `time` keeps unpublished versions too; only what the registry still serves counts.
        if (Number.isNaN(time) || time < since || time > until || (packument.versions && !(version in packument.versions))) continue;
        publishes.push({ package: name, version, published_at: new Date(time).toISOString() });
      }
    }

    const { owner, repo } = splitRepo(input.repo);
    const github = await ctx.clients.github();
    // Runs that could account for the first publish started up to window_minutes before the window.
    const from = new Date(since - windowMs).toISOString();
    const runs = (await github.paginate(github.rest.actions.listWorkflowRuns, {
      owner,
      repo,
      workflow_id: workflowId(input.release_workflow),
      created: `${from}..${new Date(until).toISOString()}`,
      per_page: 100,
    })) as ReleaseRun[];

    const unmatched: string[] = [];
    for (const publish of publishes.sort((a, b) => a.published_at.localeCompare(b.published_at))) {
      const run = matchRun(new Date(publish.published_at), runs, windowMs);
      if (run) {
        publish.run_id = run.id;
        continue;
      }
      unmatched.push(`${publish.package}@${publish.version}`);
      findings.push({
        kind: 'publish-without-release-run',
        severity: 'high',
        resource: `npm:${npm.host}/${publish.package}@${publish.version}`,
        summary: `${publish.package}@${publish.version} was published at ${publish.published_at} with no successful ${String(input.release_workflow)} run in the ${input.window_minutes} minutes before: treat it as published with a stolen token (deprecate or unpublish it, revoke the token)`,
        at: publish.published_at,
        evidence: [{ package: publish.package, version: publish.version, published_at: publish.published_at, release_runs_checked: runs.length }],
      });
    }

    const staticTokens = input.inventory.filter(isStaticNpmToken).map((item) => item.name);
    if (staticTokens.length > 0) {
      findings.push({
        kind: 'static-publish-token',
        severity: 'medium',
        resource: `github:${input.repo}`,
        summary: `the release path reaches a static npm token (${[...new Set(staticTokens)].join(', ')}): switch ${input.packages.join(', ')} to trusted publishing (OIDC, npm publish from GitHub Actions with id-token: write) and delete the token`,
      });
    }

    const evidence: EvidenceByKind['npm-publishes'] = {
      registry: npm.host,
      since: input.since,
      until: new Date(until).toISOString(),
      publishes,
      release_runs: runs.map((run) => ({ id: run.id, created_at: run.created_at, conclusion: run.conclusion })),
    };
    ctx.evidence('npm-publishes', evidence);
    for (const finding of findings) ctx.finding(finding);
    return { changed: false, outputs: { publishes, unmatched }, findings };
  },

  async verify(_ctx, _input, result) {
    const publishes = result.outputs['publishes'] as AuditedPublish[];
    const unmatched = result.outputs['unmatched'] as string[];
    return { verified: true, detail: `${publishes.length} publish(es) audited, ${unmatched.length} without a release run` };
  },
});
