/**
 * Kernel .config parser. Layout checked against the Debian 12 .config excerpt in
 * test/fixtures/linux/debian12-6.1.0-56-amd64-config-excerpt.txt (`CONFIG_X=y`, `CONFIG_X="str"`,
 * `# CONFIG_X is not set`) and scripts/kconfig/confdata.c's writer (the same three forms).
 * Accepts text as people paste it: CRLF, leading blanks, `$ grep …` prompts, grep's `file:` prefixes.
 */

export type KconfigValue = string;

export interface KernelConfig {
  /** Option name WITHOUT the `CONFIG_` prefix → value: `y`, `m`, `n` (for "is not set"), or the string/number. */
  options: Record<string, KconfigValue>;
}

const SET = /(?:^|[\s:])CONFIG_([A-Za-z0-9_]+)=(.*)$/;
const UNSET = /#\s*CONFIG_([A-Za-z0-9_]+) is not set\s*$/;

export function parseKernelConfig(text: string): KernelConfig {
  const options: Record<string, KconfigValue> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    const unset = UNSET.exec(line);
    if (unset) {
      options[unset[1]!] = "n";
      continue;
    }
    if (line.startsWith("#")) continue;
    const set = SET.exec(line);
    if (!set) continue;
    let value = set[2]!.trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
      value = value.slice(1, -1).replace(/\\(["\\])/g, "$1");
    }
    options[set[1]!] = value;
  }
  return { options };
}

const bare = (name: string) => (name.startsWith("CONFIG_") ? name.slice("CONFIG_".length) : name);

/** The value of an option (with or without the CONFIG_ prefix); undefined when the text does not mention it. */
export function kconfigValue(cfg: KernelConfig, name: string): KconfigValue | undefined {
  return cfg.options[bare(name)];
}

/** `y` or `m`. */
export function kconfigEnabled(cfg: KernelConfig, name: string): boolean {
  const v = kconfigValue(cfg, name);
  return v === "y" || v === "m";
}

/**
 * Options kgdboe needs: the `#error`s of https://github.com/sysprogs/kgdboe (kgdboe_main.c, nethook.c: KGDB, NETPOLL,
 * TRACEPOINTS) plus what its runtime symbol lookups need (KALLSYMS, KALLSYMS_ALL) and module loading.
 */
export const KGDBOE_REQUIRED = ["KGDB", "NETPOLL", "TRACEPOINTS", "KALLSYMS", "KALLSYMS_ALL", "MODULES"] as const;
