import type TableType from "cli-table3";
import { createRequire } from "node:module";

// cli-table3 loads on the first table, not with every command (`netdbg --help` prints none)
let Table: typeof TableType | undefined;
const loadTable = (): typeof TableType => {
  Table ??= createRequire(import.meta.url)("cli-table3") as typeof TableType;
  return Table;
};

/** The terminal's width when stdout is one (COLUMNS when set, as shells export it), else undefined: no limit. */
export function terminalWidth(
  stream: { isTTY?: boolean; columns?: number } = process.stdout,
  env = process.env,
): number | undefined {
  const fromEnv = Number(env.COLUMNS);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  return stream.isTTY && stream.columns ? stream.columns : undefined;
}

/** --verbose: every table prints its full text (set once by the context; tables otherwise fit the terminal). */
let fullText = false;
export function showFullText(on: boolean): void {
  fullText = on;
}

const visible = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "");
const longestLine = (s: string) =>
  Math.max(
    0,
    ...visible(s)
      .split("\n")
      .map((l) => [...l].length),
  );

/** Smallest width a column is squeezed to (content plus cli-table3's one space of padding each side). */
const MIN_COLUMN = 8;

/**
 * Column widths (padding included) that make a table of these rows at most `width` characters wide: columns
 * that fit their fair share keep their natural width, the wide ones share the rest in proportion to their
 * content. Undefined when the table already fits or no width is given.
 */
export function fitColumns(
  head: readonly string[],
  rows: readonly (readonly string[])[],
  width: number | undefined,
): number[] | undefined {
  if (width === undefined) return undefined;
  const n = head.length;
  const natural = head.map((h, i) => Math.max(longestLine(h), ...rows.map((r) => longestLine(r[i] ?? ""))) + 2);
  const budget = width - (n + 1); // the vertical borders
  if (natural.reduce((a, b) => a + b, 0) <= budget) return undefined;
  const widths = [...natural];
  let wide = widths.map((_, i) => i);
  // settle the columns that fit in an even share of what is left, until only wide ones remain
  for (;;) {
    const taken = widths.reduce((a, w, i) => (wide.includes(i) ? a : a + w), 0);
    const share = Math.floor((budget - taken) / wide.length);
    const narrow = wide.filter((i) => natural[i]! <= share);
    if (narrow.length === 0) {
      // the wide columns share what is left evenly: one huge cell must not squeeze its neighbours to nothing
      const rest = Math.max(budget - taken, wide.length * MIN_COLUMN);
      let left = rest;
      wide.forEach((i, k) => {
        widths[i] = k === wide.length - 1 ? Math.max(MIN_COLUMN, left) : Math.max(MIN_COLUMN, Math.floor(rest / wide.length));
        left -= widths[i]!;
      });
      return widths;
    }
    wide = wide.filter((i) => !narrow.includes(i));
    if (wide.length === 0) return widths;
  }
}

/** Wrap text to `width` columns at spaces; a word longer than a line is cut into pieces (never dropped). */
export function wrapText(text: string, width: number): string {
  const w = Math.max(1, width);
  return text
    .split("\n")
    .map((para) => {
      const lines: string[] = [];
      let line = "";
      for (let word of para.split(" ")) {
        while ([...word].length > w) {
          const room = line ? w - [...line].length - 1 : w;
          if (room >= 4 || !line) {
            const chars = [...word];
            const take = Math.max(1, room);
            line = line ? `${line} ${chars.slice(0, take).join("")}` : chars.slice(0, take).join("");
            lines.push(line);
            line = "";
            word = chars.slice(take).join("");
          } else {
            lines.push(line);
            line = "";
          }
        }
        if (!line) line = word;
        else if ([...line].length + 1 + [...word].length <= w) line = `${line} ${word}`;
        else {
          lines.push(line);
          line = word;
        }
      }
      lines.push(line);
      return lines.join("\n");
    })
    .join("\n");
}

/**
 * A plain table; colour only when the context allows it (cli-table3 colours even when piped otherwise). Cells
 * wrap so the table fits `width` (default: the terminal's; pass undefined for the full text, e.g. --verbose).
 */
export function table(
  head: string[],
  rows: (string | number)[][],
  color: boolean,
  width: number | undefined = fullText ? undefined : terminalWidth(),
): string {
  const cells = rows.map((r) => r.map(String));
  const colWidths = fitColumns(head, cells, width);
  const t = new (loadTable())({
    head,
    style: color ? {} : { head: [], border: [] },
    ...(colWidths ? { colWidths } : {}),
  });
  t.push(...(colWidths ? cells.map((r) => r.map((cell, i) => wrapText(cell, colWidths[i]! - 2))) : cells));
  return t.toString();
}
