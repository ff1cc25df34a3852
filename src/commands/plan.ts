import { Args, Flags } from '@oclif/core';
import { preflight } from '../ui/preflight.js';
import { RunCommand } from '../ui/run-command.js';
import { parseVars, resultJson, runSession } from '../ui/run-session.js';
import { planResult, planText, type PlanResult } from '../ui/run-summary.js';

export default class Plan extends RunCommand {
  static override summary = 'Show what a playbook would change and the exact API calls, changing nothing.';
  static override description = `A dry run: each step's plan() reads the current state and lists its changes and the calls
apply() would make (PUT /repos/acme/web/actions/workflows/deploy.yml/disable,
iam:PutRolePolicy RoleName=deploy PolicyName=AWSRevokeOlderSessions ...). Read-only steps
(inventory, evidence, hunt) do run. No mutating call is made; the clients refuse one anyway.`;

  static override examples = ['<%= config.bin %> <%= command.id %> playbooks/contain-compromised-workflow.yaml --var repos=acme/web --var workflow=deploy.yml --var since=2026-11-25T14:00:00Z --var incident=IR-42'];

  static override args = { playbook: Args.string({ description: 'playbook file', required: true }) };
  static override flags = {
    var: Flags.string({ description: 'input value, name=value (repeat for lists)', multiple: true }),
    incident: Flags.string({ description: 'incident name; default the incident input' }),
    out: Flags.string({ description: 'root folder of run journals', default: '.cicd-ir/runs' }),
  };

  async run(): Promise<PlanResult | undefined> {
    const { args, flags } = await this.parse(Plan);
    const vars = parseVars(flags.var);
    await preflight({ playbookFile: args.playbook, since: typeof vars.since === 'string' ? vars.since : undefined, tokensFile: typeof vars.tokens_file === 'string' ? vars.tokens_file : undefined, resume: Boolean('resume' in flags && (flags.resume || flags.latest)) });
    const result = resultJson(
      await runSession({
        playbookFile: args.playbook,
        vars,
        dryRun: true,
        yes: false,
        json: this.jsonEnabled(),
        out: flags.out,
        incident: flags.incident,
      }),
    );
    const plan = planResult(result);
    this.log(planText(plan));
    if (result.exitCode === 0) return plan;
    if (this.jsonEnabled()) this.logJson(plan);
    this.exit(result.exitCode);
  }
}
