import type { ApiCall, PlannedChange } from '../actions/define.js';
import type { RunResult } from '../engine/execute.js';
import { describeCall } from '../engine/plan.js';
import { redact } from '../engine/secret.js';
import type { Verdict } from '../report/model.js';
import { safeBlock, safeText } from '../engine/safe-text.js';

const MARK: Record<string, string> = { verified: 'ok', unverified: 'UNVERIFIED', planned: 'planned', failed: 'FAILED', skipped: 'skipped' };

/**
 * The verdict as the end of `contain` and `run` prints it: the headline, then every open item
 * (blocking ones first) and every critical or high finding, each with what to do.
 */
export function verdictText(verdict: Verdict): string[] {
  if (verdict.status === 'plan-only') return [];
  const blocking = verdict.openItems.filter((item) => item.blocking);
  const other = verdict.openItems.filter((item) => !item.blocking && !item.acknowledged);
  const acked = verdict.openItems.filter((item) => item.acknowledged);
  const item = (i: Verdict['openItems'][number]) => [`  [${i.severity}] ${safeText(i.summary)}`, `      do: ${safeText(i.action)}`];
  const ackedItem = (i: Verdict['openItems'][number]) => [`  [${i.severity}] ${safeText(i.summary)}`, `      acknowledged by ${safeText(i.acknowledged!.by)}: ${safeText(i.acknowledged!.reason)}`];
  const lines = [
    '',
    verdict.contained
      ? `${verdict.text.startsWith('contained') ? verdict.text.replace(/^contained/, 'CONTAINED') : `CONTAINED: ${verdict.text}`} (exit ${verdict.exitCode})`
      : `NOT CONTAINED YET: ${blocking.length} open item(s) need a human (exit ${verdict.exitCode}):`,
    ...blocking.flatMap(item),
  ];
  if (other.length > 0) lines.push('', `Also to act on (${other.length}, not blocking):`, ...other.flatMap(item));
  if (acked.length > 0) lines.push('', `Acknowledged by a human (${acked.length}, not blocking):`, ...acked.flatMap(ackedItem));
  return lines;
}

/** What `run` prints when it ends: one line per step key, then where the journal is, then the verdict. */
export function runSummary(result: RunResult & { verdict?: Verdict }): string {
  const width = Math.max(4, ...result.steps.map((step) => step.key.length));
  const lines = result.steps.map((step) => {
    const changed = step.status === 'verified' ? (step.changed === false ? ' (no change needed)' : step.resumed ? ' (resumed)' : '') : '';
    return `${MARK[step.status]!.padEnd(10)} ${safeText(step.key).padEnd(width)}  ${step.action}${changed}${step.detail ? `: ${safeText(step.detail)}` : ''}`;
  });
  lines.push('', `run ${result.runId}: ${result.status} (exit ${result.exitCode})`, `journal: ${result.runDir}/journal.jsonl`);
  if (result.status === 'failed' || result.status === 'needs-human') {
    lines.push(`continue it with: --resume ${result.runId}`);
  }
  if (result.verdict) lines.push(...verdictText(result.verdict));
  // The report comes last: it is what a responder opens next.
  for (const file of result.reports ?? []) if (/\.(md|html)$/.test(file)) lines.push(`report: ${file}`);
  return safeBlock(redact(lines.join('\n')));
}

/** One planned step as `plan --json` prints it: the calls also as the exact text a human reads. */
export interface PlannedStep {
  key: string;
  action: string;
  status: string;
  detail?: string;
  changes: PlannedChange[];
  calls: Array<ApiCall & { text: string }>;
}

/** What `plan --json` prints. */
export interface PlanResult {
  runId: string;
  runDir: string;
  status: string;
  exitCode: number;
  /** Mutating calls the plan lists (none were made). */
  mutatingCalls: number;
  steps: PlannedStep[];
}

/** The plan of a dry run, step by step. */
export function planResult(result: RunResult): PlanResult {
  const steps = result.steps.map((step) => ({
    key: step.key,
    action: step.action,
    status: step.status,
    ...(step.detail ? { detail: step.detail } : {}),
    changes: step.plan?.changes ?? [],
    calls: (step.plan?.calls ?? []).map((call) => ({ ...call, text: describeCall(call) })),
  }));
  return {
    runId: result.runId,
    runDir: result.runDir,
    status: result.status,
    exitCode: result.exitCode,
    mutatingCalls: steps.reduce((n, step) => n + step.calls.filter((call) => call.mutating).length, 0),
    steps,
  };
}

/** The human plan: per step its changes and the exact API calls it would make. */
export function planText(plan: PlanResult): string {
  const lines: string[] = [];
  for (const step of plan.steps) {
    const note = step.status === 'planned' ? '' : step.status === 'verified' ? ' (read-only: ran)' : ` (${step.status})`;
    lines.push(`${safeText(step.key)}  ${step.action}${note}${step.detail && step.status !== 'verified' ? `: ${safeText(step.detail)}` : ''}`);
    for (const change of step.changes) lines.push(`  change  ${change.action} ${safeText(change.resource)}: ${safeText(change.summary)}`);
    for (const call of step.calls) lines.push(`  ${call.mutating ? 'would call' : 'reads'}  ${safeText(call.text)}`);
    if (step.changes.length === 0 && step.calls.length === 0 && step.status === 'planned' && !step.detail) lines.push('  nothing to change');
  }
  lines.push('', `${plan.mutatingCalls} mutating call(s) planned, none made. Run ${plan.runId} journal: ${plan.runDir}/journal.jsonl`);
  return safeBlock(redact(lines.join('\n')));
}
