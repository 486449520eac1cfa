/**
 * Debug-port allocation: one unique host UDP port per target. Pure policy; whether a port is bound by a local
 * process is asked through `isFree` (an io adapter tries to bind it).
 */
import { netdbgError } from "../core/error.js";
import { DEBUG_PORT_MAX, DEBUG_PORT_MIN, DEFAULT_PORT_RANGE, type Inventory } from "../core/inventory.js";

export type PortProbe = (port: number) => Promise<boolean>;

/** The one port parser (src/core/udp-port.ts; re-exported here for the allocator's callers). */
export { parsePort } from "../core/udp-port.js";

function holder(inv: Inventory, port: number, except?: string): string | undefined {
  return inv.targets.find((t) => t.port === port && t.name !== except)?.name;
}

/** Check a requested port: in range, not held by another target, not bound locally. */
export async function claimPort(inv: Inventory, port: number, isFree: PortProbe, forTarget?: string): Promise<number> {
  const other = holder(inv, port, forTarget);
  if (other) {
    throw netdbgError("E003", {
      option: "--port",
      value: String(port),
      reason: `target '${other}' already uses it`,
      fix: "Each target needs its own port: pick another, or leave --port out to get a free one.",
    });
  }
  if (!(await isFree(port))) {
    throw netdbgError("E003", {
      option: "--port",
      value: String(port),
      reason: "a local process has UDP port bound already",
      fix: "Stop that process or pick another port (see 'ss -ulpn').",
    });
  }
  return port;
}

/** The first port of the inventory's range (default 50000–50039) that no target holds and no local process has bound. */
export async function allocatePort(inv: Inventory, isFree: PortProbe, forTarget?: string): Promise<number> {
  const range = inv.portRange ?? DEFAULT_PORT_RANGE;
  for (let p = range.from; p <= range.to; p++) {
    if (holder(inv, p, forTarget)) continue;
    if (await isFree(p)) return p;
  }
  throw netdbgError("E003", {
    option: "--port",
    value: "(automatic)",
    reason: `every port of ${range.from}–${range.to} is held by a target or a local process`,
    fix: `Pass --port with a free port in ${DEBUG_PORT_MIN}–${DEBUG_PORT_MAX}, or remove targets you no longer use.`,
  });
}
