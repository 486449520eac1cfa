import { afterEach, describe, expect, it } from "vitest";
import { RspClient } from "../../../src/engine/rsp/client.js";
import { GdbRemote } from "../../../src/engine/rsp/remote.js";
import { memoryPair, type MemoryTransport } from "../../../src/engine/transport/memory.js";
import { UdpTransport } from "../../../src/engine/transport/udp.js";
import { BANNER, BANNER_ADDR, KgdbStub, pattern, TEXT_BASE, UdpKgdbStub } from "../../../src/peers/rsp-stub.js";
import { rspLinks } from "../../helpers/rsp-link.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
const link = rspLinks();

function memoryStub(opts: ConstructorParameters<typeof KgdbStub>[0] = {}) {
  const [a, b] = memoryPair();
  const stub = new KgdbStub(opts);
  stub.serve(b);
  const client = new RspClient(a, { timeoutMs: 50, minTimeoutMs: 20 });
  cleanups.push(
    () => stub.dispose(),
    () => client.close(),
  );
  return { a, b, stub, client, remote: new GdbRemote(client) };
}

describe("RSP client against a kgdb-like stub (in memory)", () => {
  it("attaches past kdb text, reads registers in the x86_64 kgdb layout, memory and the banner", async () => {
    const { remote, client, stub } = memoryStub({
      kdbBanner: "\r\nEntering kdb (current=0xffff888003a1c000, pid 1) on processor 0\r\n[0]kdb> ",
    });
    const info = await remote.attach();
    expect(info.stop.signal).toBe(5);
    expect(info.maxMemory).toBe(496); // empty qSupported: stay within kgdb's buffer
    expect(client.consoleTail).toContain("[0]kdb>");
    const regs = await remote.registers();
    expect(regs.values.get("rax")).toBe(0x1111n);
    expect(regs.values.get("rip")).toBe(TEXT_BASE + 0x1234n);
    expect(regs.values.get("eflags")).toBe(0x246n);
    expect(regs.values.get("cs")).toBe(0x10n);
    expect(regs.values.has("fs")).toBe(false); // kgdb sends 156 bytes: no fs/gs
    const banner = await remote.readMemory(BANNER_ADDR, BANNER.length);
    expect(banner.toString("latin1")).toBe(BANNER);
    const big = await remote.readMemory(TEXT_BASE, 5000);
    expect(big.equals(pattern(2 << 20).subarray(0, 5000))).toBe(true);
    expect(stub.stats.overflows).toBe(0);
  });

  it("writes memory, sets/removes breakpoints idempotently, continues to a hit, steps, lists threads, detaches", async () => {
    const { remote, stub } = memoryStub();
    await remote.attach();
    await remote.writeMemory(TEXT_BASE + 10n, Buffer.from("netdbg"));
    expect((await remote.readMemory(TEXT_BASE + 10n, 6)).toString()).toBe("netdbg");
    await expect(remote.writeMemory(0x10n, Buffer.from("x"))).rejects.toMatchObject({ code: "NETDBG-E402" });
    await remote.setBreakpoint(TEXT_BASE + 0x400n);
    await remote.setBreakpoint(TEXT_BASE + 0x400n); // E17 (already set) counts as success
    const stop = await remote.cont();
    expect(stop).toMatchObject({ signal: 5, thread: "fffffffe", kind: "stopped" });
    expect(await remote.pc()).toBe(TEXT_BASE + 0x400n);
    await remote.removeBreakpoint(TEXT_BASE + 0x400n);
    await remote.removeBreakpoint(TEXT_BASE + 0x400n); // E02 counts as success
    const s = await remote.step();
    expect(s.signal).toBe(5);
    expect(await remote.pc()).toBe(TEXT_BASE + 0x401n);
    const threads = await remote.threads();
    expect(threads).toHaveLength(21); // two replies (17 + 4) and an empty end marker
    expect(threads[0]).toBe("fffffffe");
    expect(await remote.threadInfo("fffffffe")).toBe("shadowCPU0");
    expect(await remote.currentThread()).toBe("fffffffe");
    await remote.detach();
    expect(stub.running).toBe(true);
    expect(stub.connected).toBe(false);
  });

  it("breaks in with 0x03 while the target runs", async () => {
    const { remote, stub } = memoryStub();
    await remote.attach();
    const running = remote.cont();
    await new Promise((r) => setTimeout(r, 10));
    expect(stub.running).toBe(true);
    remote.interrupt();
    expect((await running).signal).toBe(5);
    expect(stub.running).toBe(false);
  });

  it("reports unsupported requests (empty reply) and error replies with codes", async () => {
    const { remote } = memoryStub();
    await remote.attach();
    await expect(remote.monitor("ps")).rejects.toMatchObject({ code: "NETDBG-E407" });
    await expect(remote.readMemory(0x1000n, 4)).rejects.toMatchObject({ code: "NETDBG-E402" });
  });

  it("retransmits a lost request, resyncs after a lost ack and rejects a duplicate of the previous reply", async () => {
    const { a, client, remote, stub } = memoryStub();
    await remote.attach();
    const expected = pattern(2 << 20);
    // lose the client's next datagram (the request): the stub never sees it -> timeout -> resend
    const origWrite = a.write.bind(a);
    let dropNext = 1;
    a.write = (bytes: Uint8Array) => {
      if (dropNext > 0 && bytes.length > 1) {
        dropNext--;
        return;
      }
      origWrite(bytes);
    };
    expect((await remote.readMemory(TEXT_BASE, 16)).equals(expected.subarray(0, 16))).toBe(true);
    expect(client.stats.retransmits).toBeGreaterThanOrEqual(1);

    // lose the ack of a reply and the next request together: kgdb keeps waiting for the ack; our
    // timeout recovery makes it resend its previous reply, which must not be taken for the new one
    const first = await remote.readMemory(TEXT_BASE + 0x100n, 16);
    dropNext = 1;
    (a as MemoryTransport & { write: typeof a.write }).write = (bytes: Uint8Array) => {
      if (dropNext > 0 && bytes.includes(0x24)) {
        dropNext--;
        return;
      }
      origWrite(bytes);
    };
    // the same read again => identical reply, then a different address => must be the new data
    const second = await remote.readMemory(TEXT_BASE + 0x200n, 16);
    expect(second.equals(expected.subarray(0x200, 0x210))).toBe(true);
    expect(first.equals(expected.subarray(0x100, 0x110))).toBe(true);
    expect(stub.stats.overflows).toBe(0);
  });
});

