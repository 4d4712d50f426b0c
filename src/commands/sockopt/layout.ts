// Fitting sockopt's --table and --list to the terminal: on a TTY the width
// is COLUMNS (as ls(1) reads it) or the terminal's own; anything else (a
// pipe, a file) is unbounded, so scripts see whole lines.

/** The width to fit: COLUMNS or the terminal's on a TTY, unbounded otherwise. */
export function terminalWidth(stream: NodeJS.WriteStream = process.stdout): number {
  if (!stream.isTTY) return Infinity;
  const env = Number(process.env.COLUMNS);
  if (Number.isInteger(env) && env > 0) return env;
  return stream.columns || 80;
}

/** Text broken at spaces into lines of at most `width` (a longer word stands alone). */
export function wrapText(text: string, width: number): string[] {
  if (text.length <= width) return [text];
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

/** A row: its cells' text, and the colour for them (applied after the widths are measured). */
export interface Row {
  plain: string[];
  paint: (s: string) => string;
}

// a cell's width with its padding (one space each side), and a table's: the cells and n + 1 borders
const cellWidth = (texts: string[]) => Math.max(...texts.map((t) => t.length)) + 2;
const tableWidth = (widths: number[]) => widths.reduce((a, b) => a + b, 0) + widths.length + 1;

/** The columns after the first in runs that fit beside it within `width`. */
function groupsFor(widths: number[], width: number): number[][] {
  const groups: number[][] = [];
  let group: number[] = [];
  for (let i = 1; i < widths.length; i++) {
    if (group.length && tableWidth([widths[0], ...[...group, i].map((j) => widths[j])]) > width) {
      groups.push(group);
      group = [];
    }
    group.push(i);
  }
  groups.push(group);
  return groups;
}

/**
 * The table as one or more tables that fit `width`: all columns when they
 * fit; else the first column (the option) with as many of the others as
 * fit, table after table (the first column narrowed and wrapped when not
 * even one fits beside it); on a terminal narrower still, one table with
 * the widest columns narrowed and their cells wrapped.
 */
export async function fitTable(head: string[], rows: Row[], width: number): Promise<string[]> {
  const natural = head.map((h, i) => cellWidth([h, ...rows.map((r) => r.plain[i])]));
  const fits = (w: number[]) => groupsFor(w, width).every((g) => tableWidth([0, ...g].map((j) => w[j])) <= width);
  let widths = natural;
  if (!fits(widths)) widths = [Math.max(width - 3 - Math.max(...natural.slice(1)), 8), ...natural.slice(1)];
  if (fits(widths)) {
    const wrap = widths[0] !== natural[0] ? widths : undefined;
    return Promise.all(groupsFor(widths, width).map((g) => render(head, rows, [0, ...g], wrap)));
  }
  return [
    await render(
      head,
      rows,
      head.map((_, i) => i),
      narrowed(natural, width),
    ),
  ];
}

/** Column widths narrowed, widest first, until the table fits (no column under 4). */
function narrowed(widths: number[], width: number): number[] {
  const w = [...widths];
  while (tableWidth(w) > width) {
    const widest = w.indexOf(Math.max(...w));
    if (w[widest] <= 4) break;
    w[widest]--;
  }
  return w;
}

/** A cell's text cut into lines of `n` characters, each painted on its own (a colour must not span a wrap). */
function wrapCell(text: string, n: number | undefined, paint: (s: string) => string): string {
  if (n === undefined || n <= 0 || text.length <= n) return paint(text);
  const lines: string[] = [];
  for (let i = 0; i < text.length; i += n) lines.push(paint(text.slice(i, i + n)));
  return lines.join('\n');
}

async function render(head: string[], rows: Row[], columns: number[], colWidths?: number[]): Promise<string> {
  const { default: Table } = await import('cli-table3'); // only --table pays for loading it
  const content = (i: number) => (colWidths ? colWidths[i] - 2 : undefined);
  const t = new Table({
    head: columns.map((i) => wrapCell(head[i], content(i), (x) => x)),
    style: { head: [], border: [], compact: true },
    ...(colWidths ? { colWidths: columns.map((i) => colWidths[i]) } : {}),
  });
  for (const r of rows) t.push(columns.map((i) => wrapCell(r.plain[i], content(i), r.paint)));
  return t.toString();
}
