/**
 * Stopping a running Linux kernel before attaching, for kgdb I/O drivers that do not do it themselves.
 * kgdboe stops the kernel on the first packet from the debugger; kgdboc (kgdb on a serial line) does not, so
 * the kernel must enter kgdb first: SysRq-g. "sysrq-ssh" writes `g` to /proc/sysrq-trigger over SSH (root, or
 * `sudo -n` for another user). That command only returns when the kernel resumes (after `detach`), so it is
 * started, given a moment to stop the kernel, and collected after the session.
 */
import { netdbgError } from "../../core/error.js";
import type { CommandResult, RemoteSession } from "../../core/interfaces.js";
import type { Target } from "../../core/inventory.js";
import type { Context } from "../context.js";

export type BreakInMethod = "none" | "sysrq-ssh";

/** POSIX sh; no value from outside enters it. */
export const SYSRQ_G_COMMAND =
  "if [ \"$(id -u)\" = 0 ]; then echo g > /proc/sysrq-trigger; else sudo -n sh -c 'echo g > /proc/sysrq-trigger'; fi";

export function breakInMethod(target: Target, option: BreakInMethod | undefined): BreakInMethod {
  // --break-in is parsed at the action (connect-options.ts), the inventory's value by its schema
  return option ?? target.transport?.breakIn ?? "none";
}

export interface BreakIn {
  /** Wait (bounded) for the SysRq command to return now that the kernel runs again, then close SSH. */
  finish(): Promise<void>;
}

/**
 * Run SysRq-g over `session`. Resolves once the kernel has had `settleMs` to stop (the command is still
 * running then, as it should be); throws E450 when the command ends early with an error (no root, sudo wants
 * a password, sysrq disabled …).
 */
export async function sysrqBreakIn(ctx: Context, target: Target, session: RemoteSession, settleMs = 1500): Promise<BreakIn> {
  ctx.log.info(`breaking in: SysRq-g on '${target.name}' over SSH`);
  type Outcome = { result: CommandResult } | { error: unknown };
  const running: Promise<Outcome> = session.exec(SYSRQ_G_COMMAND, { timeoutMs: 24 * 3600_000 }).then(
    (result) => ({ result }),
    (error) => ({ error }),
  );
  const early = await Promise.race([running, new Promise<undefined>((r) => setTimeout(() => r(undefined), settleMs))]);
  if (early && "error" in early) {
    await session.close().catch(() => undefined);
    throw netdbgError("E450", { target: target.name, reason: (early.error as Error).message ?? String(early.error) });
  }
  if (early && early.result.exitCode !== 0) {
    await session.close().catch(() => undefined);
    const tail = (early.result.stderr || early.result.stdout).trim().split("\n").slice(-3).join(" / ");
    throw netdbgError("E450", { target: target.name, reason: `exit ${early.result.exitCode}: ${tail || "no output"}` });
  }
  // exit 0 already: the write returned without the kernel stopping (kgdb has no I/O driver); attach will say so
  if (early) ctx.log.warn(`SysRq-g returned at once on '${target.name}': kgdb may have no I/O driver (kgdboc) configured.`);
  return {
    async finish() {
      await Promise.race([running, new Promise((r) => setTimeout(r, 5000))]);
      await session.close().catch(() => undefined);
    },
  };
}
