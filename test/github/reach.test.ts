import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeWorkflow, WorkflowParseError, type WorkflowAnalysis } from '../../src/github/reach.js';
import { secretReads, expressionsIn } from '../../src/github/expressions.js';
import { sharedData } from '../helpers/shared-data.js';

const REPO = 'acme/app';

function allWorkflowFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = join(dir, entry);
    return statSync(full).isDirectory() ? allWorkflowFiles(full) : /\.ya?ml$/.test(entry) ? [full] : [];
  });
}

function analyze(file: string, inputs?: Record<string, string>): WorkflowAnalysis {
  const text = readFileSync(sharedData('workflows', file), 'utf8');
  return analyzeWorkflow(text, { repo: REPO, path: `.github/workflows/${file.split('/').pop()}`, ...(inputs ? { inputs } : {}) });
}

function job(analysis: WorkflowAnalysis, id: string) {
  const found = analysis.jobs.find((j) => j.id === id);
  if (!found) throw new Error(`no job ${id} in ${analysis.path}`);
  return found;
}

describe('analyzeWorkflow on every shared workflow file', () => {
  const root = sharedData('workflows');
  const files = allWorkflowFiles(root);

  it('finds the shared workflow files', () => {
    // Given the shared data folder / Then it holds the real workflows this suite is about
    expect(files.length).toBeGreaterThanOrEqual(40);
  });

  for (const file of files) {
    it(`analyses ${relative(root, file)} without throwing`, () => {
      // Given a real workflow / When it is analysed
      const analysis = analyzeWorkflow(readFileSync(file, 'utf8'), { repo: REPO, path: relative(root, file) });
      // Then every job is listed, each with its reach, and the summary agrees with the jobs
      expect(analysis.jobs.length).toBeGreaterThan(0);
      expect(analysis.triggers.length).toBeGreaterThan(0);
      expect(analysis.idTokenJobs).toEqual(analysis.jobs.filter((j) => j.idToken).map((j) => j.id));
      for (const j of analysis.jobs) {
        expect(j.secrets).not.toContain('GITHUB_TOKEN');
        if (j.idToken && !(analysis.triggers.length === 1 && analysis.triggers[0] === 'workflow_call')) {
          expect(j.oidcSubjects.length).toBeGreaterThan(0);
        }
      }
    });
  }
});

