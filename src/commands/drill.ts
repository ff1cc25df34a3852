import { writeFile } from 'node:fs/promises';
import { Flags } from '@oclif/core';
import { parseDuration } from '../aws/duration.js';
import { UsageError } from '../engine/errors.js';
import { drillJunit } from '../drill/junit.js';
import { drillText, runDrill, type DrillResult } from '../drill/index.js';
import { faultProfileNames } from '../lab/faults.js';
import { RunCommand } from '../ui/run-command.js';

export default class Drill extends RunCommand {
  static override summary = 'Rehearse an incident: play a lab scenario, contain it as responders would, and score the containment.';
  static override description = `Starts the lab from SCENARIO (the attacker's history already played), runs the containment
exactly as \`contain\` does, plays the attacker's after-containment steps, hunts CloudTrail again,
and scores: time to contain within --slo, every reachable credential rotated or revoked (or
declared expect_open by the scenario and listed OPEN by the report), no attacker success after
containment, no secret value in any output, journal or report. Exit 0 passed, 1 failed (each
failed criterion says why), 2 bad input.

--target live drills a real sandbox instead (Stratus Red Team style): it checks the AWS
credentials are in --sandbox-account, detonates a canary access key on --canary-user and stores
it in --sandbox-repo's secrets (read by --sandbox-workflow), contains, proves the stolen key
refused, and always deletes what it created, after a failure too.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> --lab scenarios/tj-actions-log-leak.yaml',
    '<%= config.bin %> <%= command.id %> --lab scenarios/grafana-missed-credential.yaml --faults aws-throttled --slo 90s --junit drill.xml',
    '<%= config.bin %> <%= command.id %> --target live --sandbox-account 111122223333 --sandbox-repo acme/ir-sandbox',
  ];

  static override flags = {
    lab: Flags.string({ description: 'scenario file to drill on (the built-in lab)' }),
    target: Flags.string({ description: 'lab: the built-in lab; live: a real sandbox account and repository', options: ['lab', 'live'], default: 'lab' }),
    'sandbox-account': Flags.string({ description: 'live: the sandbox AWS account id (the drill refuses any other)' }),
    'sandbox-repo': Flags.string({ description: 'live: owner/name of the sandbox repository' }),
    'sandbox-workflow': Flags.string({ description: 'live: the sandbox workflow that reads the canary secrets', default: '.github/workflows/cicd-ir-canary.yml' }),
    'canary-user': Flags.string({ description: 'live: the sandbox IAM user that carries the canary key (no permissions)', default: 'cicd-ir-drill-canary' }),
    faults: Flags.string({ description: 'lab fault profile', options: faultProfileNames }),
    slo: Flags.string({ description: 'time-to-contain objective (e.g. 60s, 2m)', default: '60s' }),
    junit: Flags.string({ description: 'write JUnit XML here (one testcase per criterion and per attacker step)' }),
    out: Flags.string({ description: 'runs folder (default .cicd-ir/runs)' }),
    // Internal: tests point the drill at a playbook with the same inputs (one missing a step).
    playbook: Flags.string({ hidden: true }),
  };

  async run(): Promise<DrillResult | undefined> {
    const { flags } = await this.parse(Drill);
    const sloMs = parseSlo(flags.slo);
    const common = { sloMs, ...(flags.out && { out: flags.out }), ...(flags.playbook && { playbookFile: flags.playbook }) };
    let result: DrillResult;
    if (flags.target === 'live') {
      if (!flags['sandbox-account'] || !flags['sandbox-repo']) throw new UsageError('--target live needs --sandbox-account and --sandbox-repo');
      const { runLiveDrill } = await import('../drill/live.js');
      result = await runLiveDrill({
        ...common,
        sandboxAccount: flags['sandbox-account'],
        sandboxRepo: flags['sandbox-repo'],
        workflow: flags['sandbox-workflow'],
        canaryUser: flags['canary-user'],
      });
    } else {
      if (!flags.lab) throw new UsageError('drill needs --lab SCENARIO (or --target live with --sandbox-account and --sandbox-repo)');
      result = await runDrill({ ...common, scenarioFile: flags.lab, ...(flags.faults && { faults: flags.faults }) });
    }
    if (flags.junit) await writeFile(flags.junit, drillJunit(result), 'utf8');
    if (!this.jsonEnabled()) this.log(drillText(result));
    if (result.exitCode === 0) return result;
    if (this.jsonEnabled()) this.logJson(result);
    this.exit(result.exitCode);
  }
}

function parseSlo(text: string): number {
  try {
    const ms = parseDuration(text);
    if (ms > 0) return ms;
  } catch {
    // reported below with the flag's name
  }
  throw new UsageError(`--slo ${text}: expected a duration like 60s, 90s or 2m`);
}
