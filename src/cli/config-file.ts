import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { parse } from "yaml";
import { netdbgError } from "../core/error.js";

const camel = (k: string) => k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * `--config <file>`: a YAML mapping of option names (kebab- or camelCase) to values, optionally with a section per
 * command (`setup: {...}`). Values fill only options the command line did not set. A key no command knows is an
 * error (a typo must not be ignored silently).
 */
export function applyConfigFile(file: string, root: Command, action: Command): void {
  let data: unknown;
  try {
    data = parse(readFileSync(file, "utf8"));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EACCES") throw netdbgError("E013", { file, reason: (e as Error).message });
    throw netdbgError("E012", { file, problem: (e as Error).message.split("\n")[0] ?? "YAML syntax error" });
  }
  if (data === null || data === undefined) return;
  if (typeof data !== "object" || Array.isArray(data))
    throw netdbgError("E012", { file, problem: "the top level must be a mapping of option names to values" });
  const allCommands = (c: Command): Command[] => [c, ...c.commands.flatMap(allCommands)];
  const known = new Set(allCommands(root).flatMap((c) => c.options.map((o) => o.attributeName())));
  const commandNames = new Set(allCommands(root).map((c) => c.name()));
  const entries = Object.entries(data as Record<string, unknown>);
  const section = (data as Record<string, unknown>)[action.name()];
  const flat: [string, unknown][] = entries.filter(([k]) => !commandNames.has(k));
  if (section && typeof section === "object" && !Array.isArray(section))
    flat.push(...Object.entries(section as Record<string, unknown>));
  for (const [rawKey, value] of flat) {
    const key = camel(rawKey);
    if (!known.has(key)) throw netdbgError("E012", { file, problem: `'${rawKey}' is not an option of any netdbg command` });
    if (!action.options.some((o) => o.attributeName() === key)) continue;
    const source = action.getOptionValueSource(key);
    if (source === "cli" || source === "env") continue;
    action.setOptionValueWithSource(key, typeof value === "number" ? String(value) : value, "config");
  }
}
