import { safeText } from '../engine/safe-text.js';
import type { HuntResult } from './model.js';

/** The findings table the `hunt` command prints: severity, kind, identity, time, summary. */
export function formatFindings(result: HuntResult): string {
  // Identities, user agents and summaries come from CloudTrail: attacker text, one safe line each.
  const rows = result.findings.map((finding) => [finding.severity.toUpperCase(), finding.kind, finding.identity, finding.at ?? '-', finding.summary].map(safeText));
  const header = ['SEVERITY', 'KIND', 'IDENTITY', 'TIME', 'SUMMARY'];
  const widths = header.slice(0, 4).map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (row: string[]) => row.map((cell, column) => (column < 4 ? cell.padEnd(widths[column]!) : cell)).join('  ');
  const stats = result.stats;
  const lines = [
    result.findings.length ? [line(header), ...rows.map(line)].join('\n') : 'No findings.',
    '',
    `Scanned ${stats.recordsRead} records (${[
      ...(stats.filesRead ? [`${stats.filesRead} files`] : []),
      ...Object.entries(stats.requests ?? {}).map(([region, count]) => `${count} requests in ${region}`),
    ].join(', ') || 'no input'}); matched ${stats.recordsMatched}; hunted ${result.identities.length} identities in ${stats.rounds} round(s).`,
  ];
  if (stats.skipped.length) lines.push(`Skipped ${stats.skipped.length} malformed input(s):`, ...stats.skipped.map((skip) => `  ${safeText(skip.path)}: ${safeText(skip.reason)}`));
  if (result.provisional) lines.push('PROVISIONAL: the window reaches the last 15 minutes; CloudTrail may still deliver events (re-run or use --follow).');
  if (result.findings.some((finding) => finding.severity === 'critical')) lines.push('CRITICAL: a compromised credential was used successfully after its cutoff. Containment failed: act now.');
  return lines.join('\n');
}
