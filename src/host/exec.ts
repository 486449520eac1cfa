/**
 * Small helpers over the ports, shared by route, firewall and IPsec probes (and by doctor later).
 */
import { netdbgError } from "../core/error.js";
import type { PowerShellRunner } from "../core/interfaces.js";
import { shCommand } from "../core/quote.js";

/** The display form of an argv: exactly what runs, quoted for a POSIX shell. */
export function display(argv: readonly string[]): string {
  return shCommand(argv);
}

export function lastLines(text: string, n = 3): string {
  return text.trim().split("\n").slice(-n).join(" / ").slice(0, 400);
}

/** Parse the last non-empty line of a command's stdout as JSON; E103 when it is not JSON. */
export function parseJsonLine<T>(stdout: string, command: string): T {
  const lines = stdout
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const last = lines.at(-1);
  if (last === undefined) throw netdbgError("E103", { command, problem: "it printed nothing" });
  try {
    return JSON.parse(last) as T;
  } catch {
    throw netdbgError("E103", { command, problem: `expected one JSON line, got '${last.slice(0, 80)}'` });
  }
}

/**
 * Invoke a PowerShell script (values only as `param()` parameters) and parse its one JSON line. A non-zero
 * exit is NETDBG-E111 with the script's stderr tail.
 */
export async function psJson<T>(
  ps: PowerShellRunner,
  what: string,
  script: string,
  params: Record<string, string | number | boolean | readonly string[]> = {},
): Promise<T> {
  const r = await ps.invoke(script, params);
  if (r.exitCode !== 0) throw netdbgError("E111", { what, detail: lastLines(r.stderr || r.stdout) || `exit ${r.exitCode}` });
  return parseJsonLine<T>(r.stdout, `PowerShell: ${what}`);
}
