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
failed criterion says why), 2 bad input.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> --lab scenarios/tj-actions-log-leak.yaml',
    '<%= config.bin %> <%= command.id %> --lab scenarios/grafana-missed-credential.yaml --faults aws-throttled --slo 90s --junit drill.xml',
  ];

  static override flags = {
    lab: Flags.string({ description: 'scenario file to drill on (the built-in lab)', required: true }),
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
    const result = await runDrill({
      scenarioFile: flags.lab,
      sloMs,
      ...(flags.faults && { faults: flags.faults }),
      ...(flags.out && { out: flags.out }),
      ...(flags.playbook && { playbookFile: flags.playbook }),
    });
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
