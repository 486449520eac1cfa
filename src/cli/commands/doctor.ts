/** `netdbg doctor`: the declaration; the checks run in doctor-run.ts, loaded when the command runs (lazy.ts). */
import type { Command } from "commander";
import { netdbgError } from "../../core/error.js";
import type { Context } from "../context.js";
import type { DoctorCliOptions } from "../doctor-deps.js";

function checkListenSeconds(v: string | undefined): void {
  if (v === undefined) return;
  const n = Number(v);
  if (!(n > 0 && n <= 120)) {
    throw netdbgError("E003", {
      option: "--listen-seconds",
      value: v,
      reason: "not a number of seconds from 0 to 120",
      fix: "Pass e.g. --listen-seconds 6 (KDNET targets poke every ~3 s).",
    });
  }
}

export function register(program: Command, ctx: () => Context): void {
  program
    .command("doctor")
    .description("read-only checks with a verdict and a fix each; exit 1 when any check fails")
    .argument("[target]", "a target name (default: every target in the inventory)")
    .option("--no-ssh", "do not open SSH to the target (target checks are skipped; the firewall check is static)")
    .option(
      "--listen-seconds <s>",
      "how long to listen for a Windows target's KDNET pokes (default 6; 1.5 for a target never set up)",
    )
    .option("--accept-new-host-key", "trust an SSH host key seen for the first time")
    .action(async (name: string | undefined, opts: DoctorCliOptions) => {
      const c = ctx();
      checkListenSeconds(opts.listenSeconds);
      await (await import("./doctor-run.js")).runDoctor(c, name, opts);
    });
}
