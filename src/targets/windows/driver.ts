/**
 * The Windows driver behind the one setup / teardown sequence (src/journey): its link (SSH, or Invoke-Command
 * through a local PowerShell with --via winrm), probe → plan → apply → verify (setup.ts), --reboot with the
 * passive watch for the first KDNET poke, and the journal's undo or an exported store's restore (run.ts).
 * It returns data; src/cli renders it.
 */
import {
  actionLines,
  type DriverDeps,
  type DriverSetupInput,
  type DriverSetupResult,
  type JourneyAction,
  type LinkRequest,
  type OsDriver,
  type Progress,
  type TargetTeardownResult,
  type TeardownRequest,
} from "../../core/driver.js";
import { netdbgError } from "../../core/error.js";
import type { Target } from "../../core/inventory.js";
import type { PowerShellRunner } from "../../core/interfaces.js";
import { displayCall } from "./plan.js";
import { checkElevation, DEFAULT_EXPORT_DIR, probeWindows } from "./probe.js";
import { sessionRunner } from "./ps.js";
import { type KdnetPoke, kdnetSourceToRecord, type PokeWatch, type RebootResult, rebootAndWait } from "./reboot.js";
import { restoreExport, restoreExportCall, teardownWindows } from "./run.js";
import { type SetupWindowsResult, setupWindows } from "./setup.js";
import { winrmRunner } from "./winrm.js";

/** The ports only Windows needs, given by the composition root. */
export interface WindowsDriverPorts {
  /** --via winrm: the local PowerShell that runs Invoke-Command (E223 when there is none). */
  powershell?: () => Promise<PowerShellRunner>;
  /** --reboot: a passive watch on the host debug port, opened before the restart (E506: taken, SSH only). */
  watchPokes?: (port: number, hostIp: string, key: string) => Promise<PokeWatch & { close(): Promise<void> }>;
  /** --reboot: how long to still wait for a poke once SSH is back in the debug entry (default 30 s). */
  pokeGraceMs?: number;
}

/** How netdbg reaches the target: SSH (default) or, with --via winrm, Invoke-Command in a local PowerShell. */
async function openLink(target: Target, request: LinkRequest, deps: DriverDeps, ports: WindowsDriverPorts) {
  const via = request.windows;
  if (via.via === "winrm") {
    if (!ports.powershell) throw netdbgError("E223", { platform: process.platform, executable: "pwsh" });
    const ps = await ports.powershell();
    return {
      run: winrmRunner(ps, target.address, target.name, via.winrm),
      description: `WinRM (Invoke-Command -ComputerName ${target.address})`,
      close: () => ps.dispose(),
    };
  }
  const session = await deps.openSession(target, { acceptNewHostKey: request.acceptNewHostKey, check: request.check });
  return { run: sessionRunner(session, target.name), description: session.description, close: () => session.close() };
}

const outcomeWord = (o: string) => (o === "skipped" ? "would run" : o);

/** After --reboot: remember where the debug boot's KDNET pokes come from (inventory transport.kdnetAddress). */
async function recordKdnetSource(deps: DriverDeps, target: Target, poke: KdnetPoke): Promise<void> {
  const rec = kdnetSourceToRecord(poke, target.address, target.transport?.kdnetAddress);
  if (!rec) return;
  await deps.inventory.update((inv) => {
    const t = inv.targets.find((x) => x.name === target.name);
    if (t) t.transport = { ...t.transport, kdnetAddress: rec.address };
  });
  if (rec.differs)
    deps.log.warn(
      `In the debug boot '${target.name}' sends KDNET from ${rec.address}, not its SSH address ${target.address} (KDNET's own adapter takes an address from DHCP or 169.254.x.x). Recorded as its KDNET address; 'netdbg connect' listens for it.`,
    );
}

