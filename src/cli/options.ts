import { netdbgError } from "../core/error.js";
import type { Target } from "../core/inventory.js";

/** KDNET's default host port, used when neither --port nor the inventory says otherwise. */
export const DEFAULT_KDNET_PORT = 50000;

/** The host UDP port a Windows debugger command listens on: --port, else the target's, else 50000. */
export function kdnetPortOption(raw: unknown, target: Target): number {
  const port = raw !== undefined ? Number(raw) : (target.port ?? DEFAULT_KDNET_PORT);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw netdbgError("E003", {
      option: "--port",
      value: String(raw),
      reason: "a UDP port is a whole number 1–65535",
      fix: "Use e.g. --port 50000.",
    });
  }
  return port;
}
