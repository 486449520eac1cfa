/** The engine against the two real captures in test/fixtures/kdnet/ (nobody here wrote them). */
import { fileURLToPath } from "node:url";
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { kdnetControlKey, kdnetHmacKey, parseKdnetKey } from "../../../src/core/kdnet-key.js";
import { readUdpCapture } from "../../../src/engine/kdnet/capture.js";
import { deriveDataKey, isResponse, parsePoke } from "../../../src/engine/kdnet/control.js";
import { isKdnet, type KdnetKeys, openDatagram, sealDatagram } from "../../../src/engine/kdnet/datagram.js";
import { decodeCapture } from "../../../src/engine/kdnet/decode.js";
import {
  kdChecksum,
  PacketType,
  parseKdPacket,
  parseManipulate,
  parseStateChange,
  parseVersion,
} from "../../../src/engine/kdnet/kd.js";

const FIX = fileURLToPath(new URL("../../fixtures/kdnet", import.meta.url));
const CAP1 = `${FIX}/windbg-uncut.pcapng.gz`;
const CAP2 = `${FIX}/aeroctf2021-kek.pcap`;

function load(file: string) {
  if (!existsSync(file)) throw new Error(`fixture ${file} is missing (test/fixtures/kdnet)`);
  return readUdpCapture(readFileSync(file));
}

describe("capture 1 (windbg-uncut.pcapng.gz, key 8.8.8.8)", () => {
  const recs = load(CAP1);
  const key = parseKdnetKey("8.8.8.8");
  const control = kdnetControlKey(key);

  it("reads 955 KDNET datagrams from the gzip'd pcapng", () => {
    expect(recs.filter((r) => isKdnet(r.payload))).toHaveLength(955);
    expect(recs[0]!.srcPort).toBe(51111);
    expect(recs[0]!.dstPort).toBe(51111);
  });

  it("authenticates every datagram; the data key derived at the response matches; every KD checksum verifies", () => {
    const keys: KdnetKeys = { control, hmac: kdnetHmacKey(control) };
    let ok = 0;
    let kdPackets = 0;
    let dataPackets = 0;
    for (const r of recs) {
      const o = openDatagram(r.payload, keys);
      expect(o.ok, `frame ${r.frame}`).toBe(true);
      if (!o.ok) continue;
      ok++;
      const d = o.datagram;
      if (d.channel === 1 && isResponse(d.body)) {
        expect(r.frame).toBe(2);
        expect(d.body).toHaveLength(322);
        keys.data = deriveDataKey(control, d.body);
        // research/kdnet.md §2: data key 6bd91c57…4f660, derived independently.
        expect(Buffer.from(keys.data).toString("hex")).toBe("6bd91c57bd6a551ad30b509c05c0c95b32cc5e47a0866907eaf0b1583384f660");
      }
      if (d.channel === 0) {
        const p = parseKdPacket(d.body);
        expect(p, `frame ${r.frame}`).toBeDefined();
        if (!p) continue;
        kdPackets++;
        expect(p.checksumOk, `frame ${r.frame}`).toBe(true);
        if (p.byteCount > 0) {
          dataPackets++;
          expect(kdChecksum(p.data)).toBe(p.checksum);
        }
      }
    }
    expect(ok).toBe(955);
    expect(dataPackets).toBe(263);
    expect(kdPackets).toBeGreaterThan(dataPackets);
  });

  it("re-encrypts every datagram byte for byte (seal is the exact inverse of open)", () => {
    const keys: KdnetKeys = { control, hmac: kdnetHmacKey(control) };
    for (const r of recs) {
      const o = openDatagram(r.payload, keys);
      if (!o.ok) throw new Error(`frame ${r.frame}`);
      const d = o.datagram;
      expect(
        sealDatagram({ version: d.version, channel: d.channel, seq: d.seq, direction: d.direction, body: d.body }, keys).equals(
          r.payload,
        ),
        `frame ${r.frame}`,
      ).toBe(true);
      if (d.channel === 1 && isResponse(d.body)) keys.data = deriveDataKey(control, d.body);
    }
  });

  it("decodes the poke, GetVersion, LoadSymbols and GetContext of the uncut WinDbg session", () => {
    const { datagrams, summary } = decodeCapture(recs, key);
    expect(summary).toMatchObject({
      datagrams: 955,
      authenticated: 955,
      failed: 0,
      kdChecksumOk: summary.kdPackets,
      duplicates: 0,
    });
    expect(summary.versions).toEqual([4]);
    expect(datagrams[0]).toMatchObject({
      frame: 1,
      channel: "control",
      seq: 3,
      direction: "target-to-host",
      control: { kind: "poke" },
    });
    expect(datagrams[1]).toMatchObject({
      frame: 2,
      channel: "control",
      seq: 3,
      direction: "host-to-target",
      control: { kind: "response" },
    });
    const f8 = datagrams.find((d) => d.frame === 8)!;
    expect(f8.kd).toMatchObject({ type: PacketType.StateChange64, byteCount: 252, api: "LoadSymbols", path: "winload.efi" });
    const f4 = datagrams.find((d) => d.frame === 4)!;
    expect(f4.kd?.text).toBe("BD: Boot Debugger Initialized\n");
    const f14 = datagrams.find((d) => d.frame === 14)!;
    expect(f14.kd).toMatchObject({ api: "ReadVirtualMemory", id: 0x80000002 });

    const keys: KdnetKeys = { control, hmac: kdnetHmacKey(control) };
    const bodies = new Map<number, Buffer>();
    for (const r of recs) {
      const o = openDatagram(r.payload, keys);
      if (!o.ok) continue;
      if (o.datagram.channel === 1 && isResponse(o.datagram.body)) keys.data = deriveDataKey(control, o.datagram.body);
      bodies.set(r.frame, o.datagram.body);
      if (r.frame === 1) {
        const poke = parsePoke(o.datagram.body)!;
        expect(poke).toMatchObject({
          targetAddress: "192.168.2.72",
          targetPort: 51111,
          hostAddress: "192.168.2.1",
          hostPort: 51111,
        });
        expect(o.datagram.body).toHaveLength(344);
      }
    }
    const ver = parseKdPacket(bodies.get(12)!)!;
    const m = parseManipulate(ver.data)!;
    const v = parseVersion(ver.data)!;
    expect(m.api).toBe(0x3146);
    expect(v).toMatchObject({
      majorVersion: 0x040f,
      minorVersion: 0x295a,
      protocolVersion: 6,
      machineType: 0x8664,
      kernBase: 0x96f000n,
      psLoadedModuleList: 0xad5e60n,
    });
    const sc = parseStateChange(parseKdPacket(bodies.get(8)!)!.data)!;
    expect(sc.kind).toBe("load-symbols");
    const ctx = datagrams.filter((d) => d.kd?.api === "GetContext" && d.kd.byteCount === 1288);
    expect(ctx.length).toBeGreaterThan(0);
  });
});

