import type { Command } from "commander";
import type { Context } from "../context.js";
import * as linux from "../os/linux.js";
import * as windows from "../os/windows.js";

/** `netdbg teardown <target>`: undo every recorded change (dispatches to src/cli/os/<os>.ts). */
export function register(program: Command, ctx: () => Context): void {
  program
    .command("teardown")
    .description("undo every change netdbg made to a target, from its change journal")
    .argument("<target>", "inventory target name")
    .option("--check", "print the undo plan, change nothing")
    .option("--accept-new-host-key", "trust an SSH host key seen for the first time")
    .option("--restore-export <file>", "Windows: restore the BCD store exported before setup (when the journal is lost)")
    .option("--via <transport>", "Windows: reach the target over ssh (default) or winrm (Invoke-Command; netdbg on Windows)")
    .action(async (name: string, opts: Record<string, unknown>) => {
      const c = ctx();
      const target = await c.inventory.get(name);
      await (target.os === "windows" ? windows : linux).teardown(c, target, opts);
    });
}
