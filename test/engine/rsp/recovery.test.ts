import { afterEach, describe, expect, it } from "vitest";
import { RspClient, type RspClientOptions } from "../../../src/engine/rsp/client.js";
import { GdbRemote } from "../../../src/engine/rsp/remote.js";
import { framePacket } from "../../../src/engine/rsp/packet.js";
import { memoryPair } from "../../../src/engine/transport/memory.js";
import { UdpTransport } from "../../../src/engine/transport/udp.js";
import { KgdbStub, pattern, TEXT_BASE, UdpKgdbStub } from "../../../src/peers/rsp-stub.js";

/**
 * Loss recovery against the kgdb-like stub, which behaves like kgdb's put_packet: after a reply it waits
 * for one byte; a `$` there is answered with `-` and eats the request (put_packet in Linux kernel/debug/gdbstub.c,
 * https://github.com/torvalds/linux/blob/master/kernel/debug/gdbstub.c).
 * One datagram is lost on purpose in each case, and the test checks what the recovery cost.
 */
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function setup(opts: ConstructorParameters<typeof KgdbStub>[0] = {}, clientOpts: RspClientOptions = {}) {
  const [a, b] = memoryPair();
  const stub = new KgdbStub(opts);
  stub.serve(b);
  const client = new RspClient(a, { timeoutMs: 50, minTimeoutMs: 20, ...clientOpts });
  cleanups.push(
    () => stub.dispose(),
    () => client.close(),
  );
  /** Drop the next datagram the client sends that `match`es. */
  const dropUp = (match: (bytes: Buffer) => boolean) => {
    const write = a.write.bind(a);
    let armed = true;
    a.write = (bytes: Uint8Array) => {
      if (armed && match(Buffer.from(bytes))) {
        armed = false;
        return;
      }
      write(bytes);
    };
  };
  /** Drop the next `count` datagrams the stub sends that `match`. */
  const dropDown = (match: (bytes: Buffer) => boolean, count = 1) => {
    const write = b.write.bind(b);
    let left = count;
    b.write = (bytes: Uint8Array) => {
      if (left > 0 && match(Buffer.from(bytes))) {
        left--;
        return;
      }
      write(bytes);
    };
  };
  return { a, b, stub, client, remote: new GdbRemote(client), dropUp, dropDown };
}

