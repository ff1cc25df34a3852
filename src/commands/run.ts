import { Args, Flags } from '@oclif/core';
import type { RunResult } from '../engine/execute.js';
import { preflight } from '../ui/preflight.js';
import { RunCommand } from '../ui/run-command.js';
import { resultJson, runSession, parseVars } from '../ui/run-session.js';
import { runSummary } from '../ui/run-summary.js';
import { runVerdict, withVerdict } from '../ui/run-verdict.js';

/** Flags shared by run and contain. */
export const runFlags = {
  'dry-run': Flags.boolean({ description: 'plan every step and make no mutating call (read-only steps still run)', default: false }),
  yes: Flags.boolean({ char: 'y', description: 'confirm a run that changes things (required without a terminal)', default: false }),
  out: Flags.string({ description: 'root folder of run journals', default: '.cicd-ir/runs' }),
  resume: Flags.string({ description: 'continue this run id: completed steps are verified, not applied again', exclusive: ['latest'] }),
  latest: Flags.boolean({ description: 'continue the most recent run under --out', exclusive: ['resume'], default: false }),
  concurrency: Flags.integer({ description: 'how many steps run at once', default: 8, min: 1 }),
};

export default class Run extends RunCommand {
  static override summary = 'Run a playbook: plan, apply and verify each step, journalled.';
  static override description = `Steps run as a graph: independent ones concurrently, dependent ones in order. Every phase is
written to .cicd-ir/runs/<run-id>/journal.jsonl before the next begins, so --resume continues a
crashed or failed run without applying a completed step twice. The exit code is the containment
verdict of the journal, as for contain: 0 nothing open, 1 a step failed, 2 bad input, 3 finished
but something needs a human (listed with what to do).`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> playbooks/contain-compromised-workflow.yaml --var repos=acme/web --var workflow=deploy.yml --var since=2026-11-25T14:00:00Z --var incident=IR-42 --dry-run',
    '<%= config.bin %> <%= command.id %> playbooks/contain-compromised-workflow.yaml --latest --yes',
  ];

  static override args = { playbook: Args.string({ description: 'playbook file', required: true }) };
  static override flags = {
    var: Flags.string({ description: 'input value, name=value (repeat for lists)', multiple: true }),
    incident: Flags.string({ description: 'incident name (AWS session names, journal); default the incident input' }),
    ...runFlags,
  };

  async run(): Promise<RunResult | undefined> {
    const { args, flags } = await this.parse(Run);
    const vars = parseVars(flags.var);
    await preflight({ playbookFile: args.playbook, since: typeof vars.since === 'string' ? vars.since : undefined, tokensFile: typeof vars.tokens_file === 'string' ? vars.tokens_file : undefined, resume: Boolean('resume' in flags && (flags.resume || flags.latest)) });
    const ran = await runSession({
        playbookFile: args.playbook,
        vars,
        dryRun: flags['dry-run'],
        yes: flags.yes,
        json: this.jsonEnabled(),
        out: flags.out,
        resume: flags.resume,
        latest: flags.latest,
        incident: flags.incident,
        concurrency: flags.concurrency,
      });
    // The exit code is the containment verdict of the journal, as `contain` and the report give it.
    const result = resultJson(flags['dry-run'] ? ran : withVerdict(ran, await runVerdict(ran)));
    this.log(runSummary(result));
    if (result.exitCode === 0) return result;
    if (this.jsonEnabled()) this.logJson(result);
    this.exit(result.exitCode);
  }
}
