import { PassThrough } from 'node:stream';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ExitCode } from '../engine/exit-codes.js';
import { JOURNAL_FILE } from '../engine/run-dir.js';
import { runHunt, sourceFor, type HuntFinding, type HuntedIdentity, type HuntSource } from '../hunt/index.js';
import { commandRuntime } from '../ui/runtime.js';
import { stepKind } from '../lab/aws/index.js';
import { startLab, type RunningLab } from '../lab/index.js';
import { publishOverHttp } from '../lab/npm/index.js';
import { NpmPublishParams, resolveSecretCredential, scenarioSecrets } from '../lab/scenario.js';
import type { Timeline } from '../report/model.js';
import { runContain, type ContainResult } from '../ui/contain-session.js';
import { lineReporter } from '../ui/lines.js';
import { filesUnder, findLeaks, labSecrets, maskSecrets, type KnownSecret } from './secrets.js';
import { scoreAttacks, scoreCredentials, scoreLeaks, scoreTimeToContain, type DrillAttack, type DrillCriterion } from './score.js';

export type { DrillAttack, DrillCriterion } from './score.js';

/** How to run one drill. */
export interface DrillOptions {
  scenarioFile: string;
  /** A fault profile name (src/lab/faults.ts). */
  faults?: string;
  /** Time-to-contain objective, ms. */
  sloMs: number;
  /** Runs folder (default .cicd-ir/runs). */
  out?: string;
  /** Another playbook with the containment playbook's inputs (tests: one missing a step). */
  playbookFile?: string;
  /** Lab seed override. */
  seed?: number;
}

/** A drill's verdict: each criterion, each after-containment attacker step, and where the run is. */
export interface DrillResult {
  scenario: string;
  faults: string;
  passed: boolean;
  /** 0 passed, 1 failed. */
  exitCode: number;
  runId: string;
  runDir: string;
  reports: string[];
  /** The containment run's own exit code (3 when the report lists open items). */
  containExitCode: number;
  criteria: DrillCriterion[];
  attacks: DrillAttack[];
  /** Findings of the hunt made after the attacker's after-containment steps. */
  huntFindings: Array<Pick<HuntFinding, 'kind' | 'severity' | 'identity' | 'summary'>>;
  durationMs: number;
}

type Step = RunningLab['scenario']['attacker'][number];

/** Is this after-containment step made only with a credential the scenario says the playbook cannot close? */
function usesOnlyExpectedOpen(lab: RunningLab, step: Step, expectOpen: readonly string[]): boolean {
  if (expectOpen.includes(step.credential)) return true;
  // A token value held in a secret the scenario names (`expect_open: [LUMEN_BOT_PAT]`).
  const names = scenarioSecrets(lab.scenario.github)
    .filter((s) => s.value === step.credential)
    .map((s) => s.name);
  return names.some((name) => expectOpen.includes(name));
}

/**
 * An `npm:publish` step as the attacker makes it: an HTTP PUT of the version to the lab
 * registry with the stolen token (a secret name resolved to its value). 2xx is a success,
 * 401/403 a refusal; anything else (the registry unreachable, a 5xx after retries) is an
 * error, so a drill never counts a publish it could not make as denied.
 */
async function playNpmPublish(lab: RunningLab, step: Step): Promise<{ outcome: DrillAttack['outcome']; why: string }> {
  const { package: name, version } = NpmPublishParams.parse(step.params);
  const token = resolveSecretCredential(lab.scenario.github, step.credential);
  const response = await publishOverHttp(lab.endpoints.npm ?? lab.providerConfig.npm!.registryUrl!, token, name, version);
  const why = `PUT ${name}@${version}: HTTP ${response.status}${response.error ? ` ${response.error}` : ''}`;
  if (response.status >= 200 && response.status < 300) return { outcome: 'success', why };
  return { outcome: response.status === 401 || response.status === 403 ? 'denied' : 'error', why };
}

/**
 * Plays the scenario's after-containment steps: AWS ones through the lab's attacker (real
 * requests to IAM/STS, recorded in CloudTrail), `github:` ones with the stolen token through the
 * GitHub lab, `npm:publish` ones over HTTP to the lab registry, and narrative ones (PyPI, ...)
 * are not emulated: they count only when expected open.
 */
/**
 * What a legitimate workload step uses, as a report would name it: the role of a session, an
 * OIDC re-assumption's role ARN and name, a key's id and user.
 */
function workloadNames(lab: RunningLab, step: Step): string[] {
  const session = lab.scenario.aws.sessions.find((s) => s.id === step.credential);
  if (session) return [session.role, session.access_key_id];
  if (step.credential.startsWith('oidc:')) {
    const arn = typeof step.params.RoleArn === 'string' ? step.params.RoleArn : '';
    return [arn, arn.split('/').pop() ?? ''].filter(Boolean);
  }
  const key = lab.aws.state.findKey(step.credential);
  return key ? [step.credential, key.user.name] : [step.credential];
}

