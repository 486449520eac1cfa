/**
 * The Windows CLI rigs: `setup` / `teardown` in this process against the Windows target model. `windowsCliRigs`
 * gives a temporary state dir, a context holding the target's KDNET key (KEY, test/helpers/windows-config.ts), the model behind an SSH session seam and
 * the captured output. `windowsRebootRigs` adds what `setup --reboot` waits for: a loopback target on a free
 * KDNET port, and a KDNET target peer (src/peers/kdnet-target) that the model's reboot into the debug entry starts,
 * poking hostip:port from the model's {dbgsettings} with its key over real UDP, and a clock whose sleep returns at
 * once. Whatever a test's rigs opened is closed and removed after it, passed or failed.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import { type Context, createContext } from "../../src/cli/context.js";
import type { Target } from "../../src/core/inventory.js";
import { parseKdnetKey } from "../../src/core/kdnet-key.js";
import type { DatagramTransport } from "../../src/engine/kdnet/transport.js";
import { openUdp } from "../../src/engine/kdnet/udp.js";
import { KdnetTargetPeer } from "../../src/peers/kdnet-target/index.js";
import { defaultState, WindowsTargetModel } from "../../src/peers/windows-target/model.js";
import { ModelSession } from "../../src/peers/windows-target/session.js";
import { parseDbgSettings } from "../../src/targets/windows/index.js";
import { captureOutput } from "./output.js";
import { freeUdpPort } from "./ports.js";
import { KEY } from "./windows-config.js";

export interface WindowsCliOptions {
  /** The temporary state dir's name prefix. */
  prefix?: string;
  json?: boolean;
  /** A terminal to type at (setup's hand-off attaches only then). */
  isTTY?: boolean;
  /** Store KEY for "win" (default true). */
  withKey?: boolean;
}

export interface WindowsRebootOptions extends WindowsCliOptions {
  /** The key the rebooted target pokes with (default: the one in its {dbgsettings}). */
  peerKey?: string;
  /** The rebooted target sends no poke. */
  noPeer?: boolean;
  pokeIntervalMs?: number;
}

type Cleanup = () => Promise<void> | void;

async function cliRig(o: WindowsCliOptions, cleanups: Cleanup[]) {
  const dir = mkdtempSync(join(tmpdir(), o.prefix ?? "nd-windows-cli-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const base = createContext({ stateDir: dir, json: o.json === true, color: false });
  const ctx: Context = o.isTTY ? { ...base, isTTY: true } : base;
  if (o.withKey ?? true) await ctx.secrets.set("win", KEY);
  const model = new WindowsTargetModel(defaultState());
  const captured = captureOutput();
  cleanups.push(() => captured.restore());
  const deps = {
    openSession: async () => new ModelSession(model),
    renderer: "silent" as const,
    now: () => new Date("2026-11-21T06:00:00Z"),
  };
  return { dir, ctx, model, out: captured.out, deps };
}

function cleanupsAfterEach(): Cleanup[] {
  const cleanups: Cleanup[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  return cleanups;
}

/** Opens Windows CLI rigs for the tests of one file (see the file's comment). */
export function windowsCliRigs() {
  const cleanups = cleanupsAfterEach();
  return (o: WindowsCliOptions = {}) => cliRig(o, cleanups);
}

/** Opens `setup --reboot` rigs for the tests of one file (see the file's comment); `defer` adds a cleanup. */
export function windowsRebootRigs() {
  const cleanups = cleanupsAfterEach();
  return async (o: WindowsRebootOptions = {}) => {
    const { ctx, model, out, deps: base } = await cliRig(o, cleanups);
    const port = await freeUdpPort({ debug: true });
    const target: Target = { name: "win", os: "windows", address: "127.0.0.1", port, transport: { hostIp: "127.0.0.1" } };
    const peerTransport = await openUdp({ port: 0, address: "127.0.0.1" });
    const peers: KdnetTargetPeer[] = [];
    cleanups.push(async () => {
      for (const p of peers) await p.close();
      await peerTransport.close();
    });
    model.onBoot = ({ debugging }) => {
      if (!debugging || o.noPeer) return;
      // What the rebooted machine's KDNET does: poke hostip:port from {dbgsettings} with its key.
      const d = parseDbgSettings(model.bcd(["/dbgsettings"]).output);
      const peer = new KdnetTargetPeer({
        transport: peerTransport,
        key: parseKdnetKey(o.peerKey ?? d.key!),
        host: { address: d.hostip!, port: Number(d.port) },
        pokeIntervalMs: o.pokeIntervalMs ?? 200,
      });
      peers.push(peer);
      peer.start();
    };
    let t = 0;
    const deps = {
      ...base,
      clock: { now: () => new Date(t), sleep: async (ms: number) => void (t += ms) },
      openKdnetPort: (p: number): Promise<DatagramTransport> => openUdp({ port: p, address: "127.0.0.1" }),
      pokeGraceMs: 5_000,
    };
    const defer = (c: Cleanup) => void cleanups.push(c);
    return { ctx, model, out, deps, target, port, peers, peerTransport, defer };
  };
}
