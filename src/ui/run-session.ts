import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { UsageError } from '../engine/errors.js';
import { ApiCallRelay, runPlaybook, type RunResult } from '../engine/execute.js';
import { readJournal } from '../engine/journal.js';
import type { InputValues } from '../engine/model.js';
import { loadPlaybook, resolveInputs } from '../engine/playbook.js';
import { DEFAULT_RUNS_ROOT, existingRunDir, JOURNAL_FILE } from '../engine/run-dir.js';
import { redact } from '../engine/secret.js';
import { confirmDestructive, processTerminal, type Terminal } from './confirm.js';
import { lineReporter } from './lines.js';
import { listrReporter, type EventReporter } from './listr.js';
import { commandRuntime } from './runtime.js';
import type { ProviderConfig } from '../providers/config.js';
import { checkResumeTarget, firstRunStart, latestRunIdFor, runTarget, type LabTarget } from './run-target.js';

/** Raw `--var` values: repeated names collect into a list. */
export type Vars = Record<string, string | string[] | boolean>;

/** What the run, plan and contain commands hand over after reading their flags. */
export interface SessionOptions {
  playbookFile: string;
  vars: Vars;
  dryRun: boolean;
  yes: boolean;
  json: boolean;
  out?: string;
  resume?: string;
  latest?: boolean;
  incident?: string;
  concurrency?: number;
  terminal?: Terminal;
  /** Where progress goes when not on a TTY (default stderr). */
  progress?: Writable;
  /** Force a renderer (tests); default: none with --json, listr2 on a TTY, lines otherwise. */
  reporter?: EventReporter | null;
  /** Endpoints, token and credentials (the lab's, or flags'); unset fields come from the environment. */
  provider?: Pick<ProviderConfig, 'github' | 'aws' | 'npm'>;
  /** Write the timeline report (every format) into the run folder when the run ends. */
  report?: boolean;
  /** The lab the run is made in (contain --lab): journalled with the endpoints, checked on resume. */
  lab?: LabTarget;
  /** How the command names each input on its command line (contain: `roles` is `--role`); default `--var NAME`. */
  flagNames?: Readonly<Record<string, string>>;
}

/** Parses `--var k=v` flags; a name given twice becomes a list (`--var repos=a --var repos=b`). */
export function parseVars(flags: readonly string[] = []): Vars {
  const vars: Vars = {};
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    if (eq <= 0) throw new UsageError(`--var ${flag}: expected name=value`, ['e.g. --var repos=acme/web --var since=2026-11-25T14:00:00Z']);
    const name = flag.slice(0, eq);
    const value = flag.slice(eq + 1);
    const previous = vars[name];
    vars[name] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [String(previous)]), value];
  }
  return vars;
}

/** Inputs as the journal recorded them, turned back into --var form so the playbook re-checks them. */
function varsFromJournal(inputs: Record<string, unknown>): Vars {
  const vars: Vars = {};
  for (const [name, value] of Object.entries(inputs)) {
    if (typeof value === 'string' || typeof value === 'boolean') vars[name] = value;
    else if (Array.isArray(value)) vars[name] = value.map(String);
    else if (typeof value === 'number') vars[name] = `${value}ms`; // durations are journalled in ms
  }
  return vars;
}

/**
 * A resume's inputs are the journal's: never re-derived defaults (a `--since` of "24 hours ago"
 * computed again, a role list dropped). A value given again must equal the journalled one (after
 * the playbook's own coercion: `2026-11-25T14:00:00Z` equals `2026-11-25T14:00:00.000Z`);
 * otherwise the resume is refused with a UsageError (exit 2) naming the flag and both values.
 */
export function resumeInputs(
  playbook: Parameters<typeof resolveInputs>[0],
  runId: string,
  journalled: Record<string, unknown>,
  given: Vars,
  flagNames: Readonly<Record<string, string>> = {},
): InputValues {
  const recorded = varsFromJournal(journalled);
  const then = resolveInputs(playbook, recorded);
  const now = resolveInputs(playbook, { ...recorded, ...given });
  const conflicts = Object.keys(given)
    .filter((name) => JSON.stringify(now[name]) !== JSON.stringify(then[name]))
    .map((name) => `${flagNames[name] ?? `--var ${name}`}: ${JSON.stringify(then[name] ?? null)} in the journal, ${JSON.stringify(now[name] ?? null)} given`);
  if (conflicts.length > 0) {
    throw new UsageError(`run ${runId} was started with other inputs: ${conflicts.join('; ')}: refusing to resume`, [
      'a resume continues the run as it was started: drop the flag, or give the journalled value',
      'or start a new run with the new value',
    ]);
  }
  return then;
}

