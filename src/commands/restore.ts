import { Args, Flags } from '@oclif/core';
import { UsageError } from '../engine/errors.js';
import { ApiCallRelay } from '../engine/execute.js';
import { describeSourceRun, latestContainmentRun, restoreRun, type RestoreItem, type RestoreResult } from '../engine/restore.js';
import { processTerminal } from '../ui/confirm.js';
import { RunCommand } from '../ui/run-command.js';
import { resultJson } from '../ui/run-session.js';
import { commandRuntime } from '../ui/runtime.js';
import { formatTable } from '../ui/table.js';
import { checkRestoreTarget, firstRunStart, runTarget } from '../ui/run-target.js';
import { readJournal } from '../engine/journal.js';
import { JOURNAL_FILE } from '../engine/run-dir.js';
import { join } from 'node:path';

export default class Restore extends RunCommand {
  static override summary = 'Undo a containment run from its journal, newest change first; never gives a credential back.';
  static override description = `For after the boundary is fixed. Each step the run applied with a change and whose action has an undo (enable the workflow, turn Actions back on, delete AWSRevokeOlderSessions, put the old trust policy back) is planned, shown and confirmed, then undone, in reverse order of application. Rotated, deactivated, deleted and revoked credentials are never restored. The restore is a run of its own (journalled under --out); restoring the same run twice changes nothing the second time. Exit 0 restored, 1 an undo failed, 2 bad input, 3 something is left for a human.`;

  static override examples = ['<%= config.bin %> <%= command.id %> --latest --dry-run', '<%= config.bin %> <%= command.id %> 2026-11-25T16-40-12Z-3fa9 --yes'];
  static override args = { run: Args.string({ description: 'run id under --out, or a run folder' }) };
  static override flags = {
    latest: Flags.boolean({ description: 'restore the most recent containment run under --out', default: false }),
    out: Flags.string({ description: 'root folder of run journals (the restore is journalled here too)', default: '.cicd-ir/runs' }),
    yes: Flags.boolean({ char: 'y', description: 'confirm every undo (required without a terminal)', default: false }),
    'dry-run': Flags.boolean({ description: 'show what would be undone; make no API call', default: false }),
  };

  async run(): Promise<RestoreResult | undefined> {
    const { args, flags } = await this.parse(Restore);
    if (Boolean(args.run) === flags.latest) throw new UsageError('give exactly one of RUN or --latest', ['e.g. cicd-ir restore --latest --dry-run']);
    const source = describeSourceRun(args.run ?? latestContainmentRun(flags.out), flags.out);
    // Never undo a lab run against the real endpoints (its trust documents on real roles of the same name).
    checkRestoreTarget(source.runId, firstRunStart(readJournal(join(source.runDir, JOURNAL_FILE)).records)?.target, runTarget(undefined, undefined));
    const terminal = processTerminal();
    const dryRun = flags['dry-run'];
    if (!dryRun && !flags.yes && !terminal.interactive) {
      throw new UsageError(`refusing to undo run ${source.runId} without confirmation: no terminal to ask on`, ['pass --yes to confirm every undo', 'or --dry-run to see them']);
    }
    const ask = async (item: RestoreItem) => /^y(es)?$/i.test((await terminal.ask(`Undo ${item.key} (${item.action}): ${item.detail}? [yes/no] `)).trim());
    const relay = new ApiCallRelay();
    const clients = await commandRuntime.createClients({ dryRun, incident: source.incident, github: {}, aws: {}, onApiCall: relay.onApiCall });
    const result = resultJson(
      await restoreRun({
        source: source.runDir,
        clients,
        dryRun,
        outDir: flags.out,
        apiCalls: relay,
        ...(dryRun || flags.yes ? {} : { confirm: ask }),
        ...(this.jsonEnabled() ? {} : { onProgress: (line: string) => this.logToStderr(line) }),
      }),
    );
    this.log(formatTable(['step', 'action', 'status', 'detail'], result.items.map((item) => [item.key, item.action, item.status, item.detail])));
    this.log(`\nrestore ${result.runId} of run ${result.sourceRunId}: ${result.status} (exit ${result.exitCode})\njournal: ${result.runDir}/journal.jsonl`);
    if (result.exitCode === 0) return result;
    if (this.jsonEnabled()) this.logJson(result);
    this.exit(result.exitCode);
  }
}
