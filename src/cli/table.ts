/** Left-aligned columns, as `column -t` would print them; the last column is not padded. */
export function formatTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => (row[i] ?? '').length)));
  return [header, ...rows].map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '));
}

/**
 * Text cut into lines of at most `width` characters at spaces (the first line
 * `firstWidth`); a word longer than a line (a long path) is cut where the
 * line ends.
 */
export function wrapText(text: string, width: number, firstWidth = width): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ').filter((w) => w !== '')) {
    for (let rest = word; rest !== '';) {
      const lineWidth = lines.length === 0 ? firstWidth : width;
      const room = line === '' ? lineWidth : lineWidth - line.length - 1;
      if (rest.length <= room) {
        line = line === '' ? rest : `${line} ${rest}`;
        rest = '';
      } else if (line !== '') {
        lines.push(line);
        line = '';
      } else {
        lines.push(rest.slice(0, lineWidth));
        rest = rest.slice(lineWidth);
      }
    }
  }
  if (line !== '') lines.push(line);
  return lines.length === 0 ? [''] : lines;
}
