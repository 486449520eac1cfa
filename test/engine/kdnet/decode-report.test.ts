/**
 * What `kdnet decode` reports about the two real captures (test/fixtures/kdnet, sources in its README): a data
 * datagram without a KD packet leader is not a KD packet, the summary counts types, APIs, resends and the poke
 * cadence, and a wrong key neither claims the capture started after the handshake nor mislabels the host's packets.
 */
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseKdnetKey } from "../../../src/core/kdnet-key.js";
import { readUdpCapture } from "../../../src/engine/kdnet/capture.js";
import { decodeCapture, formatDatagramLine, summaryRows } from "../../../src/engine/kdnet/decode.js";

const FIX = fileURLToPath(new URL("../../fixtures/kdnet", import.meta.url));
const load = (f: string) => {
  const raw = readFileSync(`${FIX}/${f}`);
  return readUdpCapture(f.endsWith(".gz") ? gunzipSync(raw) : raw);
};

describe("kdnet decode reporting", () => {
  const cap1 = decodeCapture(load("windbg-uncut.pcapng.gz"), parseKdnetKey("8.8.8.8"));

  it("reports frame 3 (12 bytes, no KD leader, the host address) as a hello, not as a KD packet of type UNUSED", () => {
    const f3 = cap1.datagrams.find((d) => d.frame === 3)!;
    expect(f3.kd).toBeUndefined();
    expect(f3.nonKd).toEqual({ kind: "hello", hostAddress: "192.168.2.1" });
    expect(formatDatagramLine(f3, 0)).toContain("hello (no KD packet: the host address 192.168.2.1)");
    expect(formatDatagramLine(f3, 0)).not.toContain("UNUSED");
    expect(cap1.summary.packetTypes.UNUSED).toBeUndefined();
    expect(cap1.summary.nonKd).toBe(1);
  });

  it("summarises packet types, APIs, resends and the poke cadence", () => {
    const s = cap1.summary;
    expect(s.packetTypes).toMatchObject({ ACKNOWLEDGE: 259, STATE_MANIPULATE: 187, RESEND: 2 });
    expect(s.apis).toMatchObject({ ReadVirtualMemory: 88, GetVersion: 2, LoadSymbols: 2 });
    expect(s.resends).toBe(2);
    expect(Object.values(s.packetTypes).reduce((a, b) => a + b, 0)).toBe(s.kdPackets);
    expect(s.pokes.count).toBeGreaterThan(400);
    // KDNET targets poke about every 3 s
    expect(s.pokes.medianIntervalSeconds).toBeGreaterThan(2.5);
    expect(s.pokes.medianIntervalSeconds).toBeLessThan(3.5);
    const rows = Object.fromEntries(summaryRows(s));
    expect(rows["resends (RESEND packets)"]).toBe("2");
    expect(rows["API ReadVirtualMemory"]).toBe("88");
  });

  it("with a wrong key: no claim that the capture started after the handshake; the host's packets are H→T", () => {
    const { datagrams, summary } = decodeCapture(load("aeroctf2021-kek.pcap"), parseKdnetKey("1.2.3.5"));
    expect(summary.authenticated).toBe(0);
    const notes = summary.notes.join("\n");
    expect(notes).not.toMatch(/starts after the session's handshake/);
    expect(notes).toMatch(/no control datagram opens with this key/);
    // 192.168.1.101 is the WinDbg host, 192.168.1.105 the target (the README; its pokes are the control datagrams)
    const fromHost = datagrams.filter((d) => d.src.startsWith("192.168.1.101"));
    expect(fromHost.length).toBeGreaterThan(0);
    expect(fromHost.every((d) => d.direction === "host-to-target")).toBe(true);
    expect(formatDatagramLine(fromHost[0]!, 0)).toContain("H→T");
    expect(datagrams.filter((d) => d.src.startsWith("192.168.1.105")).every((d) => d.direction === "target-to-host")).toBe(true);
  });

  it("with the right key, a capture that starts mid-session still says so", () => {
    const { summary } = decodeCapture(load("aeroctf2021-kek.pcap"), parseKdnetKey("1.2.3.4"));
    expect(summary.notes.join("\n")).toMatch(/starts after the session's handshake/);
    expect(summary.pokes.count).toBe(5);
  });
});
