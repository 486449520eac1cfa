/**
 * The built-in targets of src/peers as `netdbg demo` assembles them: the kgdb stub answers only while the Linux
 * model has kgdboe loaded on its port; the Windows model's restart into a network-debugging entry starts the KDNET
 * peer poking the host named in {dbgsettings} (loopback here) — and a restart into an entry that does not debug
 * stops it. Real UDP on 127.0.0.1 only.
 */
import { createSocket, type Socket } from "node:dgram";
import { afterEach, describe, expect, it } from "vitest";
import { parseKdnetKey } from "../../src/core/kdnet-key.js";
import { openUdp } from "../../src/engine/kdnet/udp.js";
import { listenForPokes } from "../../src/engine/kdnet/listen.js";
import { startLinuxPeer } from "../../src/peers/linux.js";
import { isLoopback } from "../../src/peers/loopback.js";
import { startWindowsPeer } from "../../src/peers/windows.js";
import { eventually } from "../helpers/tools.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function udpClient(): Promise<{ sock: Socket; got: Buffer[] }> {
  const sock = createSocket("udp4");
  const got: Buffer[] = [];
  sock.on("message", (m) => got.push(m));
  await new Promise<void>((r) => sock.bind(0, "127.0.0.1", () => r()));
  closers.push(() => new Promise<void>((r) => sock.close(() => r())));
  return { sock, got };
}

/** A UDP socket on 127.0.0.1 at a port KDNET accepts (49152–65535). */
async function kdnetRangeSocket() {
  for (;;) {
    try {
      return await openUdp({ port: 49152 + Math.floor(Math.random() * 16000), address: "127.0.0.1" });
    } catch {
      // taken: draw again
    }
  }
}

describe("peers", () => {
  it("isLoopback: 127.0.0.0/8 and ::1 only", () => {
    for (const a of ["127.0.0.1", "127.1.2.3", "::1"]) expect(isLoopback(a), a).toBe(true);
    for (const a of ["10.0.2.2", "0.0.0.0", "::", "128.0.0.1", "localhost", "::ffff:127.0.0.1", ""])
      expect(isLoopback(a), a).toBe(false);
  });

  it("Linux: the kgdb stub drops datagrams until kgdboe is loaded with its port, then speaks RSP", async () => {
    const lin = await startLinuxPeer();
    closers.push(() => lin.close());
    const { sock, got } = await udpClient();
    const ask = () => sock.send(Buffer.from("$?#3f"), lin.udpPort, "127.0.0.1");
    ask();
    await eventually(() => lin.stub.datagramsDropped === 1);
    expect(got).toEqual([]);
    lin.model.state.loaded = { device_name: "eth0", udp_port: String(lin.udpPort + 1) }; // another port: still deaf
    ask();
    await eventually(() => lin.stub.datagramsDropped === 2);
    lin.model.state.loaded = { device_name: "eth0", udp_port: String(lin.udpPort) };
    ask();
    await eventually(() => Buffer.concat(got).toString("latin1").includes("S05"));
    expect(Buffer.concat(got).toString("latin1")).toMatch(/^\+/);
  });

  it("Windows: a restart into a NET-debugging entry starts KDNET poking the loopback host from {dbgsettings}; a plain restart stops it", async () => {
    const events: string[] = [];
    const win = await startWindowsPeer({ onEvent: (l) => events.push(l), pokeIntervalMs: 50 });
    closers.push(() => win.close());
    const host = await kdnetRangeSocket();
    closers.push(() => host.close());
    const key = "1.2.3.4";
    const m = win.model;
    expect(m.bcd(["/dbgsettings", "net", "hostip:127.0.0.1", `port:${host.local.port}`, `key:${key}`]).exitCode).toBe(0);
    expect(m.bcd(["/debug", "{current}", "on"]).exitCode).toBe(0);
    m.suspendBitLocker(m.state.bitlocker[0]!, 2); // as a user must: else the model stops at the recovery screen
    m.reboot();
    await eventually(() => win.kdnet !== undefined);
    const seen = await listenForPokes(host, { key: parseKdnetKey(key), durationMs: 2000, stopAfterFirstPoke: true });
    expect(seen.find((s) => s.pokes > 0)?.authenticated).toBe(true);
    expect(events.join("\n")).toContain(`KDNET pokes 127.0.0.1:${host.local.port}`);

    expect(m.bcd(["/debug", "{current}", "off"]).exitCode).toBe(0);
    m.reboot();
    await eventually(() => win.kdnet === undefined && events.some((e) => e.includes("no network debugging")));
  });
});
