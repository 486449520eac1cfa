/**
 * The composition root of setup / teardown: the real adapters the sequence (src/journey) and its drivers
 * (src/targets/<os>/driver.ts) reach the world through — SSH with the terminal's host-key question, the file
 * journal, this machine's firewall, the route to the target, the local PowerShell for --via winrm, the KDNET
 * port watch, the kgdboe source and the RSP check — each replaceable by a test seam (`CliDeps`).
 */
import type { SessionOpener } from "../core/driver.js";
import { netdbgError } from "../core/error.js";
import type { Target } from "../core/inventory.js";
import { ipVersion } from "../core/ip.js";
import { type PowerShellRunner, type RemoteSession, systemClock } from "../core/interfaces.js";
import { probeSudo } from "../core/remote.js";
import type { DatagramTransport } from "../engine/kdnet/transport.js";
import { openUdp } from "../engine/kdnet/udp.js";
import { HostFirewallStep } from "../host/firewall/index.js";
import { hostRoute, type RouteDeps, routeInterface } from "../host/route.js";
import { ExecaCommandRunner } from "../io/command-runner.js";
import { FileJournalStore } from "../io/journal-store.js";
import { hostClone, loadTemplates, resolveKgdboeSource } from "../io/kgdboe-source.js";
import { SystemNetProbe } from "../io/net-probe.js";
import { isUdpPortFree } from "../io/port-probe.js";
import { connectSsh } from "../io/ssh.js";
import type { HostFirewallPort } from "../journey/host-firewall.js";
import { pokeWatch } from "../journey/pokes.js";
import { rspCheckUdp } from "../journey/rsp-check.js";
import type { JourneyDeps } from "../journey/setup.js";
import { linuxDriver } from "../targets/linux/driver.js";
import { DEFAULT_KGDBOE_GIT } from "../targets/linux/paths.js";
import type { RspCheckResult } from "../targets/linux/setup.js";
import { type WindowsDriverPorts, windowsDriver } from "../targets/windows/driver.js";
import type { ConnectRequest } from "./connect-options.js";
import type { Context } from "./context.js";
import { askPassword, confirmHostKey } from "./prompts.js";

/**
 * Seams for tests and the demo: where sessions, the firewall, the clock and the watch come from.
 * The sequence's own (openSession, now, clock — for --reboot's waiting, tests pass one whose sleep returns at
 * once —, firewall — tests run its commands inside a network namespace —, isPortFree) and the Windows driver's
 * (powershell for --via winrm, pokeGraceMs for --reboot) keep their types; each defaults to the real one.
 */
export interface CliDeps
  extends Partial<Pick<JourneyDeps, "openSession" | "now" | "clock" | "firewall" | "isPortFree">>,
    Pick<WindowsDriverPorts, "powershell" | "pokeGraceMs"> {
  /** listr2 renderer; default: the context's (silent under --json or in a fleet, simple without a terminal). */
  renderer?: "default" | "simple" | "verbose" | "silent";
  /** The host address when neither --host-ip nor transport.hostIp says (default: the route's local end). */
  discoverHostIp?: (ctx: Context, target: Target, port: number) => Promise<string | undefined>;
  /** Bind the host debug port for --reboot's poke watch (default: UDP on the host IP). E506 falls back to SSH only. */
  openKdnetPort?: (port: number, hostIp: string) => Promise<DatagramTransport>;
  /** The hand-off after setup (default: `netdbg connect`). */
  connect?: (ctx: Context, target: Target, request: ConnectRequest) => Promise<void>;
  /** Linux: the RSP check after loading (default: rspCheckUdp from this host). */
  rspCheck?: (ep: { host: string; port: number }) => Promise<RspCheckResult>;
}

/** This machine's network, where the route to a target is looked up. */
const systemRoute = (): RouteDeps => ({
  net: new SystemNetProbe(),
  platform: process.platform,
  runner: new ExecaCommandRunner(),
});

/** This machine's firewall: execa runner, root = uid 0 (Linux); PowerShell on Windows. */
export function systemHostFirewall(): HostFirewallPort {
  return {
    async request(target, port) {
      let address = target.address;
      if (ipVersion(address) === 0) {
        try {
          address = (await new SystemNetProbe().resolve(address))[0]!;
        } catch (e) {
          throw netdbgError("E100", { name: target.address, reason: (e as Error).message });
        }
      }
      const iface = process.platform === "linux" ? await routeInterface(address, systemRoute(), port) : undefined;
      return { address, port, ...(iface ? { interface: iface } : {}) };
    },
    step(req) {
      const elevated = process.getuid ? process.getuid() === 0 : true;
      return {
        step: new HostFirewallStep(req, {
          platform: process.platform,
          runner: new ExecaCommandRunner(),
          ...(process.platform === "win32" ? { ps: lazyPowerShell() } : {}),
          elevated,
        }),
        elevated,
      };
    },
  };
}

