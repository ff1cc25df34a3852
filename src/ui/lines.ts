import type { Writable } from 'node:stream';
import { describeCall } from '../engine/plan.js';
import type { EngineEvent } from '../engine/events.js';
import { redact } from '../engine/secret.js';
import { safeText as t } from '../engine/safe-text.js';
import type { EventReporter } from './listr.js';

/**
 * One line of text for an event, or undefined for events not worth a line. Pure, for tests.
 * Every value in it may be attacker text (keys are repository and secret names, details quote
 * API answers): each passes through safeText, so a field is one line and shows its control
 * characters instead of sending them to the terminal.
 */
export function eventLine(event: EngineEvent): string | undefined {
  switch (event.type) {
    case 'run-started':
      return `run ${t(event.runId)}${event.resumed ? ' resumed' : ' started'}: ${t(event.playbook)}${event.dryRun ? ' (dry run)' : ''} -> ${t(event.runDir)}`;
    case 'step-expanded':
      return `[${t(event.step)}] fans out into ${event.keys.length}: ${event.keys.map(t).join(', ')}`;
    case 'step-started':
      return `[${t(event.key)}] started ${t(event.action)}${event.attempt > 1 ? ` (attempt ${event.attempt})` : ''}`;
    case 'step-planned':
      return [
        `[${t(event.key)}] planned: ${event.plan.changes.length} change(s)`,
        ...event.plan.changes.map((change) => `[${t(event.key)}]   change ${t(change.action)} ${t(change.resource)}: ${t(change.summary)}`),
        ...event.plan.calls.map((call) => `[${t(event.key)}]   ${call.mutating ? 'call' : 'read'} ${t(describeCall(call))}`),
      ].join('\n');
    case 'step-applied':
      return `[${t(event.key)}] ${event.reused ? 'already applied (journal), not applied again' : event.changed ? 'applied' : 'applied: already as wanted'}`;
    case 'step-verified':
      return `[${t(event.key)}] ${event.verified ? 'verified' : 'UNVERIFIED'}: ${t(event.detail)}`;
    case 'step-skipped':
      return `[${t(event.key)}] skipped: ${t(event.reason)}`;
    case 'step-failed':
      return `[${t(event.key)}] FAILED${event.continued ? ' (continue_on_error)' : ''}: ${t(event.error)}`;
    case 'step-retry':
      return `[${t(event.key)}] attempt ${event.attempt} failed (${t(event.error)}); retrying in ${event.delayMs} ms`;
    case 'log':
      return `${event.key ? `[${t(event.key)}] ` : ''}${event.level === 'info' ? '' : `${event.level}: `}${t(event.message)}`;
    case 'run-finished':
      // The engine's word on its steps, not the containment verdict (which the summary prints
      // next and which alone sets the exit code): it must never read as an all-clear.
      return `run ${t(event.runId)}: steps ${event.status}; the containment verdict follows`;
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