export function windowsDriver(ports: WindowsDriverPorts = {}): OsDriver {
  return {
    os: "windows",
    usesKey: true,
    needsHostIp: true,

    async prepare() {},

    async setup(input: DriverSetupInput, deps: DriverDeps, progress: Progress): Promise<DriverSetupResult> {
      const { target, request, port } = input;
      const check = request.check;
      const key = input.key!;
      const hostIp = input.hostIp!;
      const w = request.windows;
      const nic = request.nic ?? target.transport?.nic;
      // the link opens before the display starts: SSH may ask about a new host key
      let link = await openLink(target, request, deps, ports);
      let provisioned: SetupWindowsResult | undefined;
      let rebooted: RebootResult | undefined;
      try {
        provisioned = await progress(`Provision KDNET on '${target.name}' over ${link.description}`, async (hooks) => {
          const done = await setupWindows({
            run: link.run,
            store: deps.store,
            clock: deps.clock,
            check,
            config: {
              target: target.name,
              hostIp,
              port,
              key,
              exportDir: DEFAULT_EXPORT_DIR,
              // a file-name time stamp: 2026-11-21T06:00:00.000Z → 20261121T060000Z
              stamp: input.now.toISOString().replace(/[-:]|\.\d+/g, ""),
              ...(nic ? { nic } : {}),
              ...(w.kdnic === false ? { noKdnic: true } : {}),
              ...(w.makeDefault ? { makeDefault: true } : {}),
              ...(request.force ? { force: true } : {}),
              ...(w.bitlockerUnknownOk ? { bitlockerUnknownOk: true } : {}),
            },
            onPlan: (p) =>
              hooks.line(
                `NIC '${p.nic.name}'${p.nic.busparams ? ` at PCI ${p.nic.busparams}` : ""}; ${p.actions.length} actions`,
              ),
            onStart: (a) => hooks.line(`${a.title}…`),
            onDone: (a, o) => hooks.line(`${a.title}: ${outcomeWord(o)}`),
          });
          hooks.phase(
            check
              ? `Planned KDNET on '${target.name}' (nothing changed)`
              : `KDNET on '${target.name}': ${done.report.changed ? "changed" : "unchanged"}, read back and verified`,
          );
          return done;
        });
        if (w.reboot && !check) {
          // the host debug port is watched before the reboot so the first poke cannot be missed
          let watch: (PokeWatch & { close(): Promise<void> }) | undefined;
          try {
            watch = await ports.watchPokes?.(port, hostIp, key);
          } catch (e) {
            if ((e as { code?: string }).code !== "NETDBG-E506") throw e;
            deps.log.warn(`${(e as Error).message} Waiting for SSH only, without checking the target's KDNET poke.`);
          }
          try {
            const title = watch
              ? `Restart '${target.name}' into the debug entry and wait for its KDNET poke on UDP port ${port}`
              : `Restart '${target.name}' into the debug entry and wait for SSH`;
            rebooted = await progress(title, async (hooks) => {
              const rb = await rebootAndWait({
                ...(watch ? { poke: watch } : {}),
                ...(ports.pokeGraceMs !== undefined ? { pokeGraceMs: ports.pokeGraceMs } : {}),
                target: target.name,
                run: link.run,
                close: () => link.close(),
                reconnect: async () => {
                  hooks.line(`waiting for the target to answer over ${link.description}…`);
                  link = await openLink(target, { ...request, acceptNewHostKey: false }, deps, ports);
                  return { run: link.run, close: () => link.close() };
                },
                clock: deps.clock,
              });
              hooks.phase(
                rb.poke
                  ? `'${target.name}' pokes UDP port ${port} (KDNET v${rb.poke.version}, the stored key authenticates it)${rb.ssh ? "; SSH is back" : ""}`
                  : `'${target.name}' is back over SSH after ${rb.attempts} attempt(s)`,
              );
              return rb;
            });
          } finally {
            await watch?.close();
          }
        }
      } finally {
        await link.close();
      }
      const { plan: p, report: rep } = provisioned;
      if (rebooted?.poke) await recordKdnetSource(deps, target, rebooted.poke);
      const actions = p.actions.map((a): JourneyAction => {
        const outcome = rep.actions.find((x) => x.id === a.id)?.outcome ?? "skipped";
        return { id: a.id, title: a.title, where: a.where, outcome, command: a.command, undo: a.undo ?? null };
      });
      const windbg = `windbg -k net:port=${port},key=${key}`;
      // the text report: the target's actions, then where the debug entry stands
      const name = target.name;
      const entry = p.entryGuid ?? null;
      const text = actionLines(check, actions);
      const textWarnings: string[] = [];
      if (check) text.push("Nothing was changed (--check).");
      else if (rebooted?.poke) {
        text.push(
          "",
          `'${name}' restarted into the debug entry: its KDNET pokes (protocol version ${rebooted.poke.version}) reach this host on UDP port ${port} from ${rebooted.poke.from} and authenticate with the stored key.`,
        );
        if (!rebooted.ssh)
          textWarnings.push(`SSH to '${name}' did not come back after the reboot: ${rebooted.sshError ?? "no answer"}`);
      } else if (rebooted) {
        text.push("");
        if ((rebooted.bootedEntry ?? null) === entry && rebooted.debug !== false)
          text.push(`'${name}' restarted into the debug entry ${entry}; KDNET now sends to ${hostIp} port ${port}.`);
        else
          textWarnings.push(
            `'${name}' restarted into ${rebooted.bootedEntry ?? "an unknown entry"}, not the debug entry ${entry}: check its boot menu, then 'netdbg setup ${name} --reboot' again.`,
          );
      } else
        text.push(
          "",
          actions.some((a) => a.id === "bcd.default")
            ? `'${name}' must boot the debug entry before a debugger can attach: restart it (shutdown /r /t 0, or setup --reboot); it boots the debug entry from now on.`
            : `'${name}' must boot the debug entry before a debugger can attach: restart it (shutdown /r /t 0, or setup --reboot); it boots the debug entry once, the next restart returns to the normal entry.`,
        );
      return {
        changed: rep.changed,
        actions,
        text,
        textWarnings,
        handoff: { windbg },
        attachable: !check && rebooted?.poke !== undefined,
        warnings: p.warnings,
        details: {
          nic: { name: p.nic.name, busparams: p.nic.busparams ?? null, pnpDeviceId: p.nic.pnpDeviceId },
          entry: p.entryGuid ?? null,
          export: p.exportPath,
          expected: p.expected,
          debugger: windbg,
          reboot: rebooted
            ? {
                bootedEntry: rebooted.bootedEntry ?? null,
                // SSH says which entry booted; without SSH, a poke shows a debugging entry booted
                debugEntry:
                  rebooted.bootedEntry !== undefined ? rebooted.bootedEntry === p.entryGuid : rebooted.poke !== undefined,
                debug: rebooted.debug ?? null,
                poke: rebooted.poke ?? null,
                ssh: rebooted.ssh,
                ...(rebooted.sshError ? { sshError: rebooted.sshError } : {}),
              }
            : null,
        },
      };
    },

    async teardown(
      target: Target,
      request: TeardownRequest,
      deps: DriverDeps,
      progress: Progress,
    ): Promise<TargetTeardownResult> {
      const check = request.check;
      const store = deps.store;
      const journal = await store.load(target.name);
      const pending = journal.entries.filter((e) => e.status !== "undone");
      const restore = request.restoreExport;
      const link = await openLink(target, request, deps, ports);
      const run = link.run;
      const result = (changed: boolean, actions: readonly object[], text: string[]): TargetTeardownResult => ({
        target: target.name,
        os: "windows",
        check,
        changed,
        actions,
        text,
      });
      try {
        await checkElevation(run, target.name);
        if (restore) {
          const cmd = displayCall(restoreExportCall(restore));
          if (!check) {
            await restoreExport(run, restore, target.name);
            await store.remove(target.name);
          }
          return result(
            !check,
            [{ id: "bcd.import", outcome: check ? "skipped" : "changed", command: cmd }],
            [`${check ? "would run" : "changed"}: ${cmd}`],
          );
        }
        if (pending.length === 0) {
          const facts = await probeWindows(run, { exportDir: DEFAULT_EXPORT_DIR });
          const exports = [...new Set([...((journal.facts.exports as string[] | undefined) ?? []), ...facts.exports])];
          if (facts.netdbgEntries.length === 0 && journal.entries.length > 0)
            return result(false, [], [`Nothing to undo on '${target.name}': every recorded change is already undone.`]);
          throw netdbgError("E216", { target: target.name, exports: exports.join(", ") });
        }
        const rep = await progress(`Undo netdbg's changes on '${target.name}' over ${link.description}`, async (hooks) => {
          const r = await teardownWindows({
            target: target.name,
            run,
            journal,
            store,
            clock: deps.clock,
            check,
            onDone: (e, o) => hooks.line(`undo ${e.title}: ${outcomeWord(o)}`),
          });
          hooks.phase(
            check ? `Planned the undo on '${target.name}' (nothing changed)` : `Undid netdbg's changes on '${target.name}'`,
          );
          return r;
        });
        // two undos can be the same command (both dbgsettings changes restore {dbgsettings} from the export): one line
        const text = [...new Set(rep.actions.map((a) => `${outcomeWord(a.outcome)}: ${a.command || a.title}`))];
        if (check) text.push("Nothing was changed (--check).");
        else {
          const exports = (journal.facts.exports as string[] | undefined) ?? [];
          if (exports.length) text.push(`The store exports netdbg took stay on the target: ${exports.join(", ")}`);
          text.push("If the target is running the debug entry now, KDNET stays active until it restarts (shutdown /r /t 0).");
        }
        return result(rep.changed, rep.actions, text);
      } finally {
        await link.close();
      }
    },
  };
}
