/**
 * CLI glue for Windows targets: `netdbg setup` / `netdbg teardown` for a target whose os is windows.
 * Options → WindowsSetupConfig (host IP from --host-ip or the inventory's transport.hostIp; port from --port or
 * the inventory; key from the secret store, generated and stored when there is none), an SSH session
 * (src/io/ssh.ts), the file journal, listr2 progress, `--check` printing every command, `--json` printing one
 * final object. The work itself is src/targets/windows.
 *
 * `--via winrm` (netdbg on Windows): the same scripts run through Invoke-Command in a local PowerShell
 * (src/targets/windows/winrm.ts); without PowerShell on this host that is NETDBG-E223.
 *
 * Without --host-ip or transport.hostIp, the host address is the local end of the route to the target
 * (src/host/route.ts); when no route is found setup stops with NETDBG-E215 and its fix.
 */
import { hostKeyQuestion } from "../prompts.js";
import { Listr } from "listr2";
import { parsePort } from "../../host/port-alloc.js";
import { netdbgError } from "../../core/error.js";
import type { Target } from "../../core/inventory.js";
import { generateKdnetKey, type KdnetKey, parseKdnetKey } from "../../core/kdnet-key.js";
import { type Clock, type PowerShellRunner, type RemoteSession, systemClock } from "../../core/ports.js";
import { redactSecret } from "../../core/redact.js";
import type { Action, ActionReport, StepReport } from "../../core/step.js";
import type { JournalStore } from "../../core/journal.js";
import { FileJournalStore } from "../../io/journal-store.js";
import { connectSsh } from "../../io/ssh.js";
import { listenForPokes } from "../../engine/kdnet/listen.js";
import type { DatagramTransport } from "../../engine/kdnet/transport.js";
import { openUdp } from "../../engine/kdnet/udp.js";
import {
  checkElevation,
  DEFAULT_EXPORT_DIR,
  displayCall,
  type KdnetPoke,
  kdnetSourceToRecord,
  type PokeWatch,
  probeWindows,
  type RebootResult,
  rebootAndWait,
  restoreExportCall,
  restoreExport,
  type ScriptRunner,
  sessionRunner,
  setupWindows,
  teardownWindows,
  type WindowsPlan,
  winrmRunner,
} from "../../targets/windows/index.js";
import type { Context } from "../context.js";
import { connectWindows } from "./windows-connect.js";
import type { WinrmCredential } from "../../targets/windows/index.js";
import {
  type HostFirewallPort,
  type HostFirewallResult,
  handoffLines,
  type JourneyAction,
  type JourneyJson,
  openHostFirewall,
  printHostActions,
  recordJourneyFacts,
  showKeyHint,
  systemHostFirewall,
  type TargetTeardownResult,
} from "../journey.js";

/** Seams for tests: where the SSH session and the journal come from. */
export interface WindowsCliDeps {
  openSession?: (ctx: Context, target: Target, opts: Record<string, unknown>) => Promise<RemoteSession>;
  journalStore?: (ctx: Context) => JournalStore;
  /** listr2 renderer; default: "default" on a terminal, "simple" otherwise, "silent" with --json. */
  renderer?: "default" | "simple" | "verbose" | "silent";
  now?: () => Date;
  /** Clock for --reboot's waiting (tests pass one whose sleep returns at once). */
  clock?: Clock;
  /**
   * Host address the target should send to when neither --host-ip nor transport.hostIp says: by default the
   * local address of the route to the target (src/host/route.ts). Tests inject their own.
   */
  discoverHostIp?: (ctx: Context, target: Target, port: number) => Promise<string | undefined>;
  /** --winrm-user's password (tests); default: asked on the terminal. */
  askPassword?: (user: string) => Promise<string>;
  /**
   * Bind the host debug port for --reboot's poke watch: by default UDP 0.0.0.0 (or :: for an IPv6 host address)
   * on `port`. Tests bind loopback. A NETDBG-E506 (port taken) falls back to waiting for SSH only.
   */
  openKdnetPort?: (port: number, hostIp: string) => Promise<DatagramTransport>;
  /** --reboot: how long to still wait for a poke once SSH is back in the debug entry (default 30 s). */
  pokeGraceMs?: number;
  /** --via winrm: the local PowerShell that runs Invoke-Command (default: node-powershell, after checking it exists). */
  powershell?: () => Promise<PowerShellRunner>;
  /** This machine's firewall (default: the real one). Tests run its commands inside a network namespace. */
  firewall?: HostFirewallPort;
  /** The hand-off after --reboot saw the first poke (default: `netdbg connect`). */
  connect?: (ctx: Context, target: Target, opts: Record<string, unknown>) => Promise<void>;
}

