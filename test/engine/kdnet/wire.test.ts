/**
 * Wire claims of the host engine and of the test peer, checked against the real capture 1 (windbg-uncut.pcapng.gz).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { kdnetControlKey, kdnetHmacKey, parseKdnetKey } from "../../../src/core/kdnet-key.js";
import { readUdpCapture } from "../../../src/engine/kdnet/capture.js";
import {
  buildResponse,
  deriveDataKey,
  encodeAddress16,
  formatAddress16,
  isResponse,
  parsePoke,
} from "../../../src/engine/kdnet/control.js";
import { type KdnetKeys, openDatagram, sealDatagram } from "../../../src/engine/kdnet/datagram.js";
import { buildKdPacket, kdChecksum, PacketType, parseKdPacket } from "../../../src/engine/kdnet/kd.js";
import { KdnetHostSession } from "../../../src/engine/kdnet/session.js";
import { MemoryNetwork } from "../../../src/engine/kdnet/transport.js";
import { KdClient } from "../../../src/engine/kdnet/api.js";
import { KERNEL_BASE, KdnetTargetPeer } from "../../../src/peers/kdnet-target/index.js";

const recs = readUdpCapture(readFileSync(new URL("../../fixtures/kdnet/windbg-uncut.pcapng.gz", import.meta.url)));
const key = parseKdnetKey("8.8.8.8");
const control = kdnetControlKey(key);
const tick = () => new Promise((r) => setTimeout(r, 2));

function capBodies() {
  const keys: KdnetKeys = { control, hmac: kdnetHmacKey(control) };
  return recs.map((r) => {
    const o = openDatagram(r.payload, keys);
    if (!o.ok) throw new Error(`frame ${r.frame}`);
    if (o.datagram.channel === 1 && isResponse(o.datagram.body)) keys.data = deriveDataKey(control, o.datagram.body);
    return { frame: r.frame, size: r.payload.length, ...o.datagram };
  });
}

describe("datagram primitives", () => {
  it("seal/open round-trip every pad length and 56-bit-range sequence numbers; a flipped bit fails", () => {
    const keys: KdnetKeys = { control, hmac: kdnetHmacKey(control), data: Buffer.alloc(32, 7) };
    for (let len = 0; len < 40; len++) {
      const body = Buffer.alloc(len, len);
      for (const seq of [0, 1, 0xffffff, 0x1000000, 2 ** 52 + 3]) {
        const dg = sealDatagram({ version: 6, channel: 0, seq, direction: "host-to-target", body }, keys);
        expect((dg.length - 22) % 16).toBe(0);
        const o = openDatagram(dg, keys);
        expect(o.ok && o.datagram.seq === seq && o.datagram.body.equals(body) && o.datagram.direction === "host-to-target").toBe(
          true,
        );
        const bad = Buffer.from(dg);
        bad[6 + (len % 16)]! ^= 1;
        expect(openDatagram(bad, keys).ok).toBe(false);
      }
    }
  });

  it("KD checksums and addresses", () => {
    expect(kdChecksum(Buffer.from([0xff, 0xff, 1]))).toBe(0x1ff);
    const p = parseKdPacket(buildKdPacket(PacketType.StateManipulate, 0x80000000, Buffer.from([1, 2, 3])))!;
    expect(p).toMatchObject({ leader: 0x30303030, byteCount: 3, checksum: 6, checksumOk: true });
    expect(parseKdPacket(buildKdPacket(PacketType.Acknowledge, 5))).toMatchObject({ leader: 0x69696969, checksum: 0, id: 5 });
    expect(formatAddress16(encodeAddress16("192.168.2.72"))).toBe("192.168.2.72");
    expect(formatAddress16(encodeAddress16("fe80::1"))).toBe("fe80:0:0:0:0:0:0:1");
  });
});

describe("the host engine against capture 1", () => {
  it("answers CAP1's first poke with a datagram byte-identical to WinDbg's response (given WinDbg's random bytes)", async () => {
    const bodies = capBodies();
    const windbgRandom = bodies[1]!.body.subarray(34, 66);
    const net = new MemoryNetwork();
    const hostT = net.open({ address: "192.168.2.1", port: 51111 });
    const targetT = net.open({ address: "192.168.2.72", port: 51111 });
    const got: Buffer[] = [];
    targetT.onMessage((b) => got.push(b));
    const host = new KdnetHostSession({ transport: hostT, key, random: () => windbgRandom });
    targetT.send(recs[0]!.payload, hostT.local);
    await tick();
    expect(got).toHaveLength(1);
    expect(got[0]!.equals(recs[1]!.payload)).toBe(true);
    expect(Buffer.from(host.keys.data!).toString("hex")).toBe("6bd91c57bd6a551ad30b509c05c0c95b32cc5e47a0866907eaf0b1583384f660");

    // Feed the target's datagrams 3..: the host ACKs data packets exactly as WinDbg did (same KD bytes).
    targetT.send(recs[2]!.payload, hostT.local); // UNUSED hello: no answer
    targetT.send(recs[7]!.payload, hostT.local); // STATE_CHANGE64 LoadSymbols id 2
    await tick();
    expect(got).toHaveLength(2);
    const keys: KdnetKeys = { ...host.keys };
    const ack = openDatagram(got[1]!, keys);
    expect(ack.ok).toBe(true);
    if (!ack.ok) return;
    const windbgAck = bodies.find((b) => b.frame === 9)!;
    expect(ack.datagram.body.equals(windbgAck.body)).toBe(true); // ACK id 2, 16 bytes
    expect(got[1]!.length).toBe(windbgAck.size); // 54 bytes
    expect(host.stopped).toBe(true);
    expect(host.lastState).toMatchObject({ kind: "load-symbols", path: "winload.efi" });
    // A second copy of the same poke must not restart the live session.
    targetT.send(recs[0]!.payload, hostT.local);
    await tick();
    expect(got).toHaveLength(2);
    await host.close();
    await targetT.close();
  });
});

describe("session recovery", () => {
  it("answers a poke again once the target's data datagrams stop authenticating", async () => {
    const net = new MemoryNetwork();
    const hostT = net.open({ address: "192.168.2.1", port: 51111 });
    const targetT = net.open({ address: "192.168.2.72", port: 51111 });
    const got: Buffer[] = [];
    targetT.onMessage((b) => got.push(b));
    const host = new KdnetHostSession({ transport: hostT, key, reanswerAfterMs: 0 });
    targetT.send(recs[0]!.payload, hostT.local);
    await tick();
    expect(got).toHaveLength(1);
    targetT.send(recs[0]!.payload, hostT.local); // no data yet: the response may have been lost, answer again
    await tick();
    expect(got).toHaveLength(2);
    // the target's hello with the current data key: the session is healthy, so a poke is ignored
    const hello = Buffer.alloc(12);
    targetT.send(
      sealDatagram({ version: 4, channel: 0, seq: 1, direction: "target-to-host", body: hello }, { ...host.keys }),
      hostT.local,
    );
    targetT.send(recs[0]!.payload, hostT.local);
    await tick();
    expect(got).toHaveLength(2);
    // CAP1's data datagrams were keyed by WinDbg's response, not ours: they fail to authenticate here.
    for (const f of [2, 3, 5]) targetT.send(recs[f]!.payload, hostT.local);
    await tick();
    expect(host.stats.authFailed).toBe(3);
    targetT.send(recs[0]!.payload, hostT.local);
    await tick();
    expect(got).toHaveLength(3);
    await host.close();
    await targetT.close();
  });
});

describe("RESEND both ways", () => {
  it("asks for a packet again when its checksum is bad, and re-sends its own packet when asked", async () => {
    const net = new MemoryNetwork();
    const hostT = net.open({ address: "192.168.2.1", port: 51111 });
    const targetT = net.open({ address: "192.168.2.72", port: 51111 });
    const got: Buffer[] = [];
    targetT.onMessage((b) => got.push(b));
    const host = new KdnetHostSession({ transport: hostT, key, retransmitMs: 10_000 });
    targetT.send(recs[0]!.payload, hostT.local);
    await tick();
    const keys: KdnetKeys = { ...host.keys };
    const toHost = (body: Buffer, seq: number) =>
      targetT.send(sealDatagram({ version: 4, channel: 0, seq, direction: "target-to-host", body }, keys), hostT.local);
    const bodyOf = (b: Buffer) => {
      const o = openDatagram(b, keys);
      if (!o.ok) throw new Error(o.reason);
      return parseKdPacket(o.datagram.body)!;
    };
    const bad = buildKdPacket(PacketType.DebugIo, 0, Buffer.from("xyz"));
    bad.writeUInt32LE(1, 12); // wrong checksum
    toHost(bad, 1);
    await tick();
    expect(bodyOf(got[1]!)).toMatchObject({ type: PacketType.Resend, id: 0 });
    // host request outstanding; the target asks for it again
    host.stopped = true;
    const pending = new KdClient(host).getVersion().catch(() => undefined);
    await tick();
    const req = bodyOf(got[2]!);
    expect(req.type).toBe(PacketType.StateManipulate);
    toHost(buildKdPacket(PacketType.Resend, 0), 2);
    await tick();
    const again = bodyOf(got[3]!);
    expect(again).toMatchObject({ type: PacketType.StateManipulate, id: req.id, checksum: req.checksum });
    await host.close();
    await pending;
    await targetT.close();
  });
});

describe("poke in flight", () => {
  it("does not answer a same-boot poke that arrives right after our response (it crossed it on the wire)", async () => {
    const net = new MemoryNetwork();
    const hostT = net.open({ address: "192.168.2.1", port: 51111 });
    const targetT = net.open({ address: "192.168.2.72", port: 51111 });
    const got: Buffer[] = [];
    targetT.onMessage((b) => got.push(b));
    const host = new KdnetHostSession({ transport: hostT, key });
    targetT.send(recs[0]!.payload, hostT.local);
    targetT.send(recs[0]!.payload, hostT.local);
    await tick();
    expect(got).toHaveLength(1);
    await host.close();
    await targetT.close();
  });
});

describe("lost response", () => {
  it("answers the target's next poke when its response was lost, and then works", async () => {
    const net = new MemoryNetwork();
    const hostT = net.open({ address: "10.1.0.1", port: 50000 });
    const targetT = net.open({ address: "10.1.0.2", port: 50000 });
    let dropped = 0;
    const orig = hostT.send.bind(hostT);
    hostT.send = (b, to) => {
      if (dropped === 0 && b[5] === 1) {
        dropped++;
        return;
      }
      orig(b, to);
    };
    const host = new KdnetHostSession({ transport: hostT, key, retransmitMs: 10, reanswerAfterMs: 0 });
    const peer = new KdnetTargetPeer({
      transport: targetT,
      key,
      host: hostT.local,
      pokeIntervalMs: 20,
      retransmitMs: 10,
      bulkSize: 4096,
    });
    const handshakes: boolean[] = [];
    host.on((e) => {
      if (e.kind === "handshake") handshakes.push(e.rebooted);
    });
    peer.start();
    await host.waitForHandshake(2000);
    const kd = new KdClient(host, { stateTimeoutMs: 5000 });
    await kd.breakIn();
    expect((await kd.getVersion()).kernBase).toBe(KERNEL_BASE);
    expect(dropped).toBe(1);
    expect(handshakes).toEqual([false, false]);
    expect(peer.stats.handshakes).toBe(1);
    await host.close();
    await peer.close();
  });
});

describe("lost hello", () => {
  it("goes back to the earlier data key when the target kept it (it ignored our second response)", async () => {
    const net = new MemoryNetwork();
    const hostT = net.open({ address: "10.1.0.1", port: 50000 });
    const targetT = net.open({ address: "10.1.0.2", port: 50000 });
    let droppedHello = false;
    const orig = targetT.send.bind(targetT);
    targetT.send = (b, to) => {
      if (!droppedHello && b[5] === 0) {
        droppedHello = true;
        return;
      }
      orig(b, to);
    };
    const host = new KdnetHostSession({ transport: hostT, key, retransmitMs: 10, reanswerAfterMs: 0 });
    const peer = new KdnetTargetPeer({
      transport: targetT,
      key,
      host: hostT.local,
      pokeIntervalMs: 1000,
      retransmitMs: 10,
      bulkSize: 4096,
    });
    peer.start();
    await host.waitForHandshake(2000);
    while (!peer.connected) await tick();
    const first = Buffer.from(host.keys.data!);
    peer.sendPoke(); // a poke during the session, while the host has seen no data yet: answered, new key
    await tick();
    expect(Buffer.from(host.keys.data!).equals(first)).toBe(false);
    const kd = new KdClient(host, { stateTimeoutMs: 5000 });
    await kd.breakIn();
    expect(Buffer.from(host.keys.data!).equals(first)).toBe(true);
    expect((await kd.getVersion()).kernBase).toBe(KERNEL_BASE);
    expect(droppedHello).toBe(true);
    await host.close();
    await peer.close();
  });
});

describe("the test peer's wire format matches capture 1", () => {
  it("poke, hello, ACK and break-in have CAP1's sizes and layouts", async () => {
    const bodies = capBodies();
    const net = new MemoryNetwork();
    const hostT = net.open({ address: "192.168.2.1", port: 51111 });
    const targetT = net.open({ address: "192.168.2.72", port: 51111 });
    const fromPeer: Buffer[] = [];
    const host = new KdnetHostSession({ transport: hostT, key });
    const peer = new KdnetTargetPeer({
      transport: targetT,
      key,
      host: hostT.local,
      version: 4,
      pokeIntervalMs: 1000,
      bulkSize: 4096,
    });
    // observe the peer's datagrams on the wire
    const orig = targetT.send.bind(targetT);
    targetT.send = (b, to) => {
      fromPeer.push(Buffer.from(b));
      orig(b, to);
    };
    peer.start();
    await tick();
    await tick();
    // poke: 374 bytes, body 344, same field layout as CAP1 frame 1
    expect(fromPeer[0]!.length).toBe(recs[0]!.payload.length);
    const keys: KdnetKeys = { ...host.keys };
    const open = (b: Buffer) => {
      const o = openDatagram(b, keys);
      if (!o.ok) throw new Error(o.reason);
      return o.datagram;
    };
    const poke = parsePoke(open(fromPeer[0]!).body)!;
    expect(poke).toMatchObject({ targetAddress: "192.168.2.72", targetPort: 51111, hostAddress: "192.168.2.1", hostPort: 51111 });
    expect(parsePoke(bodies[0]!.body)).toMatchObject({ targetPort: 51111, hostPort: 51111 });
    // hello: 12-byte UNUSED body like CAP1 frame 3 (38-byte datagram)
    const hello = open(fromPeer[1]!);
    expect(hello.body.length).toBe(bodies[2]!.body.length);
    expect(fromPeer[1]!.length).toBe(bodies[2]!.size);
    expect(hello.seq).toBe(1);
    // break-in → the peer ACKs... no: it answers with STATE_CHANGE64; the host's ACK is 54 bytes like CAP1's ACKs
    const n = fromPeer.length;
    host.breakIn();
    await tick();
    await tick();
    const sc = parseKdPacket(open(fromPeer[n]!).body)!;
    expect(sc.type).toBe(PacketType.StateChange64);
    expect(sc.byteCount).toBe(240);
    await host.close();
    await peer.close();
  });
});

describe("the test peer answers WinDbg's real requests from capture 1", () => {
  it("ACKs each request with CAP1's exact ACK bytes and answers with the same API", async () => {
    const bodies = capBodies();
    const net = new MemoryNetwork();
    const hostT = net.open({ address: "192.168.2.1", port: 51111 });
    const targetT = net.open({ address: "192.168.2.72", port: 51111 });
    const keys: KdnetKeys = { control, hmac: kdnetHmacKey(control) };
    const fromPeer: Buffer[] = [];
    hostT.onMessage((b) => {
      const o = openDatagram(b, keys);
      if (!o.ok) return;
      if (o.datagram.channel === 1) {
        const poke = parsePoke(o.datagram.body)!;
        const resp = buildResponse(poke.nonce);
        hostT.send(
          sealDatagram({ version: 4, channel: 1, seq: o.datagram.seq, direction: "host-to-target", body: resp }, keys),
          targetT.local,
        );
        keys.data = deriveDataKey(control, resp);
        return;
      }
      fromPeer.push(o.datagram.body);
    });
    const peer = new KdnetTargetPeer({
      transport: targetT,
      key,
      host: hostT.local,
      version: 4,
      pokeIntervalMs: 1000,
      bulkSize: 4096,
    });
    peer.start();
    while (!peer.connected) await tick();
    await tick();
    // stop the peer so it serves manipulate requests
    hostT.send(
      sealDatagram({ version: 4, channel: 0, seq: 1, direction: "host-to-target", body: Buffer.from([0x62]) }, keys),
      targetT.local,
    );
    await tick();
    const sc = fromPeer.map((b) => parseKdPacket(b)!).find((p) => p.type === PacketType.StateChange64)!;
    hostT.send(
      sealDatagram(
        { version: 4, channel: 0, seq: 2, direction: "host-to-target", body: buildKdPacket(PacketType.Acknowledge, sc.id) },
        keys,
      ),
      targetT.local,
    );
    await tick();
    const requests = bodies.filter(
      (b) => b.channel === 0 && b.direction === "host-to-target" && parseKdPacket(b.body)?.type === PacketType.StateManipulate,
    );
    expect(requests.length).toBeGreaterThan(50);
    let seq = 3;
    let checked = 0;
    for (const req of requests.slice(0, 60)) {
      const api = req.body.readUInt32LE(16);
      if (api === 0x3136 || api === 0x313c || api === 0x313b) continue; // continue/reboot: no answer
      fromPeer.length = 0;
      hostT.send(
        sealDatagram({ version: 4, channel: 0, seq: seq++, direction: "host-to-target", body: req.body }, keys),
        targetT.local,
      );
      await tick();
      const capAck = bodies.find(
        (b) => b.frame > req.frame && b.direction === "target-to-host" && parseKdPacket(b.body)?.type === PacketType.Acknowledge,
      )!;
      expect(fromPeer[0]!.equals(capAck.body), `ACK for frame ${req.frame}`).toBe(true);
      const answer = parseKdPacket(fromPeer[1]!)!;
      expect(answer.type).toBe(PacketType.StateManipulate);
      expect(answer.data.readUInt32LE(0)).toBe(api);
      hostT.send(
        sealDatagram(
          {
            version: 4,
            channel: 0,
            seq: seq++,
            direction: "host-to-target",
            body: buildKdPacket(PacketType.Acknowledge, answer.id),
          },
          keys,
        ),
        targetT.local,
      );
      checked++;
    }
    expect(checked).toBeGreaterThan(30);
    await peer.close();
    await hostT.close();
  });
});
