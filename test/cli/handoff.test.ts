/**
 * The hand-off after setup. Windows: `setup --reboot` waits for the target's first KDNET poke, then attaches
 * for real (the KDNET target peer answers the handshake over UDP on loopback; `connect` runs `version`);
 * `--no-connect` prints the lines instead and never attaches. The loopback target also shows the host firewall
 * step standing aside for a target on this machine.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type Context, createContext } from "../../src/cli/context.js";
import { connectWindows } from "../../src/cli/debugger/windows-connect.js";
import { setupTarget as windowsSetup } from "../../src/cli/setup-run.js";
import type { Target } from "../../src/core/inventory.js";
import { parseKdnetKey } from "../../src/core/kdnet-key.js";
import type { DatagramTransport } from "../../src/engine/kdnet/transport.js";
import { openUdp } from "../../src/engine/kdnet/udp.js";
import { parseDbgSettings } from "../../src/targets/windows/index.js";
import { KdnetTargetPeer } from "../../src/peers/kdnet-target/index.js";
import { defaultState, WindowsTargetModel } from "../../src/peers/windows-target/model.js";
import { ModelSession } from "../../src/peers/windows-target/session.js";
import { freeUdpPort } from "../helpers/ports.js";

const KEY = "2steg4fzbj2sz.23418vzkd4ko3.1g34ou07z4pev.1sp3yo9yz874p";
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function rig() {
  const dir = mkdtempSync(join(tmpdir(), "nd-handoff-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  // a terminal to type at: setup attaches only then
  const ctx: Context = { ...createContext({ stateDir: dir, color: false }), isTTY: true };
  await ctx.secrets.set("win", KEY);
  const port = await freeUdpPort({ debug: true });
  const target: Target = { name: "win", os: "windows", address: "127.0.0.1", port, transport: { hostIp: "127.0.0.1" } };
  const model = new WindowsTargetModel(defaultState());
  const peerTransport = await openUdp({ port: 0, address: "127.0.0.1" });
  const peers: KdnetTargetPeer[] = [];
  cleanups.push(async () => {
    for (const p of peers) await p.close();
    await peerTransport.close();
  });
  model.onBoot = ({ debugging }) => {
    if (!debugging) return;
    const d = parseDbgSettings(model.bcd(["/dbgsettings"]).output);
    const peer = new KdnetTargetPeer({
      transport: peerTransport,
      key: parseKdnetKey(d.key!),
      host: { address: d.hostip!, port: Number(d.port) },
      pokeIntervalMs: 100,
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
  const attached: Record<string, unknown>[] = [];
  const deps = {
    openSession: async () => new ModelSession(model),
    renderer: "silent" as const,
    clock: { now: () => new Date(t), sleep: async (ms: number) => void (t += ms) },
    openKdnetPort: (p: number): Promise<DatagramTransport> => openUdp({ port: p, address: "127.0.0.1" }),
    pokeGraceMs: 5_000,
    // the real connect, with a command instead of the REPL
    connect: async (c: Context, tt: Target, o: Record<string, unknown>) => {
      attached.push(o);
      await connectWindows(c, tt, { ...o, exec: "version", timeout: "10" });
    },
  };
  return { ctx, out, deps, target, port, peers, attached };
}

describe("hand-off after setup", () => {
  it("Windows --reboot: waits for the first poke, then attaches with connect (a real KDNET handshake)", async () => {
    const { ctx, out, deps, target, port, peers, attached } = await rig();
    await windowsSetup(ctx, target, { reboot: true, connect: true }, deps);
    const text = out.join("");
    expect(text).toContain("Host firewall: not involved (the target 127.0.0.1 is on this machine's loopback).");
    expect(text).toContain(`its KDNET pokes (protocol version 5) reach this host on UDP port ${port}`);
    expect(text).toContain("Attaching: netdbg connect win");
    expect(attached).toEqual([{ port: String(port) }]);
    expect(peers[0]!.stats.handshakes).toBeGreaterThan(0);
    expect(text.slice(text.indexOf("Attaching"))).toMatch(/kd> version\nWindows kernel build \d+ x64/);
    expect(text).not.toContain("or WinDbg:");
  }, 60_000);

  it("Windows --reboot --no-connect: the lines, no attach", async () => {
    const { ctx, out, deps, target, port, peers, attached } = await rig();
    await windowsSetup(ctx, target, { reboot: true, connect: false }, deps);
    const text = out.join("");
    expect(attached).toEqual([]);
    expect(peers[0]!.stats.handshakes).toBe(0);
    expect(text).toContain(`   or WinDbg:  windbg -k net:port=${port},key=<redacted:ee0c0075>\n`);
    expect(text).toContain("Then attach:  netdbg connect win");
  }, 60_000);
});
