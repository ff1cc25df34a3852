import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { createAwsLab } from '../../src/lab/aws/index.js';
import { isAwsStep, stepKind } from '../../src/lab/aws/attacker.js';
import { createLabContext } from '../../src/lab/context.js';
import { createNpmService } from '../../src/lab/npm/index.js';
import { NpmPublishParams, offsetMs, resolveSecretCredential, Scenario } from '../../src/lab/scenario.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const shipped = readdirSync(join(root, 'scenarios')).filter((f) => f.endsWith('.yaml')).map((f) => join(root, 'scenarios', f));
const fixtures = readdirSync(join(root, 'test/fixtures/scenarios')).filter((f) => f.endsWith('.yaml')).map((f) => join(root, 'test/fixtures/scenarios', f));
const all = [...shipped, ...fixtures];

function load(path: string): Scenario {
  return Scenario.parse(parse(readFileSync(path, 'utf8')));
}

function build(path: string) {
  const scenario = load(path);
  const ctx = createLabContext({ seed: scenario.seed, scenarioDir: dirname(path) });
  const lab = createAwsLab(scenario.aws, scenario.attacker, ctx);
  return { scenario, ctx, lab };
}

describe('shipped scenarios', () => {
  it('ships the three incident scenarios and one unseen fixture', () => {
    expect(shipped.map((p) => p.split('/').pop()).sort()).toEqual(['grafana-missed-credential.yaml', 'nx-pull-request-target.yaml', 'tj-actions-log-leak.yaml']);
    expect(fixtures.length).toBeGreaterThanOrEqual(1);
  });

  describe.each(all.map((path) => [path.replace(`${root}/`, ''), path]))('%s', (_name, path) => {
    it('parses with the strict schema and names its incident defaults', () => {
      // Given the file; When parsed; Then it is valid and `contain --lab` needs no other flags
      const scenario = load(path);
      expect(scenario.incident).toBeDefined();
      const repos = new Map(scenario.github.repos.map((r) => [r.full_name, r]));
      for (const name of scenario.incident!.repos) expect(repos.has(name), name).toBe(true);
      const workflows = scenario.incident!.repos.flatMap((name) => repos.get(name)!.workflows.map((w) => w.path));
      expect(workflows).toContain(scenario.incident!.workflow);
      const roles = scenario.aws.accounts.flatMap((a) => a.roles.map((r) => r.name));
      for (const role of scenario.incident!.roles) expect(roles).toContain(role);
    });

    it('references only things that exist, with well-formed fake ids', () => {
      const scenario = load(path);
      for (const repo of scenario.github.repos) {
        for (const workflow of repo.workflows) {
          expect(workflow.content !== undefined || workflow.file !== undefined, workflow.path).toBe(true);
          if (workflow.file) expect(existsSync(resolve(dirname(path), workflow.file)), workflow.file).toBe(true);
        }
        for (const run of repo.runs) {
          expect(repo.workflows.map((w) => w.path)).toContain(run.workflow);
          for (const job of run.jobs) if (job.aws_session) expect(scenario.aws.sessions.map((s) => s.id)).toContain(job.aws_session);
        }
      }
      for (const session of scenario.aws.sessions) {
        expect(session.access_key_id).toMatch(/^ASIA[A-Z0-9]{16}$/);
        expect(session.secret).toHaveLength(40);
        const account = scenario.aws.accounts.find((a) => a.id === session.account);
        expect(account?.roles.map((r) => r.name)).toContain(session.role);
      }
      for (const user of scenario.aws.accounts.flatMap((a) => a.users)) {
        for (const key of user.access_keys) {
          expect(key.id).toMatch(/^AKIA[A-Z0-9]{16}$/);
          expect(key.secret).toHaveLength(40);
        }
      }
      // Every AWS attacker credential is a session, a user key, an earlier `as:` name or an OIDC subject.
      const known = new Set([...scenario.aws.sessions.map((s) => s.id), ...scenario.aws.accounts.flatMap((a) => a.users.flatMap((u) => u.access_keys.map((k) => k.id)))]);
      const ordered = [...scenario.attacker].sort((a, b) => (a.phase === b.phase ? offsetMs(a.at ?? '0s') - offsetMs(b.at ?? '0s') : a.phase === 'history' ? -1 : 1));
      // GitHub steps name a concrete REST call and a token the GitHub lab knows (its callAs plays them).
      const tokens = new Set(scenario.github.tokens.map((t) => t.value));
      for (const step of scenario.attacker.filter((s) => stepKind(s) === 'github')) {
        expect(step.call).toMatch(/^github:(GET|POST|PUT|PATCH|DELETE) \/[^{}\s]*$/);
        expect(tokens.has(step.credential), step.credential).toBe(true);
      }
      // npm steps publish a package of the scenario's registry with one of its tokens (by secret name or value),
      // and an after-containment publish is of a new version (else the registry's 403 would pass for a revocation).
      const npmTokens = new Set((scenario.npm?.tokens ?? []).map((t) => t.value));
      for (const step of scenario.attacker.filter((s) => stepKind(s) === 'npm')) {
        expect(npmTokens.has(resolveSecretCredential(scenario.github, step.credential)), step.credential).toBe(true);
        const { package: name, version } = NpmPublishParams.parse(step.params);
        const published = scenario.npm!.packages.find((p) => p.name === name);
        expect(published, name).toBeDefined();
        if (step.phase === 'after-containment') expect(published!.versions.map((v) => v.version)).not.toContain(version);
      }
      for (const step of ordered) {
        if (!isAwsStep(step)) continue;
        expect(known.has(step.credential) || step.credential.startsWith('oidc:'), `${step.call} with ${step.credential}`).toBe(true);
        if (step.as) known.add(step.as);
      }
    });

    it('builds the AWS lab and plays history into the trail as the scenario says', async () => {
      // Given the scenario's lab
      const { scenario, ctx, lab } = build(path);
      // When the history is played (at lab creation)
      const outcomes = await lab.playAttacker('history');
      const awsSteps = scenario.attacker.filter((s) => s.phase === 'history' && isAwsStep(s));
      expect(outcomes).toHaveLength(awsSteps.length);
      expect(outcomes.length).toBeGreaterThan(0);
      // Then each step ended as the scenario says, and a CloudTrail record with its eventID exists,
      // stamped at its offset and made with the stolen credential
      const byId = new Map(ctx.trail.all().map((r) => [r.eventID, r]));
      for (const outcome of outcomes) {
        const step = scenario.attacker[outcome.step]!;
        expect(step.call).toBe(outcome.call);
        expect(outcome.outcome, `${outcome.call} ${outcome.credential}`).toBe(step.expect ?? 'success');
        const record = byId.get(outcome.eventID);
        expect(record, outcome.call).toBeDefined();
        expect(record!.eventName).toBe(outcome.call.split(':')[1]);
        expect(Date.parse(record!.eventTime)).toBe(Math.floor(ctx.at(step.at ?? '0s').getTime() / 1000) * 1000);
        if (outcome.accessKeyId) expect((record!.userIdentity as { accessKeyId?: string }).accessKeyId).toBe(outcome.accessKeyId);
        if (outcome.outcome === 'denied') expect(record!.errorCode).toMatch(/AccessDenied|UnauthorizedOperation/);
        expect(record!.sourceIPAddress).toBe(step.source_ip);
      }
      // And history is played once: asking again returns the same events without new records
      const count = ctx.trail.all().length;
      expect((await lab.playAttacker('history')).map((o) => o.eventID)).toEqual(outcomes.map((o) => o.eventID));
      expect(ctx.trail.all()).toHaveLength(count);
      // And each scenario OIDC session has the AssumeRoleWithWebIdentity event that minted it
      for (const session of scenario.aws.sessions.filter((s) => s.oidc_subject)) {
        const mint = ctx.trail.all().find((r) => r.eventName === 'AssumeRoleWithWebIdentity' && (r.responseElements as { credentials?: { accessKeyId?: string } } | null)?.credentials?.accessKeyId === session.access_key_id);
        expect(mint, session.id).toBeDefined();
        expect(mint!.userIdentity).toMatchObject({ type: 'WebIdentityUser', userName: session.oidc_subject });
      }
    });

    it("plays the attacker's npm publishes into the registry at their times, as the scenario says", () => {
      // Given the scenario's registry, built as startLab builds it
      const scenario = load(path);
      const ctx = createLabContext({ seed: scenario.seed, scenarioDir: dirname(path) });
      const npm = createNpmService(scenario.npm, ctx, { attacker: scenario.attacker, resolveCredential: (c) => resolveSecretCredential(scenario.github, c) });
      // Then each history publish ended as the scenario says, and a successful one is a version at the step's `at`
      const steps = scenario.attacker.filter((s) => s.phase === 'history' && stepKind(s) === 'npm');
      expect(npm.history).toHaveLength(steps.length);
      for (const outcome of npm.history) {
        const step = scenario.attacker[outcome.step]!;
        expect(outcome.outcome, `${outcome.package}@${outcome.version}`).toBe(step.expect ?? 'success');
        const version = npm.packages.get(outcome.package)?.find((v) => v.version === outcome.version);
        if (outcome.outcome === 'success') expect(version).toEqual({ version: outcome.version, publishedAt: ctx.at(step.at!), publishedBy: step.actor });
      }
    });

    it('lets at least one after-containment step succeed when nothing was contained (what a drill catches)', async () => {
      const { scenario, lab } = build(path);
      const after = await lab.playAttacker('after-containment');
      expect(after).toHaveLength(scenario.attacker.filter((s) => s.phase === 'after-containment' && isAwsStep(s)).length);
      expect(after.some((o) => o.outcome === 'success')).toBe(true);
      expect(after.every((o) => o.expected === 'denied')).toBe(true);
    });
  });

  it('tj-actions: the run log holds the secrets base64-encoded twice, as the real payload printed them', () => {
    // Given the compromised run's log
    const scenario = load(join(root, 'scenarios/tj-actions-log-leak.yaml'));
    const repo = scenario.github.repos[0]!;
    const log = repo.runs.find((r) => r.logs)!.logs!.deploy!;
    expect(log).toContain('0e58ed8671d6b60d0890c21b07f8835ace038e67');
    // When the responder decodes the blob after `[group]changed-files` twice
    const blob = log.split('\n')[log.split('\n').findIndex((l) => l.includes('##[group]changed-files')) + 1]!;
    const decoded = Buffer.from(Buffer.from(blob.trim(), 'base64').toString('utf8'), 'base64').toString('utf8');
    // Then it holds the repo secrets, including the static key of IAM user fleet-ci
    const secret = (name: string) => repo.secrets.find((s) => s.name === name)!.value;
    expect(decoded).toContain(`"AWS_ACCESS_KEY_ID":{"value":"${secret('AWS_ACCESS_KEY_ID')}","isSecret":true}`);
    expect(decoded).toContain(secret('AWS_SECRET_ACCESS_KEY'));
    expect(decoded).toContain(secret('NPM_TOKEN'));
    const user = scenario.aws.accounts[0]!.users.find((u) => u.name === 'fleet-ci')!;
    expect(user.access_keys[0]).toMatchObject({ id: secret('AWS_ACCESS_KEY_ID'), secret: secret('AWS_SECRET_ACCESS_KEY') });
  });

  it('tj-actions: the attacker acts 4 minutes after the job ended, and mints a key with the session', async () => {
    const { scenario, ctx, lab } = build(join(root, 'scenarios/tj-actions-log-leak.yaml'));
    const job = scenario.github.repos[0]!.runs.flatMap((r) => r.jobs).find((j) => j.aws_session)!;
    const session = scenario.aws.sessions.find((s) => s.id === job.aws_session)!;
    const attackerEvents = ctx.trail.all().filter((r) => r.sourceIPAddress === '203.0.113.66');
    const first = attackerEvents.map((r) => Date.parse(r.eventTime)).sort()[0]!;
    expect(first - ctx.at(job.completed_at!).getTime()).toBeGreaterThanOrEqual(4 * 60_000 - 1000);
    expect(first - ctx.at(job.completed_at!).getTime()).toBeLessThan(5 * 60_000);
    const created = ctx.trail.all().find((r) => r.eventName === 'CreateAccessKey')!;
    expect(created.userIdentity).toMatchObject({ type: 'AssumedRole', accessKeyId: session.access_key_id });
    const minted = (created.responseElements as { accessKey: { accessKeyId: string } }).accessKey.accessKeyId;
    expect(lab.state.user('123456789012', 'svc-telemetry')!.accessKeys.map((k) => k.id)).toContain(minted);
    expect((await lab.playAttacker('history')).find((o) => o.call === 'iam:CreateAccessKey')!.produced).toBe(minted);
  });

  it('nx: the two malicious versions land after the legitimate releases, with the org NPM_TOKEN', () => {
    const scenario = load(join(root, 'scenarios/nx-pull-request-target.yaml'));
    const ctx = createLabContext({ seed: scenario.seed });
    const npm = createNpmService(scenario.npm, ctx, { attacker: scenario.attacker, resolveCredential: (c) => resolveSecretCredential(scenario.github, c) });
    expect(resolveSecretCredential(scenario.github, 'NPM_TOKEN')).toBe(scenario.github.orgs[0]!.secrets.find((s) => s.name === 'NPM_TOKEN')!.value);
    expect(npm.packages.get('@nebula-dev/nova')!.map((v) => [v.version, v.publishedAt.getTime() - ctx.startedAt.getTime(), v.publishedBy])).toEqual([
      ['20.8.0', offsetMs('-40d'), 'nebula-release-bot'],
      ['21.4.1', offsetMs('-10d'), 'nebula-release-bot'],
      ['21.5.0', offsetMs('-2d'), 'attacker'],
      ['20.9.0', offsetMs('-1d23h'), 'attacker'],
    ]);
  });

  it('nx: uses the real vulnerable nx workflow verbatim', () => {
    const scenario = load(join(root, 'scenarios/nx-pull-request-target.yaml'));
    const workflow = scenario.github.repos[0]!.workflows.find((w) => w.file)!;
    const text = readFileSync(join(root, 'scenarios', workflow.file!), 'utf8');
    expect(text).toContain('pull_request_target');
    expect(text).toContain('${{ github.event.pull_request.title }}');
  });
});
