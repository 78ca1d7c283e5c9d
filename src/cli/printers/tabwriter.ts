// Column alignment as Go's text/tabwriter does it, which kubectl uses for both `get` tables and
// `describe` output. A cell is text terminated by a tab; the text after a line's last tab is not a
// cell and is never padded. Consecutive lines that have a cell in the same column form a block,
// and the block's width is its widest cell plus padding (at least minWidth).

export interface TabwriterOptions {
  minWidth: number;
  padding: number;
}

/** kubectl get: printers.GetNewTabWriter (minwidth 6, padding 3). */
export const TABLE_LAYOUT: TabwriterOptions = { minWidth: 6, padding: 3 };
/** kubectl describe: tabwriter.NewWriter(out, 0, 8, 2, ' ', 0). */
export const DESCRIBE_LAYOUT: TabwriterOptions = { minWidth: 0, padding: 2 };

function textWidth(s: string): number {
  return [...s].length;
}

/** Aligns tab-separated text; every line of the input ends with '\n' (a missing last one is kept missing). */
export function tabwrite(text: string, opts: TabwriterOptions): string {
  const endsWithNewline = text.endsWith('\n');
  const lines = (endsWithNewline ? text.slice(0, -1) : text).split('\n').map((l) => l.split('\t'));
  const out: string[] = [];
  const widths: number[] = [];

  const writeLines = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const cells = lines[i];
      let s = '';
      cells.forEach((c, j) => {
        s += c;
        if (j < cells.length - 1 && j < widths.length) s += ' '.repeat(Math.max(0, widths[j] - textWidth(c)));
      });
      out.push(s);
    }
  };

  // Go's tabwriter.format: recursively find column blocks, one column deeper per level.
  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    for (let cur = line0; cur < line1; cur++) {
      if (column >= lines[cur].length - 1) continue;
      writeLines(line0, cur);
      line0 = cur;
      let width = opts.minWidth;
      for (; cur < line1 && column < lines[cur].length - 1; cur++) {
        width = Math.max(width, textWidth(lines[cur][column]) + opts.padding);
      }
      widths.push(width);
      format(line0, cur);
      widths.pop();
      // The line that ended the block has no cell in this column, so skipping it is safe.
      line0 = cur;
    }
    writeLines(line0, line1);
  };

  format(0, lines.length);
  return out.join('\n') + (endsWithNewline ? '\n' : '');
}
