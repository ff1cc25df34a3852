import { fileURLToPath } from 'node:url';
import { Flags } from '@oclif/core';
import { UsageError } from '../engine/errors.js';
import { RepoName } from '../github/api.js';
import { principalField } from '../aws/target.js';
import type { RunResult } from '../engine/execute.js';
import { faultProfileNames } from '../lab/faults.js';
import { RunCommand } from '../ui/run-command.js';
import { labIncident, withLab } from '../ui/lab-session.js';
import { resultJson, runSession } from '../ui/run-session.js';
import { runSummary } from '../ui/run-summary.js';
import { runFlags } from './run.js';

/** The shipped containment playbook, found from the package root (src/ or dist/ alike), not the cwd. */
export const CONTAIN_PLAYBOOK = fileURLToPath(new URL('../../playbooks/contain-compromised-workflow.yaml', import.meta.url));

/** When --since is not given: the last 24 hours. */
const DEFAULT_WINDOW_MS = 24 * 3_600_000;

export default class Contain extends RunCommand {
  static override summary = 'Contain a compromised GitHub Actions workflow and the AWS roles it could reach.';
  static override description = `The responder's front door: runs playbooks/contain-compromised-workflow.yaml with these flags as
its inputs. It records the evidence, disables the workflow and cancels its runs, shuts the
repositories out of the roles' OIDC trust and revokes their sessions, rotates the IAM user key
the secrets hold, and writes the timeline report (report.md, report.html, ...) into the run
folder. With --lab SCENARIO it starts the built-in lab and works on it; the scenario's incident
block gives any flag not set. Without a terminal it needs --yes (or --dry-run).`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> --lab scenarios/tj-actions-log-leak.yaml --yes',
    '<%= config.bin %> <%= command.id %> --repo acme/web --workflow deploy.yml --role arn:aws:iam::111122223333:role/deploy --since 2026-11-25T14:00:00Z --incident IR-42 --dry-run',
    '<%= config.bin %> <%= command.id %> --repo acme/web --workflow deploy.yml --aws-user ci-deployer --incident IR-42 --yes',
  ];

  static override flags = {
    repo: Flags.string({ description: 'owner/name of a repository running the workflow (repeatable)', multiple: true }),
    workflow: Flags.string({ description: 'workflow file name, e.g. deploy.yml' }),
    role: Flags.string({ description: 'name or ARN of an AWS role the workflow can assume (repeatable; more are found from trust policies)', multiple: true }),
    'aws-user': Flags.string({ description: "IAM user whose static access key the workflow's secrets hold (rotated as leaked)" }),
    since: Flags.string({ description: 'start of the suspect window, ISO-8601 with a zone (default: 24 hours ago)' }),
    incident: Flags.string({ description: 'incident name, e.g. IR-42' }),
    lab: Flags.string({ description: 'run against the built-in lab started from this scenario file' }),
    faults: Flags.string({ description: 'lab fault profile (with --lab)', options: faultProfileNames, dependsOn: ['lab'] }),
    // Internal: tests and drills point the command at another playbook with the same inputs.
    // (No flag default: oclif would bake this machine's absolute path into the manifest.)
    playbook: Flags.string({ hidden: true }),
    ...runFlags,
  };

  async run(): Promise<RunResult | undefined> {
    const { flags } = await this.parse(Contain);
    const result = await withLab(flags.lab, flags.faults, async (lab) => {
      const fromLab = lab ? labIncident(lab) : {};
      const repos = flags.repo ?? fromLab.repos;
      const workflow = flags.workflow ?? fromLab.workflow;
      const incident = flags.incident ?? fromLab.incident;
      if (!flags.resume && !flags.latest && (!repos?.length || !workflow || !incident)) {
        throw new UsageError('contain needs --repo, --workflow and --incident (or --lab with a scenario that names them)', [
          'e.g. cicd-ir contain --repo acme/web --workflow deploy.yml --incident IR-42 --dry-run',
        ]);
      }
      // Bad input exits 2 before any API call: a repository name is checked here, not when
      // the first step that uses it runs (by then other steps have called GitHub and AWS).
      // GitHub caps owner names at 39 characters and repository names at 100.
      const badRepos = (repos ?? []).filter((repo) => !RepoName.safeParse(repo).success || repo.split('/')[0]!.length > 39 || repo.split('/')[1]!.length > 100);
      if (badRepos.length > 0) {
        const shown = badRepos.map((repo) => JSON.stringify(repo.length > 80 ? `${repo.slice(0, 80)}…` : repo));
        throw new UsageError(`--repo must be owner/name (letters, digits, '.', '_', '-'; owner up to 39, name up to 100 characters): got ${shown.join(', ')}`, ['e.g. --repo acme/web']);
      }
      // A workflow is its file name or its path under .github/workflows (or a numeric id).
      if (workflow !== undefined && !/^(?:\.github\/workflows\/)?[A-Za-z0-9_.-]+\.ya?ml$|^\d+$/.test(workflow)) {
        throw new UsageError(`--workflow must be a workflow file name (deploy.yml), its path (.github/workflows/deploy.yml) or its id: got ${JSON.stringify(workflow.slice(0, 80))}`);
      }
      const badRoles = (flags.role ?? []).filter((role) => !principalField('role').safeParse(role).success);
      if (badRoles.length > 0) {
        throw new UsageError(`--role must be a role name or an IAM role ARN: got ${badRoles.map((role) => JSON.stringify(role.slice(0, 80))).join(', ')}`, [
          'e.g. --role deploy or --role arn:aws:iam::123456789012:role/deploy',
        ]);
      }
      const awsUserFlag = flags['aws-user'];
      if (awsUserFlag !== undefined && !principalField('user').safeParse(awsUserFlag).success) {
        throw new UsageError(`--aws-user must be an IAM user name or user ARN: got ${JSON.stringify(awsUserFlag.slice(0, 80))}`, ['e.g. --aws-user ci-deployer']);
      }
      const since = flags.since ?? fromLab.since ?? new Date(Date.now() - DEFAULT_WINDOW_MS).toISOString();
      const awsUser = flags['aws-user'] ?? fromLab.awsUser;
      const vars = {
        ...(repos && { repos }),
        ...(workflow && { workflow }),
        ...(incident && { incident }),
        roles: flags.role ?? fromLab.roles ?? [],
        since,
        ...(awsUser && { aws_user: awsUser }),
      };
      return resultJson(
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
          incident,
          concurrency: flags.concurrency,
          ...(lab && { provider: lab.providerConfig }),
          report: true,
        }),
      );
    });
    this.log(runSummary(result));
    if (result.exitCode === 0) return result;
    if (this.jsonEnabled()) this.logJson(result);
    this.exit(result.exitCode);
  }
}
