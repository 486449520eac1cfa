/**
 * The real adapters behind `netdbg doctor`'s checks (src/doctor is pure over these): ONE lazily opened SSH session
 * per target shared by every target check, read-only probes (the Linux probe runs in check mode, so a changing
 * command would be refused), a real UDP listener for the datagram-from-target and KDNET poke checks, the host
 * firewall / IPsec probes, ping for the hop estimate, TCP handshakes for the round trip, and an RSP exchange that
 * always detaches.
 */
import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import { isNetdbgError } from "../core/error.js";
import type { Target } from "../core/inventory.js";
import { parseKdnetKey } from "../core/kdnet-key.js";
import type { RemoteSession } from "../core/interfaces.js";
import { once } from "../doctor/util.js";
import { parsePingTtl, hopsFromTtl, udpSendPowerShell, udpSendShell } from "../doctor/probes.js";
import type { DatagramProbe, DoctorDeps, KgdboeAnswer, PokeWatch, RttSamples } from "../doctor/types.js";
import { listenForPokes } from "../engine/kdnet/listen.js";
import { openUdp } from "../engine/kdnet/udp.js";
import { HostFirewallStep } from "../host/firewall/index.js";
import { probeIpsec } from "../host/ipsec.js";
import type { HostRoute } from "../host/route.js";
import { ExecaCommandRunner } from "../io/command-runner.js";
import { FileJournalStore } from "../io/journal-store.js";
import { NodePowerShellRunner } from "../io/powershell.js";
import { isUdpPortFree } from "../io/port-probe.js";
import { connectSsh } from "../io/ssh.js";
import { probeLinuxTarget } from "../targets/linux/probe.js";
import { LinuxRemote } from "../targets/linux/remote.js";
import { probeWindows } from "../targets/windows/probe.js";
import { sessionRunner } from "../targets/windows/ps.js";
import { runHostRoute } from "./commands/host-run.js";
import type { Context } from "./context.js";
import { openRemote } from "./debugger/linux-session.js";

/** `netdbg doctor`'s flags, parsed once at the action (commands/doctor.ts). */
export interface DoctorRequest {
  /** false: do not open SSH (the target checks are skipped, the firewall check falls back to the static probe). */
  ssh: boolean;
  /** How long to listen for a Windows target's KDNET pokes (undefined: the check's own default). */
  listenSeconds?: number;
  acceptNewHostKey: boolean;
}

export interface BuiltDeps {
  deps: DoctorDeps;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How long the datagram check waits after the target's send command returned. */
const DATAGRAM_WAIT_MS = 1500;

export async function sendDatagramFromTarget(
  session: RemoteSession,
  os: Target["os"],
  to: { address: string; port: number },
): Promise<DatagramProbe> {
  const marker = `netdbg-doctor-${randomBytes(8).toString("hex")}`;
  const transport = await openUdp({ port: to.port, ...(to.address.includes(":") ? { family: 6 as const } : {}) });
  let from: string | undefined;
  let arrived: () => void = () => {};
  const received = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  transport.onMessage((buf, src) => {
    if (buf.toString("latin1") === marker) {
      from ??= src.address;
      arrived();
    }
  });
  try {
    const command = os === "windows" ? udpSendPowerShell(marker, to.address, to.port) : udpSendShell(marker, to.address, to.port);
    const r = await session.exec(command, { timeoutMs: 20_000 });
    const via = /via=(.+)/.exec(r.stdout)?.[1]?.trim();
    if (r.exitCode !== 0 && from === undefined) {
      const detail = (r.stderr || r.stdout).trim().split(/\r?\n/).slice(-2).join(" ") || `exit ${r.exitCode}`;
      return { sent: false, received: false, detail, ...(via ? { via } : {}) };
    }
    const got = await Promise.race([received.then(() => true), sleep(DATAGRAM_WAIT_MS).then(() => false)]);
    return { sent: true, received: got, ...(from ? { from } : {}), ...(via ? { via } : {}) };
  } finally {
    await transport.close();
  }
}

/** Listen on each port at once; a port that cannot be bound is reported busy. */
export async function watchPokes(ports: readonly number[], ms: number, keyText: string | undefined): Promise<PokeWatch[]> {
  const key = keyText ? parseKdnetKey(keyText) : undefined;
  return Promise.all(
    ports.map(async (port): Promise<PokeWatch> => {
      let transport: Awaited<ReturnType<typeof openUdp>>;
      try {
        transport = await openUdp({ port });
      } catch (e) {
        if (isNetdbgError(e)) return { port, busy: true, sources: [] };
        throw e;
      }
      try {
        const sources = await listenForPokes(transport, { ...(key ? { key } : {}), durationMs: ms, stopAfterFirstPoke: true });
        return { port, sources };
      } finally {
        await transport.close();
      }
    }),
  );
}

/** TCP handshakes to the target's SSH port: connect (SYN/ACK) or refusal (RST) each take one round trip. */
export async function tcpRtt(host: string, port: number, samples = 5): Promise<RttSamples> {
  const ms: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host, port });
      const timer = setTimeout(() => {
        s.destroy();
        resolve(false);
      }, 2000);
      s.once("connect", () => {
        clearTimeout(timer);
        s.destroy();
        resolve(true);
      });
      s.once("error", (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        resolve(e.code === "ECONNREFUSED");
      });
    });
    if (ok) ms.push(performance.now() - t0);
    await sleep(50); // one at a time, gently: each is a pre-auth connection for the SSH server
  }
  return { ms, via: `TCP handshake to ${host}:${port}` };
}

