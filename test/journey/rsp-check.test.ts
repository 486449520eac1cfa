/**
 * The RSP check setup runs after loading kgdboe, over real UDP sockets on loopback: against the kgdb stub
 * model (a running kernel: the break-in must stop it, the detach must leave it running), against a port
 * that swallows everything (a firewall dropping replies), and against a port where nothing listens.
 * Then setup itself with the check injected: 'verified' in the result, or a coded warning, never a failure.
 */
import dgram from "node:dgram";
import { afterEach, describe, expect, it } from "vitest";
import { rspCheckUdp, triesWithin } from "../../src/journey/rsp-check.js";
import { systemClock } from "../../src/core/interfaces.js";
import { MemoryJournalStore } from "../../src/io/journal-store.js";
import { type LinuxSetupInput, setupLinuxTarget } from "../../src/targets/linux/setup.js";
import { LinuxTargetModel } from "../../src/peers/linux-target.js";
import { UdpKgdbStub } from "../../src/peers/rsp-stub.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function runningStub(): Promise<{ stub: UdpKgdbStub; port: number }> {
  const stub = new UdpKgdbStub();
  const port = await stub.start();
  stub.stub.running = true; // a loaded kgdboe: the kernel runs until something breaks in
  closers.push(() => stub.stop());
  return { stub, port };
}

/** A UDP port that receives and never answers (what a host firewall dropping the replies looks like). */
async function silentPort(): Promise<{ port: number; received: Buffer[] }> {
  const s = dgram.createSocket("udp4");
  const received: Buffer[] = [];
  s.on("message", (m) => received.push(m));
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
  closers.push(() => new Promise<void>((r) => s.close(() => r())));
  return { port: s.address().port, received };
}

/** A loopback port where nothing listens (bound once to get a free number, then closed). */
async function closedPort(): Promise<number> {
  const s = dgram.createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe("rspCheckUdp", () => {
  it("against the kgdb stub: breaks in, reads the stop and registers, detaches; the kernel runs on", async () => {
    const { stub, port } = await runningStub();
    const r = await rspCheckUdp({ host: "127.0.0.1", port }, { timeoutMs: 2000 });
    expect(r).toMatchObject({ outcome: "verified", endpoint: `udp:127.0.0.1:${port}`, stop: "S05", signal: 5, arch: "x86_64" });
    expect(r.outcome === "verified" && r.pc).toBe("0xffffffff81001234");
    // one `?` (the initial attach), registers, detach; and the stub is running and detached again
    const cmds = stub.stub.stats.commands;
    expect(cmds.filter((c) => c === "?")).toHaveLength(1);
    expect(cmds).toContain("g");
    expect(cmds.at(-1)).toBe("D");
    await new Promise((r) => setTimeout(r, 50)); // the final acks are lone datagrams
    expect(stub.stub.running).toBe(true);
    expect(stub.stub.connected).toBe(false);
  });

  it("twice in a row (setup run again) verifies again: the first detach really left the stub attachable", async () => {
    const { stub, port } = await runningStub();
    expect((await rspCheckUdp({ host: "127.0.0.1", port }, { timeoutMs: 2000 })).outcome).toBe("verified");
    expect((await rspCheckUdp({ host: "127.0.0.1", port }, { timeoutMs: 2000 })).outcome).toBe("verified");
    expect(stub.stub.stats.commands.filter((c) => c === "D")).toHaveLength(2);
  });

  it("a port that swallows everything: no-answer after the budget, having sent the break-in and a blind detach", async () => {
    const { port, received } = await silentPort();
    const r = await rspCheckUdp({ host: "127.0.0.1", port }, { timeoutMs: 800 });
    expect(r.outcome).toBe("no-answer");
    expect(r.outcome === "no-answer" && r.diagnosis).toMatch(/nothing came back to \d+ bytes sent/);
    expect(r.bytesIn).toBe(0);
    await new Promise((res) => setTimeout(res, 50)); // let the last datagram land
    const wire = Buffer.concat(received).toString("latin1");
    expect(received[0]).toEqual(Buffer.of(0x03)); // break in first, as gdb does
    expect(wire).toContain("$qSupported");
    expect(wire).toContain("$D#44"); // the kernel may have stopped on our 0x03: resume it blind
    expect(r.bytesOut).toBe(Buffer.concat(received).length);
  });

  it("a port where nothing listens: no-answer naming ICMP port unreachable", async () => {
    const port = await closedPort();
    const r = await rspCheckUdp({ host: "127.0.0.1", port }, { timeoutMs: 800 });
    expect(r.outcome).toBe("no-answer");
    expect(r.outcome === "no-answer" && r.diagnosis).toMatch(/port unreachable/);
  });

  it("the retransmission ladder fits the budget", () => {
    expect(triesWithin(800)).toBe(2);
    expect(triesWithin(5000)).toBeGreaterThanOrEqual(6);
    expect(triesWithin(5000)).toBeLessThanOrEqual(9);
  });
});

const input = (over: Partial<LinuxSetupInput> = {}, udpPort = 31337): LinuxSetupInput => ({
  target: "lab",
  address: "127.0.0.1",
  check: false,
  config: {
    udpPort,
    forceSingleCore: 1,
    installDeps: false,
    persist: false,
    applyCmdline: false,
    source: { kind: "files", label: "compat", files: [{ path: "Makefile", content: "obj-m := kgdboe.o\n" }] },
  },
  ...over,
});

describe("setup with the RSP check injected", () => {
  it("a stub answering on kgdboe's port: verified by RSP, no warning", async () => {
    const { port } = await runningStub();
    const r = await setupLinuxTarget(input({}, port), {
      session: new LinuxTargetModel(),
      store: new MemoryJournalStore(),
      clock: systemClock,
      rspCheck: (ep) => rspCheckUdp(ep, { timeoutMs: 2000 }),
    });
    expect(r.verified?.rsp).toMatchObject({ outcome: "verified", endpoint: `udp:127.0.0.1:${port}`, stop: "S05" });
    expect(r.warnings.join("\n")).not.toMatch(/NETDBG-E35[89]/);
  });

  it("a silent port: setup succeeds with the E358 warning naming the causes and the doctor command", async () => {
    const { port, received } = await silentPort();
    const t = new LinuxTargetModel();
    const r = await setupLinuxTarget(input({}, port), {
      session: t,
      store: new MemoryJournalStore(),
      clock: systemClock,
      rspCheck: (ep) => rspCheckUdp(ep, { timeoutMs: 800 }),
    });
    expect(r.verified?.loaded).toBe(true);
    expect(r.verified?.rsp?.outcome).toBe("no-answer");
    const w = r.warnings.find((x) => x.includes("NETDBG-E358"));
    expect(w).toMatch(/host firewall/);
    expect(w).toMatch(/netdbg doctor lab/);
    expect(w).toContain(`udp:127.0.0.1:${port}`);
    expect(received.length).toBeGreaterThan(1);
    expect(t.state.loaded).not.toBeNull();
  });

  it("--no-rsp-verify: no exchange at all", async () => {
    const { port, received } = await silentPort();
    let called = 0;
    const r = await setupLinuxTarget(input({ rspVerify: false }, port), {
      session: new LinuxTargetModel(),
      store: new MemoryJournalStore(),
      clock: systemClock,
      rspCheck: async (ep) => {
        called++;
        return rspCheckUdp(ep, { timeoutMs: 800 });
      },
    });
    expect(called).toBe(0);
    expect(received).toEqual([]);
    expect(r.verified?.rsp).toEqual({ outcome: "skipped", reason: "--no-rsp-verify" });
  });
});
