import { Args, Flags } from '@oclif/core';
import { runDirFromArg } from '../engine/run-dir.js';
import { BaseCommand } from '../ui/base-command.js';
import { parseFormats, REPORT_FORMATS, writeReports } from '../report/index.js';

/** `cicd-ir report RUN`: writes the timeline report of a run from its journal. */
export default class Report extends BaseCommand {
  static override summary = 'Write the timeline report of a run (Markdown, HTML, JSON, Timesketch).';
  static override description =
    'Reads the run journal and writes report.md, report.html, report.json and timesketch.jsonl/.csv ' +
    'into the run folder (or --out). Open items (credentials still reachable and not rotated, unverified ' +
    'steps) come first. No secret value is ever written: tokens and keys appear as fingerprints or key ids.';
  static override examples = [
    '<%= config.bin %> report 2025-03-14T17-05-00Z-ir-2025-0314',
    '<%= config.bin %> report .cicd-ir/runs/2025-03-14T17-05-00Z-ir-2025-0314 --format md,html',
    '<%= config.bin %> report RUN_ID --format timesketch --out ./for-timesketch --json',
  ];
  static override args = {
    run: Args.string({ description: 'run id (under --runs-dir) or the path of a run folder', required: true }),
  };
  static override flags = {
    format: Flags.string({ description: `comma-separated: ${REPORT_FORMATS.join(',')}`, default: REPORT_FORMATS.join(',') }),
    out: Flags.string({ description: 'folder to write into (default: the run folder)' }),
    'runs-dir': Flags.string({ description: 'where run folders live', default: '.cicd-ir/runs' }),
  };

  async run(): Promise<{ runDir: string; files: string[] }> {
    const { args, flags } = await this.parse(Report);
    const formats = parseFormats(flags.format);
    const runDir = runDirFromArg(args.run, flags['runs-dir']);
    const files = await writeReports(runDir, formats, flags.out ? { outDir: flags.out } : {});
    if (!this.jsonEnabled()) for (const file of files) this.log(file);
    return { runDir, files };
  }
}
