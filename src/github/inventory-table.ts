import type { InventoryItem } from '../engine/evidence.js';
import type { WorkflowUse } from './workflow-uses.js';

/** Plain text table: a header, a rule, and columns padded to their widest cell. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].map((l) => l.trimEnd()).join('\n');
}

/**
 * The inventory as a responder reads it: what is reachable, where it is defined, what it
 * opens, who rotates it, which jobs reach it, and what rotates it. One line per job so a long
 * job list stays readable.
 */
export function inventoryTable(items: InventoryItem[]): string {
  if (items.length === 0) return 'nothing reachable';
  const rows: string[][] = [];
  for (const item of items) {
    const jobs = [...item.jobs].sort();
    jobs.forEach((job, i) =>
      rows.push(i === 0 ? [item.name, item.kind, item.scope, item.opens ?? 'unknown', item.owner ?? 'unknown', job, item.rotation] : ['', '', '', '', '', job, '']),
    );
  }
  return table(['SECRET/IDENTITY', 'KIND', 'WHERE DEFINED', 'OPENS', 'OWNER', 'JOBS', 'ROTATION'], rows);
}

export function workflowUsesTable(matches: WorkflowUse[]): string {
  if (matches.length === 0) return 'no workflow uses it';
  return table(['REPOSITORY', 'WORKFLOW', 'JOB', 'USES'], matches.map((m) => [m.repo, m.workflow, m.job, m.uses]));
}
