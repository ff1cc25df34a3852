import { Args } from '@oclif/core';
import { ExitCode } from '../engine/exit-codes.js';
import { PROVIDER_OF } from '../scan/detectors.js';
import { scanPaths, type OfflineScan } from '../scan/files.js';
import { BaseCommand } from '../ui/base-command.js';

/** `cicd-ir scan`: the containment's log scanner on logs collected by hand or from another CI system. */
export default class Scan extends BaseCommand {
  static override summary = 'Scan log files offline for exposed credentials.';
  static override description =
    'Runs the log scanner that contain uses on GitHub run logs over local files: known token formats (GitHub, npm, AWS, ' +
    'Slack, Google, Stripe, PyPI, Docker Hub, GitLab, OpenAI, Azure SAS, JWT, private keys), runner secret dumps and base64-encoded layers (the tj-actions dump). ' +
    'PATH is a log file, a folder (walked; links are not followed), a .zip log archive (each member scanned), a .gz file, ' +
    'or - for standard input. Prints where each credential is, its kind, a preview (the format prefix and the length) and ' +
    'its sha256 fingerprint: never a value. Makes no network call. Exit 3 when a credential is found (revoke it), 0 when ' +
    'none, 2 for a path that cannot be read.';

  static override examples = [
    '<%= config.bin %> <%= command.id %> test/fixtures/logs',
    'cat test/fixtures/logs/deploy.txt | <%= config.bin %> <%= command.id %> - --json',
  ];

  static override strict = false;
  static override args = {
    path: Args.string({ description: 'log file, folder, .zip archive, .gz file, or - for standard input', required: true }),
  };

  async run(): Promise<OfflineScan> {
    const { argv } = await this.parse(Scan);
    const result = await scanPaths(argv as string[]);
    if (!this.jsonEnabled()) this.log(scanText(result));
    if (result.credentials > 0 || result.incomplete > 0) process.exitCode = ExitCode.NeedsHuman;
    return result;
  }
}

/** The human listing: one line per hit, then the totals. */
export function scanText(result: OfflineScan): string {
  const lines: string[] = [];
  for (const file of result.files) {
    for (const hit of file.hits) {
      const where = [hit.job, hit.step].filter(Boolean).join(' / ');
      const encoded = hit.depth > 0 ? ` (base64 x${hit.depth})` : '';
      lines.push(`${hit.source}:${hit.line}: ${hit.kind}${hit.name ? ` ${hit.name}` : ''} ${hit.preview} ${hit.fingerprint}${encoded}${where ? `  [${where}]` : ''}`);
      lines.push(`  ${PROVIDER_OF[hit.kind].provider}: ${PROVIDER_OF[hit.kind].close}`);
    }
    if (file.error) lines.push(`${file.path}: INCOMPLETE: ${file.error}`);
  }
  const guesses = result.hits - result.credentials;
  lines.push(
    `${result.credentials} credential(s)${guesses > 0 ? ` and ${guesses} entropy guess(es)` : ''} in ${result.files.length} file(s)` +
      (result.incomplete > 0 ? `; ${result.incomplete} file(s) could not be read whole` : ''),
  );
  return lines.join('\n');
}