/** How netdbg reaches the target: SSH (default) or, with --via winrm, Invoke-Command in a local PowerShell. */
interface Link {
  run: ScriptRunner;
  description: string;
  close(): Promise<void>;
}

async function defaultPowerShell(): Promise<PowerShellRunner> {
  const { findExecutable, NodePowerShellRunner, powershellExecutable } = await import("../../io/powershell.js");
  const exe = powershellExecutable();
  if (!(await findExecutable(exe))) throw netdbgError("E223", { platform: process.platform, executable: exe });
  return new NodePowerShellRunner({ executable: exe });
}

/**
 * The account for Invoke-Command: --winrm-credential <file> (a PSCredential from Export-Clixml), or --winrm-user
 * with its password asked on the terminal before any progress display (and added to the secrets every output is
 * scrubbed of); neither: this host's own logon (a domain).
 */
async function winrmCredential(
  ctx: Context,
  opts: Record<string, unknown>,
  deps: WindowsCliDeps,
): Promise<WinrmCredential | undefined> {
  const file = typeof opts.winrmCredential === "string" ? opts.winrmCredential : undefined;
  const user = typeof opts.winrmUser === "string" ? opts.winrmUser : undefined;
  if (file && user) {
    throw netdbgError("E003", {
      option: "--winrm-user",
      value: user,
      reason: "--winrm-credential already names the account",
      fix: "Pass one of them: the credential file holds its user name and password.",
    });
  }
  if (file) return { file };
  if (!user) return undefined;
  if (deps.askPassword) return { user, password: await deps.askPassword(user) };
  if (!ctx.isTTY || ctx.opts.json) {
    throw netdbgError("E228", { user, why: ctx.opts.json ? "--json runs never ask" : "there is no terminal to ask on" });
  }
  const { password } = await import("@inquirer/prompts");
  const pw = await password({ message: `WinRM password for ${user}:`, mask: "*" });
  ctx.secretsSeen.push(pw);
  return { user, password: pw };
}

async function openLink(ctx: Context, target: Target, opts: Record<string, unknown>, deps: WindowsCliDeps): Promise<Link> {
  const via = String(opts.via ?? "ssh");
  if (via === "winrm") {
    const credential = await winrmCredential(ctx, opts, deps);
    const ps = await (deps.powershell ?? defaultPowerShell)();
    return {
      run: winrmRunner(ps, target.address, target.name, credential),
      description: `WinRM (Invoke-Command -ComputerName ${target.address})`,
      close: () => ps.dispose(),
    };
  }
  if (via !== "ssh") throw netdbgError("E224", { via });
  const session = await (deps.openSession ?? defaultOpenSession)(ctx, target, opts);
  return { run: sessionRunner(session, target.name), description: session.description, close: () => session.close() };
}

/**
 * A passive watch on the host debug port (the engine's listener: it never answers a poke, so no handshake is
 * completed and the debugger can take over later). Listens in 1 s windows so closing it never leaves a long timer.
 */