/**
 * What a correct containment leads to for an after-containment step: an attacker's step is
 * denied (or succeeds with a credential declared expect_open); a legitimate workload's
 * (`actor: workload`) keeps working (`expect: success`, its default), unless the scenario says
 * containment cuts it (`expect: denied`), and then the report must say so.
 */
function expectationOf(lab: RunningLab, step: Step, expectOpen: readonly string[]): DrillAttack['expected'] {
  if (step.actor === 'workload') return step.expect === 'denied' ? 'cut' : 'success';
  return usesOnlyExpectedOpen(lab, step, expectOpen) ? 'expected-open' : 'denied';
}

export async function playAfterContainment(lab: RunningLab, expectOpen: readonly string[], secrets: readonly KnownSecret[], reportText = ''): Promise<DrillAttack[]> {
  const aws = new Map((await lab.aws.playAttacker('after-containment')).map((outcome) => [outcome.step, outcome]));
  const attacks: DrillAttack[] = [];
  for (const [index, step] of lab.scenario.attacker.entries()) {
    if (step.phase !== 'after-containment') continue;
    const expected = expectationOf(lab, step, expectOpen);
    let outcome: DrillAttack['outcome'];
    let why: string;
    const awsOutcome = aws.get(index);
    if (awsOutcome) {
      outcome = awsOutcome.outcome;
      why = awsOutcome.errorCode ? `denied (${awsOutcome.errorCode})` : outcome;
    } else if (step.call.startsWith('github:')) {
      const response = await lab.github.callAs(step.credential, step.call.slice('github:'.length));
      outcome = response.status < 400 ? 'success' : 'denied';
      why = `HTTP ${response.status}`;
    } else if (stepKind(step) === 'npm') {
      ({ outcome, why } = await playNpmPublish(lab, step));
    } else {
      outcome = 'not-emulated';
      why = 'not emulated by the lab';
    }
    let passed: boolean;
    let detail: string;
    if (expected === 'denied') {
      passed = outcome === 'denied';
      detail = passed ? `denied as it must be: ${why}` : `the attacker still succeeds after containment (${why})${step.note ? `: ${step.note}` : ''}`;
    } else if (expected === 'success') {
      passed = outcome === 'success';
      detail = passed ? `the legitimate workload still works: ${why}` : `containment cut a legitimate workload the scenario expects to keep working (${why})${step.note ? `: ${step.note}` : ''}`;
    } else if (expected === 'cut') {
      const names = workloadNames(lab, step);
      const said = names.some((name) => reportText.includes(name));
      passed = outcome === 'denied' && said;
      detail =
        outcome !== 'denied'
          ? `the scenario expects containment to cut this workload, but it still works (${why})`
          : said
            ? `cut, as the scenario expects and the report says (${why})`
            : `cut (${why}), but the report never names ${names.join(' or ')}`;
    } else {
      passed = true;
      detail = `${why}: uses only a credential the playbook cannot close here (expect_open); the report must list it OPEN`;
    }
    attacks.push({ step: index, call: step.call, credential: maskSecrets(step.credential, secrets), outcome, expected, passed, detail: maskSecrets(detail, secrets) });
  }
  return attacks;
}

/** The contain run's hunt input as the journal recorded it (role ARNs, OIDC subjects, cutoffs). */
async function journalHuntInput(runDir: string): Promise<{ role_arns?: string[]; oidc_subjects?: string[] } | undefined> {
  const text = await readFile(join(runDir, JOURNAL_FILE), 'utf8');
  for (const line of text.split('\n')) {
    if (!line.includes('"aws.hunt-cloudtrail"') || !line.includes('"phase":"start"')) continue;
    const record = JSON.parse(line) as { input?: { role_arns?: string[]; oidc_subjects?: string[] } };
    return record.input;
  }
  return undefined;
}

/**
 * Hunts again after the attacker's after-containment steps (the playbook's hunt ran before
 * them): the roles and subjects the playbook hunted plus every AWS key the attacker just used,
 * with the containment's end as the cutoff, so any success after it is `used-after-revocation`.
 * Narrow on purpose: the window starts at the cutoff, so the 2 requests/s pacing stays short.
 */
async function huntAfterAttack(lab: RunningLab, contain: ContainResult, report: Timeline, attacks: readonly DrillAttack[]): Promise<HuntFinding[]> {
  const cutoff = report.metrics.timeToContain.lastVerifiedAt ?? report.endedAt ?? new Date().toISOString();
  const fromJournal = await journalHuntInput(contain.runDir);
  const keys = new Set<string>();
  for (const attack of attacks) if (/^(AKIA|ASIA)[A-Z0-9]{12,}$/.test(attack.credential)) keys.add(attack.credential);
  for (const session of lab.scenario.aws.sessions) if (attacks.some((a) => a.credential === session.id)) keys.add(session.access_key_id);
  const identities: HuntedIdentity[] = [
    ...[...keys].map((accessKeyId) => ({ kind: 'access-key' as const, accessKeyId })),
    ...(fromJournal?.role_arns ?? []).map((roleArn) => ({ kind: 'role' as const, roleArn })),
  ];
  if (identities.length === 0) return [];
  const request = { source: 'api' as const, input: { identities, cutoffs: { revokedAt: cutoff, deactivatedAt: cutoff }, since: cutoff, baselineDays: 0 } };
  // The shared provider factory, as the playbook's hunt step gets its CloudTrail client.
  const clients = await commandRuntime.createClients({ dryRun: true, incident: lab.scenario.name, github: lab.providerConfig.github, aws: lab.providerConfig.aws });
  const api = sourceFor(request, clients);
  // Only the hunted identities: the playbook's hunt already looked for defense evasion, and each
  // extra LookupEvents call costs half a second at the 2 requests/s pacing.
  const narrowed: HuntSource = { name: api.name, scan: (filter, stats) => api.scan({ ...filter, eventNames: [] }, stats) };
  try {
    return (await runHunt(request.input, narrowed)).findings;
  } finally {
    (clients as { destroy?: () => void }).destroy?.();
  }
}

