/** `netdbg lab …`: the declarations; the work is in lab-run.ts, loaded when a command runs (lazy.ts). */
import type { Command } from "commander";
import { availableParallelism } from "node:os";
import { DEFAULT_SUBNET } from "../../lab/spec.js";
import type { Context } from "../context.js";

export function register(program: Command, ctx: () => Context): void {
  const lab = program
    .command("lab")
    .description("the built-in lab: a real Linux kernel with KGDB under QEMU, reachable at its own address");

  lab
    .command("build")
    .description("build (or reuse from the cache) the lab's kernel, root file system and disk image")
    .option("--jobs <n>", "parallel compile jobs", String(availableParallelism()))
    .option("--prune", "remove cached artifacts that the current inputs no longer use")
    .action(async (o: { jobs: string; prune?: boolean }) => (await import("./lab-run.js")).labBuildCommand(ctx(), o));

  lab
    .command("up")
    .description("start the lab VM (building what is not cached) and register it as inventory target 'lab'")
    .option("--variant <variant>", "kgdb (self-built KGDB kernel) or stock (Debian's kernel, no CONFIG_KGDB)", "kgdb")
    .option("--smp <n>", "virtual CPUs", "1")
    .option(
      "--nic <model>",
      "the guest's NIC: e1000 (default) or virtio (virtio-net has no poll controller: upstream kgdboe refuses it, the bundled module works)",
      "e1000",
    )
    .option("--subnet <cidr>", `private link between this machine and the lab (default ${DEFAULT_SUBNET}, per instance)`)
    .option("--instance <n>", "run a second lab on this machine: its own namespace, veth and subnet (env NETDBG_LAB_INSTANCE)")
    .action(async (o: { variant?: string; smp?: string; nic?: string; subnet?: string; instance?: string }) =>
      (await import("./lab-run.js")).labUpCommand(ctx(), o),
    );

  lab
    .command("status")
    .description("print the running lab's endpoints")
    .action(async () => (await import("./lab-run.js")).labStatusCommand(ctx()));

  lab
    .command("ssh")
    .description("ssh into the lab as root with the lab key (words after -- are the remote command)")
    .argument("[command...]", "remote command")
    .allowUnknownOption()
    .action(async (command: string[]) => (await import("./lab-run.js")).labSshCommand(ctx(), command));

  lab
    .command("break")
    .description("break into kgdb (magic SysRq g via QEMU's monitor); then attach gdb to the kgdboc endpoint")
    .action(async () => (await import("./lab-run.js")).labBreakCommand(ctx()));

  lab
    .command("down")
    .description("stop the lab VM and remove its network namespace and veth")
    .option("--instance <n>", "the instance to clean up when no lab state is left (env NETDBG_LAB_INSTANCE)")
    .action(async (o: { instance?: string }) => (await import("./lab-run.js")).labDownCommand(ctx(), o));
}
