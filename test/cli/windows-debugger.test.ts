import { eventually } from "../helpers/tools.js";
/** The Windows REPL command executor over an in-memory network and the test peer. */
import { afterEach, describe, expect, it } from "vitest";
import { WindowsDebugger } from "../../src/cli/debugger/kd-commands.js";
import { parseKdnetKey } from "../../src/core/kdnet-key.js";
import { KdClient } from "../../src/engine/kdnet/api.js";
import { KdnetHostSession } from "../../src/engine/kdnet/session.js";
import { MemoryNetwork } from "../../src/engine/kdnet/transport.js";
import { KdnetTargetPeer } from "../fakes/kdnet-target/index.js";

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
});
