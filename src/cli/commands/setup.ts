import type { Command } from "commander";
import { netdbgError } from "../../core/error.js";
import type { Target } from "../../core/inventory.js";
import type { Context } from "../context.js";
import type { SetupResult } from "../../journey/setup.js";
import type { FleetOutcome } from "../fleet.js";
import { table } from "../output.js";
import { parseSetupRequest, type SetupCommand } from "../options.js";
import { createPrompter, requireFlags } from "../prompts.js";

/** Set up one target under its lock: the one sequence (src/journey), rendered (src/cli/setup-run.ts). */
export async function setupOne(ctx: Context, target: Target, request: SetupCommand): Promise<void> {
  const { withTargetLock } = await import("../target-lock.js");
  const { setupTarget } = await import("../setup-run.js");
  await withTargetLock(ctx, target.name, "setup", request, () => setupTarget(ctx, target, request));
}

/** The options setup and teardown share: how the target is reached, and the wait for its lock. */
export function linkOptions(cmd: Command): Command {
  return cmd
    .option("--accept-new-host-key", "trust an SSH host key seen for the first time")
    .option("--via <transport>", "Windows: reach the target over ssh (default) or winrm (Invoke-Command; netdbg on Windows)")
    .option(
      "--winrm-credential <file>",
      "Windows, --via winrm: log on with the PSCredential saved by 'Get-Credential | Export-Clixml <file>' (needed outside a domain)",
    )
    .option("--winrm-user <user>", "Windows, --via winrm: log on as this account; its password is asked on the terminal")
    .option(
      "--wait <seconds>",
      "when another netdbg is setting up or tearing down the target, wait this long for it (default: stop at once, E016)",
    );
}

/**
 * `netdbg setup [targets…]`: one target, several (a fleet, in parallel), `--all`, `--group <g>`, or none (the
 * wizard, only on a TTY). Flags for both OS kinds are declared here once; each OS module reads the ones it
 * understands.
 */
export function register(program: Command, ctx: () => Context): void {
  linkOptions(program.command("setup"))
    .description("provision targets for network kernel debugging, then hand off to the debugger")
    .argument("[targets...]", "inventory target names (none: the wizard)")
    .option("--all", "every target in the inventory (a fleet)")
    .option("--group <group>", "every target of an inventory group (a fleet)")
    .option("--concurrency <n>", "fleets: how many targets at once", "8")
    .option("--check", "plan only: print every command byte for byte, change nothing")
    .option("--nic <name>", "the target NIC to debug through (name, alias or PCI bus.dev.fn)")
    .option("--port <port>", "host UDP port (49152–65535)")
    .option("--host-ip <ip>", "host address the target sends to (default: discovered)")
    .option("--no-connect", "do not attach after setup; print the windbg / gdb command lines")
    .option(
      "--no-host-firewall",
      "leave this host's firewall alone (default: open inbound UDP on the port from the target, journaled)",
    )
    .option("--force", "go on despite a warning that can be overridden (the consequence is printed)")
    .option("--no-kdnic", "Windows: add NO_KDNIC to the debug entry's loadoptions")
    .option("--make-default", "Windows: make the debug entry the default instead of a one-time boot")
    .option("--reboot", "Windows: reboot into the debug entry and wait for it")
    .option(
      "--bitlocker-unknown-ok",
      "Windows: go on when BitLocker's state cannot be read (the next boot may ask for the recovery key)",
    )
    .option("--kgdboe-source <src>", "Linux: git URL, local directory or tarball of kgdboe")
    .option("--install-deps", "Linux: install missing headers and toolchain without asking")
    .option("--persist", "Linux: load kgdboe at every boot (systemd unit)")
    .option("--apply-cmdline", "Linux: apply the kernel command-line advice (nokaslr, …)")
    .option("--force-single-core <0|1>", "Linux: kgdboe force_single_core (default 1)")
    .option("--no-rsp-verify", "Linux: skip the RSP exchange (break in, registers, detach) that verifies kgdboe from this host")
    .action(async (names: string[], opts: Record<string, unknown>, cmd: Command) => {
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
        const { runWizard } = await import("../wizard.js");
        const w = await runWizard(c, ask, opts, (f) => cmd.getOptionValueSource(f));
        // parsed after the answers are merged into the flags: the one path every setup takes
        return setupOne(c, w.target, parseSetupRequest(w.opts));
      }
      if (targets.length === 0) throw netdbgError("E005", { name: "(any: the inventory is empty)" });
      const request = parseSetupRequest(opts);
      if (targets.length === 1) return setupOne(c, targets[0]!, request);

      await setupFleet(c, targets, request);
    });
}