describe('analyzeWorkflow: named files, the truth read by hand', () => {
  it('zizmor secrets-inherit.yml: one job inherits every secret, one passes a single one', () => {
    // Given four jobs calling octo-org/example-repo's called-workflow.yml
    const a = analyze('zizmor-fixtures/secrets-inherit.yml');
    // Then only call-workflow-vulnerable-1 inherits, and only job 2 reads a named secret
    expect(a.jobs.map((j) => j.id)).toEqual([
      'call-workflow-vulnerable-1',
      'call-workflow-not-vulnerable-2',
      'call-workflow-not-vulnerable-3',
      'call-workflow-not-vulnerable-4',
    ]);
    expect(a.inheritCalls.map((c) => c.job)).toEqual(['call-workflow-vulnerable-1']);
    expect(a.inheritCalls[0]!.target).toEqual({ repo: 'octo-org/example-repo', path: '.github/workflows/called-workflow.yml', ref: 'main', local: false });
    expect(a.secretRefs).toEqual([{ name: 'SPECIAL-SECRET', jobs: ['call-workflow-not-vulnerable-2'] }]);
    expect(job(a, 'call-workflow-not-vulnerable-2').call!.passed).toEqual({ 'SPECIAL-SECRET': { names: ['SPECIAL-SECRET'], all: false } });
    expect(job(a, 'call-workflow-not-vulnerable-4').call!.passed).toEqual({});
    expect(a.allSecrets).toBe(false);
    expect(a.idTokenJobs).toEqual([]);
  });

  it('zizmor overprovisioned-secrets.yml: toJSON(secrets) reaches every secret, toJSON(secrets.x) one', () => {
    const a = analyze('zizmor-fixtures/overprovisioned-secrets.yml');
    expect(a.allSecrets).toBe(true);
    expect(job(a, 'test').allSecrets).toBe(true);
    expect(job(a, 'test').secrets).toEqual(['MORESTUFF', 'OTHERSTUFF']);
    expect(a.environments).toEqual([{ job: 'test', raw: 'foobar', name: 'foobar', dynamic: false }]);
  });

  it('zizmor secrets-outside-env_multiple-secrets.yml: names are case-insensitive, brackets count, GITHUB_TOKEN is apart', () => {
    const a = analyze('zizmor-fixtures/secrets-outside-env_multiple-secrets.yml');
    expect(a.secretRefs).toEqual([
      { name: 'ALSO_NOT_SO_SECRET', jobs: ['test'] },
      { name: 'NOT_SO_SECRET', jobs: ['test'] },
    ]);
    expect(job(a, 'test').readsGithubToken).toBe(true);
    expect(job(a, 'test').permissions).toEqual({ kind: 'scopes', scopes: {} });
  });

  it('powertools release.yml: id-token jobs, the release environment, inherit into publish_v2_layer', () => {
    const a = analyze('powertools-lambda-python/release.yml');
    expect(a.triggers).toEqual(['workflow_dispatch']);
    expect(a.jobs.map((j) => j.id)).toEqual(['seal', 'quality_check', 'build', 'provenance', 'release', 'create_tag', 'bump_version', 'publish_layer', 'post_release']);
    expect(a.idTokenJobs).toEqual(['provenance', 'release', 'publish_layer']);
    expect(a.environments).toEqual([{ job: 'release', raw: 'release', name: 'release', dynamic: false }]);
    expect(job(a, 'release').oidcSubjects).toEqual(['repo:acme/app:environment:release']);
    // workflow_dispatch: whoever dispatches picks the ref
    expect(job(a, 'provenance').oidcSubjects).toEqual(['repo:acme/app:ref:refs/heads/*', 'repo:acme/app:ref:refs/tags/*']);
    expect(a.inheritCalls.map((c) => [c.job, c.target.path, c.target.local])).toEqual([['publish_layer', '.github/workflows/publish_v2_layer.yml', true]]);
    expect(job(a, 'provenance').call!.target).toEqual({ repo: 'slsa-framework/slsa-github-generator', path: '.github/workflows/generator_generic_slsa3.yml', ref: 'v2.0.0', local: false });
    // Only GITHUB_TOKEN is read by name: no repository secret
    expect(a.secretRefs).toEqual([]);
    expect(a.jobs.filter((j) => j.readsGithubToken).map((j) => j.id)).toEqual(['create_tag', 'bump_version', 'post_release']);
    expect(job(a, 'seal').idToken).toBe(false);
  });

  it('powertools reusable_deploy_v3_layer_stack.yml: environment from an input, id-token, one role secret', () => {
    const a = analyze('powertools-lambda-python/reusable_deploy_v3_layer_stack.yml');
    expect(a.triggers).toEqual(['workflow_call']);
    expect(a.jobs.map((j) => j.id)).toEqual(['deploy-cdk-stack']);
    expect(a.secretRefs).toEqual([{ name: 'AWS_LAYERS_ROLE_ARN', jobs: ['deploy-cdk-stack'] }]);
    expect(a.environments).toEqual([{ job: 'deploy-cdk-stack', raw: '${{ inputs.environment }}', dynamic: true }]);
    expect(a.idTokenJobs).toEqual(['deploy-cdk-stack']);
    // Given the caller's literal input / Then the environment is known
    const called = analyze('powertools-lambda-python/reusable_deploy_v3_layer_stack.yml', { environment: 'layer-beta' });
    expect(called.environments[0]).toEqual({ job: 'deploy-cdk-stack', raw: '${{ inputs.environment }}', name: 'layer-beta', dynamic: false });
    expect(called.jobs[0]!.oidcSubjects).toEqual(['repo:acme/app:environment:layer-beta']);
  });

  it('powertools layer_govcloud.yml: environment {name: ...} with an expression is "any environment"', () => {
    const a = analyze('powertools-lambda-python/layer_govcloud.yml');
    expect(a.environments.map((e) => [e.job, e.name ?? null, e.dynamic])).toEqual([
      ['download', 'Prod (Readonly)', false],
      ['copy_east', null, true],
      ['copy_west', null, true],
    ]);
    expect(job(a, 'copy_west').oidcSubjects).toEqual(['repo:acme/app:environment:*']);
    expect(a.secretRefs).toEqual([
      { name: 'AWS_ACCOUNT_ID', jobs: ['copy_east', 'copy_west'] },
      { name: 'AWS_IAM_ROLE', jobs: ['download', 'copy_east', 'copy_west'] },
    ]);
  });

  it('configure-aws-credentials release-please.yml: workflow-level id-token write, two secrets, main and dispatched refs', () => {
    const a = analyze('configure-aws-credentials/release-please.yml');
    expect(a.triggers).toEqual(['push', 'workflow_dispatch']);
    expect(a.branchFilters).toEqual({ push: ['main'] });
    expect(a.jobs.map((j) => j.id)).toEqual(['release-please']);
    expect(a.idTokenJobs).toEqual(['release-please']);
    expect(a.secretRefs).toEqual([
      { name: 'OSDS_PACKAGING_ROLE', jobs: ['release-please'] },
      { name: 'SECRETS_AWS_PACKAGING_ROLE_TO_ASSUME', jobs: ['release-please'] },
    ]);
    expect(job(a, 'release-please').oidcSubjects).toEqual([
      'repo:acme/app:ref:refs/heads/*',
      'repo:acme/app:ref:refs/heads/main',
      'repo:acme/app:ref:refs/tags/*',
    ]);
    expect(a.environments).toEqual([]);
  });

  it('nx pr-title-validation (s1ngularity entry point): pull_request_target, no secret, no OIDC, default token', () => {
    const a = analyze('nx/nx_pr-title-validation_VULNERABLE_c9163491.yml');
    expect(a.triggers).toEqual(['pull_request', 'pull_request_target']);
    expect(a.jobs.map((j) => j.id)).toEqual(['validate-pr-title']);
    expect(a.secretRefs).toEqual([]);
    expect(a.allSecrets).toBe(false);
    expect(a.idTokenJobs).toEqual([]);
    expect(job(a, 'validate-pr-title').permissions).toEqual({ kind: 'default' });
    expect(job(a, 'validate-pr-title').uses).toEqual(['actions/checkout@v4', 'actions/setup-node@v4']);
  });

  it('configure-aws-credentials tests-integ-release.yml: a role secret per job', () => {
    const a = analyze('configure-aws-credentials/tests-integ-release.yml');
    expect(a.secretRefs.map((r) => r.name)).toEqual([
      'INLINE_POLICY_ROLE',
      'INTEG_PROFILE_ROLE_1',
      'INTEG_PROFILE_ROLE_2',
      'OIDC_INTEG_ROLE',
      'ROLE_CHAINING_1',
      'ROLE_CHAINING_2',
      'STATIC_TEST_TARGET_ROLE',
      'STATIC_USER_CREATION_ROLE',
    ]);
    expect(a.secretRefs.find((r) => r.name === 'OIDC_INTEG_ROLE')!.jobs).toEqual(['oidc', 'http-proxy', 'token-file']);
  });
});

