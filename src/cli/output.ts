import Table from "cli-table3";

/** A plain table; colour only when the context allows it (cli-table3 colours even when piped otherwise). */
export function table(head: string[], rows: (string | number)[][], color: boolean): string {
  const t = new Table({ head, style: color ? {} : { head: [], border: [] } });
  t.push(...rows.map((r) => r.map(String)));
  return t.toString();
}
