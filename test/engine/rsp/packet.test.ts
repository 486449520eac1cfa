import { describe, expect, it } from "vitest";
import { checksum, decodeBody, escapeBinary, framePacket, PacketParser, type RspEvent } from "../../../src/engine/rsp/packet.js";

const packets = (evs: RspEvent[]) =>
  evs.filter((e) => e.type === "packet").map((e) => (e as { raw: Buffer }).raw.toString("latin1"));

describe("RSP framing (GDB manual 'Overview')", () => {
  it("frames with a two-digit lower-case mod-256 checksum", () => {
    // `$?#3f` and `$g#67` are the frames gdb sends (checksum rule: GDB manual 'Overview',
    // https://sourceware.org/gdb/current/onlinedocs/gdb.html/Overview.html)
    expect(framePacket("?").toString()).toBe("$?#3f");
    expect(framePacket("g").toString()).toBe("$g#67");
    expect(framePacket("").toString()).toBe("$#00");
    expect(checksum(Buffer.from("OK"))).toBe(0x9a);
  });

  it("escapes # $ } * and decodes them back", () => {
    const data = Buffer.from([0x23, 0x24, 0x7d, 0x2a, 0x00, 0xff, 0x41]);
    const esc = escapeBinary(data);
    expect([...esc]).toEqual([0x7d, 0x03, 0x7d, 0x04, 0x7d, 0x5d, 0x7d, 0x0a, 0x00, 0xff, 0x41]);
    expect(decodeBody(esc).equals(data)).toBe(true);
  });

  it("decodes run-length encoding: X*n repeats X n-29 more times", () => {
    // '0* ' = '0' + 3 more ('space' is 32 = 29 + 3), the manual's example
    expect(decodeBody(Buffer.from("0* ")).toString()).toBe("0000");
    expect(decodeBody(Buffer.from('ab*"c')).toString()).toBe("abbbbbbc");
  });

  it("decodes escapes and runs exactly like the byte-by-byte definition, on 2000 random bodies", () => {
    // the definition, one byte at a time (the shipped decoder sizes the output first, then fills it)
    const reference = (raw: Buffer): Buffer => {
      const out: number[] = [];
      for (let i = 0; i < raw.length; i++) {
        const c = raw[i]!;
        if (c === 0x7d) {
          i++;
          if (i < raw.length) out.push(raw[i]! ^ 0x20);
        } else if (c === 0x2a && out.length > 0 && i + 1 < raw.length) {
          i++;
          const n = raw[i]! - 29;
          for (let k = 0; k < n && k < 100; k++) out.push(out[out.length - 1]!);
        } else out.push(c);
      }
      return Buffer.from(out);
    };
    let s = 12345;
    const rnd = (n: number) => {
      s = (s * 1103515245 + 12345) >>> 0;
      return (s >>> 8) % n;
    };
    const alphabet = [0x7d, 0x2a, 0x30, 0x61, 0x20, 0x7e, 0x1d, 0x00, 0xff, 0x23];
    for (let t = 0; t < 2000; t++) {
      const raw = Buffer.from(Array.from({ length: rnd(40) }, () => (rnd(3) === 0 ? rnd(256) : alphabet[rnd(alphabet.length)]!)));
      expect(decodeBody(raw).equals(reference(raw)), raw.toString("hex")).toBe(true);
    }
    // gdbserver's reply for 9199 zero bytes: runs of '0' ("0*~" = 98 zeros)
    const zeros = Buffer.from("0*~".repeat(187) + "0".repeat(2 * 9199 - 98 * 187), "latin1");
    expect(decodeBody(zeros).toString("latin1")).toBe("0".repeat(2 * 9199));
  });

  it("reassembles a packet split across arbitrary chunks and skips junk before it", () => {
    const p = new PacketParser();
    const wire = Buffer.from("\r\n[0]kdb> +$S05#b8$OK#9a-");
    const evs: RspEvent[] = [];
    for (const b of wire) evs.push(...p.feed(Buffer.of(b)));
    expect(evs.map((e) => e.type)).toEqual([
      "junk",
      "junk",
      "junk",
      "junk",
      "junk",
      "junk",
      "junk",
      "junk",
      "junk",
      "junk",
      "ack",
      "packet",
      "packet",
      "nak",
    ]);
    expect(packets(evs)).toEqual(["S05", "OK"]);
    const whole = new PacketParser().feed(wire);
    expect(whole[0]).toEqual({ type: "junk", bytes: Buffer.from("\r\n[0]kdb> ") });
  });

  it("reports a bad checksum and resyncs on a new $ inside a damaged packet", () => {
    const p = new PacketParser();
    const evs = p.feed(Buffer.from("$OK#00$m1$OK#9a"));
    expect(evs.map((e) => e.type)).toEqual(["bad-packet", "packet"]);
    expect(packets(evs)).toEqual(["OK"]);
  });

  it("drops packets longer than maxPacket and recovers", () => {
    const p = new PacketParser({ maxPacket: 8 });
    const evs = p.feed(Buffer.from(`$${"a".repeat(20)}#00$OK#9a`));
    expect(packets(evs)).toEqual(["OK"]);
  });

  it("reports 0x03 as an interrupt only when asked (server side)", () => {
    expect(new PacketParser({ interrupts: true }).feed(Buffer.of(3)).map((e) => e.type)).toEqual(["interrupt"]);
    expect(new PacketParser().feed(Buffer.of(3)).map((e) => e.type)).toEqual(["junk"]);
  });
});

