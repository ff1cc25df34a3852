import { Args } from '@oclif/core';
import { CicdIrError, ValidationError, type ValidationIssue } from '../engine/errors.js';
import { loadPlaybook } from '../engine/playbook.js';
import { BaseCommand } from '../ui/base-command.js';

/** What `validate --json` prints when every file is valid. */
export interface ValidateResult {
  files: Array<{ file: string; name: string; steps: number }>;
}

export default class Validate extends BaseCommand {
  static override summary = 'Check playbooks without running them.';
  static override description =
    'Reads each playbook and reports every problem as file:line:col: message (YAML syntax, unknown keys, wrong types, ' +
    'unknown actions, dangling needs, cycles, expressions naming unknown inputs, steps or outputs). ' +
    'Makes no API call. Exit code 2 when any file has a problem.';

  static override examples = [
    '<%= config.bin %> <%= command.id %> playbooks/contain-compromised-workflow.yaml',
    '<%= config.bin %> <%= command.id %> playbooks/*.yaml playbooks/examples/*.yaml --json',
  ];

  static override strict = false;
  static override args = {
    file: Args.string({ description: 'playbook file(s) to validate', required: true }),
  };

  async run(): Promise<ValidateResult> {
    const { argv } = await this.parse(Validate);
    const result: ValidateResult = { files: [] };
    const issues: ValidationIssue[] = [];
    for (const file of argv as string[]) {
      try {
        const playbook = await loadPlaybook(file);
        result.files.push({ file, name: playbook.name, steps: playbook.steps.length });
        this.log(`${file}: ok`);
      } catch (error) {
        if (error instanceof ValidationError) issues.push(...error.issues);
        // An unreadable file is one more issue, so the other files are still checked.
        else if (error instanceof CicdIrError) issues.push({ file, line: 1, col: 1, message: error.message });
        else throw error;
      }
    }
    if (issues.length > 0) throw new ValidationError(issues);
    return result;
  }
}
