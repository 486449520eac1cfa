import { eventually } from "../helpers/tools.js";
/** The Windows REPL command executor over an in-memory network and the test peer. */
import { afterEach, describe, expect, it } from "vitest";
import { WindowsDebugger } from "../../src/cli/debugger/kd-commands.js";
import { parseKdnetKey } from "../../src/core/kdnet-key.js";
import { KdClient } from "../../src/engine/kdnet/api.js";
import { KdnetHostSession } from "../../src/engine/kdnet/session.js";
import { MemoryNetwork } from "../../src/engine/kdnet/transport.js";
import { KdnetTargetPeer } from "../../src/peers/kdnet-target/index.js";
import { INITIAL_RIP, KERNEL_BASE } from "../../src/peers/kdnet-target/index.js";

const key = parseKdnetKey("3.1.4.1");
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function setup() {
  const net = new MemoryNetwork();
  const hostT = net.open({ address: "10.2.0.1", port: 50000 });
  const targetT = net.open({ address: "10.2.0.2", port: 50000 });
  const host = new KdnetHostSession({ transport: hostT, key, retransmitMs: 20 });
  const peer = new KdnetTargetPeer({
    transport: targetT,
    key,
    host: hostT.local,
    pokeIntervalMs: 20,
    retransmitMs: 20,
    bulkSize: 4096,
  });
  closers.push(
    () => host.close(),
    () => peer.close(),
  );
  peer.start();
  await host.waitForHandshake(2000);
  const progress: string[] = [];
  return { dbg: new WindowsDebugger(new KdClient(host, { stateTimeoutMs: 2000 }), (t) => progress.push(t)), peer, host };
}

