/**
 * Kernel config text (the `.config` format written by kconfig: `CONFIG_X=y|m|"str"|123` and
 * `# CONFIG_X is not set`), checked against linux-source-6.1's scripts/kconfig output and
 * test/fixtures/linux config files.
 */

/** option name (with CONFIG_ prefix) -> value; "n" for `# … is not set`. */
export type Kconfig = Map<string, string>;

export function parseKconfig(text: string): Kconfig {
  const out: Kconfig = new Map();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    const unset = /^# (CONFIG_[A-Za-z0-9_]+) is not set$/.exec(line);
    if (unset?.[1]) {
      out.set(unset[1], "n");
      continue;
    }
    if (line === "" || line.startsWith("#")) continue;
    const m = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/.exec(line);
    if (!m?.[1] || m[2] === undefined) throw new Error(`not a kconfig line: ${line}`);
    out.set(m[1], m[2]);
  }
  return out;
}

/** Fragment assignments that the final config does not honour (an unset option counts as "n"). */
export function unmetAssignments(fragment: Kconfig, final: Kconfig): string[] {
  const bad: string[] = [];
  for (const [k, want] of fragment) {
    const have = final.get(k) ?? "n";
    if (have !== want) bad.push(`${k}=${want} (got ${have})`);
  }
  return bad;
}
