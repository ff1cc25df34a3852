import { Flags } from '@oclif/core';
import { redact } from '../engine/secret.js';
import { faultProfileNames } from '../lab/faults.js';
import { RunCommand } from '../ui/run-command.js';
import { CONTAIN_PLAYBOOK, runContain, type ContainResult } from '../ui/contain-session.js';
import { preflight } from '../ui/preflight.js';
import { withLab } from '../ui/lab-session.js';
import { resultJson } from '../ui/run-session.js';
import { runSummary } from '../ui/run-summary.js';
import { runFlags } from './run.js';

export { CONTAIN_PLAYBOOK } from '../ui/contain-session.js';

export default class Contain extends RunCommand {
  static override summary = 'Contain a compromised GitHub Actions workflow and the AWS roles it could reach.';
  static override description = `The responder's front door: runs playbooks/contain-compromised-workflow.yaml with these flags as
its inputs. It records the evidence, disables the workflow and cancels its runs, shuts the
repositories out of the roles' OIDC trust and revokes their sessions, rotates the IAM user key
the secrets hold (and writes the new one into every repository, environment and organization
secret of those names the workflow reaches), revokes leaked GitHub tokens given in
--tokens-file, and writes the timeline report (report.md, report.html, ...) into the run folder.
Its exit code is the report's containment verdict: 0 only when everything in the attacker's
reach is closed and verified and no critical finding is open, 1 when a step failed, 3 (needs a
human) otherwise; the end summary lists every open item and every critical or high finding with
what to do. With --lab SCENARIO it starts the built-in lab and works on it; the
scenario's incident block gives any flag not set. Without a terminal it needs --yes (or --dry-run).`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> --lab scenarios/tj-actions-log-leak.yaml --yes',
    '<%= config.bin %> <%= command.id %> --repo acme/web --workflow deploy.yml --role arn:aws:iam::111122223333:role/deploy --since 2026-11-25T14:00:00Z --incident IR-42 --dry-run',
    '<%= config.bin %> <%= command.id %> --repo acme/web --workflow release.yml --npm-package @acme/web --keep-caches --incident IR-43 --dry-run',
    '<%= config.bin %> <%= command.id %> --repo acme/web --workflow deploy.yml --account 210987654321 --assume-role-name IncidentResponder --region us-east-1 --region eu-west-1 --incident IR-44 --dry-run',
    '<%= config.bin %> <%= command.id %> --repo acme/web --workflow deploy.yml --aws-user ci-deployer --aws-key-id-secret ARTIFACTS_AWS_ACCESS_KEY_ID --aws-secret-key-secret ARTIFACTS_AWS_SECRET_ACCESS_KEY --tokens-file leaked-tokens.txt --incident IR-42 --yes',
  ];

  static override flags = {
    repo: Flags.string({ description: 'owner/name of a repository running the workflow (repeatable)', multiple: true }),
    workflow: Flags.string({ description: 'workflow file name, e.g. deploy.yml' }),
    'also-workflow': Flags.string({ description: 'another workflow of the first repository whose secrets the attacker reached (repeatable): inventoried and its secrets rotated too', multiple: true }),
    role: Flags.string({ description: 'name or ARN of an AWS role the workflow can assume (repeatable; more are found from trust policies); an ARN is acted on in the account it names', multiple: true }),
    account: Flags.string({ description: "AWS account id to search and contain besides the credentials' own and the organization's (repeatable)", multiple: true }),
    'assume-role-name': Flags.string({ description: 'role assumed in every other account (default OrganizationAccountAccessRole)' }),
    region: Flags.string({ description: "region to hunt in every account (repeatable; default each account's enabled regions)", multiple: true }),
    'aws-user': Flags.string({ description: "IAM user whose static access key the workflow's secrets hold (rotated as leaked)" }),
    'aws-key-id-secret': Flags.string({ description: 'name of the secret (repo, environment or org) holding that key id (default AWS_ACCESS_KEY_ID)' }),
    'aws-secret-key-secret': Flags.string({ description: 'name of the secret (repo, environment or org) holding the secret key (default AWS_SECRET_ACCESS_KEY)' }),
    'tokens-file': Flags.string({ description: 'file of leaked GitHub tokens (PATs), one a line, to revoke with those the log scan finds (irreversible)' }),
    'npm-package': Flags.string({ description: 'npm package the workflow publishes (repeatable): versions published in the window without a release run are flagged', multiple: true }),
    'npm-release-workflow': Flags.string({ description: 'the workflow of the first repository that publishes those packages (default --workflow)' }),
    'keep-logs': Flags.boolean({ description: 'do not delete the logs of runs that printed a credential (they are still scanned)' }),
    'keep-caches': Flags.boolean({ description: "do not purge the repositories' Actions caches" }),
    since: Flags.string({ description: 'start of the suspect window, ISO-8601 with a zone (default: 24 hours ago)' }),
    incident: Flags.string({ description: 'incident name, e.g. IR-42' }),
    lab: Flags.string({ description: 'run against the built-in lab started from this scenario file' }),
    faults: Flags.string({ description: 'lab fault profile (with --lab)', options: faultProfileNames, dependsOn: ['lab'] }),
    // Internal: tests and drills point the command at another playbook with the same inputs.
    // (No flag default: oclif would bake this machine's absolute path into the manifest.)
    playbook: Flags.string({ hidden: true }),
    ...runFlags,
  };

  async run(): Promise<ContainResult | undefined> {
    const { flags } = await this.parse(Contain);
    const result = resultJson(
      await withLab(flags.lab, flags.faults, async (lab) => {
        // Flags, files and credentials are checked before a run folder opens (exit 2, the fix named).
        await preflight({ playbookFile: flags.playbook ?? CONTAIN_PLAYBOOK, since: flags.since, tokensFile: flags['tokens-file'], provider: lab?.providerConfig, resume: Boolean(flags.resume || flags.latest) });
        return runContain(flags, lab, {
          ...(flags.playbook && { playbookFile: flags.playbook }),
          dryRun: flags['dry-run'],
          yes: flags.yes,
          json: this.jsonEnabled(),
          out: flags.out,
          resume: flags.resume,
          latest: flags.latest,
          concurrency: flags.concurrency,
        });
      }),
    );
    if (!this.jsonEnabled()) this.log(containSummary(result));
    if (result.exitCode === 0) return result;
    if (this.jsonEnabled()) this.logJson(result);
    this.exit(result.exitCode);
  }
}

/** The run summary with the verdict (every open item and critical/high finding, with what to do) before the report paths (what the responder opens next). */
export function containSummary(result: ContainResult): string {
  const lines = [runSummary({ ...result, reports: [] })];
  for (const file of result.reports ?? []) if (/\.(md|html)$/.test(file)) lines.push(`report: ${file}`);
  return redact(lines.join('\n'));
}