describe("WindowsDebugger", () => {
  it("refuses commands that need a stopped target while it runs (E509), then works after 'break'", async () => {
    const { dbg } = await setup();
    await expect(dbg.exec("r")).rejects.toMatchObject({ code: "NETDBG-E509" });
    await expect(dbg.exec("db nt")).rejects.toMatchObject({ code: "NETDBG-E509" });
    expect((await dbg.exec("break")).text).toMatch(/Break instruction exception/);
    expect((await dbg.exec("break")).text).toBe("the target is already stopped");
    expect((await dbg.exec("bl")).text).toBe("no breakpoints");
    expect((await dbg.exec("help")).text).toMatch(/\.dump <addr> <len> <file>/);
  });

  it("explains malformed commands (E507)", async () => {
    const { dbg } = await setup();
    await dbg.exec("break");
    for (const bad of ["db", "db zz!", "bc 7", "r nope=1", "eb nt 100", ".dump nt 10", "frobnicate", "db nt 0"]) {
      await expect(dbg.exec(bad), bad).rejects.toMatchObject({ code: "NETDBG-E507" });
    }
  });

  it("leaves the target running on exit, breakpoints removed", async () => {
    const { dbg, peer } = await setup();
    await dbg.exec("break");
    await dbg.exec("bp nt+41a2c0");
    expect(peer.breakpoints.size).toBe(1);
    expect(await dbg.leave()).toBe(true);
    expect(peer.breakpoints.size).toBe(0);
    await eventually(() => peer.running);
    expect(peer.running).toBe(true);
    expect(await dbg.leave()).toBe(false);
  });

  it("lm prints separated columns, WinDbg's 64-bit address form", async () => {
    const { dbg } = await setup();
    await dbg.exec("break");
    const lines = (await dbg.exec("lm")).text.split("\n");
    expect(lines[0]).toMatch(/^start\s+end\s+module name$/);
    expect(lines[1]).toBe("fffff800`12000000  fffff800`13046000  ntoskrnl.exe");
    expect(lines[2]).toBe("fffff800`11a00000  fffff800`11a6a000  hal.dll");
  });

  it("db/dd/dq take L<count> in units, or an end address; the ASCII column of db is separated", async () => {
    const { dbg, peer } = await setup();
    await dbg.exec("break");
    peer.memory.write(KERNEL_BASE + 0x10n, Buffer.from("0123456789abcdef"));
    const dd = await dbg.exec("dd nt+10 L2");
    expect(dd.text).toBe("fffff800`12000010  33323130 37363534");
    expect(dd.data).toMatchObject({ hex: Buffer.from("01234567").toString("hex") });
    const dq = await dbg.exec("dq nt+10 L3");
    expect(dq.text.split("\n")).toEqual([
      "fffff800`12000010  37363534`33323130 66656463`62613938",
      "fffff800`12000020  00000000`00000000",
    ]);
    expect((await dbg.exec("db nt+10 L0n4")).text).toBe("fffff800`12000010  30 31 32 33  0123");
    expect((await dbg.exec("db nt+10 nt+13")).data).toMatchObject({ hex: "30313233" });
    expect((await dbg.exec("dd nt")).data).toMatchObject({ hex: expect.stringMatching(/^4d5a[0-9a-f]{252}$/) }); // 128 bytes
    await expect(dbg.exec("db nt L0")).rejects.toMatchObject({ code: "NETDBG-E507" });
    await expect(dbg.exec("db nt L200000")).rejects.toMatchObject({ code: "NETDBG-E507" });
    await expect(dbg.exec("db nt+10 nt")).rejects.toMatchObject({ code: "NETDBG-E507" });
  });

  it("k walks the stack from the context with the images' unwind data, leaf frames by their return address", async () => {
    const { dbg, peer } = await setup();
    await dbg.exec("break");
    // a PE32+ header for ntoskrnl with a two-entry exception directory (.pdata) at RVA 0x1000
    const hdr = Buffer.alloc(0x200);
    hdr.writeUInt16LE(0x5a4d, 0);
    hdr.writeUInt32LE(0x80, 0x3c);
    hdr.writeUInt32LE(0x4550, 0x80);
    hdr.writeUInt16LE(0x20b, 0x80 + 24);
    hdr.writeUInt32LE(16, 0x80 + 24 + 108);
    hdr.writeUInt32LE(0x1000, 0x80 + 24 + 112 + 3 * 8);
    hdr.writeUInt32LE(24, 0x80 + 24 + 112 + 3 * 8 + 4);
    peer.memory.write(KERNEL_BASE, hdr);
    const pdata = Buffer.alloc(24);
    [0x41a200, 0x41a300, 0x1100, 0x41b000, 0x41b100, 0x1120].forEach((v, i) => {
      pdata.writeUInt32LE(v, i * 4);
    });
    peer.memory.write(KERNEL_BASE + 0x1000n, pdata);
    // A: push rbx (at 2); sub rsp, 0x20 (at 8)        B: push rbp (at 1); mov rbp, rsp (at 4)
    peer.memory.write(KERNEL_BASE + 0x1100n, Buffer.from([0x01, 0x10, 2, 0x00, 0x08, 0x32, 0x02, 0x30]));
    peer.memory.write(KERNEL_BASE + 0x1120n, Buffer.from([0x01, 0x08, 2, 0x05, 0x04, 0x03, 0x01, 0x50]));
    const sp = 0xfffff80012345000n;
    peer.memory.map(sp, 0x1000);
    const stack = Buffer.alloc(0x58);
    stack.writeBigUInt64LE(KERNEL_BASE + 0x41b050n, 0x28); // A returns into B
    stack.writeBigUInt64LE(0xfffff80011a00123n, 0x48); // B returns into hal (no unwind data: a leaf)
    peer.memory.write(sp, stack);
    peer.context.writeBigUInt64LE(sp + 0x40n, 0xa0); // rbp
    expect(peer.context.readBigUInt64LE(0xf8)).toBe(INITIAL_RIP);
    const k = await dbg.exec("k");
    expect(k.text.split("\n")).toEqual([
      "#   Child-SP           RetAddr            Call Site",
      "00  fffff800`12345000  fffff800`1241b050  nt+0x41a2b0",
      "01  fffff800`12345030  fffff800`11a00123  nt+0x41b050",
      "02  fffff800`12345050  00000000`00000000  hal+0x123",
    ]);
    expect((k.data as { frames: { how: string }[] }).frames.map((f) => f.how)).toEqual(["unwind-data", "unwind-data", "leaf"]);
    expect((await dbg.exec("k 1")).text).toMatch(/1 frames shown \(k <n> for more\)/);
  });
});
