import { readFileSync } from "node:fs";
import type { Command, Option } from "commander";
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
  if (!isMapping(data)) throw netdbgError("E012", { file, problem: "the top level must be a mapping of option names to values" });
  const allCommands = (c: Command): Command[] => [c, ...c.commands.flatMap(allCommands)];
  const known = new Set(allCommands(root).flatMap((c) => c.options.map((o) => o.attributeName())));
  const commandNames = new Set(allCommands(root).map((c) => c.name()));
  const section = data[action.name()];
  const flat: [string, unknown][] = Object.entries(data).filter(([k]) => !commandNames.has(k));
  if (isMapping(section)) flat.push(...Object.entries(section));
  for (const [rawKey, value] of flat) {
    const key = camel(rawKey);
    if (!known.has(key)) throw netdbgError("E012", { file, problem: `'${rawKey}' is not an option of any netdbg command` });
    const options = action.options.filter((o) => o.attributeName() === key);
    if (options.length === 0) continue;
    const source = action.getOptionValueSource(key);
    if (source === "cli" || source === "env") continue;
    action.setOptionValueWithSource(key, optionValue(file, rawKey, value, options), "config");
  }
}

/** Parsed YAML (or a section of it) that is a mapping: the one untyped bag, checked key by key below. */
function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * A config value as the option would get it from the command line: a flag (`--reboot`, `--no-kdnic`) takes
 * true or false, an option with a value a string or number (a list for a variadic one). Anything else is E012:
 * `reboot: no` is the string "no" in YAML 1.2, and must not switch the flag on.
 */
function optionValue(file: string, key: string, value: unknown, options: readonly Option[]): unknown {
  const takesValue = options.some((o) => o.required || o.optional);
  const scalar = (v: unknown) => typeof v === "string" || typeof v === "number";
  if (!takesValue) {
    if (typeof value === "boolean") return value;
    throw netdbgError("E012", { file, problem: `'${key}' is a flag: give true or false, not ${JSON.stringify(value)}` });
  }
  if (scalar(value)) return typeof value === "number" ? String(value) : value;
  if (Array.isArray(value) && options.some((o) => o.variadic) && value.every(scalar)) return value.map(String);
  if (value === true && options.some((o) => o.optional)) return value;
  throw netdbgError("E012", { file, problem: `'${key}' takes a value (text or a number), not ${JSON.stringify(value)}` });
}