function pokeWatch(transport: DatagramTransport, key: KdnetKey): PokeWatch & { close(): Promise<void> } {
  let seen: KdnetPoke | undefined;
  let closed = false;
  const waiters = new Set<(p: KdnetPoke | undefined) => void>();
  void (async () => {
    while (!closed && !seen) {
      const s = (await listenForPokes(transport, { key, durationMs: 1000, stopAfterFirstPoke: true })).find((x) => x.pokes > 0);
      if (s && !closed) {
        seen = {
          from: s.from,
          version: s.version,
          authenticated: s.authenticated,
          ...(s.hostAddress !== undefined ? { hostAddress: s.hostAddress } : {}),
          ...(s.hostPort !== undefined ? { hostPort: s.hostPort } : {}),
          ...(s.targetAddress !== undefined ? { targetAddress: s.targetAddress } : {}),
        };
        for (const w of waiters) w(seen);
      }
    }
  })();
  return {
    port: transport.local.port,
    first: (timeoutMs) =>
      seen || closed
        ? Promise.resolve(seen)
        : new Promise((resolve) => {
            const done = (p: KdnetPoke | undefined) => {
              clearTimeout(t);
              waiters.delete(done);
              resolve(p);
            };
            const t = setTimeout(() => done(undefined), timeoutMs);
            waiters.add(done);
          }),
    close: async () => {
      closed = true;
      for (const w of [...waiters]) w(undefined);
      await transport.close();
    },
  };
}

/** The --reboot wait listens where the target will send: the host IP its dbgsettings name, not every address. */
const defaultOpenKdnetPort = (port: number, hostIp: string) =>
  openUdp({ port, address: hostIp, ...(hostIp.includes(":") ? { family: 6 as const } : {}) });

async function defaultOpenSession(ctx: Context, target: Target, opts: Record<string, unknown>): Promise<RemoteSession> {
  return connectSsh({
    target,
    acceptNewHostKey: Boolean(opts.acceptNewHostKey),
    recordHostKey: !opts.check,
    logger: ctx.log,
    ...(ctx.isTTY
      ? {
          confirmHostKey: async (p) => {
            const { confirm } = await import("@inquirer/prompts");
            return confirm({ message: hostKeyQuestion(p), default: false });
          },
        }
      : {}),
  });
}

/** The host address on the route to the target (src/host/route.ts: UDP connect, no packet leaves, refined by `ip route get`). */
async function defaultDiscoverHostIp(ctx: Context, target: Target, port: number): Promise<string | undefined> {
  const { hostRoute } = await import("../../host/route.js");
  const { SystemNetProbe } = await import("../../io/net-probe.js");
  const { ExecaCommandRunner } = await import("../../io/command-runner.js");
  const r = await hostRoute(
    target.address,
    { net: new SystemNetProbe(), platform: process.platform, runner: new ExecaCommandRunner() },
    port,
  );
  const best = r.candidates[0];
  if (!best) return undefined;
  for (const w of best.warnings) ctx.log.warn(w.message);
  ctx.log.info(
    `KDNET host address for '${target.name}': ${best.localAddress} (the route to ${best.address}; --host-ip overrides).`,
  );
  return best.localAddress.replace(/%.*$/, "");
}

const storeOf = (ctx: Context, deps: WindowsCliDeps) => deps.journalStore?.(ctx) ?? new FileJournalStore(ctx.paths.journals);

function rendererOf(ctx: Context, deps: WindowsCliDeps) {
  if (deps.renderer) return deps.renderer;
  // a context may carry its own renderer (fleet children on main run "silent": one terminal, many targets)
  const own = (ctx as { renderer?: string }).renderer;
  if (own === "silent" || own === "simple" || own === "verbose" || own === "default") return own;
  if (ctx.opts.json) return "silent" as const;
  return process.stderr.isTTY ? ("default" as const) : ("simple" as const);
}

function stamp(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
}

/** The flag (the one port parser, src/host/port-alloc.ts), else the inventory's port (E218 without one). */
function portOf(raw: unknown, target: Target): number {
  if (raw === undefined || raw === null || raw === "") {
    if (target.port !== undefined) return target.port;
    throw netdbgError("E218", { target: target.name });
  }
  return parsePort(String(raw));
}

/** Why setup left the host firewall alone: the caller's reason (the demo: loopback), else the flag the user gave. */
export function firewallLeftAloneWhy(opts: Record<string, unknown>): string {
  return typeof opts.hostFirewallReason === "string" ? opts.hostFirewallReason : "--no-host-firewall";
}

function outcomeWord(o: string): string {
  return o === "skipped" ? "would run" : o;
}

