import { eventually } from "../../helpers/tools.js";
/** Engine ↔ KDNET target peer over real UDP sockets on loopback. */
import { afterEach, describe, expect, it } from "vitest";
import { parseKdnetKey } from "../../../src/core/kdnet-key.js";
import { contextRegisters, KdClient } from "../../../src/engine/kdnet/api.js";
import { EXCEPTION_BREAKPOINT, EXCEPTION_SINGLE_STEP, STATUS_NO_SUCH_FILE } from "../../../src/engine/kdnet/kd.js";
import { type HostEvent, KdnetHostSession } from "../../../src/engine/kdnet/session.js";
import { openUdp } from "../../../src/engine/kdnet/udp.js";
import {
  BULK_BASE,
  bulkByte,
  INITIAL_RIP,
  KERNEL_BASE,
  KdnetTargetPeer,
  MODULE_LIST,
  PEER_MODULES,
  PHYS_BASE,
} from "../../../src/peers/kdnet-target/index.js";
import { startRelay, type UdpRelay } from "../../helpers/udp-relay.js";

const KEY = parseKdnetKey("1a2b3c.4d5e6f.7g8h9i.0j1k2l");
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Rig {
  host: KdnetHostSession;
  kd: KdClient;
  peer: KdnetTargetPeer;
  events: HostEvent[];
  relay?: UdpRelay;
}

async function rig(
  opts: {
    relay?: Parameters<typeof startRelay>[0] extends infer R ? Omit<R & object, "host"> : never;
    key?: string;
    retransmitMs?: number;
    noGetContextEx?: boolean;
    bulkSize?: number;
  } = {},
): Promise<Rig> {
  const hostT = await openUdp({ port: 0, address: "127.0.0.1" });
  const retransmitMs = opts.retransmitMs ?? 100;
  const host = new KdnetHostSession({ transport: hostT, key: KEY, retransmitMs, maxTries: 200 });
  cleanups.push(() => host.close());
  const events: HostEvent[] = [];
  host.on((e) => events.push(e));
  let relay: UdpRelay | undefined;
  let to = hostT.local;
  if (opts.relay) {
    relay = await startRelay({ ...opts.relay, host: hostT.local });
    cleanups.push(() => relay!.close());
    to = relay.targetSide;
  }
  const peerT = await openUdp({ port: 0, address: "127.0.0.1" });
  const peer = new KdnetTargetPeer({
    transport: peerT,
    key: opts.key ? parseKdnetKey(opts.key) : KEY,
    host: to,
    pokeIntervalMs: 50,
    retransmitMs,
    ...(opts.noGetContextEx ? { noGetContextEx: true } : {}),
    bulkSize: opts.bulkSize ?? 64 * 1024,
  });
  cleanups.push(() => peer.close());
  peer.start();
  const kd = new KdClient(host, { stateTimeoutMs: 20_000 });
  return relay ? { host, kd, peer, events, relay } : { host, kd, peer, events };
}

