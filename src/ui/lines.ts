import type { Writable } from 'node:stream';
import { describeCall } from '../engine/plan.js';
import type { EngineEvent } from '../engine/events.js';
import { redact } from '../engine/secret.js';
import type { EventReporter } from './listr.js';

/** One line of text for an event, or undefined for events not worth a line. Pure, for tests. */
export function eventLine(event: EngineEvent): string | undefined {
  switch (event.type) {
    case 'run-started':
      return `run ${event.runId}${event.resumed ? ' resumed' : ' started'}: ${event.playbook}${event.dryRun ? ' (dry run)' : ''} -> ${event.runDir}`;
    case 'step-expanded':
      return `[${event.step}] fans out into ${event.keys.length}: ${event.keys.join(', ')}`;
    case 'step-started':
      return `[${event.key}] started ${event.action}${event.attempt > 1 ? ` (attempt ${event.attempt})` : ''}`;
    case 'step-planned':
      return [
        `[${event.key}] planned: ${event.plan.changes.length} change(s)`,
        ...event.plan.changes.map((change) => `[${event.key}]   change ${change.action} ${change.resource}: ${change.summary}`),
        ...event.plan.calls.map((call) => `[${event.key}]   ${call.mutating ? 'call' : 'read'} ${describeCall(call)}`),
      ].join('\n');
    case 'step-applied':
      return `[${event.key}] ${event.reused ? 'already applied (journal), not applied again' : event.changed ? 'applied' : 'applied: already as wanted'}`;
    case 'step-verified':
      return `[${event.key}] ${event.verified ? 'verified' : 'UNVERIFIED'}: ${event.detail}`;
    case 'step-skipped':
      return `[${event.key}] skipped: ${event.reason}`;
    case 'step-failed':
      return `[${event.key}] FAILED${event.continued ? ' (continue_on_error)' : ''}: ${event.error}`;
    case 'step-retry':
      return `[${event.key}] attempt ${event.attempt} failed (${event.error}); retrying in ${event.delayMs} ms`;
    case 'log':
      return `${event.key ? `[${event.key}] ` : ''}${event.level === 'info' ? '' : `${event.level}: `}${event.message}`;
    case 'run-finished':
      return `run ${event.runId} ${event.status} (exit ${event.exitCode})`;
    case 'step-finished':
      return undefined;
  }
}

/** The renderer for logs and CI (no TTY): one line per engine event, written as it happens. */
export function lineReporter(stream: Writable = process.stderr): EventReporter {
  return {
    onEvent(event) {
      if (event.type === 'log' && event.level === 'debug') return;
      const line = eventLine(event);
      if (line !== undefined) stream.write(`${redact(line)}\n`);
    },
    async finish() {},
  };
}
