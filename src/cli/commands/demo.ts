/**
 * `netdbg demo` and `netdbg demo serve`: the declarations. The demo itself is demo-run.ts, the served targets
 * demo-serve.ts; both load only when their command runs (lazy.ts says why).
 */
import type { Command } from "commander";
import type { Context } from "../context.js";
import type { DemoOptions } from "./demo-run.js";
import type { ServeOptions } from "./demo-serve.js";

export function register(program: Command, ctx: () => Context): void {
  const demo = program
    .command("demo")
    .description("the whole journey against built-in targets on loopback (setup, connect, teardown): no hardware, no root")
    .option("--os <os>", "on a terminal, which debugger prompt to open: windows (default) or linux")
    .option("--keep", "keep the demo's state directory (inventory, keys, journals) instead of removing it")
    .option("--kgdboe-source <src>", "the kgdboe source the Linux setup uploads (default: the repository's kgdboe-compat)")
    .action(async (opts: DemoOptions) => (await import("./demo-run.js")).runDemo(ctx(), opts));
  registerServe(demo, ctx);
}

export function registerServe(demo: Command, ctx: () => Context): void {
  demo
    .command("serve")
    .description(
      "keep N built-in targets running on 127.0.0.1 until interrupted, and write an Ansible and a netdbg inventory for them",
    )
    .option("--count <n>", "how many targets (Windows and Linux alternately; 1-256)", "2")
    .option("--os <os>", "both (default), windows or linux")
    .option("--debug-hosts <names>", "spread the targets over these debug hosts (comma-separated; default: localhost)")
    .option("--port-base <port>", "the first debug host's port range starts here (each gets 64 ports)", "50000")
    .option("--dir <dir>", "write the inventories and SSH material here (default: a new temporary directory)")
    .action(async (opts: ServeOptions) => {
      const c = ctx();
      const { serveTargets } = await import("./demo-serve.js");
      const served = await serveTargets(opts);
      const summary = {
        dir: served.dir,
        ansibleInventory: served.ansibleInventory,
        netdbgInventory: served.netdbgInventory,
        knownHosts: served.knownHosts,
        debugHosts: served.debugHosts,
        targets: served.targets.map(({ name, os, debugHost, ssh, targetPort }) => ({
          name,
          os,
          debugHost,
          ssh: `${ssh.user}@${ssh.host}:${ssh.port}`,
          ...(targetPort ? { targetPort } : {}),
        })),
      };
      if (c.opts.json) c.json(summary);
      else {
        c.out(`${served.targets.length} built-in targets on 127.0.0.1 (Ctrl-C stops them):`);
        c.out(`  Ansible inventory: ${served.ansibleInventory}`);
        c.out(`  netdbg inventory:  ${served.netdbgInventory}`);
        c.out(
          `Try: netdbg --state-dir "$(mktemp -d)" --ansible-inventory ${served.ansibleInventory} --debug-host ${served.debugHosts[0]?.name} setup --all --no-connect --no-host-firewall`,
        );
      }
      // stay up until SIGINT/SIGTERM, then stop every peer and exit 0 (the user asked for it)
      await new Promise<void>((done) => {
        const stop = () => {
          process.removeListener("SIGINT", stop);
          process.removeListener("SIGTERM", stop);
          void served.close().finally(done);
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
      if (!c.opts.json) c.log.info("demo serve: targets stopped");
    });
}