/**
 * One drill: start the lab (the attacker's history already played), contain exactly as `contain`
 * does (same session, in-process, output captured), play the attacker's after-containment steps,
 * hunt again, and score: (a) time to contain within the SLO, (b) every reachable credential
 * closed or declared expect_open and listed OPEN, (c) no attacker success after containment,
 * (d) no secret value in anything captured or written.
 */
export async function runDrill(options: DrillOptions): Promise<DrillResult> {
  const started = Date.now();
  const lab = await startLab(options.scenarioFile, { ...(options.faults && { faults: options.faults }), ...(options.seed !== undefined && { seed: options.seed }) });
  try {
    const expectOpen = lab.scenario.drill?.expect_open ?? [];
    const captured: string[] = [];
    const progress = new PassThrough();
    progress.on('data', (chunk: Buffer) => captured.push(chunk.toString('utf8')));
    const contain = await runContain({}, lab, {
      ...(options.playbookFile && { playbookFile: options.playbookFile }),
      dryRun: false,
      yes: true,
      json: false,
      ...(options.out && { out: options.out }),
      incident: lab.scenario.name,
      progress,
      reporter: lineReporter(progress),
    });
    const report = JSON.parse(await readFile(contain.reports!.find((file) => file.endsWith('report.json'))!, 'utf8')) as Timeline;
    let secrets = labSecrets(lab);
    const reportText = await readFile(contain.reports!.find((file) => file.endsWith('report.json'))!, 'utf8');
    const attacks = await playAfterContainment(lab, expectOpen, secrets, reportText);
    const findings = await huntAfterAttack(lab, contain, report, attacks);
    // Secrets the attack minted count too.
    secrets = labSecrets(lab);
    const criteria: DrillCriterion[] = [
      scoreTimeToContain(report, options.sloMs, expectOpen, lab.scenario.drill?.expect_findings ?? []),
      scoreCredentials(report, expectOpen),
      scoreAttacks(attacks, findings, []),
    ];
    const result: DrillResult = {
      scenario: lab.scenario.name,
      faults: options.faults ?? 'none',
      passed: false,
      exitCode: ExitCode.StepFailed,
      runId: contain.runId,
      runDir: contain.runDir,
      reports: contain.reports ?? [],
      containExitCode: contain.exitCode,
      criteria,
      attacks,
      huntFindings: findings.map((f) => ({ kind: f.kind, severity: f.severity, identity: f.identity, summary: maskSecrets(f.summary, secrets) })),
      durationMs: Date.now() - started,
    };
    const texts = [
      { where: 'captured progress (stderr)', text: captured.join('') },
      { where: 'contain result', text: JSON.stringify(contain) },
      { where: 'drill result', text: JSON.stringify(result) },
      ...(await filesUnder(contain.runDir)),
    ];
    criteria.push(scoreLeaks(findLeaks(texts, secrets), texts.length, secrets.length));
    result.passed = criteria.every((c) => c.passed);
    result.exitCode = result.passed ? ExitCode.Ok : ExitCode.StepFailed;
    result.durationMs = Date.now() - started;
    return result;
  } finally {
    await lab.close();
  }
}

/** The drill as a human reads it: one line per criterion and attacker step, then the verdict. */
export function drillText(result: DrillResult): string {
  const lines = [`drill ${result.scenario} (faults: ${result.faults}): run ${result.runId}`];
  for (const c of result.criteria) lines.push(`${c.passed ? 'PASS' : 'FAIL'}  ${c.id.padEnd(20)} ${c.reason}`);
  for (const a of result.attacks) {
    lines.push(`${a.passed ? 'PASS' : 'FAIL'}  after-containment[${a.step}] ${a.call} with ${a.credential}: ${a.detail}`);
  }
  if (result.containExitCode !== 0) lines.push(`contain exited ${result.containExitCode} (the report lists what is still open)`);
  lines.push('', `drill ${result.passed ? 'PASSED' : 'FAILED'} in ${(result.durationMs / 1000).toFixed(1)} s`);
  for (const file of result.reports) if (/\.(md|html)$/.test(file)) lines.push(`report: ${file}`);
  return lines.join('\n');
}
