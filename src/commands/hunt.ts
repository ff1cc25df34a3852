import { Flags } from '@oclif/core';
import { BaseCommand } from '../ui/base-command.js';
import { ExitCode } from '../engine/exit-codes.js';
import { findingKey, followHunt, hunt, requestFromFlags, type HuntClients, type HuntRequest, type HuntResult } from '../hunt/index.js';
import { withLab } from '../ui/lab-session.js';
import { formatFindings } from '../hunt/format.js';

/** `cicd-ir hunt`: was a compromised credential used after it should have died, and did anything succeed? */
export default class Hunt extends BaseCommand {
  static override summary = 'Hunt CloudTrail for use of compromised credentials.';
  static override description = 'Exit 3 when a critical finding exists (a call succeeded after revocation: containment failed), 0 otherwise.';
  static override examples = [
    '<%= config.bin %> hunt --access-key-id ASIA... --cutoff 2026-11-20T12:30:00Z --region us-east-1 --region eu-west-1',
    '<%= config.bin %> hunt --source files --path s3://trail-bucket/org --oidc-subject repo:acme/web:ref:refs/heads/main --job-completed-at 2026-11-20T12:10:00Z',
  ];
  static override flags = {
    source: Flags.string({ options: ['api', 'files', 'athena'], default: 'api', description: 'where CloudTrail records come from' }),
    path: Flags.string({ description: 'files source: a directory, a file, or s3://bucket/prefix (AWSLogs layout)' }),
    'access-key-id': Flags.string({ multiple: true, description: 'a compromised access key id (AKIA/ASIA)' }),
    'role-arn': Flags.string({ multiple: true, description: 'a role whose sessions are compromised' }),
    'session-name': Flags.string({ description: 'only this session name of --role-arn' }),
    'oidc-subject': Flags.string({ multiple: true, description: "the workflow's OIDC sub claim" }),
    'user-name': Flags.string({ multiple: true, description: 'an IAM user whose keys are compromised' }),
    cutoff: Flags.string({ description: 'revocation / key deactivation time (ISO): a success after it is critical' }),
    'job-completed-at': Flags.string({ description: "the job's completed_at (ISO)" }),
    'skew-seconds': Flags.integer({ default: 300, description: 'margin after completed_at' }),
    since: Flags.string({ description: 'start of the compromise window (ISO); earlier events are the baseline' }),
    until: Flags.string({ description: 'end of the window (ISO; default now)' }),
    region: Flags.string({ multiple: true, default: ['us-east-1'], description: 'regions to hunt, each in its own 2 requests/s budget' }),
    'athena-table': Flags.string({ description: 'athena source: DATABASE.TABLE' }),
    'athena-location': Flags.string({ description: 'athena source: s3://bucket/prefix of the trail' }),
    'athena-account': Flags.string({ description: 'athena source: account id in the AWSLogs path' }),
    follow: Flags.boolean({ default: false, description: 're-poll every minute and print new findings (Ctrl-C to stop)' }),
    lab: Flags.string({ description: "hunt the built-in lab's CloudTrail, started from this scenario file" }),
  };

  async run(): Promise<HuntResult> {
    const { flags } = await this.parse(Hunt);
    const request = requestFromFlags(flags);
    const result = await withLab(flags.lab, undefined, async (lab) => {
      // The same client factory every command uses; the lab only fills in endpoints and keys.
      const { createClients } = await import('../providers/index.js');
      const clients = createClients({ dryRun: false, incident: 'hunt', github: {}, aws: { region: flags.region[0], ...lab?.providerConfig.aws } });
      try {
        return await this.hunt(request, clients, flags.follow);
      } finally {
        clients.destroy();
      }
    });
    if (result.findings.some((finding) => finding.severity === 'critical')) process.exitCode = ExitCode.NeedsHuman;
    return result;
  }

  private async hunt(request: HuntRequest, clients: HuntClients, follow: boolean): Promise<HuntResult> {
    let result: HuntResult | undefined;
    if (follow) {
      const seen = new Set<string>();
      const controller = new AbortController();
      process.once('SIGINT', () => controller.abort());
      for await (result of followHunt(request, clients, { signal: controller.signal })) {
        const fresh = result.findings.filter((finding) => !seen.has(findingKey(finding)));
        for (const finding of fresh) seen.add(findingKey(finding));
        if (!this.jsonEnabled() && fresh.length) this.log(formatFindings({ ...result, findings: fresh }));
      }
    }
    result ??= await hunt(request, clients);
    if (!follow && !this.jsonEnabled()) this.log(formatFindings(result));
    return result;
  }
}
