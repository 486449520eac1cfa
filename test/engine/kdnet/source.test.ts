/**
 * Which source a KDNET session accepts (issue #13 "replayed poke from another address", #15 "the key is the
 * identity"). Real UDP sockets on loopback addresses (127.0.0.0/8 is all loopback on Linux); the pokes are built and
 * sealed as a target seals them, so a "replay" is the very bytes the target sent, re-sent from elsewhere.
 */
import { afterEach, describe, expect, it } from "vitest";
import { parseKdnetKey } from "../../../src/core/kdnet-key.js";
import { buildPoke } from "../../../src/engine/kdnet/control.js";
import { CHANNEL_CONTROL, sealDatagram } from "../../../src/engine/kdnet/datagram.js";
import { type HostEvent, KdnetHostSession, plainAddress } from "../../../src/engine/kdnet/session.js";
import type { DatagramTransport } from "../../../src/engine/kdnet/transport.js";
import { openUdp } from "../../../src/engine/kdnet/udp.js";
import { eventually } from "../../helpers/tools.js";

const KEY = parseKdnetKey("1a2b3c.4d5e6f.7g8h9i.0j1k2l");
const TAIL = Buffer.alloc(30, 0x5a);
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function sock(address: string): Promise<{ t: DatagramTransport; got: Buffer[] }> {
  const t = await openUdp({ port: 0, address });
  const got: Buffer[] = [];
  t.onMessage((b) => got.push(b));
  cleanups.push(() => t.close());
  return { t, got };
}

async function host(o: { targetAddress?: string; acceptNewSource?: boolean } = {}) {
  const hostT = await openUdp({ port: 0, address: "127.0.0.1" });
  const h = new KdnetHostSession({ transport: hostT, key: KEY, ...o });
  cleanups.push(() => h.close());
  const events: HostEvent[] = [];
  h.on((e) => events.push(e));
  /** A poke exactly as the target at `from` seals it (counter = the nonce's first two bytes). */
  const poke = (from: DatagramTransport, counter: number) => {
    const nonce = Buffer.alloc(32);
    nonce.writeUInt16LE(counter, 0);
    TAIL.copy(nonce, 2);
    const body = buildPoke({
      nonce,
      targetAddress: from.local.address,
      targetPort: from.local.port,
      hostAddress: hostT.local.address,
      hostPort: hostT.local.port,
      peerAddress: "",
      peerPort: 0,
    });
    const keys = { control: h.keys.control, hmac: h.keys.hmac };
    return sealDatagram({ version: 5, channel: CHANNEL_CONTROL, seq: counter, direction: "target-to-host", body }, keys);
  };
  return { h, hostT, events, poke };
}

const kinds = (ev: HostEvent[]) => ev.map((e) => e.kind).filter((k) => k !== "poke");

describe("KDNET source acceptance", () => {
  it("a target named by DNS (no address given): a replayed poke from another address does not take over", async () => {
    const { h, hostT, events, poke } = await host();
    const target = await sock("127.0.0.1");
    const attacker = await sock("127.0.0.2");
    const p = poke(target.t, 0x100);
    target.t.send(p, hostT.local);
    await h.waitForHandshake(5000);
    attacker.t.send(p, hostT.local);
    await eventually(() => kinds(events).includes("foreign-poke"));
    expect(kinds(events)).toContain("foreign-poke");
    expect(h.peer?.address).toBe("127.0.0.1");
    expect(kinds(events).filter((k) => k === "handshake")).toHaveLength(1);
    expect(attacker.got).toHaveLength(0);
  });

  it("without --allow of a new source, an authentic poke from elsewhere is only reported", async () => {
    const { h, hostT, events, poke } = await host({ targetAddress: "127.0.0.1" });
    const moved = await sock("127.0.0.3");
    moved.t.send(poke(moved.t, 7), hostT.local);
    await eventually(() => events.length > 0);
    expect(kinds(events)).toEqual(["foreign-poke"]);
    expect(h.connected).toBe(false);
  });

  it("the key is the identity: the target's own poke from a new address moves the session (IPv4-mapped compares equal)", async () => {
    const { h, hostT, events, poke } = await host({ targetAddress: "::ffff:127.0.0.1", acceptNewSource: true });
    const old = await sock("127.0.0.1");
    old.t.send(poke(old.t, 1), hostT.local);
    await h.waitForHandshake(5000);
    expect(kinds(events)).toEqual(["handshake"]);
    const moved = await sock("127.0.0.3");
    moved.t.send(poke(moved.t, 2), hostT.local);
    await eventually(() => h.peer?.address === "127.0.0.3");
    expect(h.peer?.address).toBe("127.0.0.3");
    expect(kinds(events)).toEqual(["handshake", "source-changed", "handshake"]);
    expect(events.find((e) => e.kind === "source-changed")).toMatchObject({ previous: "127.0.0.1" });
    expect(moved.got).toHaveLength(1);
  });

  it("a replayed authentic poke never moves the session: not from another address, not an old one from the old address", async () => {
    const { h, hostT, events, poke } = await host({ targetAddress: "127.0.0.1", acceptNewSource: true });
    const target = await sock("127.0.0.1");
    const attacker = await sock("127.0.0.2");
    const first = poke(target.t, 0xfffe);
    target.t.send(first, hostT.local);
    await h.waitForHandshake(5000);
    attacker.t.send(first, hostT.local);
    await eventually(() => events.some((e) => e.kind === "replayed-poke"));
    expect(events.find((e) => e.kind === "replayed-poke")).toMatchObject({ reason: "address", claimed: "127.0.0.1" });
    expect(h.peer?.address).toBe("127.0.0.1");
    expect(attacker.got).toHaveLength(0);

    // The target moves (counter wraps 0xfffe → 0x0001, still newer); then its old poke re-sent from its old address.
    const moved = await sock("127.0.0.3");
    moved.t.send(poke(moved.t, 0x0001), hostT.local);
    await eventually(() => h.peer?.address === "127.0.0.3");
    expect(h.peer?.address).toBe("127.0.0.3");
    target.t.send(first, hostT.local);
    await eventually(() => events.filter((e) => e.kind === "replayed-poke").length === 2);
    expect(events.filter((e) => e.kind === "replayed-poke")[1]).toMatchObject({ reason: "counter" });
    expect(h.peer?.address).toBe("127.0.0.3");
    expect(kinds(events).filter((k) => k === "handshake")).toHaveLength(2);
  });

  it("plainAddress folds IPv4-mapped IPv6 and case", () => {
    expect(plainAddress("::FFFF:10.0.0.1")).toBe("10.0.0.1");
    expect(plainAddress("FE80::1")).toBe("fe80::1");
  });
});
