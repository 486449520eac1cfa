import type { Command } from "commander";
import { netdbgError } from "../../core/error.js";
import type { Target } from "../../core/inventory.js";
import { type ConnectFlags, type ConnectRequest, parseConnectRequest } from "../connect-options.js";
import type { Context } from "../context.js";
import { DEFAULT_KDNET_PORT } from "../options.js";
import { connectFor } from "./lazy.js";
import { startWaitSpinner } from "../wait-spinner.js";

/** How long connect waits for a target by default before it gives up with the likely causes. */
export const DEFAULT_CONNECT_TIMEOUT_SECONDS = 15;

/**
 * Whether this host's change journal records a setup of the target. A damaged journal counts as set up (the
 * commands that read it report the damage); a target never set up from here has no journal at all.
 */
export async function setUpFromHere(c: Context, name: string): Promise<boolean> {
  try {
    const { FileJournalStore } = await import("../../io/journal-store.js");
    const j = await new FileJournalStore(c.paths.journals).load(name);
    return j.entries.some((e) => e.status === "applied");
  } catch {
    return true;
  }
}

/** What connect waits for, for the spinner. */
function waitingFor(t: Target, req: ConnectRequest): string {
  if (t.os === "windows")
    return `the first KDNET poke from ${t.name} (${t.address}) on UDP port ${req.port ?? t.port ?? DEFAULT_KDNET_PORT}`;
  const ep = req.endpoint ?? `udp:${t.address}:${t.transport?.targetPort ?? 31337}`;
  return `kgdboe on ${t.name} to answer the GDB remote protocol at ${ep}`;
}

/** `netdbg connect <target>`: the embedded debugger (dispatches by OS: lazy.ts connectFor). */
export function register(program: Command, ctx: () => Context): void {
  program
    .command("connect")
    .description("attach the embedded debugger: KDNET + KD for Windows, GDB remote protocol over UDP for kgdboe")
    .argument("<target>", "inventory target name")
    .option("--exec <commands>", "run ';'-separated debugger commands and exit")
    .option("--port <port>", "override the target's host UDP port")
    .option("--timeout <seconds>", `give up waiting for the target after this long (default ${DEFAULT_CONNECT_TIMEOUT_SECONDS})`)
    .option("--no-setup-check", "connect even though this host's journal records no setup (a target set up by hand)")
    .option(
      "--endpoint <spec>",
      "linux: talk RSP to udp:HOST:PORT[@LOCALPORT] or tcp:HOST:PORT instead of the inventory's kgdboe address",
    )
    .option("--vmlinux <file>", "linux: the target kernel's unstripped vmlinux, for symbols")
    .option("--arch <arch>", "linux: x86_64 or arm64 (default: from --vmlinux, else x86_64)")
    .option(
      "--break-in <method>",
      "linux: stop the running kernel first: sysrq-ssh (SysRq-g over SSH, for kgdboc) or none (kgdboe does it itself)",
    )
    .option("--accept-new-host-key", "linux, --break-in sysrq-ssh: trust an SSH host key seen for the first time")
    .action(async (name: string, flags: ConnectFlags) => {
      // the flags, parsed once: a bad value is a usage error before anything is looked up or listened to
      const parsed = parseConnectRequest(flags);
      const req: ConnectRequest = { ...parsed, timeoutS: parsed.timeoutS ?? DEFAULT_CONNECT_TIMEOUT_SECONDS };
      const c = ctx();
      const target = await c.inventory.get(name);
      // Never set up from here: nothing listens for a debugger, so say so now instead of waiting for a timeout.
      // An explicit --endpoint points at a debugger stub the user started themselves.
      if (req.setupCheck && req.endpoint === undefined && !(await setUpFromHere(c, name))) {
        throw netdbgError("E714", {
          target: name,
          detail: "",
          hint: " If you set it up by hand, connect with --no-setup-check.",
        });
      }
      const spinner =
        process.stderr.isTTY && !c.opts.json
          ? startWaitSpinner((s) => `waiting for ${waitingFor(target, req)} — ${s.toFixed(1)} s of ${req.timeoutS} s`)
          : undefined;
      try {
        await (await connectFor(target.os))(c, target, req);
      } finally {
        spinner?.stop();
      }
    });
}
