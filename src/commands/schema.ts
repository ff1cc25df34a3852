import { playbookJsonSchema } from '../engine/playbook-schema.js';
import { BaseCommand } from '../ui/base-command.js';

export default class Schema extends BaseCommand {
  static override summary = 'Print the JSON Schema of the playbook format.';
  static override description =
    "Generated from the schema the validator uses, with each registered action's with: parameters. " +
    'Editors complete and check playbooks against it: a first line ' +
    '"# yaml-language-server: $schema=<path>/playbook.schema.json" does it in VS Code with the YAML extension.';

  static override examples = ['<%= config.bin %> <%= command.id %> > docs/playbook.schema.json'];

  async run(): Promise<object> {
    await this.parse(Schema);
    const schema = playbookJsonSchema();
    // Written as is (not through oclif's formatter) so the output is byte-stable for docs/.
    if (!this.jsonEnabled()) process.stdout.write(`${JSON.stringify(schema, null, 2)}\n`);
    return schema;
  }
}
