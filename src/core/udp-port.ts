/**
 * Host UDP debug ports: the range bcdedit accepts, the default allocation range, and the ONE parser every
 * command uses for a port flag or argument (a coded E003 naming the option, never a bare NaN). Kept free of
 * zod and the inventory so the eagerly loaded command modules can parse with it.
 */
import { netdbgError } from "./error.js";

export const DEBUG_PORT_MIN = 49152;
export const DEBUG_PORT_MAX = 65535;
export const DEFAULT_PORT_RANGE = { from: 50000, to: 50039 } as const;
/** Any UDP port (a local port to bind, a debugger's own port): for `parsePort`'s range. */
export const ANY_UDP_PORT = { min: 1, max: 65535 } as const;

/** A port flag: a whole number in `range` (default: the debug range 49152–65535). */
export function parsePort(
  raw: string | number,
  option = "--port",
  range: { min: number; max: number } = { min: DEBUG_PORT_MIN, max: DEBUG_PORT_MAX },
): number {
  const text = String(raw).trim();
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(n) || n < range.min || n > range.max) {
    const debug = range.min === DEBUG_PORT_MIN && range.max === DEBUG_PORT_MAX;
    throw netdbgError("E003", {
      option,
      value: text,
      reason: debug
        ? `a debug port must be a whole number from ${DEBUG_PORT_MIN} to ${DEBUG_PORT_MAX} (bcdedit refuses lower ports)`
        : `a UDP port is a whole number ${range.min}–${range.max}`,
      fix: debug
        ? `Pick a port in ${DEBUG_PORT_MIN}–${DEBUG_PORT_MAX}, or leave ${option} out to get one from ${DEFAULT_PORT_RANGE.from}–${DEFAULT_PORT_RANGE.to}.`
        : `Pass a port in ${range.min}–${range.max}, e.g. 50000.`,
    });
  }
  return n;
}
