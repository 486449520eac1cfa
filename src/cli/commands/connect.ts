import type { Command } from "commander";
import type { Context } from "../context.js";
import * as linux from "../os/linux.js";
import * as windows from "../os/windows.js";

/** `netdbg connect <target>`: the embedded debugger (dispatches to src/cli/os/<os>.ts). */
export function register(program: Command, ctx: () => Context): void {
  program
    .command("connect")
    .description("attach the embedded debugger: KDNET + KD for Windows, GDB remote protocol over UDP for kgdboe")
    .argument("<target>", "inventory target name")
    .option("--exec <commands>", "run ';'-separated debugger commands and exit")
    .option("--port <port>", "override the target's host UDP port")
    .option("--timeout <seconds>", "give up waiting for the target after this long")
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
    .action(async (name: string, opts: Record<string, unknown>) => {
      const c = ctx();
      const target = await c.inventory.get(name);
      await (target.os === "windows" ? windows : linux).connect(c, target, opts);
    });
}
