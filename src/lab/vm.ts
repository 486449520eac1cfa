/**
 * Running the lab: a network namespace with a veth pair to the normal namespace, the serial relay, then
 * QEMU (daemonized) inside the namespace; `down` undoes all of it. State lives in <state>/state.json.
 */
import { netdbgError } from "../core/error.js";
import { shCommand } from "../core/quote.js";
import type { LabArtifacts } from "./artifacts.js";
import { mustRun } from "./exec.js";
import { conflictingRoutes, isolationViolations, type LabSubnet } from "./net.js";
import type { LabDeps, LabPaths } from "./ports.js";
import { type LabNic, qemuArgs } from "./qemu.js";
import {
  GUEST_MEMORY_MB,
  KGDBOC_PORT,
  KGDBOE_PORT,
  type LabNames,
  type LabVariant,
  labNames,
  SERIAL_LOCAL_PORT,
  SERIAL_PEER_PORT,
  SSH_PORT,
  SSH_WAIT_SECONDS,
} from "./spec.js";

const join = (...parts: string[]) => parts.join("/").replace(/\/+/g, "/");

/** What `lab up --json` / `lab status --json` print. */
export interface LabEndpoints {
  variant: LabVariant;
  ssh: { host: string; port: number; user: string; identityFile: string };
  /** gdb: `target remote udp:HOST:PORT`. localPort 0: any local port works (the relay answers the last sender). */
  kgdboc: { host: string; port: number; localPort: number };
  kgdboe: { host: string; port: number };
  /** The KGDB kernel's unstripped vmlinux (symbols); null for the stock kernel (Debian ships it only in -dbg). */
  vmlinux: string | null;
  kernelRelease: string;
}

export interface LabState {
  endpoints: LabEndpoints;
  subnet: string;
  hostAddress: string;
  instance: number;
  netns: string;
  vethHost: string;
  qemuPid: number;
  relayPid: number;
  accel: "tcg" | "kvm";
  smp: number;
  /** The guest's NIC model (absent in states written before it was chosen: e1000). */
  nic?: LabNic;
  knownHosts: string;
  consoleLog: string;
  monitorSocket: string;
  startedAt: string;
  bootSeconds: number;
}

export interface StateFiles {
  dir: string;
  state: string;
  qemuPid: string;
  relayPid: string;
  relayReady: string;
  relayLog: string;
  console: string;
  monitor: string;
  knownHosts: string;
}

export function stateFiles(paths: LabPaths): StateFiles {
  const d = paths.state;
  return {
    dir: d,
    state: join(d, "state.json"),
    qemuPid: join(d, "qemu.pid"),
    relayPid: join(d, "relay.pid"),
    relayReady: join(d, "relay.ready"),
    relayLog: join(d, "relay.log"),
    console: join(d, "console.log"),
    monitor: join(d, "monitor.sock"),
    knownHosts: join(d, "known_hosts"),
  };
}

export interface UpOptions {
  names: LabNames;
  variant: LabVariant;
  smp: number;
  /** Default e1000. */
  nic?: LabNic;
  subnet: LabSubnet;
  progress?: (line: string) => void;
}

async function readPid(deps: LabDeps, file: string): Promise<number | undefined> {
  const t = await deps.fs.readText(file).catch(() => "");
  const n = Number.parseInt(t.trim(), 10);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** Whether pid is alive and its command line contains `needle` (guards against pid reuse). */
export async function processMatches(deps: LabDeps, pid: number | undefined, needle: string): Promise<boolean> {
  if (pid === undefined) return false;
  const cmdline = await deps.fs.readText(`/proc/${pid}/cmdline`).catch(() => undefined);
  return cmdline?.includes(needle) === true;
}

export async function netnsExists(deps: LabDeps, netns: string): Promise<boolean> {
  return deps.fs.exists(`/run/netns/${netns}`);
}

/** KVM only when the CPU advertises virtualization and /dev/kvm exists; nested-virt hosts without vmx/svm get TCG. */
export async function pickAccel(deps: LabDeps): Promise<"tcg" | "kvm"> {
  const cpuinfo = await deps.fs.readText("/proc/cpuinfo").catch(() => "");
  const flags = /^flags\s*:(.*)$/m.exec(cpuinfo)?.[1]?.split(/\s+/) ?? [];
  return (flags.includes("vmx") || flags.includes("svm")) && (await deps.fs.exists("/dev/kvm")) ? "kvm" : "tcg";
}

export async function readState(deps: LabDeps, paths: LabPaths): Promise<LabState | undefined> {
  const f = stateFiles(paths);
  const text = await deps.fs.readText(f.state).catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as LabState);
}