function defaultReporter(json: boolean, progress: Writable | undefined): EventReporter | undefined {
  if (json) return undefined;
  if (!progress && process.stdout.isTTY) return listrReporter();
  return lineReporter(progress ?? process.stderr);
}

/**
 * One run as a command makes it: load and validate the playbook, resolve inputs (on resume,
 * the journal's inputs overridden by any --var), ask for confirmation when it changes things,
 * build the clients with their API calls wired to the journal, run, and wait for the renderer.
 */
export async function runSession(options: SessionOptions): Promise<RunResult> {
  const registry = commandRuntime.registry;
  const playbook = await loadPlaybook(options.playbookFile, { registry });
  const root = options.out ?? DEFAULT_RUNS_ROOT;

  // Where this run's calls go: journalled, and a resume against other endpoints is refused here,
  // before any client exists.
  const target = runTarget(options.provider, options.lab);
  let runId: string | undefined;
  let inputs: InputValues;
  let incident = options.incident;
  if (options.resume || options.latest) {
    runId = options.latest ? latestRunIdFor(root, target) : options.resume!;
    const journal = readJournal(join(existingRunDir(root, runId), JOURNAL_FILE));
    const start = firstRunStart(journal.records);
    if (!start) throw new UsageError(`run ${runId} has no run-start record: cannot resume it`);
    checkResumeTarget(runId, start.target, target);
    inputs = resumeInputs(playbook, runId, start.inputs, options.vars, options.flagNames);
    if (incident !== undefined && incident !== start.incident) {
      throw new UsageError(`run ${runId} is incident ${JSON.stringify(start.incident)}; this resume gives --incident ${JSON.stringify(incident)}: refusing to resume`, [
        `drop --incident, or give --incident ${start.incident}`,
      ]);
    }
    incident = start.incident;
  } else {
    inputs = resolveInputs(playbook, options.vars);
  }
  incident ??= typeof inputs.incident === 'string' ? inputs.incident : playbook.name;

  const mutating = playbook.steps.filter((step) => registry.find((action) => action.id === step.uses)?.mutating !== false);
  await confirmDestructive({
    dryRun: options.dryRun,
    yes: options.yes,
    what: `run ${playbook.name} for incident ${incident}: ${mutating.length} step(s) that change things (${mutating.map((s) => s.id).join(', ')})`,
    terminal: options.terminal ?? processTerminal(),
  });

  const relay = new ApiCallRelay();
  const clients = await commandRuntime.createClients({
    dryRun: options.dryRun,
    incident,
    github: options.provider?.github ?? {},
    aws: options.provider?.aws ?? {},
    // The lab's npm registry; unset, npm falls back to NPM_CONFIG_REGISTRY / NPM_TOKEN / .npmrc.
    ...(options.provider?.npm && { npm: options.provider.npm }),
    onApiCall: relay.onApiCall,
  });
  const reporter = options.reporter === null ? undefined : (options.reporter ?? defaultReporter(options.json, options.progress));
  let result: RunResult;
  try {
    result = await runPlaybook({
      playbook,
      inputs,
      clients,
      dryRun: options.dryRun,
      incident,
      outDir: root,
      runId,
      resume: runId !== undefined,
      concurrency: options.concurrency,
      registry,
      apiCalls: relay,
      target,
      onEvent: reporter ? (event) => reporter.onEvent(event) : undefined,
    });
  } finally {
    await reporter?.finish();
    (clients as { destroy?: () => void }).destroy?.();
  }
  if (!options.report) return result;
  const { writeReports } = await import('../report/index.js');
  return { ...result, reports: await writeReports(result.runDir) };
}

/** A RunResult as plain JSON data: Secrets as fingerprints, any escaped secret string redacted. */
export function resultJson<T>(result: T): T {
  return JSON.parse(redact(JSON.stringify(result))) as T;
}
