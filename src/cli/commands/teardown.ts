import type { Command } from "commander";
import type { Context } from "../context.js";
import { linkOptions } from "./setup.js";

/** `netdbg teardown <target>`: undo every recorded change, host firewall included. */
export function register(program: Command, ctx: () => Context): void {
  linkOptions(program.command("teardown"))
    .description("undo every change netdbg made to a target and this host's firewall, from the target's change journal")
    .argument("<target>", "inventory target name")
    .option("--check", "print the undo plan, change nothing")
    .option("--restore-export <file>", "Windows: restore the BCD store exported before setup (when the journal is lost)")
    .action(async (name: string, opts: Record<string, unknown>) => {
      const c = ctx();
      const { parseTeardownRequest } = await import("../options.js");
      const request = parseTeardownRequest(opts);
      const target = await c.inventory.get(name);
      const { withTargetLock } = await import("../target-lock.js");
      const { teardownTarget } = await import("../setup-run.js");
      await withTargetLock(c, name, "teardown", request, () => teardownTarget(c, target, request));
    });
}