/** node-powershell, loaded when the first script runs. */
function lazyPowerShell(): PowerShellRunner {
  let ps: PowerShellRunner | undefined;
  const get = async () => {
    if (!ps) ps = new (await import("../io/powershell.js")).NodePowerShellRunner();
    return ps;
  };
  return { invoke: async (s, p) => (await get()).invoke(s, p), dispose: async () => ps?.dispose() };
}

async function defaultPowerShell(): Promise<PowerShellRunner> {
  const { findExecutable, NodePowerShellRunner, powershellExecutable } = await import("../io/powershell.js");
  const exe = powershellExecutable();
  if (!(await findExecutable(exe))) throw netdbgError("E223", { platform: process.platform, executable: exe });
  return new NodePowerShellRunner({ executable: exe });
}

/** The host address on the route to the target (src/host/route.ts: UDP connect, no packet leaves, refined by `ip route get`). */
async function defaultDiscoverHostIp(ctx: Context, target: Target, port: number): Promise<string | undefined> {
  const r = await hostRoute(target.address, systemRoute(), port);
  const best = r.candidates[0];
  if (!best) return undefined;
  for (const w of best.warnings) ctx.log.warn(w.message);
  ctx.log.info(
    `KDNET host address for '${target.name}': ${best.localAddress} (the route to ${best.address}; --host-ip overrides).`,
  );
  return best.localAddress.replace(/%.*$/, "");
}

/** SSH with netdbg's client: the host-key question on a terminal (never with --json), known_hosts recorded unless check. */
function sshOpener(ctx: Context): SessionOpener {
  return (target, o) =>
    connectSsh({
      target,
      acceptNewHostKey: o.acceptNewHostKey,
      recordHostKey: !o.check,
      logger: ctx.log,
      ...(ctx.isTTY && !ctx.opts.json ? { confirmHostKey } : {}),
    });
}

/**
 * The sudo password, asked once on the terminal BEFORE the progress display starts (listr2 holds back what is
 * written while it runs, so a prompt inside a task would be invisible), and only when the target's sudo wants
 * one; without a terminal (CI, --json) nothing is asked and elevation stops with NETDBG-E811.
 */
function sudoPrompt(ctx: Context): (session: RemoteSession) => Promise<(() => Promise<string>) | undefined> {
  return async (session) => {
    if (!ctx.isTTY || ctx.opts.json) return undefined;
    const { mode } = await probeSudo(session);
    if (mode !== "password") return undefined;
    const pw = await askPassword("sudo password on the target:", "sudo password (configure NOPASSWD sudo)");
    ctx.secretsSeen.push(pw);
    return async () => pw;
  };
}

/** The --reboot watch listens where the target will send: the host IP its dbgsettings name, not every address. */
const defaultOpenKdnetPort = (port: number, hostIp: string) =>
  openUdp({ port, address: hostIp, ...(hostIp.includes(":") ? { family: 6 as const } : {}) });

/** The sequence's deps for this context. */
export function journeyDeps(ctx: Context, deps: CliDeps = {}): JourneyDeps {
  const openKdnetPort = deps.openKdnetPort ?? defaultOpenKdnetPort;
  return {
    inventory: ctx.inventory,
    secrets: ctx.secrets,
    secretsSeen: ctx.secretsSeen,
    log: ctx.log,
    store: new FileJournalStore(ctx.paths.journals),
    clock: deps.clock ?? systemClock,
    firewall: deps.firewall ?? systemHostFirewall(),
    isPortFree: deps.isPortFree ?? isUdpPortFree,
    openSession: deps.openSession ?? sshOpener(ctx),
    sudoPassword: sudoPrompt(ctx),
    discoverHostIp: (t, p) => (deps.discoverHostIp ?? defaultDiscoverHostIp)(ctx, t, p),
    ...(deps.now ? { now: deps.now } : {}),
    drivers: {
      windows: windowsDriver({
        powershell: deps.powershell ?? defaultPowerShell,
        watchPokes: async (port, hostIp, key) => pokeWatch(await openKdnetPort(port, hostIp), key),
        ...(deps.pokeGraceMs !== undefined ? { pokeGraceMs: deps.pokeGraceMs } : {}),
      }),
      linux: linuxDriver({
        resolveSource: (spec) => resolveKgdboeSource(spec, DEFAULT_KGDBOE_GIT),
        hostFetch: hostClone,
        templates: loadTemplates,
        rspCheck: deps.rspCheck ?? ((ep, localPort) => rspCheckUdp(ep, { localPort })),
      }),
    },
  };
}