describe("RSP loss recovery (kgdb put_packet semantics)", () => {
  it("a lost `+$request` datagram costs one resend: the resend carries the ack, so kgdb does not eat it", async () => {
    const { a, client, remote, stub, dropUp } = setup();
    await remote.attach();
    // the ack of the `?` reply rides in front of the next request; losing that datagram leaves the stub
    // waiting for the ack. A bare `$m…` resent then would be answered with `-` and eaten.
    dropUp((b) => b.includes(0x24));
    const data = await remote.readMemory(TEXT_BASE, 64);
    expect(data.equals(pattern(64))).toBe(true);
    expect(client.stats.retransmits).toBe(1);
    expect(stub.stats.abandoned).toBe(0);
    expect(client.stats.naksReceived).toBe(0);
    const resent = a.sent.filter((s) => s.includes(0x24)).at(-1)!;
    expect(resent.toString("latin1")).toMatch(/^\+\$m/);
  });

  it("a reply that lost its head is asked for again at once (its tail arrives as junk): no timeout", async () => {
    // 30-byte chunks (kgdboe); a long timeout, so waiting for it would show in the counters
    const { client, remote, stub, dropDown } = setup({ flushSize: 30 }, { timeoutMs: 5000, minTimeoutMs: 5000 });
    await remote.attach();
    dropDown((b) => b[0] === 0x24 && b.length === 30);
    const data = await remote.readMemory(TEXT_BASE + 0x40n, 200);
    expect(data.equals(pattern(0x40 + 200).subarray(0x40))).toBe(true);
    expect(client.stats.tailNaks).toBe(1);
    expect(client.stats.timeouts).toBe(0);
    expect(stub.stats.resends).toBeGreaterThanOrEqual(1);
  });

  it("a lost `c` is resent behind `-`, never `+` (a `+` could ack a stop reply we never saw)", async () => {
    const { a, client, remote, stub, dropUp } = setup();
    await remote.attach();
    await remote.setBreakpoint(TEXT_BASE + 0x400n);
    dropUp((b) => b.includes(Buffer.from("$c#")));
    const stop = await remote.cont();
    expect(stop.signal).toBe(5);
    expect(await remote.pc()).toBe(TEXT_BASE + 0x400n);
    // the lost datagram was `+$c#63`; the stub, still waiting for the ack of the `Z0` reply, resends that
    // reply on the first `-` and eats that `$c` (one abandoned reply); the second resend runs it. Slower
    // than a `+` by one round trip, but a `+` would ack a lost stop reply and resume the target twice.
    const frames = a.sent.map((s) => s.toString("latin1")).filter((s) => s.includes("$c#"));
    expect(frames.length).toBeGreaterThanOrEqual(1);
    expect(frames.every((f) => f === "-$c#63")).toBe(true);
    expect(stub.stats.commands.filter((c) => c === "c")).toHaveLength(1);
    expect(client.stats.retransmits).toBeGreaterThanOrEqual(1);
  });

  it("a step whose ack and stop reply are both lost is not stepped twice: the resend's `-` fetches the stop", async () => {
    const { a, client, remote, stub, dropDown } = setup();
    await remote.attach();
    const before = await remote.pc();
    // once the client sent `s`: lose the stub's `+` for it and its stop reply `S05`/`T05…`
    let stepSent = false;
    const write = a.write.bind(a);
    a.write = (bytes: Uint8Array) => {
      if (Buffer.from(bytes).includes(Buffer.from("$s#"))) stepSent = true;
      write(bytes);
    };
    dropDown((b) => stepSent && (b.toString("latin1") === "+" || /^\+?\$[ST]05/.test(b.toString("latin1"))), 2);
    const stop = await remote.step();
    expect(stop.signal).toBe(5);
    expect(stub.stats.commands.filter((c) => c === "s")).toHaveLength(1);
    expect(await remote.pc()).toBe(before + 1n);
    expect(client.stats.retransmits).toBeGreaterThanOrEqual(1);
  });

  it("a late copy of a reply several requests old is not taken for the current one (lengths never repeat within 16)", async () => {
    const { a, b, remote } = setup({ flushSize: 4096 });
    await remote.attach();
    const total = 496 * 4;
    const expected = pattern(total);
    // while the 4th `m` is pending, a copy of the 1st reply (496 bytes at TEXT_BASE) shows up first
    const write = a.write.bind(a);
    let reads = 0;
    a.write = (bytes: Uint8Array) => {
      if (Buffer.from(bytes).includes(Buffer.from("$m")) && ++reads === 4) {
        b.write(framePacket(expected.subarray(0, 496).toString("hex")));
      }
      write(bytes);
    };
    const data = await remote.readMemory(TEXT_BASE, total);
    expect(reads).toBeGreaterThanOrEqual(4);
    expect(data.equals(expected)).toBe(true);
  });

  it("a copy of the previous reply behind a stale `+` is not taken for the next read of the same length", async () => {
    const { a, b, client, remote, dropDown } = setup({ flushSize: 4096 });
    await remote.attach();
    const expected = pattern(128);
    // the first read's reply is lost once: a `-` fetches it again, so the stub may still send copies of it
    dropDown((x) => x[0] === 0x24);
    expect((await remote.readMemory(TEXT_BASE, 64)).equals(expected.subarray(0, 64))).toBe(true);
    expect(client.stats.naksSent + client.stats.retransmits).toBeGreaterThanOrEqual(1);
    // the next read (same length, new call): a `+` and a copy of the first reply arrive before the answer,
    // as when the stub runs a resent request again and acks it
    const write = a.write.bind(a);
    let injected = false;
    a.write = (bytes: Uint8Array) => {
      if (!injected && Buffer.from(bytes).includes(Buffer.from("$m"))) {
        injected = true;
        b.write(Buffer.from("+"));
        b.write(framePacket(expected.subarray(0, 64).toString("hex")));
      }
      write(bytes);
    };
    expect((await remote.readMemory(TEXT_BASE + 64n, 64)).equals(expected.subarray(64, 128))).toBe(true);
    expect(injected).toBe(true);
    // caught as a duplicate, or (after the damage of the first read, blocks are read twice) by the second read
    expect(client.stats.duplicates + remote.verifyMismatches).toBeGreaterThanOrEqual(1);
  });

  it("a copy of the previous reply that arrives after the next read was resent is not taken for its answer", async () => {
    // seen on the lab's kgdb (CI): `x/s` reads a string 64 bytes a call, and one read returned the previous read's
    // bytes. Here: the first read's reply is lost once (its copies may still come); the next read's first `$m`
    // is lost, and behind its resend come a `+` and a late copy of the first reply
    const { a, b, client, dropDown } = setup({ flushSize: 4096 });
    const expected = pattern(128);
    dropDown((x) => x[0] === 0x24);
    const first = await client.request(`m${TEXT_BASE.toString(16)},40`);
    expect(first).toBe(expected.subarray(0, 64).toString("hex"));
    const write = a.write.bind(a);
    let sent = 0;
    a.write = (bytes: Uint8Array) => {
      if (!Buffer.from(bytes).includes(Buffer.from("$m"))) return write(bytes);
      if (++sent === 1) return; // lost
      if (sent === 2) {
        b.write(Buffer.from("+"));
        b.write(framePacket(expected.subarray(0, 64).toString("hex")));
      }
      write(bytes);
    };
    const second = await client.request(`m${(TEXT_BASE + 64n).toString(16)},40`);
    expect(sent).toBeGreaterThanOrEqual(2);
    expect(second).toBe(expected.subarray(64, 128).toString("hex"));
    expect(client.stats.duplicates).toBeGreaterThanOrEqual(1);
  });

  it("reads of one length in separate calls (x/s, 64 bytes a call) never repeat a length within 16 requests", async () => {
    // a copy the client cannot know of (the network duplicated a reply and held it back) is told from the next
    // read's answer only by its length, across calls as within one
    const { a, client, remote } = setup({ flushSize: 4096 });
    await remote.attach();
    const lengths: number[] = [];
    const write = a.write.bind(a);
    a.write = (bytes: Uint8Array) => {
      const m = /\$m[0-9a-f]+,([0-9a-f]+)#/.exec(Buffer.from(bytes).toString("latin1"));
      if (m) lengths.push(Number.parseInt(m[1]!, 16));
      write(bytes);
    };
    const expected = pattern(64 * 40);
    for (let k = 0; k < 40; k++) {
      const got = await remote.readMemory(TEXT_BASE + BigInt(64 * k), 64);
      expect(got.equals(expected.subarray(64 * k, 64 * (k + 1))), `read ${k}`).toBe(true);
    }
    for (let i = 0; i < lengths.length; i++) {
      const window = lengths.slice(Math.max(0, i - 15), i);
      expect(window, `request ${i} (${lengths[i]}) in ${lengths.join(",")}`).not.toContain(lengths[i]);
    }
    expect(client.stats.retransmits).toBe(0);
  });

  it("over UDP, a stop reply lost after the `c` was acked is fetched by a `-` poke (kgdb never resends it alone)", async () => {
    const udp = new UdpKgdbStub({ flushSize: 4096 });
    const port = await udp.start();
    const client = new RspClient(await UdpTransport.open({ kind: "udp", host: "127.0.0.1", port }));
    cleanups.push(
      () => udp.stop(),
      () => client.close(),
    );
    const remote = new GdbRemote(client);
    await remote.attach();
    await remote.setBreakpoint(TEXT_BASE + 0x400n);
    const send = udp.stub.send;
    let lost = 0;
    udp.stub.send = (chunk) => {
      if (lost === 0 && udp.stub.stats.commands.at(-1) === "c" && /^\+?\$[ST]05/.test(chunk.toString("latin1"))) {
        lost++;
        return;
      }
      send(chunk);
    };
    const stop = await remote.cont();
    expect(lost).toBe(1);
    expect(stop.signal).toBe(5);
    expect(client.stats.stopPokes).toBeGreaterThanOrEqual(1);
    expect(udp.stub.stats.resends).toBeGreaterThanOrEqual(1);
    expect(await remote.pc()).toBe(TEXT_BASE + 0x400n);
  });

  it("adapts the timeout to the measured round trip (srtt + 2·rttvar, floored), down from the initial one", async () => {
    const { client, remote } = setup({}, { timeoutMs: 300, minTimeoutMs: 3 });
    await remote.attach();
    expect(client.timeout).toBeLessThan(300);
    for (let i = 0; i < 20; i++) await remote.readMemory(TEXT_BASE + BigInt(i), 8);
    expect(client.roundTrip).toBeDefined();
    expect(client.timeout).toBeGreaterThanOrEqual(3);
    expect(client.timeout).toBeLessThan(300);
  });
  it("a resent `Z` whose first reply was only late: the rerun's E17 is not taken for the `D` after it", async () => {
    const { b, client, remote, stub } = setup(
      {},
      process.env.TRACE ? { trace: (l) => console.log(performance.now().toFixed(1), l) } : {},
    );
    await remote.attach();
    // hold everything the stub sends for 120 ms once it has the `Z` (longer than the 50 ms timeout, ack
    // included): the client resends `+$Z…`, the `+` acks the held OK and kgdb runs the `Z` again -> E17
    const write = b.write.bind(b);
    let holding = false;
    const held: Buffer[] = [];
    b.write = (bytes: Uint8Array) => {
      if (!holding && stub.stats.commands.at(-1)?.startsWith("Z0") && !held.length) {
        holding = true;
        setTimeout(() => {
          holding = false;
          for (const h of held) write(h);
        }, 120);
      }
      if (holding) held.push(Buffer.from(bytes));
      else write(bytes);
    };
    await remote.setBreakpoint(TEXT_BASE);
    expect(stub.stats.commands.filter((c) => c.startsWith("Z0"))).toHaveLength(2);
    await remote.detach();
    // the late copies (OK twice, E17) were dropped, not answers
    expect(client.stats.stray + client.stats.duplicates).toBeGreaterThanOrEqual(3);
    // detached, and not stopped again by a resent `D`
    expect(stub.connected).toBe(false);
    expect(stub.running).toBe(true);
    expect(stub.stats.commands.filter((c) => c === "D")).toHaveLength(1);
  });

  it("a resent `D` goes behind `-`: it fetches the OK again or detaches, and never stops the kernel a second time", async () => {
    const { a, client, remote, stub, dropDown } = setup(
      {},
      process.env.TRACE ? { trace: (l) => console.log(performance.now().toFixed(1), l) } : {},
    );
    await remote.attach();
    // the stub's `+` and OK to the `D` are lost: the client must resend, and kgdb is waiting for the ack
    dropDown((x) => x.includes(0x2b) || x.includes(0x24), 2);
    await remote.detach();
    const resent = a.sent.filter((s) => s.includes(Buffer.from("$D#"))).at(-1)!;
    expect(resent.toString("latin1")).toMatch(/^-\$D#/);
    expect(stub.connected).toBe(false);
    expect(stub.running).toBe(true);
    expect(stub.stats.commands.filter((c) => c === "D")).toHaveLength(1);
    expect(client.stats.retransmits + client.stats.naksSent).toBeGreaterThanOrEqual(1);
  });
});
