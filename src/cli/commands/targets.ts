/** `netdbg targets …`: the declarations; the work is in targets-run.ts, loaded when a command runs (lazy.ts). */
import type { Command } from "commander";
import type { Context } from "../context.js";
import type { TargetFlags } from "./targets-run.js";

function targetOptions(cmd: Command): Command {
  return cmd
    .option("--os <os>", "windows or linux")
    .option("--address <addr>", "target IPv4/IPv6 address or DNS name")
    .option("--ssh-host <host>", "SSH host or ~/.ssh/config alias (default: the address)")
    .option("--ssh-user <user>", "SSH user")
    .option("--ssh-port <port>", "SSH port")
    .option("--identity-file <file>", "SSH private key")
    .option("--port <port>", "host UDP debug port (49152–65535; default: the first free of 50000–50039)")
    .option("--nic <nic>", "target NIC to debug through")
    .option("--host-ip <ip>", "host address the target sends to (default: discovered at setup)")
    .option("--target-port <port>", "Linux: kgdboe UDP port on the target (default 31337)")
    .option("--group <group...>", "inventory groups (for fleets)")
    .option("--note <text>", "free-form note");
}

export function register(program: Command, ctx: () => Context): void {
  const targets = program.command("targets").description("the inventory of debug targets");

  targetOptions(targets.command("add").description("add a target (Windows targets get a fresh KDNET key)").argument("<name>"))
    .option("--no-key", "Windows: do not generate a KDNET key now")
    .option("--reuse-key", "Windows: keep a key already stored under this name (by default such an orphaned key is replaced)")
    .action(async (name: string, f: TargetFlags) => (await import("./targets-run.js")).targetsAddCommand(ctx(), name, f));

  targets
    .command("list")
    .description("list targets")
    .action(async () => (await import("./targets-run.js")).targetsListCommand(ctx()));

  targets
    .command("show")
    .description("show one target")
    .argument("<name>")
    .action(async (name: string) => (await import("./targets-run.js")).targetsShowCommand(ctx(), name));

  targetOptions(targets.command("edit").description("change fields of a target").argument("<name>")).action(
    async (name: string, f: TargetFlags) => (await import("./targets-run.js")).targetsEditCommand(ctx(), name, f),
  );

  targets
    .command("remove")
    .description("remove a target from the inventory (and its stored key)")
    .argument("<name>")
    .option("--keep-key", "keep the stored KDNET key")
    .action(async (name: string, f: { keepKey?: boolean }) =>
      (await import("./targets-run.js")).targetsRemoveCommand(ctx(), name, f),
    );
}
