import { mkdir, rename, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { BugError, UsageError } from '../engine/errors.js';
import { type Timeline, ReportSchema } from './model.js';
import { readJournalForReport } from './read.js';
import { renderHtml } from './render-html.js';
import { renderMarkdown } from './render-markdown.js';
import { renderTimesketchCsv, renderTimesketchJsonl } from './render-timesketch.js';
import { scrubSecrets } from './scrub.js';
import { safeBlock, safeJson } from '../engine/safe-text.js';
import { buildTimeline } from './timeline.js';

export { buildTimeline, type BuildTimelineOptions } from './timeline.js';
export { readJournalForReport, parseJournalText } from './read.js';
export { reportJsonSchema, reportJsonSchemaText, type Timeline, type TimelineEntry } from './model.js';

/** What `cicd-ir report --format` accepts; `timesketch` writes both the JSONL and the CSV. */
export const REPORT_FORMATS = ['md', 'html', 'json', 'timesketch'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** One output file's content. */
export type RenderFormat = 'md' | 'html' | 'json' | 'timesketch-jsonl' | 'timesketch-csv';

const FILE_NAMES: Record<RenderFormat, string> = {
  md: 'report.md',
  html: 'report.html',
  json: 'report.json',
  'timesketch-jsonl': 'timesketch.jsonl',
  'timesketch-csv': 'timesketch.csv',
};

/**
 * Renders one output. The JSON is checked against the published schema before it is
 * returned, and every output passes through scrubSecrets() once more as the last net.
 */
export function renderReport(timeline: Timeline, format: RenderFormat): string {
  let text: string;
  switch (format) {
    case 'md':
      // Cells are made safe one by one; this pass catches any value a renderer forgot.
      text = safeBlock(renderMarkdown(timeline));
      break;
    case 'html':
      text = renderHtml(timeline);
      break;
    case 'json': {
      const checked = ReportSchema.safeParse(timeline);
      if (!checked.success) throw new BugError(`report does not match its schema: ${checked.error.issues[0]?.message ?? ''} at ${checked.error.issues[0]?.path.join('.')}`);
      text = `${safeJson(checked.data)}\n`;
      break;
    }
    case 'timesketch-jsonl':
      text = renderTimesketchJsonl(timeline);
      break;
    case 'timesketch-csv':
      text = renderTimesketchCsv(timeline);
      break;
  }
  return scrubSecrets(text);
}

/** Parses `md,html,json,timesketch` (the `--format` flag); throws UsageError (exit 2) on an unknown one. */
export function parseFormats(list: string): ReportFormat[] {
  const formats = list
    .split(',')
    .map((f) => f.trim().toLowerCase())
    .filter(Boolean);
  const unknown = formats.filter((f) => !(REPORT_FORMATS as readonly string[]).includes(f));
  if (unknown.length) throw new UsageError(`unknown report format ${unknown.join(', ')}: use ${REPORT_FORMATS.join(', ')}`);
  if (formats.length === 0) throw new UsageError(`no report format given: use ${REPORT_FORMATS.join(', ')}`);
  return [...new Set(formats)] as ReportFormat[];
}

export interface WriteReportsOptions {
  /** Folder to write into; default the run folder. */
  outDir?: string;
  /** Pinned `generatedAt` (tests). */
  now?: Date;
}

/**
 * Reads `<runDir>/journal.jsonl`, builds the report and writes the asked formats
 * (`report.md`, `report.html`, `report.json`, `timesketch.jsonl` + `timesketch.csv`).
 * Returns the paths written. The engine calls it at the end of `contain`; `cicd-ir report` too.
 */
export async function writeReports(runDir: string, formats: readonly ReportFormat[] = REPORT_FORMATS, options: WriteReportsOptions = {}): Promise<string[]> {
  const { records, warnings } = await readJournalForReport(runDir);
  const timeline = buildTimeline(records, { runId: basename(resolve(runDir)), warnings, ...(options.now ? { now: options.now } : {}) });
  const outDir = options.outDir ?? runDir;
  await mkdir(outDir, { recursive: true, mode: 0o700 });
  const renders: RenderFormat[] = formats.flatMap((f): RenderFormat[] => (f === 'timesketch' ? ['timesketch-jsonl', 'timesketch-csv'] : [f]));
  const written: string[] = [];
  for (const format of renders) {
    const path = join(outDir, FILE_NAMES[format]);
    const tmp = `${path}.tmp-${process.pid}`;
    await writeFile(tmp, renderReport(timeline, format), { encoding: 'utf8', mode: 0o600 });
    // Rename so a reader (or a crash) never sees half a report.
    await rename(tmp, path);
    written.push(path);
  }
  return written;
}
