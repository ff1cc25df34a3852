import { Flags } from '@oclif/core';
import { doctorActions, runDoctor, type DoctorReport } from '../doctor/index.js';
import { loadPlaybook } from '../engine/playbook.js';
import { RunCommand } from '../ui/run-command.js';
import { commandRuntime } from '../ui/runtime.js';
import { formatTable } from '../ui/table.js';

export default class Doctor extends RunCommand {
  static override summary = 'Preflight: which GitHub and AWS identities cicd-ir acts as, and whether a playbook would be permitted.';
  static override description = `Read-only (clients built as for a dry run). GitHub: GET /user gives the login and the token type; a classic token's x-oauth-scopes are matched against the github:* permissions the actions declare (fine-grained and App tokens: the API does not list their permissions, so those rows are unknown); with --repo, one read endpoint per permission family is probed. AWS: STS GetCallerIdentity, then IAM SimulatePrincipalPolicy for the actions' iam:/sts:/cloudtrail: permissions (an assumed-role session is simulated as its role); CloudTrail LookupEvents (MaxResults 1) per --region. Without --playbook every action cicd-ir ships is checked. Exit 0 all ok, 2 bad input, 3 something is missing or unknown.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> --playbook playbooks/contain-compromised-workflow.yaml --repo acme/web',
    '<%= config.bin %> <%= command.id %> --region us-east-1 --region eu-west-1 --json',
  ];

  static override flags = {
    playbook: Flags.string({ description: 'check the permissions of this playbook\'s actions (default: every action)' }),
    repo: Flags.string({ description: 'owner/name: probe its read endpoints (actions, permissions, secrets, ...)' }),
    region: Flags.string({ description: 'AWS region to reach with CloudTrail (repeatable; default the configured region)', multiple: true }),
  };

  async run(): Promise<DoctorReport | undefined> {
    const { flags } = await this.parse(Doctor);
    const registry = commandRuntime.registry;
    const playbook = flags.playbook ? await loadPlaybook(flags.playbook, { registry }) : undefined;
    // dryRun: doctor only reads; the providers' guard refuses any write as a second net.
    const clients = await commandRuntime.createClients({ dryRun: true, incident: 'doctor', github: {}, aws: {} });
    const report = await runDoctor({ clients, actions: doctorActions(registry, playbook), repo: flags.repo, regions: flags.region ?? [] });
    this.log(formatTable(['check', 'status', 'detail', 'fix'], report.checks.map((check) => [check.check, check.status, check.detail, check.fix ?? ''])));
    this.log(`\n${report.status === 'ok' ? 'all checks ok' : `${report.checks.filter((check) => check.status !== 'ok').length} check(s) need a human`} (exit ${report.exitCode})`);
    if (report.exitCode === 0) return report;
    if (this.jsonEnabled()) this.logJson(report);
    this.exit(report.exitCode);
  }
}
