import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isNetdbgError } from "../../src/core/error.js";
import { formatKdnetKey, generateKdnetKey, kdnetControlKey, kdnetHmacKey, parseKdnetKey } from "../../src/core/kdnet-key.js";

const vectors = JSON.parse(readFileSync(new URL("../fixtures/kdnet/key-vectors.json", import.meta.url), "utf8")) as {
  vectors: { dotted: string; controlKeyHex: string; hmacKeyHex: string }[];
};
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("KDNET keys", () => {
  it.each(vectors.vectors)("derives the control and HMAC keys of $dotted", (v) => {
    const key = parseKdnetKey(v.dotted);
    const control = kdnetControlKey(key);
    expect(hex(control)).toBe(v.controlKeyHex);
    expect(hex(kdnetHmacKey(control))).toBe(v.hmacKeyHex);
    expect(key.text).toBe(v.dotted.toLowerCase());
  });

  it("accepts the largest part and rejects 2^64", () => {
    expect(parseKdnetKey("3w5e11264sgsf.0.0.0").parts[0]).toBe((1n << 64n) - 1n);
    expect(() => parseKdnetKey("3w5e11264sgsg.0.0.0")).toThrow(/part 1 .* 2\^64 or more/);
  });

  it.each([
    ["1.2.3", /3 parts/],
    ["1.2.3.4.5", /5 parts/],
    ["1..3.4", /part 2 is empty/],
    ["1.2.3.4_", /character 2 of part 4 is not a base-36 digit/],
    ["1.2.abcdefghijklmn.4", /part 3 .* 14 characters/],
    ["", /1 part/],
  ])("rejects %j naming the part at fault", (input, re) => {
    try {
      parseKdnetKey(input);
      expect.unreachable();
    } catch (e) {
      expect(isNetdbgError(e)).toBe(true);
      expect((e as Error).message).toMatch(re);
      expect((e as { code: string }).code).toBe("NETDBG-E008");
    }
  });

  it("generates keys that round-trip through the parser and differ each time", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const k = generateKdnetKey();
      expect(k.text).toMatch(/^[0-9a-z]{1,13}(\.[0-9a-z]{1,13}){3}$/);
      expect(parseKdnetKey(k.text).parts).toEqual(k.parts);
      seen.add(k.text);
    }
    expect(seen.size).toBe(200);
  });

  it("round-trips any four u64 values (property)", () => {
    const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
    fc.assert(
      fc.property(fc.tuple(u64, u64, u64, u64), (parts) => {
        const text = formatKdnetKey(parts);
        expect(parseKdnetKey(text.toUpperCase()).parts).toEqual(parts);
      }),
    );
  });
});
