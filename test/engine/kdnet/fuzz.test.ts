/**
 * Fuzzing the KDNET datagram and KD parsers with mutated real datagrams (from capture 1): no uncaught exception,
 * bounded memory. Seeded, so a failure reproduces.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { kdnetControlKey, kdnetHmacKey, parseKdnetKey } from "../../../src/core/kdnet-key.js";
import { readUdpCapture } from "../../../src/engine/kdnet/capture.js";
import { deriveDataKey, isResponse, parsePoke } from "../../../src/engine/kdnet/control.js";
import { CHANNEL_DATA, type KdnetKeys, openDatagram, sealDatagram } from "../../../src/engine/kdnet/datagram.js";
import { decodeCapture } from "../../../src/engine/kdnet/decode.js";
import {
  parseDebugIo,
  parseFileIo,
  parseKdPacket,
  parseManipulate,
  parseStateChange,
  parseVersion,
} from "../../../src/engine/kdnet/kd.js";
import { KdnetHostSession } from "../../../src/engine/kdnet/session.js";
import { MemoryNetwork } from "../../../src/engine/kdnet/transport.js";

const CAP1 = new URL("../../fixtures/kdnet/windbg-uncut.pcapng.gz", import.meta.url);

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function mutate(src: Buffer, r: () => number): Buffer {
  const kind = Math.floor(r() * 6);
  let b = Buffer.from(src);
  const pos = () => Math.floor(r() * Math.max(1, b.length));
  switch (kind) {
    case 0: // flip bits
      for (let i = 0, n = 1 + Math.floor(r() * 4); i < n && b.length; i++) b[pos()]! ^= 1 << Math.floor(r() * 8);
      break;
    case 1: // truncate
      b = b.subarray(0, pos());
      break;
    case 2: // extend with random bytes
      b = Buffer.concat([b, Buffer.from(Array.from({ length: Math.floor(r() * 64) }, () => Math.floor(r() * 256)))]);
      break;
    case 3: // overwrite a 16-bit field with an extreme value (byteCount, lengths)
      if (b.length >= 2)
        b.writeUInt16LE([0, 0xffff, 0x8000, 1, b.length][Math.floor(r() * 5)]! & 0xffff, Math.floor(r() * (b.length - 1)));
      break;
    case 4: // overwrite a 32-bit field
      if (b.length >= 4)
        b.writeUInt32LE(
          [0, 0xffffffff, 0x80000000, 0x3030, 0x3031, 0x3146, 0x3430][Math.floor(r() * 7)]!,
          Math.floor(r() * (b.length - 3)),
        );
      break;
    default: // random bytes of random length
      b = Buffer.from(Array.from({ length: Math.floor(r() * 80) }, () => Math.floor(r() * 256)));
  }
  return b;
}

describe("fuzz", () => {
  const recs = readUdpCapture(readFileSync(CAP1));
  const control = kdnetControlKey(parseKdnetKey("8.8.8.8"));
  const keys: KdnetKeys = { control, hmac: kdnetHmacKey(control) };
  const bodies: Buffer[] = [];
  for (const r of recs) {
    const o = openDatagram(r.payload, keys);
    if (!o.ok) continue;
    if (o.datagram.channel === 1 && isResponse(o.datagram.body)) keys.data = deriveDataKey(control, o.datagram.body);
    bodies.push(o.datagram.body);
  }
  const raws = recs.map((r) => r.payload);

  it("KD and control parsers survive 10^5 mutated bodies", () => {
    const r = rng(1);
    const heap0 = process.memoryUsage().heapUsed;
    let parsed = 0;
    for (let i = 0; i < 100_000; i++) {
      const b = mutate(bodies[Math.floor(r() * bodies.length)]!, r);
      const p = parseKdPacket(b);
      if (p) {
        parsed++;
        parseManipulate(p.data);
        parseStateChange(p.data);
        parseDebugIo(p.data);
        parseFileIo(p.data);
        parseVersion(p.data);
      }
      parsePoke(b);
    }
    expect(parsed).toBeGreaterThan(10_000);
    expect(process.memoryUsage().heapUsed - heap0).toBeLessThan(256 * 1024 * 1024);
  });

  it("openDatagram survives 10^5 mutated datagrams and rejects every changed one", () => {
    const r = rng(2);
    let accepted = 0;
    for (let i = 0; i < 100_000; i++) {
      const src = raws[Math.floor(r() * raws.length)]!;
      const b = mutate(src, r);
      const o = openDatagram(b, keys);
      if (o.ok && !b.equals(src)) accepted++;
    }
    expect(accepted).toBe(0);
  });

  it("a host session survives 2·10^4 authentic datagrams with mutated KD bodies", async () => {
    const net = new MemoryNetwork();
    const hostT = net.open({ address: "10.0.0.1", port: 50000 });
    const targetT = net.open({ address: "10.0.0.2", port: 50000 });
    const key = parseKdnetKey("8.8.8.8");
    const host = new KdnetHostSession({ transport: hostT, key, retransmitMs: 5, maxTries: 2 });
    const events: string[] = [];
    host.on((e) => events.push(e.kind));
    // handshake with the real first poke of capture 1
    targetT.send(raws[0]!, hostT.local);
    await new Promise((res) => setTimeout(res, 5));
    expect(host.connected).toBe(true);
    const tkeys: KdnetKeys = { control, hmac: kdnetHmacKey(control), data: host.keys.data };
    const r = rng(3);
    for (let i = 0; i < 20_000; i++) {
      const body = mutate(bodies[Math.floor(r() * bodies.length)]!, r);
      targetT.send(
        sealDatagram({ version: 4, channel: CHANNEL_DATA, seq: i + 1, direction: "target-to-host", body }, tkeys),
        hostT.local,
      );
      if (i % 1000 === 0) await new Promise((res) => setImmediate(res));
    }
    await new Promise((res) => setTimeout(res, 20));
    expect(host.stats.received).toBeGreaterThan(20_000);
    expect(events).toContain("state-change");
    await host.close();
    await targetT.close();
  });

  it("the capture reader and decoder survive 2000 mutated captures", () => {
    const r = rng(4);
    const raw = readFileSync(new URL("../../fixtures/kdnet/aeroctf2021-kek.pcap", import.meta.url)).subarray(0, 8192);
    for (let i = 0; i < 2000; i++) {
      const b = mutate(raw, r);
      try {
        decodeCapture(readUdpCapture(b), parseKdnetKey("1.2.3.4"));
      } catch (e) {
        // A format error is the documented outcome for garbage; anything else is a bug.
        expect((e as Error).constructor.name).toBe("CaptureFormatError");
      }
    }
  });
});
