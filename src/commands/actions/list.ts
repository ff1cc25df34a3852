import { actions } from '../../actions/index.js';
import { BaseCommand } from '../../ui/base-command.js';
import { formatTable } from '../../ui/table.js';

/** One row of `actions list --json`. */
export interface ActionSummary {
  id: string;
  summary: string;
  mutating: boolean;
  permissions: string[];
  outputs: string[];
}

export default class ActionsList extends BaseCommand {
  static override summary = 'List the actions playbooks can use, with the permissions each needs.';
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json'];

  async run(): Promise<{ actions: ActionSummary[] }> {
    await this.parse(ActionsList);
    const rows: ActionSummary[] = [...actions]
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((action) => ({
        id: action.id,
        summary: action.summary,
        mutating: action.mutating,
        permissions: [...action.permissions],
        outputs: Object.keys(action.outputs),
      }));
    if (rows.length === 0) {
      this.log('No actions are registered.');
    } else {
      this.log(
        formatTable(
          ['ID', 'MUTATING', 'SUMMARY', 'PERMISSIONS'],
          rows.map((row) => [row.id, row.mutating ? 'yes' : 'no', row.summary, row.permissions]),
        ),
      );
    }
    return { actions: rows };
  }
}