/** The RSP exchange's timeout: 5 s for a target set up from this host, 2 s when nothing says kgdboe should answer. */
export const KGDBOE_TIMEOUT_SECONDS = { setUp: 5, unknown: 2 } as const;

export async function kgdboeExchange(
  target: Target,
  timeoutSeconds: number = KGDBOE_TIMEOUT_SECONDS.setUp,
): Promise<KgdboeAnswer> {
  const { endpoint, client, remote } = await openRemote(target, { timeoutS: timeoutSeconds });
  let attached = false;
  try {
    client.transport.write(Uint8Array.of(0x03)); // break in (kgdboe stops on a lone 0x03)
    const info = await remote.attach();
    attached = true;
    const pc = await remote.pc().catch(() => undefined);
    await remote.detach();
    attached = false;
    return {
      endpoint: `${endpoint.kind}:${endpoint.host}:${endpoint.port}`,
      stop: info.stop.raw,
      arch: info.arch,
      ...(pc !== undefined ? { pc: `0x${pc.toString(16)}` } : {}),
      ...(client.roundTrip !== undefined ? { roundTripMs: client.roundTrip } : {}),
    };
  } finally {
    // never leave the kernel stopped because of an error on our side
    if (attached) await remote.detach().catch(() => {});
    await client.close();
  }
}

export function buildDoctorDeps(
  c: Context,
  t: Target,
  store: { get(name: string): Promise<string | undefined> },
  opts: DoctorRequest,
): BuiltDeps {
  const runner = new ExecaCommandRunner();
  const platform = process.platform;
  let ps: NodePowerShellRunner | undefined;
  const powershell = () => {
    ps ??= new NodePowerShellRunner();
    return ps;
  };
  const route = once(async (): Promise<HostRoute> => (await runHostRoute(c, t.address)).candidates[0]!);
  const hostAddress = once(async () => t.transport?.hostIp ?? (await route()).localAddress);
  const storedKey = () => store.get(t.name);
  // a target this host set up has an applied entry in its change journal; a damaged journal counts as set up
  const setUp = once(async () => {
    try {
      const j = await new FileJournalStore(c.paths.journals).load(t.name);
      return j.entries.some((e) => e.status === "applied");
    } catch {
      return true;
    }
  });
  let opened: RemoteSession | undefined;
  const session = once(async () => {
    const open = () => connectSsh({ target: t, acceptNewHostKey: opts.acceptNewHostKey, logger: c.log });
    try {
      opened = await open();
    } catch (e) {
      // a server that closed the connection during the handshake (busy, MaxStartups) gets one more try
      if (!(isNetdbgError(e) && e.code === "NETDBG-E802")) throw e;
      c.log.debug(`${t.name}: ${e.message} Trying once more.`);
      await sleep(1000);
      opened = await open();
    }
    return opened;
  });
  const listenSeconds = opts.listenSeconds;
  const deps: DoctorDeps = {
    target: t,
    route,
    hostAddress,
    portFree: isUdpPortFree,
    storedKey,
    setUp,
    firewallStatus: async () => {
      const r = await route();
      const req = {
        address: r.address,
        port: t.port!,
        ...(r.interface && platform === "linux" ? { interface: r.interface } : {}),
      };
      const step = new HostFirewallStep(req, {
        platform,
        runner,
        ...(platform === "win32" ? { ps: powershell() } : {}),
        ...(process.getuid ? { elevated: process.getuid() === 0 } : {}),
      });
      return step.status();
    },
    ipsec: async () => {
      const r = await route();
      const query = { target: r.address, local: r.localAddress, port: t.port! };
      const report = await probeIpsec({ platform, runner, ...(platform === "win32" ? { ps: powershell() } : {}) }, query);
      return { report, query };
    },
    hops: async () => {
      const r = await route();
      const args = platform === "win32" ? ["-n", "3", "-w", "1000", r.address] : ["-n", "-c", "3", "-W", "1", r.address];
      try {
        const out = await runner.run("ping", args, { timeoutMs: 10_000 });
        const ttl = parsePingTtl(out.stdout);
        return ttl === undefined ? { note: "the target did not answer ping" } : { ttl, hops: hopsFromTtl(ttl) };
      } catch (e) {
        if (isNetdbgError(e) && e.code === "NETDBG-E018") return { note: "ping is not installed on this host" };
        throw e;
      }
    },
    rtt: () => tcpRtt(t.address, t.ssh?.port ?? 22),
    ...(listenSeconds !== undefined ? { pokeListenMs: Math.round(listenSeconds * 1000) } : {}),
  };
  if (t.os === "windows") deps.listenPokes = async (ports, ms) => watchPokes(ports, ms, await storedKey());
  if (opts.ssh) {
    deps.session = async () => {
      await session();
    };
    deps.datagramFromTarget = async (to) => sendDatagramFromTarget(await session(), t.os, to);
    if (t.os === "linux") {
      deps.linuxFacts = once(async () => {
        const remote = new LinuxRemote(await session(), true); // check mode: only read-only commands may run
        const hostIp = await hostAddress().catch(() => undefined);
        return probeLinuxTarget(remote, hostIp ? { hostIp } : {});
      });
      deps.kgdboe = async () =>
        kgdboeExchange(t, (await setUp()) ? KGDBOE_TIMEOUT_SECONDS.setUp : KGDBOE_TIMEOUT_SECONDS.unknown);
    } else {
      deps.windowsFacts = once(async () => probeWindows(sessionRunner(await session(), t.name)));
    }
  }
  return {
    deps,
    close: async () => {
      await opened?.close().catch(() => {});
      await ps?.dispose();
    },
  };
}
