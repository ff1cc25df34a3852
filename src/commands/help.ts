import { Args, Command, Help } from '@oclif/core';

/** `cicd-ir help contain`: the same help as `cicd-ir contain --help`. */
export default class HelpCommand extends Command {
  static override summary = 'Show help for cicd-ir or one of its commands.';
  static override strict = false;
  static override args = { command: Args.string({ description: 'the command, e.g. contain or lab serve', required: false }) };
  static override examples = ['<%= config.bin %> <%= command.id %> contain', '<%= config.bin %> <%= command.id %> lab serve'];

  async run(): Promise<void> {
    const { argv } = await this.parse(HelpCommand);
    await new Help(this.config, { all: false }).showHelp(argv as string[]);
  }
}
