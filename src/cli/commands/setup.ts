import type { Command } from "commander";
import { netdbgError } from "../../core/error.js";
import { isValidAddress, type Target, TARGET_NAME } from "../../core/inventory.js";
import type { Context } from "../context.js";
import { fleetExitCode, runFleet } from "../fleet.js";
import * as linux from "../os/linux.js";
import * as windows from "../os/windows.js";
import { table } from "../output.js";
import { createPrompter, type Prompter, requireFlags } from "../prompts.js";

/** Set up one target: dispatch to its OS module (src/cli/os/<os>.ts). */
export async function setupOne(ctx: Context, target: Target, opts: Record<string, unknown>): Promise<void> {
  await (target.os === "windows" ? windows : linux).setup(ctx, target, opts);
}

/**
 * The wizard's first part: who the target is. It asks only for what the inventory and flags do not say, then
 * records the target; the OS module then plans (and asks nothing itself).
 */
async function wizardTarget(ctx: Context, ask: Prompter): Promise<Target> {
  const inv = await ctx.inventory.load();
  const NEW = "\u0000new";
  if (inv.targets.length) {
    const pick = await ask.select({
      flag: "target",
      message: "Which target?",
      choices: [
        ...inv.targets.map((t) => ({ value: t.name, name: `${t.name} (${t.os}, ${t.address})` })),
        { value: NEW, name: "a new target…" },
      ],
    });
    if (pick !== NEW) return ctx.inventory.get(pick);
  }
  const name = await ask.input({
    flag: "target",
    message: "Name for the new target",
    validate: (v) =>
      (TARGET_NAME.test(v) && !inv.targets.some((t) => t.name === v)) ||
      "1–63 letters, digits, '.', '_' or '-', not already used",
  });
  const address = await ask.input({
    flag: "address",
    message: "Its address (IPv4, IPv6 or DNS name)",
    validate: (v) => isValidAddress(v) || "not an address or DNS name",
  });
  const os = await ask.select({
    flag: "os",
    message: "Its operating system",
    choices: [{ value: "windows" as const }, { value: "linux" as const }],
  });
  const user = await ask.input({
    flag: "ssh-user",
    message: "SSH user on the target",
    default: os === "windows" ? "Administrator" : "root",
  });
  const identity = await ask.input({
    flag: "identity-file",
    message: "SSH private key (empty: ssh-agent / ~/.ssh defaults)",
    default: "",
  });
  const { allocatePort } = await import("../../host/port-alloc.js");
  const { isUdpPortFree } = await import("../../io/port-probe.js");
  return ctx.inventory.update(async (i) => {
    const t: Target = {
      name,
      os,
      address,
      ssh: { user, ...(identity ? { identityFile: identity } : {}) },
      port: await allocatePort(i, isUdpPortFree, name),
    };
    i.targets.push(t);
    return t;
  });
}

/**
 * `netdbg setup [targets…]`: one target, several (a fleet, in parallel), `--all`, `--group <g>`, or none (the
 * wizard, only on a TTY). Flags for both OS kinds are declared here once; each OS module reads the ones it
 * understands.
 */
export function register(program: Command, ctx: () => Context): void {
  program
    .command("setup")
    .description("provision targets for network kernel debugging, then hand off to the debugger")
    .argument("[targets...]", "inventory target names (none: the wizard)")
    .option("--all", "every target in the inventory (a fleet)")
    .option("--group <group>", "every target of an inventory group (a fleet)")
    .option("--concurrency <n>", "fleets: how many targets at once", "8")
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
    .option("--via <transport>", "Windows: reach the target over ssh (default) or winrm (Invoke-Command; netdbg on Windows)")
    .option("--kgdboe-source <src>", "Linux: git URL, local directory or tarball of kgdboe")
    .option("--install-deps", "Linux: install missing headers and toolchain without asking")
    .option("--persist", "Linux: load kgdboe at every boot (systemd unit)")
    .option("--apply-cmdline", "Linux: apply the kernel command-line advice (nokaslr, …)")
    .option("--force-single-core <0|1>", "Linux: kgdboe force_single_core (default 1)")
    .option("--no-rsp-verify", "Linux: skip the RSP exchange (break in, registers, detach) that verifies kgdboe from this host")
    .action(async (names: string[], opts: Record<string, unknown>) => {
      const c = ctx();
      const inv = await c.inventory.load();
      let targets: Target[];
      if (opts.all) targets = inv.targets;
      else if (typeof opts.group === "string") {
        const g = opts.group;
        targets = inv.targets.filter((t) => t.groups?.includes(g));
        if (targets.length === 0) {
          throw netdbgError("E003", {
            option: "--group",
            value: g,
            reason: "no target is in that group",
            fix: "Add targets to it with 'netdbg targets edit <name> --group <group>'.",
          });
        }
      } else if (names.length) targets = await Promise.all(names.map((n) => c.inventory.get(n)));
      else {
        const ask = createPrompter();
        if (!ask.interactive) requireFlags(["target (a name, --all or --group)"]);
        targets = [await wizardTarget(c, ask)];
      }
      if (targets.length === 0) throw netdbgError("E005", { name: "(any: the inventory is empty)" });
      if (targets.length === 1) return setupOne(c, targets[0]!, opts);

      // A fleet: setups run in parallel and never attach (there is one terminal); ports and keys are per target.
      const concurrency = Number(opts.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
        throw netdbgError("E003", {
          option: "--concurrency",
          value: String(opts.concurrency),
          reason: "expected 1–64",
          fix: "Pass --concurrency <1-64>.",
        });
      }
      const outcomes = await runFleet(c, targets, (child, t) => setupOne(child, t, { ...opts, connect: false }), {
        concurrency,
        title: "setup",
      });
      if (c.opts.json) {
        c.json({
          fleet: outcomes.map((o) => ({
            target: o.target,
            os: o.os,
            ok: o.ok,
            ...(o.ok ? { result: o.result } : { error: { code: o.code ?? "NETDBG-E000", message: o.message, fix: o.fix ?? "" } }),
          })),
        });
      } else {
        c.out(
          table(
            ["target", "os", "result", "detail"],
            outcomes.map((o) => [
              o.target,
              o.os,
              o.ok ? "ok" : "FAILED",
              o.ok ? o.message : `${o.message} ${o.fix ?? ""} ${o.code ? `[${o.code}]` : ""}`.trim(),
            ]),
            c.color,
          ),
        );
      }
      process.exitCode = fleetExitCode(outcomes);
    });
}
