/**
 * The per-target lock: one netdbg process at a time sets up or tears down a target (its journal, its boot
 * configuration or module, its host firewall rule). A second process stops at once with NETDBG-E016 naming the
 * holder and changes nothing, or waits with `--wait <seconds>`. `--check` runs take no lock: they change nothing.
 */
import { join } from "node:path";
import { netdbgError } from "../core/error.js";
import { withNamedLock } from "../io/lock.js";
import type { Context } from "./context.js";
import { withInterrupts } from "./interrupt.js";

/** `--wait <seconds>` as milliseconds (0 when not given). */
export function parseWait(raw: unknown): number {
  if (raw === undefined || raw === false) return 0;
  const text = String(raw).trim();
  const n = /^\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isFinite(n) || n < 0 || n > 86_400) {
    throw netdbgError("E003", {
      option: "--wait",
      value: text,
      reason: "expected a number of seconds from 0 to 86400",
      fix: "Pass --wait <seconds>, e.g. --wait 600.",
    });
  }
  return Math.round(n * 1000);
}

export function targetLockFile(ctx: Context, name: string): string {
  return join(ctx.paths.state, "locks", `${name}.lock`);
}

/** The two flags the lock reads, as the command gives them: `--check` (no lock) and `--wait <seconds>`. */
export interface TargetLockFlags {
  readonly check?: unknown;
  readonly wait?: unknown;
}

/**
 * Run `fn` holding `name`'s lock (`verb` is what this process does to it: "setup", "teardown"). `--wait` is
 * parsed here, the one place that reads it (parseWait: E003 for a bad value).
 */
export async function withTargetLock<T>(
  ctx: Context,
  name: string,
  verb: string,
  opts: TargetLockFlags,
  fn: () => Promise<T>,
): Promise<T> {
  // parsed before --check returns: a bad --wait is an error there too, not ignored
  const waitMs = parseWait(opts.wait);
  if (opts.check) return fn();
  return withNamedLock(
    targetLockFile(ctx, name),
    { waitMs, command: `netdbg ${verb} ${name}`, what: `target '${name}'`, waitFlag: true },
    // inside the lock: an interrupted run releases it on its way out
    () => withInterrupts(ctx, fn),
  );
}
