import type { Timeline } from '../report/model.js';
import type { HuntFinding } from '../hunt/model.js';
import { formatDuration } from '../report/format.js';
import type { Leak } from './secrets.js';

/** One pass/fail criterion of a drill, with the reason a human reads. */
export interface DrillCriterion {
  id: 'time-to-contain' | 'credentials-closed' | 'no-attacker-success' | 'no-secret-leaked';
  passed: boolean;
  reason: string;
}

/** What one after-containment attacker step did. `expected-open`: it used only credentials the scenario says the playbook cannot close (nobody holds the value). */
export interface DrillAttack {
  step: number;
  call: string;
  /** The credential as the scenario names it, secrets masked. */
  credential: string;
  /** `error`: the step could not be played to an answer (a registry still failing after retries): never counted as denied. */
  outcome: 'success' | 'denied' | 'not-emulated' | 'error';
  /**
   * `denied`: an attacker step a correct containment stops; `expected-open`: made only with a
   * credential the playbook cannot close; `success`: a legitimate workload's step (`actor:
   * workload`), which must keep working; a workload step the scenario expects `denied` (cut on
   * purpose) is `cut`, and the report must name what it uses.
   */
  expected: 'denied' | 'expected-open' | 'success' | 'cut';
  passed: boolean;
  detail: string;
}

/**
 * (a) Time to contain: the report's containment verdict must be contained (the same verdict the
 * CLI's exit code comes from), except for open items the scenario declares the playbook cannot
 * close (`expect_open`), and the containment steps must be verified within the SLO.
 */
export function scoreTimeToContain(report: Timeline, sloMs: number, expectOpen: readonly string[] = [], expectFindings: readonly string[] = []): DrillCriterion {
  const v = report.verdict;
  const t = report.metrics.timeToContain;
  type Item = Timeline['verdict']['openItems'][number];
  const findingKind = (item: Item) => item.summary.slice(0, item.summary.indexOf(':'));
  const expected = (item: Item) =>
    (item.kind === 'credential' && expectOpen.some((name) => item.resource === name || item.summary.includes(name))) || (item.kind === 'finding' && expectFindings.includes(findingKind(item)));
  const missing = expectFindings.filter((kind) => !v.openItems.some((item) => item.kind === 'finding' && findingKind(item) === kind));
  if (missing.length) return { id: 'time-to-contain', passed: false, reason: `the scenario expects open finding(s) ${missing.join(', ')}, but the verdict does not list them` };
  const blocking = v.openItems.filter((item) => item.blocking && !expected(item));
  if (blocking.length) return { id: 'time-to-contain', passed: false, reason: `not contained (exit ${v.exitCode}): ${blocking.map((item) => item.summary).join('; ')}` };
  const durationMs = v.durationMs ?? t.durationMs;
  if (durationMs === undefined) return { id: 'time-to-contain', passed: false, reason: `${t.status}: the journal gives no duration (${t.text})` };
  const within = durationMs <= sloMs;
  const open = v.contained ? '' : ` (open only as expected: ${[...expectOpen, ...expectFindings].join(', ')})`;
  return { id: 'time-to-contain', passed: within, reason: `contained in ${formatDuration(durationMs)}${open} (SLO ${formatDuration(sloMs)})${within ? '' : ': over the SLO'}` };
}

/**
 * (b) Every reachable credential the report lists is closed, except those the scenario declares
 * the playbook cannot close; and each of those the report must list as OPEN (the tool never pretends).
 */
export function scoreCredentials(report: Timeline, expectOpen: readonly string[]): DrillCriterion {
  const items = report.metrics.credentials.items;
  const problems: string[] = [];
  const open = items.filter((item) => item.open);
  for (const item of open) {
    if (!expectOpen.includes(item.name)) problems.push(`OPEN: ${item.name} (${item.kind}, ${item.scope}) was not rotated or revoked${item.note ? ` (${item.note})` : ''}`);
  }
  for (const job of report.metrics.credentials.everySecretReachableBy) problems.push(`${job} reaches every secret: the report cannot tell them apart`);
  for (const name of expectOpen) {
    const listed = open.some((item) => item.name === name) || report.verdict.openItems.some((item) => item.summary.includes(name));
    if (!listed) problems.push(`${name} is declared expect_open, but the report does not list it as OPEN`);
  }
  const closed = items.length - open.length;
  const summary = `${closed}/${items.length} reachable credential(s) closed${expectOpen.length ? `; listed OPEN as expected (the playbook cannot close them): ${expectOpen.join(', ')}` : ''}`;
  return { id: 'credentials-closed', passed: problems.length === 0, reason: problems.length ? `${problems.join('; ')} [${summary}]` : summary };
}

/** (c) No attacker success after containment: every step denied (or expected-open), and the post-attack hunt finds no use after revocation. */
export function scoreAttacks(attacks: readonly DrillAttack[], huntFindings: readonly HuntFinding[], expectedIdentities: readonly string[]): DrillCriterion {
  const failed = attacks.filter((attack) => !attack.passed);
  const used = huntFindings.filter((finding) => finding.kind === 'used-after-revocation' && !expectedIdentities.includes(finding.identity));
  const problems = [
    ...failed.map((attack) => `after-containment step ${attack.step} ${attack.call} with ${attack.credential}: ${attack.detail}`),
    ...used.map((finding) => `hunt: ${finding.summary}`),
  ];
  const expected = attacks.filter((attack) => attack.expected === 'expected-open');
  const workloads = attacks.filter((attack) => attack.expected === 'success' || attack.expected === 'cut');
  const summary = `${attacks.length - expected.length - workloads.length} after-containment step(s) denied${workloads.length ? `, ${workloads.filter((a) => a.expected === 'success').length} workload step(s) still working, ${workloads.filter((a) => a.expected === 'cut').length} cut as the report says` : ''}${expected.length ? `, ${expected.length} expected to succeed with a credential the playbook cannot close (${expected.map((a) => a.credential).join(', ')})` : ''}; hunt after the attack: ${huntFindings.filter((f) => f.kind === 'used-after-revocation').length} use(s) after revocation`;
  return { id: 'no-attacker-success', passed: problems.length === 0, reason: problems.length ? problems.join('; ') : summary };
}

/** (d) No secret value in any output the drill captured or any file the run wrote. */
export function scoreLeaks(leaks: readonly Leak[], searched: number, secrets: number): DrillCriterion {
  if (leaks.length === 0) return { id: 'no-secret-leaked', passed: true, reason: `${secrets} secret value(s) searched for in ${searched} output(s): none found` };
  return {
    id: 'no-secret-leaked',
    passed: false,
    reason: leaks.map((leak) => `${leak.origin} (${leak.fingerprint}) found in ${leak.where}`).join('; '),
  };
}
