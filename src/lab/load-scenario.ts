import { readFile } from 'node:fs/promises';
import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import { UsageError, ValidationError, type ValidationIssue } from '../engine/errors.js';
import { Scenario } from './scenario.js';

/** The position of the deepest YAML node that exists along `path` (1-based line and column). */
function locate(doc: Document.Parsed, lines: LineCounter, path: PropertyKey[]): { line: number; col: number } {
  for (let depth = path.length; depth >= 0; depth -= 1) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth) as Array<string | number>, true);
    if (isNode(node) && node.range) return lines.linePos(node.range[0]);
  }
  return { line: 1, col: 1 };
}

/**
 * Reads and validates a lab scenario. Every problem is reported at its file:line:col and
 * raised as one ValidationError (exit 2) before any server starts.
 */
export function parseScenario(text: string, file: string): Scenario {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const error = doc.errors[0]!;
    const position = error.linePos?.[0] ?? lines.linePos(error.pos[0]);
    throw new ValidationError([{ file, ...position, message: `YAML syntax: ${error.message.split('\n')[0]}` }]);
  }
  const result = Scenario.safeParse(doc.toJS({ maxAliasCount: 100 }));
  if (result.success) return result.data;
  const issues: ValidationIssue[] = result.error.issues.map((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    const at = keys.length > 0 ? [...issue.path, keys[0]!] : issue.path;
    const where = issue.path.length > 0 ? issue.path.join('.') : 'scenario';
    return { file, ...locate(doc, lines, at), message: `${where}: ${issue.message}${keys.length > 0 ? ` (${keys.join(', ')})` : ''}` };
  });
  throw new ValidationError(issues.sort((a, b) => a.line - b.line || a.col - b.col));
}

/** Reads a scenario file; an unreadable file is bad input (exit 2) too. */
export async function loadScenario(file: string): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read scenario ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`, [
      'shipped scenarios are in scenarios/ (cicd-ir lab list)',
    ]);
  }
  return parseScenario(text, file);
}
