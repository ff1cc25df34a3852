import type { Finding } from '../../src/actions/define.js';
import type { ActionContext, Clients } from '../../src/engine/context.js';

/** What a test context collected while an action ran. */
export interface TestContext extends ActionContext {
  readonly evidenceRecords: Array<{ kind: string; data: unknown }>;
  readonly findings: Finding[];
  readonly logs: Array<{ level: string; message: string }>;
}

/**
 * An ActionContext for tests: the clients are passed in (the lab's, or a fake), evidence,
 * findings and log lines are collected in arrays to assert on. Provider-agnostic so every
 * action's tests can share it.
 */
export function testContext(options: {
  clients: Clients;
  dryRun?: boolean;
  stepKey?: string;
  now?: () => Date;
  runDir?: string;
}): TestContext {
  const evidenceRecords: Array<{ kind: string; data: unknown }> = [];
  const findings: Finding[] = [];
  const logs: Array<{ level: string; message: string }> = [];
  return {
    runId: 'test-run',
    incident: 'test-incident',
    runDir: options.runDir ?? '/tmp/cicd-ir-test-run',
    dryRun: options.dryRun ?? options.clients.config.dryRun,
    stepKey: options.stepKey ?? 'step',
    clients: options.clients,
    signal: new AbortController().signal,
    now: options.now ?? (() => new Date()),
    log: (message, level = 'info') => logs.push({ level, message }),
    evidence: (kind, data) => evidenceRecords.push({ kind, data }),
    finding: (finding) => findings.push(finding),
    evidenceRecords,
    findings,
    logs,
  };
}
