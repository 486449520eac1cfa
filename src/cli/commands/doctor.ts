/** `netdbg doctor`: the declaration; the checks run in doctor-run.ts, loaded when the command runs (lazy.ts). */
import type { Command } from "commander";
import { parseTimeoutSeconds } from "../connect-options.js";
import type { Context } from "../context.js";
import type { DoctorRequest } from "../doctor-deps.js";

/** The flags as commander gives them. */
interface DoctorFlags {
  ssh?: boolean;
  listenSeconds?: string;
  acceptNewHostKey?: boolean;
}

/** Parsed once, before anything runs: --listen-seconds is seconds from 0 to 120. */
function parseDoctorRequest(f: DoctorFlags): DoctorRequest {
  return {
    ssh: f.ssh !== false,
    ...(f.listenSeconds !== undefined ? { listenSeconds: parseTimeoutSeconds(f.listenSeconds, "--listen-seconds", 120) } : {}),
    acceptNewHostKey: Boolean(f.acceptNewHostKey),
  };
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
    .action(async (name: string | undefined, flags: DoctorFlags) => {
      const req = parseDoctorRequest(flags);
      const c = ctx();
      await (await import("./doctor-run.js")).runDoctor(c, name, req);
    });
}
