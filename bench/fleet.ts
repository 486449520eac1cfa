/**
 * Fleet setup scaling: 32 Windows targets, each its own in-process Windows target model behind its own ssh2
 * server on loopback (real SSH: key exchange, auth, one channel per PowerShell call; the peers run in a worker
 * thread, bench/_fleet-peers.ts, as real targets run on their own machines), set up by the fleet
 * runner (src/cli/fleet.ts, listr2 concurrency) through the real CLI glue (ports allocated one at a time by
 * the journey's port step, a key generated and stored per target, the file journal, plan → apply → verify).
 * Reported: one target's time, the fleet's time at the default concurrency (8) and at 32, and the ratios
 * fleet / one. The bar is ≤ 1.5× at full concurrency. The host firewall step is left out
 * (--no-host-firewall): it needs root and a namespace of its own (test/cli/journey.test.ts covers it).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { ensurePorts } from "../src/journey/port.js";
import { isUdpPortFree } from "../src/io/port-probe.js";
import { type Context, createContext } from "../src/cli/context.js";
import { runFleet } from "../src/cli/fleet.js";
import { parseSetupRequest } from "../src/cli/options.js";
import { setupResult } from "../src/cli/setup-run.js";
import type { Target } from "../src/core/inventory.js";
import { connectSsh, type SshConnectOptions } from "../src/io/ssh.js";

export const name = "fleet";

const FLEET = 32;

interface Rig {
  ctx: Context;
  targets: Target[];
  options: Map<string, SshConnectOptions>;
  peers: Worker;
  dir: string;
}

function ask<T>(w: Worker, msg: Record<string, unknown>, op: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const on = (m: { op: string } & T) => {
      if (m.op !== op) return;
      w.off("message", on);
      w.off("error", reject);
      resolve(m);
    };
    w.on("message", on);
    w.once("error", reject);
    w.postMessage(msg);
  });
}

async function rig(n: number): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), "nd-bench-fleet-"));
  const ctx = createContext({ stateDir: dir, json: true, color: false });
  const peers = new Worker(new URL("./_fleet-peers-boot.mjs", import.meta.url));
  const { options } = await ask<{ options: SshConnectOptions[] }>(peers, { op: "start", n, dir }, "started");
  const targets: Target[] = [];
  const byName = new Map<string, SshConnectOptions>();
  for (let i = 0; i < n; i++) {
    const name = `win${String(i).padStart(2, "0")}`;
    // TEST-NET-2 addresses: names in the inventory only; SSH goes to each peer's loopback port
    targets.push({ name, os: "windows", address: `198.51.100.${10 + i}`, transport: { hostIp: "198.51.100.1" } });
    byName.set(name, options[i]!);
  }
  await ctx.inventory.update((inv) => {
    inv.targets.push(...targets);
  });
  return { ctx, targets, options: byName, peers, dir };
}

async function fleetSetup(
  r: Rig,
  concurrency: number,
): Promise<{ ms: number; portsMs: number; ok: number; ports: number[]; keys: string[] }> {
  const opts = { connect: false, hostFirewall: false };
  const t0 = performance.now();
  const ready = await ensurePorts(
    r.targets,
    { check: false },
    { inventory: r.ctx.inventory, log: r.ctx.log, isFree: isUdpPortFree },
  );
  const portsMs = performance.now() - t0;
  const request = parseSetupRequest(opts);
  const outcomes = await runFleet(
    r.ctx,
    ready,
    (child, t) =>
      setupResult(child, t, request, {
        openSession: async () => connectSsh(r.options.get(t.name)!),
        renderer: "silent",
      }),
    { concurrency, title: "setup" },
  );
  const ms = performance.now() - t0;
  const failed = outcomes.filter((o) => !o.ok);
  if (failed.length) throw new Error(`${failed.length} target(s) failed, e.g. ${failed[0]!.target}: ${failed[0]!.message}`);
  const keys = await Promise.all(ready.map(async (t) => (await r.ctx.secrets.get(t.name)) ?? ""));
  return { ms, portsMs, ok: outcomes.length, ports: ready.map((t) => t.port!), keys };
}

async function close(r: Rig): Promise<void> {
  await ask(r.peers, { op: "stop" }, "stopped");
  await r.peers.terminate();
  rmSync(r.dir, { recursive: true, force: true });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** One fleet of FLEET fresh targets; checks ports and keys are unique and every target got its own. */
export async function oneFleet(concurrency: number): Promise<{ ms: number; portsMs: number }> {
  const r = await rig(FLEET);
  try {
    const f = await fleetSetup(r, concurrency);
    if (new Set(f.ports).size !== FLEET) throw new Error(`ports are not unique: ${f.ports.join(",")}`);
    if (new Set(f.keys).size !== FLEET || f.keys.some((k) => !k)) throw new Error("KDNET keys are not unique");
    // every model really got its own dbgsettings (its port)
    const { texts } = await ask<{ texts: string[] }>(r.peers, { op: "dbgsettings" }, "dbgsettings");
    for (const [i, t] of r.targets.entries()) {
      if (!texts[i]!.includes(String(f.ports[i]))) throw new Error(`${t.name}: dbgsettings lack port ${f.ports[i]}`);
    }
    return f;
  } finally {
    await close(r);
  }
}

export async function run(): Promise<Record<string, unknown>> {
  const REPS = 3;
  // warm-up (module loading, JIT) so the single-target figure is not the cold start
  const warm = await rig(1);
  await fleetSetup(warm, 1);
  await close(warm);

  const singles: number[] = [];
  for (let i = 0; i < REPS; i++) {
    const one = await rig(1);
    singles.push((await fleetSetup(one, 1)).ms);
    await close(one);
  }
  const oneMs = median(singles);
  const full: number[] = [];
  const cpu: number[] = [];
  let portStepMs = 0;
  for (let i = 0; i < REPS; i++) {
    const c0 = process.cpuUsage();
    const f = await oneFleet(FLEET);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000 / FLEET);
    full.push(f.ms);
    portStepMs = Math.max(portStepMs, f.portsMs);
  }
  const at8 = (await oneFleet(8)).ms;
  const fullMs = median(full);
  return {
    targets: FLEET,
    repetitions: REPS,
    oneTargetMs: Math.round(oneMs),
    oneTargetRunsMs: singles.map(Math.round),
    "fleetMs@32": Math.round(fullMs),
    "fleetRunsMs@32": full.map(Math.round),
    "ratio@32": Number((fullMs / oneMs).toFixed(2)),
    "fleetMs@8": Math.round(at8),
    "ratio@8": Number((at8 / oneMs).toFixed(2)),
    portStepMaxMs: Math.round(portStepMs),
    // CPU of the whole process (netdbg and the peers' worker, peers' start-up included) per target: what the
    // fleet needs from the machine's cores, whatever the load
    "cpuMsPerTarget@32": Math.round(median(cpu)),
    bar: "ratio@32 <= 1.5 (concurrency 32; at the default 8 a fleet of 32 runs in 4 waves)",
    uniquePortsAndKeys: true,
    // the figures are only as steady as the machine: the 1-minute load average when they were taken
    loadAverage: Number(loadavg()[0]!.toFixed(1)),
  };
}