describe('expressions', () => {
  it('tells the secrets context from look-alikes', () => {
    expect(secretReads("secrets['my_key'] || secrets.Other")).toEqual({ names: ['MY_KEY', 'OTHER'], all: false });
    expect(secretReads('toJSON(secrets)')).toEqual({ names: [], all: true });
    expect(secretReads('secrets[matrix.name]')).toEqual({ names: [], all: true });
    expect(secretReads("inputs.secrets || 'secrets' || needs.a.outputs.secrets")).toEqual({ names: [], all: false });
    expect(expressionsIn("a ${{ format('}}', secrets.X) }} b ${{ secrets.Y }}")).toEqual([" format('}}', secrets.X) ", ' secrets.Y ']);
  });

  it('reports invalid YAML with its line and column', () => {
    // Given a workflow with a broken mapping / When analysed / Then a located error
    const text = 'on: push\njobs:\n  a:\n    runs-on: [ubuntu\n';
    expect(() => analyzeWorkflow(text, { repo: REPO, path: 'bad.yml' })).toThrow(WorkflowParseError);
    try {
      analyzeWorkflow(text, { repo: REPO, path: 'bad.yml' });
    } catch (error) {
      expect((error as WorkflowParseError).line).toBeGreaterThanOrEqual(4);
      expect((error as WorkflowParseError).message).toMatch(/^bad\.yml:\d+:\d+: /);
    }
  });
});