/** The running lab, or undefined when it is not (fully) running. */
export async function liveState(deps: LabDeps, paths: LabPaths): Promise<LabState | undefined> {
  const s = await readState(deps, paths);
  if (!s) return undefined;
  if (!(await processMatches(deps, s.qemuPid, "qemu-system"))) return undefined;
  if (!(await netnsExists(deps, s.netns))) return undefined;
  return s;
}

/** ssh(1) argv for the lab; `remoteCommand` is one line for the guest's shell (build it with quote.ts). */
export function sshArgv(s: LabState, remoteCommand?: string, extra: readonly string[] = []): string[] {
  return [
    "-i",
    s.endpoints.ssh.identityFile,
    "-p",
    String(s.endpoints.ssh.port),
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    `UserKnownHostsFile=${s.knownHosts}`,
    "-o",
    "LogLevel=ERROR",
    ...extra,
    `${s.endpoints.ssh.user}@${s.endpoints.ssh.host}`,
    ...(remoteCommand ? [remoteCommand] : []),
  ];
}

export async function labUp(deps: LabDeps, paths: LabPaths, art: LabArtifacts, o: UpOptions): Promise<LabState> {
  const say = o.progress ?? (() => {});
  const f = stateFiles(paths);
  const running = await liveState(deps, paths);
  if (running) throw netdbgError("E603", { variant: running.endpoints.variant, address: running.endpoints.ssh.host });
  const { netns: NETNS, vethHost: VETH_HOST, vethLab: VETH_LAB } = o.names;
  // Leftovers of a lab that died or was killed: clear them before building anew (refuses another user's lab).
  await labDown(deps, paths, o.names);

  const routes = await deps.runner.run("ip", ["-j", "-4", "route", "show", "table", "all"]);
  const conflicts = conflictingRoutes(routes.stdout, o.subnet, VETH_HOST);
  if (conflicts.length > 0) throw netdbgError("E606", { subnet: o.subnet.cidr, route: conflicts.join("; ") });

  await deps.fs.mkdirp(f.dir);
  for (const p of [f.console, f.relayReady, f.relayLog, f.monitor, f.qemuPid, f.relayPid]) await deps.fs.remove(p);

  say(`network namespace ${NETNS}, veth ${VETH_HOST} ${o.subnet.hostAddress} <-> ${VETH_LAB} ${o.subnet.labAddress}`);
  const step = "up: network";
  await mustRun(deps, "ip", ["netns", "add", NETNS], { step });
  await mustRun(deps, "ip", ["-n", NETNS, "link", "set", "lo", "up"], { step });
  // IPv6 off inside the lab namespace: no link-local routes, nothing but the /30 in its tables.
  const ipv6 = await deps.fs.exists("/proc/sys/net/ipv6"); // absent when the host boots with ipv6.disable=1
  for (const k of ipv6 ? ["all", "default"] : []) {
    await mustRun(deps, "ip", ["netns", "exec", NETNS, "sysctl", "-q", "-w", `net.ipv6.conf.${k}.disable_ipv6=1`], { step });
  }
  await mustRun(deps, "ip", ["link", "add", VETH_HOST, "type", "veth", "peer", "name", VETH_LAB, "netns", NETNS], { step });
  if (ipv6) await deps.runner.run("sysctl", ["-q", "-w", `net.ipv6.conf.${VETH_HOST}.disable_ipv6=1`]);
  await mustRun(deps, "ip", ["addr", "add", `${o.subnet.hostAddress}/${o.subnet.prefix}`, "dev", VETH_HOST], { step });
  await mustRun(deps, "ip", ["link", "set", VETH_HOST, "up"], { step });
  await mustRun(deps, "ip", ["-n", NETNS, "addr", "add", `${o.subnet.labAddress}/${o.subnet.prefix}`, "dev", VETH_LAB], { step });
  await mustRun(deps, "ip", ["-n", NETNS, "link", "set", VETH_LAB, "up"], { step });
  const nsRoutes = await mustRun(deps, "ip", ["-n", NETNS, "-j", "route", "show", "table", "all"], { step });
  const leaks = isolationViolations(nsRoutes.stdout, o.subnet);
  if (leaks.length > 0) {
    throw netdbgError("E608", {
      what: "network namespace",
      detail: `it has routes beyond its link: ${leaks.join("; ")}`,
      log: "ip -n netdbg-lab route",
    });
  }

  say(`serial relay (kgdboc): udp ${o.subnet.labAddress}:${KGDBOC_PORT} <-> QEMU ttyS1`);
  await mustRun(
    deps,
    "ip",
    [
      "netns",
      "exec",
      NETNS,
      "start-stop-daemon",
      "--start",
      "--background",
      "--make-pidfile",
      "--pidfile",
      f.relayPid,
      "--output",
      f.relayLog,
      "--exec",
      paths.node,
      "--",
      join(paths.templates, "serial-relay.mjs"),
      "--qemu-peer",
      `127.0.0.1:${SERIAL_PEER_PORT}`,
      "--qemu-local",
      `127.0.0.1:${SERIAL_LOCAL_PORT}`,
      "--listen",
      `${o.subnet.labAddress}:${KGDBOC_PORT}`,
      "--ready",
      f.relayReady,
    ],
    { step: "up: serial relay" },
  );
  for (let i = 0; i < 100 && !(await deps.fs.exists(f.relayReady)); i++) await deps.clock.sleep(100);
  const relayPid = await readPid(deps, f.relayPid);
  if (!(await deps.fs.exists(f.relayReady)) || relayPid === undefined) {
    const log = await deps.fs.readText(f.relayLog).catch(() => "");
    throw netdbgError("E608", {
      what: "serial relay",
      detail: log.trim().split("\n").slice(-3).join(" | ") || "it did not report ready",
      log: f.relayLog,
    });
  }

  const accel = await pickAccel(deps);
  const kgdb = o.variant === "kgdb";
  const args = qemuArgs({
    variant: o.variant,
    accel,
    smp: o.smp,
    nic: o.nic ?? "e1000",
    memoryMb: GUEST_MEMORY_MB,
    kernel: kgdb ? art.kernel.bzImage : art.rootfs.stockKernel,
    ...(kgdb ? {} : { initrd: art.rootfs.stockInitrd }),
    disk: art.image.disk,
    labAddress: o.subnet.labAddress,
    consoleLog: f.console,
    monitorSocket: f.monitor,
    pidFile: f.qemuPid,
  });
  say(
    `QEMU (${accel.toUpperCase()}, ${o.smp} CPU, ${o.nic ?? "e1000"} NIC, ${o.variant} kernel ${kgdb ? art.kernel.release : art.rootfs.stockRelease})`,
  );
  const started = deps.clock.now().getTime();
  const q = await deps.runner.run("ip", ["netns", "exec", NETNS, "qemu-system-x86_64", ...args], { timeoutMs: 60_000 });
  const qemuPid = await readPid(deps, f.qemuPid);
  if (q.exitCode !== 0 || qemuPid === undefined) {
    throw netdbgError("E608", {
      what: "QEMU",
      detail: (q.stderr || q.stdout).trim().split("\n").slice(-3).join(" | ") || `exit code ${q.exitCode}`,
      log: f.console,
    });
  }

  const hostKey = (await deps.fs.readText(art.rootfs.hostKeyPub)).trim().split(/\s+/).slice(0, 2).join(" ");
  await deps.fs.writeText(f.knownHosts, `${o.subnet.labAddress} ${hostKey}\n`, 0o600);
  const release = kgdb ? art.kernel.release : art.rootfs.stockRelease;
  const state: LabState = {
    endpoints: {
      variant: o.variant,
      ssh: { host: o.subnet.labAddress, port: SSH_PORT, user: "root", identityFile: art.rootfs.identityFile },
      kgdboc: { host: o.subnet.labAddress, port: KGDBOC_PORT, localPort: 0 },
      kgdboe: { host: o.subnet.labAddress, port: KGDBOE_PORT },
      vmlinux: kgdb ? art.kernel.vmlinux : null,
      kernelRelease: release,
    },
    subnet: o.subnet.cidr,
    hostAddress: o.subnet.hostAddress,
    instance: o.names.instance,
    netns: NETNS,
    vethHost: VETH_HOST,
    qemuPid,
    relayPid,
    accel,
    smp: o.smp,
    nic: o.nic ?? "e1000",
    knownHosts: f.knownHosts,
    consoleLog: f.console,
    monitorSocket: f.monitor,
    startedAt: new Date(started).toISOString(),
    bootSeconds: 0,
  };
  await deps.fs.writeText(f.state, `${JSON.stringify(state, null, 2)}\n`);

  say(`waiting for SSH on ${o.subnet.labAddress}:${SSH_PORT} (TCG boot: 15–40 s)`);
  const deadline = started + SSH_WAIT_SECONDS * 1000;
  let uname = "";
  while (deps.clock.now().getTime() < deadline) {
    if (!(await processMatches(deps, qemuPid, "qemu-system"))) {
      const console = await deps.fs.readText(f.console).catch(() => "");
      throw netdbgError("E608", {
        what: "QEMU",
        detail: `it exited during boot: ${console.trim().split("\n").slice(-3).join(" | ")}`,
        log: f.console,
      });
    }
    const r = await deps.runner.run(
      "ssh",
      sshArgv(state, shCommand(["uname", "-r"]), ["-o", "BatchMode=yes", "-o", "ConnectTimeout=5"]),
      {
        timeoutMs: 30_000,
      },
    );
    if (r.exitCode === 0) {
      uname = r.stdout.trim();
      break;
    }
    await deps.clock.sleep(1000);
  }
  if (!uname)
    throw netdbgError("E605", { what: `ssh root@${o.subnet.labAddress}`, seconds: SSH_WAIT_SECONDS, console: f.console });
  if (uname !== release) {
    throw netdbgError("E608", { what: "guest", detail: `it runs kernel ${uname}, expected ${release}`, log: f.console });
  }
  state.bootSeconds = Math.round((deps.clock.now().getTime() - started) / 100) / 10;
  await deps.fs.writeText(f.state, `${JSON.stringify(state, null, 2)}\n`);
  return state;
}

