/** `netdbg host …`: the declarations; the work is in host-run.ts, loaded when a command runs (lazy.ts). */
import type { Command } from "commander";
import type { Context } from "../context.js";
import type { FirewallCliOptions } from "./host-run.js";

export function register(program: Command, ctx: () => Context): void {
  const host = program
    .command("host")
    .description("show the local address, interface and route this machine uses to reach a target")
    .argument("[target]", "a target name, IP address or DNS name (default: every target in the inventory)")
    .action(async (query: string | undefined) => (await import("./host-run.js")).hostCommand(ctx(), query));
  registerFirewall(host, ctx);
  host
    .command("ipsec")
    .description("read-only: would an IPsec policy drop the target's plain UDP debug traffic? (prints the exemption to add)")
    .argument("<target>", "a target name, IP address or DNS name")
    .option("--port <port>", "the local UDP port (default: the target's port from the inventory)")
    .action(async (query: string, opts: FirewallCliOptions) => (await import("./host-run.js")).ipsecCommand(ctx(), query, opts));
}

function registerFirewall(host: Command, ctx: () => Context): void {
  const fw = host
    .command("firewall")
    .description("open, close or show this machine's inbound UDP rule for a target's debug traffic (named netdbg-udp-<port>)");
  for (const op of ["open", "close", "status"] as const) {
    const sub = fw
      .command(op)
      .argument("<target>", "a target name, IP address or DNS name")
      .option("--port <port>", "the local UDP port (default: the target's port from the inventory)")
      .description(
        op === "open"
          ? "allow inbound UDP <port> from the target's address only, through the firewall in charge"
          : op === "close"
            ? "remove the rule netdbg added"
            : "show whether the rule is in place (exit 1 when it is missing)",
      );
    if (op !== "status") sub.option("--check", "print the exact commands (and their undo) without running them");
    sub.action(async (query: string, opts: FirewallCliOptions) =>
      (await import("./host-run.js")).firewallCommand(ctx(), op, query, opts),
    );
  }
}
