import type { Command } from "commander";
import type { Context } from "../context.js";

/** `netdbg teardown <target>`: undo every recorded change, host firewall included. */
export function register(program: Command, ctx: () => Context): void {
  program
    .command("teardown")
    .description("undo every change netdbg made to a target and this host's firewall, from the target's change journal")
    .argument("<target>", "inventory target name")
    .option("--check", "print the undo plan, change nothing")
    .option("--accept-new-host-key", "trust an SSH host key seen for the first time")
    .option("--restore-export <file>", "Windows: restore the BCD store exported before setup (when the journal is lost)")
    .option("--via <transport>", "Windows: reach the target over ssh (default) or winrm (Invoke-Command; netdbg on Windows)")
    .option(
      "--winrm-credential <file>",
      "Windows, --via winrm: log on with the PSCredential saved by 'Get-Credential | Export-Clixml <file>' (needed outside a domain)",
    )
    .option("--winrm-user <user>", "Windows, --via winrm: log on as this account; its password is asked on the terminal")
    .option(
      "--wait <seconds>",
      "when another netdbg is setting up or tearing down this target, wait this long for it (default: stop at once, E016)",
    )
    .action(async (name: string, opts: Record<string, unknown>) => {
      const c = ctx();
      const target = await c.inventory.get(name);
      const { withTargetLock } = await import("../target-lock.js");
      const { teardownTarget } = await import("../setup-run.js");
      await withTargetLock(c, name, "teardown", opts, () => teardownTarget(c, target, opts));
    });
}
