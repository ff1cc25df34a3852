/**
 * A plain-text table: one header row and left-aligned columns separated by two spaces; a cell
 * may hold several lines. oclif 4 ships no table helper, and this is all `actions list` needs.
 */
export function formatTable(headers: string[], rows: string[][]): string {
  const split = (cell: string): string[] => cell.split('\n');
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