/**
 * A fleet: setups run in parallel (bounded) and never attach (there is one terminal); ports are settled first
 * in one inventory write (unique), keys are generated per target; one failing target never stops the others.
 * Prints one summary (a table, or `{fleet: [...]}` with each target's journey object) and sets the exit code.
 */
export async function setupFleet(
  c: Context,
  targets: readonly Target[],
  request: SetupCommand,
  deps: import("../journey-deps.js").CliDeps = {},
): Promise<FleetOutcome[]> {
  const concurrency = Number(request.concurrency ?? 8);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    throw netdbgError("E003", {
      option: "--concurrency",
      value: String(request.concurrency),
      reason: "expected 1–64",
      fix: "Pass --concurrency <1-64>.",
    });
  }
  if (request.port !== undefined) throw netdbgError("E743", { count: targets.length });
  const { ensurePorts } = await import("../../journey/port.js");
  const { isUdpPortFree } = await import("../../io/port-probe.js");
  const ready = await ensurePorts(
    targets,
    { check: request.check },
    { inventory: c.inventory, log: c.log, isFree: deps.isPortFree ?? isUdpPortFree },
  );
  const { fleetExitCode, runFleet } = await import("../fleet.js");
  const { withTargetLock } = await import("../target-lock.js");
  const { setupResult } = await import("../setup-run.js");
  const { setupJson } = await import("../../journey/setup.js");
  // each target's sequence returns its result as data (nothing printed): the summary is built from those
  const outcomes = await runFleet(
    c,
    ready,
    (child, t) =>
      withTargetLock(child, t.name, "setup", request, () => setupResult(child, t, { ...request, connect: false }, deps)),
    { concurrency, title: "setup" },
  );
  const resultOf = (o: FleetOutcome) => o.result as SetupResult | undefined;
  if (c.opts.json) {
    c.json({
      fleet: outcomes.map((o) => ({
        target: o.target,
        os: o.os,
        ok: o.ok,
        ...(o.ok
          ? { result: setupJson(resultOf(o)!) }
          : { error: { code: o.code ?? "NETDBG-E000", message: o.message, fix: o.fix ?? "" } }),
      })),
    });
  } else {
    const ports = new Map(ready.map((t) => [t.name, t.port]));
    c.out(
      table(
        ["target", "os", "port", "key", "result", "detail"],
        outcomes.map((o) => {
          const r = resultOf(o);
          const changes = r?.actions.filter((a) => a.outcome === "changed").length ?? 0;
          return [
            o.target,
            o.os,
            String(ports.get(o.target) ?? ""),
            r?.key ?? "",
            o.ok ? (r?.check ? "planned" : r?.changed ? `changed (${changes})` : "unchanged") : "FAILED",
            o.ok
              ? (r?.handoff.windbg ?? r?.handoff.gdb ?? o.message)
              : `${o.message} ${o.fix ?? ""} ${o.code ? `[${o.code}]` : ""}`.trim(),
          ];
        }),
        c.color,
      ),
    );
    if (!c.opts.showSecrets && outcomes.some((o) => resultOf(o)?.key))
      c.out("Keys are shown redacted: 'netdbg keys show <target> --show-secrets' prints one in full.");
  }
  process.exitCode = fleetExitCode(outcomes);
  return outcomes;
}