/** `netdbg setup <windows-target>`. */
export async function windowsSetup(
  ctx: Context,
  target: Target,
  opts: Record<string, unknown>,
  deps: WindowsCliDeps = {},
): Promise<void> {
  const check = Boolean(opts.check);
  const port = portOf(opts.port, target);
  const hostIp =
    (opts.hostIp as string | undefined) ??
    target.transport?.hostIp ??
    (await (deps.discoverHostIp ?? defaultDiscoverHostIp)(ctx, target, port));
  if (!hostIp) throw netdbgError("E215", { target: target.name });

  let key = await ctx.secrets.get(target.name);
  let keyNote: string | undefined;
  if (key === undefined) {
    if (check) {
      key = "<new key, generated and stored at setup>";
      keyNote = `No KDNET key is stored for '${target.name}': setup generates one and stores it in ${ctx.secrets.kind}.`;
    } else {
      key = generateKdnetKey().text;
      await ctx.secrets.set(target.name, key);
      keyNote = `Generated a new KDNET key for '${target.name}' and stored it in ${ctx.secrets.kind}.`;
    }
  } else key = parseKdnetKey(key).text;
  ctx.secretsSeen.push(key);

  const nic = (opts.nic as string | undefined) ?? target.transport?.nic;
  const now = deps.now?.() ?? new Date();
  const store = storeOf(ctx, deps);
  if (!check) await recordJourneyFacts(store, target, { port, hostIp });
  // The host firewall opens first (host-only, journaled): a later failure on the target rolls it back, so
  // nothing is left half-applied.
  const fw: HostFirewallResult | undefined =
    opts.hostFirewall === false
      ? undefined
      : await openHostFirewall({ target, port, store, check, firewall: deps.firewall ?? systemHostFirewall() });
  const rollbackFirewall = async (e: unknown) => {
    const errors = (await fw?.rollback()) ?? [];
    for (const m of errors) ctx.log.error(m);
    if (fw?.actions.some((a) => a.outcome === "changed") && e instanceof Error)
      ctx.log.warn(`The host firewall rule opened for '${target.name}' was closed again (the target part failed).`);
  };
  let session: Link;
  try {
    session = await openLink(ctx, target, opts, deps);
  } catch (e) {
    await rollbackFirewall(e);
    throw e;
  }
  let run: ScriptRunner = session.run;
  let plan: WindowsPlan | undefined;
  let report: StepReport | undefined;
  let rebooted: RebootResult | undefined;
  try {
    const list = new Listr(
      [
        {
          title: `Provision KDNET on '${target.name}' over ${session.description}`,
          task: async (_c, task) => {
            const r = await setupWindows({
              run,
              store,
              clock: systemClock,
              check,
              config: {
                target: target.name,
                hostIp,
                port,
                key: key!,
                exportDir: DEFAULT_EXPORT_DIR,
                stamp: stamp(now),
                ...(nic ? { nic } : {}),
                ...(opts.kdnic === false ? { noKdnic: true } : {}),
                ...(opts.makeDefault ? { makeDefault: true } : {}),
                ...(opts.force ? { force: true } : {}),
                ...(opts.bitlockerUnknownOk ? { bitlockerUnknownOk: true } : {}),
              },
              onPlan: (p) => {
                plan = p;
                task.output = `NIC '${p.nic.name}'${p.nic.busparams ? ` at PCI ${p.nic.busparams}` : ""}; ${p.actions.length} actions`;
              },
              onStart: (a) => {
                task.output = `${a.title}…`;
              },
              onDone: (a, o) => {
                task.output = `${a.title}: ${outcomeWord(o)}`;
              },
            });
            report = r.report;
            task.title = check
              ? `Planned KDNET on '${target.name}' (nothing changed)`
              : `KDNET on '${target.name}': ${r.report.changed ? "changed" : "unchanged"}, read back and verified`;
          },
        },
      ],
      {
        renderer: rendererOf(ctx, deps),
        exitOnError: true,
        registerSignalListeners: false,
        rendererOptions: { collapseErrors: false },
      },
    );
    try {
      await list.run();
    } catch (e) {
      await rollbackFirewall(e);
      throw e;
    }
    if (opts.reboot && !check) {
      // Open the host debug port before the reboot so the first poke cannot be missed.
      let watch: (PokeWatch & { close(): Promise<void> }) | undefined;
      try {
        watch = pokeWatch(await (deps.openKdnetPort ?? defaultOpenKdnetPort)(port, hostIp), parseKdnetKey(key));
      } catch (e) {
        if ((e as { code?: string }).code !== "NETDBG-E506") throw e;
        ctx.log.warn(`${(e as Error).message} Waiting for SSH only, without checking the target's KDNET poke.`);
      }
      const reboot = new Listr(
        [
          {
            title: watch
              ? `Restart '${target.name}' into the debug entry and wait for its KDNET poke on UDP port ${port}`
              : `Restart '${target.name}' into the debug entry and wait for SSH`,
            task: async (_c, task) => {
              rebooted = await rebootAndWait({
                ...(watch ? { poke: watch } : {}),
                ...(deps.pokeGraceMs !== undefined ? { pokeGraceMs: deps.pokeGraceMs } : {}),
                target: target.name,
                run,
                close: () => session.close(),
                reconnect: async () => {
                  task.output = `waiting for the target to answer over ${session.description}…`;
                  session = await openLink(ctx, target, { ...opts, acceptNewHostKey: false }, deps);
                  run = session.run;
                  return { run, close: () => session.close() };
                },
                clock: deps.clock ?? systemClock,
              });
              const r = rebooted;
              task.title = r.poke
                ? `'${target.name}' pokes UDP port ${port} (KDNET v${r.poke.version}, the stored key authenticates it)${r.ssh ? "; SSH is back" : ""}`
                : `'${target.name}' is back over SSH after ${r.attempts} attempt(s)`;
            },
          },
        ],
        { renderer: rendererOf(ctx, deps), exitOnError: true, registerSignalListeners: false },
      );
      try {
        await reboot.run();
      } finally {
        await watch?.close();
      }
    }
  } finally {
    await session.close();
  }
  const p = plan!;
  const rep = report!;
  const windbg = `windbg -k net:port=${port},key=${key}`;
  const show = (s: string) => (ctx.opts.showSecrets ? s : s.split(key!).join(redactSecret(key!)));
  const lines = handoffLines("windows", { port, key: key!, address: target.address, showSecrets: Boolean(ctx.opts.showSecrets) });
  // Hand-off: attach only when the target is known to be in the debug entry (--reboot saw its poke).
  // (and only with a terminal to type at: a script or CI gets the lines)
  const attach = !check && opts.connect === true && !ctx.opts.json && ctx.isTTY && rebooted?.poke !== undefined;
  if (keyNote) ctx.log.info(keyNote);
  for (const w of p.warnings) ctx.log.warn(w);
  const targetActions: JourneyAction[] = p.actions.map((a: Action) => {
    const r = rep.actions.find((x: ActionReport) => x.id === a.id);
    return {
      id: a.id,
      title: a.title,
      where: a.where,
      outcome: r?.outcome ?? "skipped",
      command: show(a.command),
      undo: a.undo === undefined ? null : show(a.undo),
    };
  });
  if (ctx.opts.json) {
    const obj: JourneyJson & Record<string, unknown> = {
      target: target.name,
      os: "windows",
      check,
      changed: rep.changed || Boolean(fw?.actions.some((a) => a.outcome === "changed")),
      hostIp,
      port,
      key: show(key!),
      actions: [...(fw?.actions ?? []), ...targetActions],
      hostFirewall: fw
        ? { frontEnds: fw.plan.frontEnds, summary: fw.summary, request: fw.req }
        : { frontEnds: [], summary: `left alone (${firewallLeftAloneWhy(opts)})`, request: null },
      handoff: { windbg: show(windbg), connect: false },
      nic: { name: p.nic.name, busparams: p.nic.busparams ?? null, pnpDeviceId: p.nic.pnpDeviceId },
      entry: p.entryGuid ?? null,
      export: p.exportPath,
      expected: { ...p.expected, key: show(p.expected.key) },
      warnings: p.warnings,
      debugger: show(windbg),
      reboot: rebooted
        ? {
            bootedEntry: rebooted.bootedEntry ?? null,
            // SSH says which entry booted; without SSH, a poke shows a debugging entry booted
            debugEntry: rebooted.bootedEntry !== undefined ? rebooted.bootedEntry === p.entryGuid : rebooted.poke !== undefined,
            debug: rebooted.debug ?? null,
            poke: rebooted.poke ?? null,
            ssh: rebooted.ssh,
          }
        : null,
    };
    ctx.json(obj);
    return;
  }
  if (fw) {
    ctx.out(fw.summary);
    printHostActions(ctx, fw.actions, check);
  } else ctx.out(`Host firewall: left alone (${firewallLeftAloneWhy(opts)}).`);
  printActions(ctx, p.actions, rep, check);
  if (check) {
    ctx.out("Nothing was changed (--check).");
    return;
  }
  ctx.out("");
  if (rebooted) {
    const poke = rebooted.poke;
    if (poke) {
      ctx.out(
        `'${target.name}' restarted into the debug entry: its KDNET pokes (protocol version ${poke.version}) reach this host on UDP port ${port} from ${poke.from} and authenticate with the stored key.`,
      );
      if (!rebooted.ssh)
        ctx.log.warn(`SSH to '${target.name}' did not come back after the reboot: ${rebooted.sshError ?? "no answer"}`);
      await recordKdnetSource(ctx, target, poke);
      if (attach) {
        ctx.out(`Attaching: netdbg connect ${target.name}`);
        await (deps.connect ?? connectWindows)(ctx, target, { port: String(port) });
        return;
      }
      printHandoff(ctx, target, lines.windbg!);
      return;
    }
    if (rebooted.bootedEntry === p.entryGuid && rebooted.debug !== false) {
      ctx.out(`'${target.name}' restarted into the debug entry ${p.entryGuid}; KDNET now sends to ${hostIp} port ${port}.`);
    } else {
      ctx.log.warn(
        `'${target.name}' restarted into ${rebooted.bootedEntry ?? "an unknown entry"}, not the debug entry ${p.entryGuid}: check its boot menu, then 'netdbg setup ${target.name} --reboot' again.`,
      );
    }
    printHandoff(ctx, target, lines.windbg!);
    return;
  }
  ctx.out(
    p.actions.some((a) => a.id === "bcd.default")
      ? `'${target.name}' must boot the debug entry before a debugger can attach: restart it (shutdown /r /t 0, or setup --reboot); it boots the debug entry from now on.`
      : `'${target.name}' must boot the debug entry before a debugger can attach: restart it (shutdown /r /t 0, or setup --reboot); it boots the debug entry once, the next restart returns to the normal entry.`,
  );
  printHandoff(ctx, target, lines.windbg!);
}