/** Break into kgdb from the host: magic SysRq 'g' through QEMU's monitor (like pressing Alt-SysRq-G). */
export async function labBreak(deps: LabDeps, paths: LabPaths): Promise<void> {
  const s = await liveState(deps, paths);
  if (!s) throw netdbgError("E604", {});
  await mustRun(deps, "socat", ["-", `UNIX-CONNECT:${s.monitorSocket}`], {
    step: "break: QEMU monitor",
    input: "sendkey alt-sysrq-g\n",
    timeoutMs: 10_000,
  });
}

/**
 * Stop everything this lab (this state directory) started; safe to run when nothing is running. Without a
 * state file, the instance's namespace is removed only when nothing runs inside it (a leftover): a namespace
 * with processes belongs to a lab started from another state directory and is refused (NETDBG-E611).
 */
export async function labDown(deps: LabDeps, paths: LabPaths, fallback: LabNames = labNames(0)): Promise<string[]> {
  const f = stateFiles(paths);
  const done: string[] = [];
  const state = await readState(deps, paths);
  const netns = state?.netns ?? fallback.netns;
  const vethHost = state?.vethHost ?? fallback.vethHost;
  const qemuPid = await readPid(deps, f.qemuPid);
  const relayPid = await readPid(deps, f.relayPid);
  const live = state !== undefined && (await processMatches(deps, qemuPid, "qemu-system"));
  if (!live && (await netnsExists(deps, netns))) {
    // Our QEMU is gone: any process in the namespace other than our own relay is someone else's lab.
    const own = new Set<string>();
    if (await processMatches(deps, relayPid, "serial-relay")) own.add(String(relayPid));
    const pids = await deps.runner.run("ip", ["netns", "pids", netns]);
    if (pids.stdout.split(/\s+/).some((p) => p !== "" && !own.has(p))) {
      // Our own record is stale either way: drop it, leave the other lab alone.
      for (const p of [f.state, f.qemuPid, f.relayReady, f.monitor, f.knownHosts]) await deps.fs.remove(p);
      throw netdbgError("E611", { netns, state: f.state });
    }
  }
  const stop = async (pidFile: string, needle: string, what: string) => {
    const pid = await readPid(deps, pidFile);
    if (await processMatches(deps, pid, needle)) {
      await deps.runner.run("start-stop-daemon", ["--stop", "--quiet", "--pid", String(pid), "--retry", "TERM/10/KILL/5"]);
      done.push(`${what} (pid ${pid})`);
    }
    await deps.fs.remove(pidFile);
  };
  await stop(f.qemuPid, "qemu-system", "QEMU");
  await stop(f.relayPid, "serial-relay", "serial relay");
  if (live && (await netnsExists(deps, netns))) {
    // Anything else still running inside this lab's own namespace was started by this lab.
    const pids = await deps.runner.run("ip", ["netns", "pids", netns]);
    for (const p of pids.stdout.split(/\s+/).filter(Boolean)) {
      await deps.runner.run("start-stop-daemon", ["--stop", "--quiet", "--pid", p, "--retry", "TERM/5/KILL/5"]);
      done.push(`process ${p} in ${netns}`);
    }
  }
  const link = await deps.runner.run("ip", ["link", "show", "dev", vethHost]);
  if (link.exitCode === 0) {
    await mustRun(deps, "ip", ["link", "del", vethHost], { step: "down: veth" });
    done.push(`veth ${vethHost}`);
  }
  if (await netnsExists(deps, netns)) {
    await mustRun(deps, "ip", ["netns", "del", netns], { step: "down: namespace" });
    done.push(`network namespace ${netns}`);
  }
  for (const p of [f.state, f.relayReady, f.monitor, f.knownHosts]) await deps.fs.remove(p);
  return done;
}
