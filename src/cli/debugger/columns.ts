import Table from "cli-table3";

/**
 * Debugger output in plain columns (WinDbg's and gdb's look: no borders, two spaces between columns), through
 * cli-table3 so that every column is separated however long its cells are.
 */
export function columns(rows: string[][], head?: string[]): string {
  const none = {
    top: "",
    "top-mid": "",
    "top-left": "",
    "top-right": "",
    bottom: "",
    "bottom-mid": "",
    "bottom-left": "",
    "bottom-right": "",
    left: "",
    "left-mid": "",
    mid: "",
    "mid-mid": "",
    right: "",
    "right-mid": "",
    middle: "  ",
  };
  const t = new Table({
    chars: none,
    style: { head: [], border: [], "padding-left": 0, "padding-right": 0 },
    ...(head ? { head } : {}),
  });
  t.push(...rows);
  return t
    .toString()
    .split("\n")
    .map((l) => l.trimEnd())
    .join("\n");
}