/** The exact debugger lines, then how to see the key when it is redacted. */
function printHandoff(ctx: Context, target: Target, windbg: string): void {
  ctx.out(`Then attach:  netdbg connect ${target.name}`);
  ctx.out(`   or WinDbg:  ${windbg}`);
  if (!ctx.opts.showSecrets) ctx.out(showKeyHint(target.name));
}

function printActions(ctx: Context, actions: readonly Action[], rep: StepReport, check: boolean): void {
  for (const a of actions) {
    const r = rep.actions.find((x) => x.id === a.id);
    const o = r?.outcome ?? "skipped";
    ctx.out(`${check ? (o === "unchanged" ? "already done" : "would run") : o}: ${a.command}`);
    if (check && a.undo !== undefined && o !== "unchanged") ctx.out(`    undo: ${a.undo}`);
  }
}

/** `netdbg teardown <windows-target>`, run alone: the undo, then its `--json` object. */
export async function windowsTeardown(
  ctx: Context,
  target: Target,
  opts: Record<string, unknown>,
  deps: WindowsCliDeps = {},
): Promise<TargetTeardownResult> {
  const r = await windowsTeardownResult(ctx, target, opts, deps);
  if (ctx.opts.json) ctx.json(r);
  return r;
}

/**
 * Replay the journal's undos, or restore an exported store; prints the text lines (none with --json) and
 * returns the result as data (teardown builds its one `--json` object from it).
 */
