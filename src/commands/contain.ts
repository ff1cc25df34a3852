import { fileURLToPath } from 'node:url';
import { Flags } from '@oclif/core';
import type { RunResult } from '../engine/execute.js';
import { RunCommand } from '../ui/run-command.js';
import { resultJson, runSession } from '../ui/run-session.js';
import { runSummary } from '../ui/run-summary.js';
import { runFlags } from './run.js';

/** The shipped containment playbook, found from the package root (src/ or dist/ alike), not the cwd. */
export const CONTAIN_PLAYBOOK = fileURLToPath(new URL('../../playbooks/contain-compromised-workflow.yaml', import.meta.url));

export default class Contain extends RunCommand {
  static override summary = 'Contain a compromised GitHub Actions workflow and the AWS roles it could reach.';
  static override description = `The responder's front door: runs playbooks/contain-compromised-workflow.yaml with these flags as
its inputs. It disables the workflow and cancels its runs, revokes the roles' sessions and closes
their OIDC trust to the workflow, rotates what it could reach, hunts CloudTrail since --since,
and writes the timeline. Without a terminal it needs --yes (or --dry-run).`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> --repo acme/web --workflow deploy.yml --role arn:aws:iam::111122223333:role/deploy --since 2026-11-25T14:00:00Z --incident IR-42 --dry-run',
    '<%= config.bin %> <%= command.id %> --repo acme/web --workflow deploy.yml --role arn:aws:iam::111122223333:role/deploy --since 2026-11-25T14:00:00Z --incident IR-42 --yes',
  ];

  static override flags = {
    repo: Flags.string({ description: 'owner/name of a repository running the workflow (repeatable)', multiple: true, required: true }),
    workflow: Flags.string({ description: 'workflow file name, e.g. deploy.yml', required: true }),
    role: Flags.string({ description: 'ARN of an AWS role the workflow can assume (repeatable)', multiple: true }),
    since: Flags.string({ description: 'start of the suspect window, ISO-8601 with a zone' }),
    incident: Flags.string({ description: 'incident name, e.g. IR-42', required: true }),
    // Internal: tests and drills point the command at another playbook with the same inputs.
    // (No flag default: oclif would bake this machine's absolute path into the manifest.)
    playbook: Flags.string({ hidden: true }),
    ...runFlags,
  };

  async run(): Promise<RunResult | undefined> {
    const { flags } = await this.parse(Contain);
    const vars = {
      repos: flags.repo,
      workflow: flags.workflow,
      roles: flags.role ?? [],
      incident: flags.incident,
      ...(flags.since ? { since: flags.since } : {}),
    };
    const result = resultJson(
      await runSession({
        playbookFile: flags.playbook ?? CONTAIN_PLAYBOOK,
        // On resume the journal holds the inputs; flags given again override them.
        vars,
        dryRun: flags['dry-run'],
        yes: flags.yes,
        json: this.jsonEnabled(),
        out: flags.out,
        resume: flags.resume,
        latest: flags.latest,
        incident: flags.incident,
        concurrency: flags.concurrency,
      }),
    );
    this.log(runSummary(result));
    if (result.exitCode === 0) return result;
    if (this.jsonEnabled()) this.logJson(result);
    this.exit(result.exitCode);
  }
}
