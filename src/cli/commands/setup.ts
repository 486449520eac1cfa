import type { Command } from "commander";
import type { Context } from "../context.js";
import * as linux from "../os/linux.js";
import * as windows from "../os/windows.js";
import { notAvailable } from "./not-available.js";

/**
 * `netdbg setup <target>`: dispatches to the target OS's module (src/cli/os/<os>.ts). Flags for both kinds are
 * declared here once; each OS module reads the ones it understands and rejects ones that do not apply.
 */
export function register(program: Command, ctx: () => Context): void {
  program
    .command("setup")
    .description("provision a target for network kernel debugging, then hand off to the debugger")
    .argument("[target]", "inventory target name (the wizard asks when omitted)")
    .option("--check", "plan only: print every command byte for byte, change nothing")
    .option("--accept-new-host-key", "trust an SSH host key seen for the first time")
    .option("--nic <name>", "the target NIC to debug through (name, alias or PCI bus.dev.fn)")
    .option("--port <port>", "host UDP port (49152–65535)")
    .option("--host-ip <ip>", "host address the target sends to (default: discovered)")
    .option("--no-connect", "do not attach after setup; print the windbg / gdb command lines")
    .option("--force", "go on despite a warning that can be overridden (the consequence is printed)")
    .option("--no-kdnic", "Windows: add NO_KDNIC to the debug entry's loadoptions")
    .option("--make-default", "Windows: make the debug entry the default instead of a one-time boot")
    .option("--reboot", "Windows: reboot into the debug entry and wait for it")
    .option("--kgdboe-source <src>", "Linux: git URL, local directory or tarball of kgdboe")
    .option("--install-deps", "Linux: install missing headers and toolchain without asking")
    .option("--persist", "Linux: load kgdboe at every boot (systemd unit)")
    .option("--apply-cmdline", "Linux: apply the kernel command-line advice (nokaslr, …)")
    .option("--force-single-core <0|1>", "Linux: kgdboe force_single_core (default 1)")
    .action(async (name: string | undefined, opts: Record<string, unknown>) => {
      const c = ctx();
      if (!name) notAvailable("The setup wizard", "Name a target: 'netdbg setup <target>' (see 'netdbg targets add').");
      const target = await c.inventory.get(name);
      await (target.os === "windows" ? windows : linux).setup(c, target, opts);
    });
}
