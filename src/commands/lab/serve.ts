import { Args, Flags } from '@oclif/core';
import { faultProfileNames } from '../../lab/faults.js';
import { BaseCommand } from '../../ui/base-command.js';

/** `cicd-ir lab serve SCENARIO`: the lab's GitHub, IAM, STS and CloudTrail on loopback ports until Ctrl-C. */
export default class LabServe extends BaseCommand {
  static override summary = 'Serve a lab scenario: local GitHub REST, IAM, STS and CloudTrail endpoints.';
  static override description = `Starts the lab on 127.0.0.1 and prints the endpoints and the lab's own (fake) credentials as
environment variables, so curl, the AWS CLI, gh or another cicd-ir can talk to it. The
attacker's history is already in the lab's CloudTrail. Stops on Ctrl-C (SIGINT) or SIGTERM.`;

  static override examples = [
    '<%= config.bin %> lab serve scenarios/tj-actions-log-leak.yaml',
    '<%= config.bin %> lab serve scenarios/grafana-missed-credential.yaml --faults flaky-github --base-port 4010',
  ];

  static override args = {
    scenario: Args.string({ description: 'scenario file (scenarios/*.yaml)', required: true }),
  };

  static override flags = {
    faults: Flags.string({ description: 'fault profile', options: faultProfileNames, default: 'none' }),
    seed: Flags.integer({ description: "override the scenario's seed" }),
    'base-port': Flags.integer({ description: 'first of eight consecutive ports (github, iam, sts, cloudtrail, npm, organizations, account, ec2); default: free ports' }),
  };

  async run(): Promise<{ endpoints: Record<string, string>; env: Record<string, string> }> {
    const { args, flags } = await this.parse(LabServe);
    const { startLab } = await import('../../lab/index.js');
    const lab = await startLab(args.scenario, {
      faults: flags.faults,
      ...(flags.seed !== undefined && { seed: flags.seed }),
      ...(flags['base-port'] !== undefined && { basePort: flags['base-port'] }),
    });
    const { aws, github, npm } = lab.providerConfig;
    // The lab's credentials are fake and only open the lab: printing them is how a person uses it.
    const env = {
      GITHUB_API_URL: lab.endpoints.github,
      GH_TOKEN: github.token!,
      AWS_ENDPOINT_URL_IAM: lab.endpoints.iam,
      AWS_ENDPOINT_URL_STS: lab.endpoints.sts,
      AWS_ENDPOINT_URL_CLOUDTRAIL: lab.endpoints.cloudtrail,
      AWS_ENDPOINT_URL_ORGANIZATIONS: lab.endpoints.organizations!,
      AWS_ENDPOINT_URL_ACCOUNT: lab.endpoints.account!,
      AWS_ENDPOINT_URL_EC2: lab.endpoints.ec2!,
      AWS_ACCESS_KEY_ID: aws.credentials!.accessKeyId,
      AWS_SECRET_ACCESS_KEY: aws.credentials!.secretAccessKey,
      AWS_REGION: aws.region ?? 'us-east-1',
      NPM_CONFIG_REGISTRY: npm!.registryUrl!,
      NPM_TOKEN: npm!.token!,
    };
    if (!this.jsonEnabled()) {
      this.log(`lab "${lab.scenario.name}" serving (faults: ${flags.faults}); Ctrl-C stops it`);
      for (const [name, value] of Object.entries(env)) this.log(`export ${name}=${value}`);
    } else {
      this.logJson({ endpoints: lab.endpoints, env });
    }
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await lab.close();
    return { endpoints: lab.endpoints, env };
  }
}