describe("where datagrams met inside a packet", () => {
  it("reports the body offsets at which each later chunk went on, and none for a packet in one chunk", () => {
    const p = new PacketParser();
    const wire = framePacket("0011223344");
    expect(p.feed(wire)).toEqual([{ type: "packet", raw: Buffer.from("0011223344"), cuts: [] }]);
    // "$00" | "1122" | "33" | "44#" | checksum: cuts after 2, 6, 8 and 10 body digits
    const parts = [wire.subarray(0, 3), wire.subarray(3, 7), wire.subarray(7, 9), wire.subarray(9, 12), wire.subarray(12)];
    const events = parts.flatMap((c) => p.feed(c));
    expect(events).toEqual([{ type: "packet", raw: Buffer.from("0011223344"), cuts: [2, 6, 8, 10] }]);
    // a `$` inside a packet restarts it, and its cuts with it
    const restarted = [
      Buffer.from("$00"),
      Buffer.from("11$22"),
      Buffer.from("33#"),
      Buffer.from(framePacket("2233").subarray(-2)),
    ];
    expect(restarted.flatMap((c) => p.feed(c))).toEqual([{ type: "packet", raw: Buffer.from("2233"), cuts: [2, 4] }]);
  });
});

describe("packet parser fuzz", () => {
  it("survives 10^5 mutated inputs with bounded buffers", () => {
    const seeds = ["$S05#b8", "+$OK#9a", "$T05thread:fffffffe;#4a", `$${"ab".repeat(300)}#00`, "}$#*-+\x03", "$0*!#4b"].map((s) =>
      Buffer.from(s, "latin1"),
    );
    let x = 0x9e3779b9;
    const rnd = (n: number) => {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      return x % n;
    };
    const special = [0x23, 0x24, 0x7d, 0x2a, 0x2b, 0x2d, 0x03, 0x30, 0x61];
    const p = new PacketParser({ maxPacket: 4096 });
    let events = 0;
    let good = 0;
    for (let i = 0; i < 100_000; i++) {
      const base = Buffer.from(seeds[rnd(seeds.length)]!);
      const muts = 1 + rnd(4);
      for (let k = 0; k < muts; k++) {
        const at = rnd(base.length);
        base[at] = rnd(2) ? special[rnd(special.length)]! : rnd(256);
      }
      const cut = rnd(base.length + 1);
      for (const ev of [...p.feed(base.subarray(0, cut)), ...p.feed(base.subarray(cut))]) {
        events++;
        if (ev.type === "packet") {
          good++;
          expect(ev.raw.length).toBeLessThanOrEqual(4096);
          expect(() => decodeBody(ev.raw)).not.toThrow();
          expect(decodeBody(ev.raw).length).toBeLessThanOrEqual(ev.raw.length * 100);
        }
      }
    }
    expect(events).toBeGreaterThan(100_000);
    expect(good).toBeGreaterThan(0);
    // the parser resynchronises: a clean packet after all that garbage still parses
    expect(packets(p.feed(Buffer.from("#00$OK#9a")))).toContain("OK");
  });
});