describe("capture 2 (aeroctf2021-kek.pcap, key 1.2.3.4)", () => {
  const recs = load(CAP2);
  const key = parseKdnetKey("1.2.3.4");

  it("verifies the v5 pokes and reports the data channel as not decryptable, without failing", () => {
    const { datagrams, summary } = decodeCapture(recs, key);
    expect(summary.datagrams).toBe(704);
    const pokes = datagrams.filter((d) => d.channel === "control");
    expect(pokes.length).toBeGreaterThan(0);
    for (const p of pokes) {
      expect(p.authenticated).toBe(true);
      expect(p.control?.kind).toBe("poke");
      expect(p.version).toBe(5);
    }
    const data = datagrams.filter((d) => d.channel === "data");
    expect(data.length).toBe(704 - pokes.length);
    expect(data.every((d) => !d.authenticated && d.reason === "no-data-key")).toBe(true);
    expect(summary.undecryptableData).toBe(data.length);
    expect(summary.duplicates).toBe(352);
    expect(summary.notes.join("\n")).toMatch(/cannot be decrypted/);
    // direction inferred from the poke sender (192.168.1.105 is the target)
    expect(data.find((d) => d.src.startsWith("192.168.1.101"))?.direction).toBe("host-to-target");
  });

  it("rejects the pokes with a wrong key (bad tag)", () => {
    const { summary, datagrams } = decodeCapture(recs, parseKdnetKey("1.2.3.5"));
    expect(summary.authenticated).toBe(0);
    expect(datagrams.filter((d) => d.channel === "control").every((d) => d.reason === "bad-tag")).toBe(true);
  });
});