describe("KDNET host engine ↔ target peer (UDP loopback)", () => {
  it("handshakes, breaks in and reads the version", async () => {
    const { host, kd, peer, events } = await rig();
    await host.waitForHandshake(5000);
    expect(host.version).toBe(5);
    expect(events.some((e) => e.kind === "poke" && e.answered)).toBe(true);
    const stop = await kd.breakIn();
    expect(stop).toMatchObject({ kind: "exception", code: EXCEPTION_BREAKPOINT, pc: INITIAL_RIP });
    const v = await kd.getVersion();
    expect(v.kernBase).toBe(KERNEL_BASE);
    expect(v.psLoadedModuleList).toBe(MODULE_LIST);
    expect(v.machineType).toBe(0x8664);
    expect(peer.stats.handshakes).toBe(1);
  });

  it("reads and writes virtual and physical memory in chunks", async () => {
    const { host, kd } = await rig();
    await host.waitForHandshake(5000);
    await kd.breakIn();
    const mz = await kd.readVirtual(KERNEL_BASE, 2);
    expect(mz.toString("latin1")).toBe("MZ");
    const n = 5000;
    const bulk = await kd.readVirtual(BULK_BASE + 10n, n);
    for (let i = 0; i < n; i++) if (bulk[i] !== bulkByte(10 + i)) throw new Error(`byte ${i} differs`);
    const data = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 13) & 0xff));
    await kd.writeVirtual(BULK_BASE + 100n, data);
    expect((await kd.readVirtual(BULK_BASE + 100n, 3000)).equals(data)).toBe(true);
    const phys = await kd.readPhysical(PHYS_BASE, 64);
    expect(phys[5]).toBe((5 * 7 + 3) & 0xff);
    await kd.writePhysical(PHYS_BASE, Buffer.from([1, 2, 3]));
    expect([...(await kd.readPhysical(PHYS_BASE, 3))]).toEqual([1, 2, 3]);
    await expect(kd.readVirtual(0x1000n, 16)).rejects.toMatchObject({ code: "NETDBG-E505" });
  });

  it("gets the context (GetContextEx chunks, and the GetContext fallback), sets it, reads control space", async () => {
    const { host, kd, peer } = await rig();
    await host.waitForHandshake(5000);
    await kd.breakIn();
    const ctx = await kd.getContext();
    expect(ctx).toHaveLength(1232);
    expect(contextRegisters(ctx).rip).toBe(INITIAL_RIP);
    expect(contextRegisters(ctx).rax).toBe(0x1111n);
    ctx.writeBigUInt64LE(0xdeadbeefn, 0x78);
    await kd.setContext(ctx);
    expect(peer.context.readBigUInt64LE(0x78)).toBe(0xdeadbeefn);
    const cs = await kd.readControlSpace(2n, 32);
    expect(cs[1]).toBe(0x81);
  });

  it("falls back to GetContext when GetContextEx is refused (as the CAP1 boot debugger did)", async () => {
    const { host, kd } = await rig({ noGetContextEx: true });
    await host.waitForHandshake(5000);
    await kd.breakIn();
    expect(contextRegisters(await kd.getContext()).rip).toBe(INITIAL_RIP);
  });

  it("sets a breakpoint, continues to it, steps, restores it", async () => {
    const { host, kd, peer } = await rig();
    await host.waitForHandshake(5000);
    await kd.breakIn();
    const addr = INITIAL_RIP + 0x40n;
    const handle = await kd.writeBreakpoint(addr);
    expect((await kd.readVirtual(addr, 1))[0]).toBe(0xcc);
    const hit = host.waitForStateChange(10_000);
    await kd.continue();
    expect(await hit).toMatchObject({ kind: "exception", code: EXCEPTION_BREAKPOINT, address: addr });
    const step = await kd.step();
    expect(step).toMatchObject({ kind: "exception", code: EXCEPTION_SINGLE_STEP, address: addr + 1n });
    await kd.restoreBreakpoint(handle);
    expect((await kd.readVirtual(addr, 1))[0]).toBe(0x90);
    expect(peer.breakpoints.size).toBe(0);
  });

  it("resets the KD packet layer (RESET answered by RESET) and keeps working", async () => {
    const { host, kd, peer, events } = await rig();
    await host.waitForHandshake(5000);
    await kd.breakIn();
    await kd.getVersion();
    await host.resetPacketLayer();
    expect(peer.received.filter((p) => p.type === 6).length).toBeGreaterThanOrEqual(1);
    expect(events.filter((e) => e.kind === "reset").length).toBeGreaterThanOrEqual(1);
    expect((await kd.readVirtual(KERNEL_BASE, 2)).toString("latin1")).toBe("MZ");
  });

  it("walks PsLoadedModuleList", async () => {
    const { host, kd } = await rig();
    await host.waitForHandshake(5000);
    await kd.breakIn();
    const mods = await kd.modules();
    expect(mods.map((m) => m.name)).toEqual(PEER_MODULES.map((m) => m.name));
    expect(mods[0]).toMatchObject({
      base: KERNEL_BASE,
      size: PEER_MODULES[0]!.size,
      path: "\\SystemRoot\\system32\\ntoskrnl.exe",
    });
  });

  it("shows DebugIO prints, answers File I/O with STATUS_NO_SUCH_FILE, ignores pokes during a live session", async () => {
    const { host, peer, events } = await rig();
    await host.waitForHandshake(5000);
    peer.print("hello from the kernel\n");
    const status = await peer.createFile("\\Windows\\system32\\en-GB\\winload.efi.MUI");
    expect(status).toBe(STATUS_NO_SUCH_FILE);
    expect(events.some((e) => e.kind === "print" && e.text === "hello from the kernel\n")).toBe(true);
    expect(events.some((e) => e.kind === "file-io" && e.path === "\\Windows\\system32\\en-GB\\winload.efi.MUI")).toBe(true);
    const live = host.keys.data;
    peer.sendPoke();
    await eventually(() => events.some((e) => e.kind === "poke" && !e.answered));
    expect(host.keys.data).toBe(live);
    expect(events.filter((e) => e.kind === "handshake")).toHaveLength(1);
    expect(events.some((e) => e.kind === "poke" && !e.answered)).toBe(true);
  });

  it("re-handshakes after the target reboots (new nonce) and keeps working", async () => {
    const { host, kd, peer, events } = await rig();
    await host.waitForHandshake(5000);
    await kd.breakIn();
    const first = host.keys.data;
    const rebooted = new Promise<void>((resolve) =>
      host.on((e) => {
        if (e.kind === "handshake" && e.rebooted) resolve();
      }),
    );
    await kd.reboot();
    await rebooted;
    while (!peer.connected) await new Promise((r) => setTimeout(r, 5));
    expect(host.keys.data).not.toEqual(first);
    expect(peer.stats.handshakes).toBe(2);
    await kd.breakIn();
    expect((await kd.getVersion()).kernBase).toBe(KERNEL_BASE);
    expect(events.filter((e) => e.kind === "handshake")).toHaveLength(2);
  });

  it("gives up with E513 when the target never stops, and with E504 when it never answers", async () => {
    const { host, peer } = await rig({ retransmitMs: 20 });
    await host.waitForHandshake(5000);
    await peer.close();
    const kd = new KdClient(host, { stateTimeoutMs: 300 });
    await expect(kd.breakIn()).rejects.toMatchObject({ code: "NETDBG-E513" });
    host.stopped = true; // pretend it had stopped, so a request is sent
    await expect(kd.getVersion()).rejects.toMatchObject({ code: "NETDBG-E504" });
  });

  it("refuses a busy UDP port with E506", async () => {
    const a = await openUdp({ port: 0, address: "127.0.0.1" });
    cleanups.push(() => a.close());
    await expect(openUdp({ port: a.local.port, address: "127.0.0.1" })).rejects.toMatchObject({ code: "NETDBG-E506" });
  });

  it("reports a wrong key as auth failures and never answers", async () => {
    const { host, events, peer } = await rig({ key: "1.2.3.4" });
    await expect(host.waitForHandshake(400)).rejects.toMatchObject({ code: "NETDBG-E502" });
    expect(events.some((e) => e.kind === "auth-failed")).toBe(true);
    expect(peer.stats.handshakes).toBe(0);
  });

  it("works over IPv6 loopback (::1), the poke carrying 16-byte IPv6 addresses", async () => {
    const hostT = await openUdp({ port: 0, address: "::1" });
    const host = new KdnetHostSession({ transport: hostT, key: KEY, retransmitMs: 100 });
    cleanups.push(() => host.close());
    const pokes: string[] = [];
    host.on((e) => {
      if (e.kind === "poke") pokes.push(`${e.poke.targetAddress}|${e.poke.hostAddress}`);
    });
    const peerT = await openUdp({ port: 0, address: "::1" });
    const peer = new KdnetTargetPeer({ transport: peerT, key: KEY, host: hostT.local, pokeIntervalMs: 50, bulkSize: 4096 });
    cleanups.push(() => peer.close());
    peer.start();
    await host.waitForHandshake(5000);
    expect(host.peer?.address).toBe("::1");
    expect(pokes[0]).toBe("0:0:0:0:0:0:0:1|0:0:0:0:0:0:0:1");
    const kd = new KdClient(host);
    await kd.breakIn();
    expect((await kd.getVersion()).kernBase).toBe(KERNEL_BASE);
  });

  it("reads 1 MiB byte-exact through 20 % loss, duplication and reordering", async () => {
    const { host, kd, relay } = await rig({
      relay: { loss: 0.2, duplicate: 0.2, reorder: 0.2, seed: 7 },
      retransmitMs: 10,
      bulkSize: 1024 * 1024,
    });
    await host.waitForHandshake(10_000);
    await kd.breakIn();
    const n = 1024 * 1024;
    const got = await kd.readVirtual(BULK_BASE, n);
    expect(got).toHaveLength(n);
    let bad = -1;
    for (let i = 0; i < n; i++) {
      if (got[i] !== bulkByte(i)) {
        bad = i;
        break;
      }
    }
    expect(bad).toBe(-1);
    expect(relay!.stats.dropped).toBeGreaterThan(100);
    expect(relay!.stats.duplicated).toBeGreaterThan(100);
    expect(relay!.stats.reordered).toBeGreaterThan(100);
    expect(host.stats.retransmits).toBeGreaterThan(0);
  }, 120_000);
});