export async function windowsTeardownResult(
  ctx: Context,
  target: Target,
  opts: Record<string, unknown>,
  deps: WindowsCliDeps = {},
): Promise<TargetTeardownResult> {
  const check = Boolean(opts.check);
  const store = storeOf(ctx, deps);
  const journal = await store.load(target.name);
  const pending = journal.entries.filter((e) => e.status !== "undone");
  const restore = opts.restoreExport as string | undefined;
  const session = await openLink(ctx, target, opts, deps);
  const run = session.run;
  try {
    await checkElevation(run, target.name);
    if (restore) {
      const cmd = displayCall(restoreExportCall(restore));
      if (!check) {
        await restoreExport(run, restore, target.name);
        await store.remove(target.name);
      }
      if (!ctx.opts.json) ctx.out(`${check ? "would run" : "changed"}: ${cmd}`);
      return {
        target: target.name,
        os: "windows",
        check,
        changed: !check,
        actions: [{ id: "bcd.import", outcome: check ? "skipped" : "changed", command: cmd }],
      };
    }
    if (pending.length === 0) {
      const facts = await probeWindows(run, { exportDir: DEFAULT_EXPORT_DIR });
      const exports = [...new Set([...((journal.facts.exports as string[] | undefined) ?? []), ...facts.exports])];
      if (facts.netdbgEntries.length === 0 && journal.entries.length > 0) {
        if (!ctx.opts.json) ctx.out(`Nothing to undo on '${target.name}': every recorded change is already undone.`);
        return { target: target.name, os: "windows", check, changed: false, actions: [] };
      }
      throw netdbgError("E216", { target: target.name, exports: exports.join(", ") });
    }
    let report: StepReport | undefined;
    const list = new Listr(
      [
        {
          title: `Undo netdbg's changes on '${target.name}' over ${session.description}`,
          task: async (_c, task) => {
            report = await teardownWindows({
              target: target.name,
              run,
              journal,
              store,
              clock: systemClock,
              check,
              onDone: (e, o) => {
                task.output = `undo ${e.title}: ${outcomeWord(o)}`;
              },
            });
            task.title = check
              ? `Planned the undo on '${target.name}' (nothing changed)`
              : `Undid netdbg's changes on '${target.name}'`;
          },
        },
      ],
      { renderer: rendererOf(ctx, deps), exitOnError: true, registerSignalListeners: false },
    );
    await list.run();
    const rep = report!;
    const result: TargetTeardownResult = {
      target: target.name,
      os: "windows",
      check,
      changed: rep.changed,
      actions: rep.actions,
    };
    if (ctx.opts.json) return result;
    // two undos can be the same command (both dbgsettings changes restore {dbgsettings} from the export): one line
    const lines = rep.actions.map((a) => `${a.outcome === "skipped" ? "would run" : a.outcome}: ${a.command || a.title}`);
    for (const [i, line] of lines.entries()) if (lines.indexOf(line) === i) ctx.out(line);
    if (check) ctx.out("Nothing was changed (--check).");
    else {
      const exports = (journal.facts.exports as string[] | undefined) ?? [];
      if (exports.length) ctx.out(`The store exports netdbg took stay on the target: ${exports.join(", ")}`);
      ctx.out("If the target is running the debug entry now, KDNET stays active until it restarts (shutdown /r /t 0).");
    }
    return result;
  } finally {
    await session.close();
  }
}

/** After --reboot: remember where the debug boot's KDNET pokes come from (inventory transport.kdnetAddress). */
async function recordKdnetSource(ctx: Context, target: Target, poke: KdnetPoke): Promise<void> {
  const rec = kdnetSourceToRecord(poke, target.address, target.transport?.kdnetAddress);
  if (!rec) return;
  await ctx.inventory.update((inv) => {
    const t = inv.targets.find((x) => x.name === target.name);
    if (t) t.transport = { ...t.transport, kdnetAddress: rec.address };
  });
  if (rec.differs)
    ctx.log.warn(
      `In the debug boot '${target.name}' sends KDNET from ${rec.address}, not its SSH address ${target.address} (KDNET's own adapter takes an address from DHCP or 169.254.x.x). Recorded as its KDNET address; 'netdbg connect' listens for it.`,
    );
}