describe("RSP client over real UDP sockets on loopback", () => {
  it("reassembles replies sent in 30-byte datagrams (kgdboe) with a 4 MiB receive buffer", async () => {
    const stub = new UdpKgdbStub({ flushSize: 30 });
    const port = await stub.start();
    const t = await UdpTransport.open({ kind: "udp", host: "127.0.0.1", port });
    const client = new RspClient(t);
    cleanups.push(
      () => stub.stop(),
      () => client.close(),
    );
    expect(t.recvBufferSize).toBeGreaterThanOrEqual(4 << 20);
    const remote = new GdbRemote(client);
    await remote.attach();
    const data = await remote.readMemory(TEXT_BASE, 64 * 1024);
    expect(data.equals(pattern(2 << 20).subarray(0, 64 * 1024))).toBe(true);
    expect(stub.datagramsOut).toBeGreaterThan((64 * 1024 * 2) / 30);
  });

  it("survives ECONNREFUSED while nothing listens and connects once the peer appears", async () => {
    const stub = new UdpKgdbStub({ flushSize: 30 });
    const port = await stub.start();
    await stub.stop(); // port now closed: sends get ICMP port unreachable
    const t = await UdpTransport.open({ kind: "udp", host: "127.0.0.1", port });
    const client = new RspClient(t, { timeoutMs: 30, maxTries: 3 });
    cleanups.push(() => client.close());
    const err = await new GdbRemote(client).attach().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "NETDBG-E400" });
    expect(String((err as Error).message)).toMatch(/unreachable/);
    expect(t.stats.refused).toBeGreaterThan(0);
    expect(t.closed).toBe(false);
  });

  it("reads 1 MiB byte-exact through 20 % loss with duplicates and reordering, and reports the retries", async () => {
    // whole-packet datagrams, as the serial-to-UDP relay of the lab delivers them (the serial relay src/lab/vm.ts starts)
    const { stub, relay, client, remote } = await link({
      memory: pattern(1 << 20, 77),
      relay: { drop: 0.2, duplicate: 0.05, reorder: 0.05, holdMs: 2, seed: 42 },
      client: { timeoutMs: 20, minTimeoutMs: 4 },
    });
    const data = await remote.readMemory(TEXT_BASE, 1 << 20);
    expect(data.equals(pattern(1 << 20, 77))).toBe(true);
    const retries = client.stats.retransmits + client.stats.naksSent;
    console.log(
      `1 MiB at 20% loss: ${client.stats.requests} requests, ${client.stats.retransmits} retransmits, ${client.stats.naksSent} naks, ` +
        `${client.stats.duplicates} duplicates, ${client.stats.timeouts} timeouts; relay ${JSON.stringify(relay.stats)}`,
    );
    expect(relay.stats.dropped).toBeGreaterThan(100);
    expect(retries).toBeGreaterThan(100);
    expect(stub.stub.stats.overflows).toBe(0);
  }, 120_000);

  it("copies the network duplicated (no resend of ours) leave the timeout alone: it stays near the round trip", async () => {
    // every datagram, either way, arrives twice: the stub answers each request twice and every second copy is a
    // duplicate that no resend of the client explains. Such copies say nothing about the timer (only a copy
    // answering the client's own resend shows that it fired early), so the timeout must not grow with them.
    const { client, remote } = await link({ memory: pattern(64 * 1024, 5), relay: { duplicate: 1, seed: 7 } });
    const data = await remote.readMemory(TEXT_BASE, 64 * 1024);
    expect(data.equals(pattern(64 * 1024, 5))).toBe(true);
    expect(client.stats.duplicates).toBeGreaterThan(100);
    // before: each copy added a millisecond to the variance, and the timeout climbed to its 4 s cap
    expect(client.timeout).toBeLessThan(50);
  }, 120_000);
});
