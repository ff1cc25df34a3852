import { safeText } from '../engine/safe-text.js';

/**
 * A plain-text table: one header row and left-aligned columns separated by two spaces; a cell
 * given as a list holds one line per entry. oclif 4 ships no table helper.
 * Each line of a cell passes through safeText: cells hold names and details from APIs, and a
 * line break inside a string cell is shown (`\x0a`), so a value cannot print a row of its own.
 */
export function formatTable(headers: string[], rows: Array<Array<string | readonly string[]>>): string {
  const split = (cell: string | readonly string[]): string[] => (typeof cell === 'string' ? [cell] : [...cell]).map(safeText);
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.flatMap((row) => split(row[column] ?? '').map((line) => line.length))),
  );
  const renderLine = (cells: string[]): string =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd();
  const out = [renderLine(headers), renderLine(widths.map((width) => '-'.repeat(width)))];
  for (const row of rows) {
    const cells = headers.map((_, column) => split(row[column] ?? ''));
    const height = Math.max(...cells.map((lines) => lines.length));
    for (let line = 0; line < height; line++) out.push(renderLine(cells.map((lines) => lines[line] ?? '')));
  }
  return out.join('\n');
}
