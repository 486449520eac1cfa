/**
 * `netdbg setup --reboot` waits for the target's first KDNET poke at the host: the Windows model's restart starts a
 * KDNET target peer (src/peers/kdnet-target) that pokes the host debug port over real UDP on loopback with the key
 * from the model's {dbgsettings}, to the host address and port from it. The host only listens (never answers).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type Context, createContext } from "../../../src/cli/context.js";
import { setupTarget as windowsSetup } from "../../../src/cli/setup-run.js";
import { isNetdbgError } from "../../../src/core/error.js";
import type { Target } from "../../../src/core/inventory.js";
import { generateKdnetKey, parseKdnetKey } from "../../../src/core/kdnet-key.js";
import type { DatagramTransport } from "../../../src/engine/kdnet/transport.js";
import { openUdp } from "../../../src/engine/kdnet/udp.js";
import { parseDbgSettings } from "../../../src/targets/windows/index.js";
import { KdnetTargetPeer } from "../../../src/peers/kdnet-target/index.js";
import { defaultState, WindowsTargetModel } from "../../../src/peers/windows-target/model.js";
import { ModelSession } from "../../../src/peers/windows-target/session.js";

const KEY = "2steg4fzbj2sz.23418vzkd4ko3.1g34ou07z4pev.1sp3yo9yz874p";
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A free UDP port on 127.0.0.1 inside KDNET's range (49152–65535). */
async function freePort(): Promise<number> {
  for (;;) {
    const port = 49152 + Math.floor(Math.random() * (60999 - 49152));
    try {
      const t = await openUdp({ port, address: "127.0.0.1" });
      await t.close();
      return port;
    } catch {
      // taken: try another
    }
  }
}

async function rig(opts: { peerKey?: string; noPeer?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "nd-windows-poke-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const ctx: Context = createContext({ stateDir: dir, json: true, color: false });
  await ctx.secrets.set("win", KEY);
  const port = await freePort();
  const target: Target = { name: "win", os: "windows", address: "127.0.0.1", port, transport: { hostIp: "127.0.0.1" } };
  const model = new WindowsTargetModel(defaultState());
  const peerTransport = await openUdp({ port: 0, address: "127.0.0.1" });
  const peers: KdnetTargetPeer[] = [];
  cleanups.push(async () => {
    for (const p of peers) await p.close();
    await peerTransport.close();
  });
  model.onBoot = ({ debugging }) => {
    if (!debugging || opts.noPeer) return;
    // What the rebooted machine's KDNET does: poke hostip:port from {dbgsettings} with its key.
    const d = parseDbgSettings(model.bcd(["/dbgsettings"]).output);
    const peer = new KdnetTargetPeer({
      transport: peerTransport,
      key: parseKdnetKey(opts.peerKey ?? d.key!),
      host: { address: d.hostip!, port: Number(d.port) },
      pokeIntervalMs: 200,
    });
    peers.push(peer);
    peer.start();
  };
  const out: string[] = [];
  vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => {
    out.push(String(s));
    return true;
  });
  vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  let t = 0;
  const deps = {
    openSession: async () => new ModelSession(model),
    renderer: "silent" as const,
    now: () => new Date("2026-11-21T06:00:00Z"),
    clock: { now: () => new Date(t), sleep: async (ms: number) => void (t += ms) },
    openKdnetPort: (p: number): Promise<DatagramTransport> => openUdp({ port: p, address: "127.0.0.1" }),
    pokeGraceMs: 5_000,
  };
  return { ctx, model, out, deps, target, port, peers, peerTransport };
}

describe("setup --reboot waits for the target's first KDNET poke", () => {
  it("reports the poke (version, authenticated with the stored key) and the debug entry over SSH; no handshake", async () => {
    const { ctx, model, out, deps, target, port, peers, peerTransport } = await rig();
    await windowsSetup(ctx, target, { reboot: true }, deps);
    const obj = JSON.parse(out.join(""));
    expect(model.state.boots).toBe(1);
    expect(obj.reboot).toEqual({
      bootedEntry: obj.entry,
      debugEntry: true,
      debug: true,
      ssh: true,
      poke: {
        from: `127.0.0.1:${peerTransport.local.port}`,
        version: 5,
        authenticated: true,
        hostAddress: "127.0.0.1",
        hostPort: port,
        targetAddress: "127.0.0.1",
      },
    });
    // the host only listened: the target never got a response
    expect(peers).toHaveLength(1);
    expect(peers[0]!.connected).toBe(false);
    expect(peers[0]!.stats.handshakes).toBe(0);
    // the port is free again for the debugger
    const again = await openUdp({ port, address: "127.0.0.1" });
    await again.close();
  });

  it("pokes that do not authenticate with the stored key stop with NETDBG-E220 and its fix", async () => {
    const { ctx, deps, target, port, peers } = await rig({ peerKey: generateKdnetKey().text });
    const e = await windowsSetup(ctx, target, { reboot: true }, deps).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(isNetdbgError(e) && e.code).toBe("NETDBG-E220");
    expect((e as Error).message).toContain(`UDP port ${port}`);
    expect((e as Error & { fix: string }).fix).toContain("netdbg setup win");
    expect((e as Error).message).not.toContain(KEY);
    expect(peers[0]!.stats.handshakes).toBe(0);
  });

  it("SSH back in the debug entry but no poke within the grace period is NETDBG-E221", async () => {
    const { ctx, deps, target, port } = await rig({ noPeer: true });
    const e = await windowsSetup(ctx, target, { reboot: true }, { ...deps, pokeGraceMs: 300 }).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(isNetdbgError(e) && e.code).toBe("NETDBG-E221");
    expect((e as Error).message).toContain(`UDP port ${port}`);
  });

  it("falls back to waiting for SSH when the host debug port is taken (e.g. by WinDbg)", async () => {
    const { ctx, out, deps, target, port } = await rig({ noPeer: true });
    // free at the port step, taken by the time the reboot watch binds it
    let busy: Awaited<ReturnType<typeof openUdp>> | undefined;
    const taken = async (p: number) => {
      busy = await openUdp({ port, address: "127.0.0.1" });
      cleanups.push(() => busy!.close());
      return deps.openKdnetPort!(p);
    };
    await windowsSetup(ctx, target, { reboot: true }, { ...deps, openKdnetPort: taken });
    expect(busy).toBeDefined();
    const obj = JSON.parse(out.join(""));
    expect(obj.reboot).toEqual({ bootedEntry: obj.entry, debugEntry: true, debug: true, poke: null, ssh: true });
  });
});
