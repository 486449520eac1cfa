import { isIP } from "node:net";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { classifyAddress, ipVersion, parseIPv6 } from "../../src/core/ip.js";

describe("ip", () => {
  it.each([
    ["127.0.0.1", 4, "loopback"],
    ["10.1.2.3", 4, "private"],
    ["169.254.1.1", 4, "link-local"],
    ["192.0.2.1", 4, "global"],
    ["::1", 6, "loopback"],
    ["fe80::1", 6, "link-local"],
    ["::ffff:127.0.0.1", 6, "loopback"],
    ["fd00::5", 6, "private"],
    ["2001:db8::1", 6, "global"],
    ["::", 6, "unspecified"],
  ])("%s is IPv%d %s", (a, v, kind) => {
    expect(ipVersion(a)).toBe(v);
    expect(classifyAddress(a)).toBe(kind);
  });

  it.each(["256.1.1.1", "1.2.3", "01.2.3.4", "1:2:3:4:5:6:7:8:9", "1::2::3", ":::", "abc", "1.2.3.4.", "::ffff:1.2.3"])(
    "%s is not an address",
    (a) => {
      expect(ipVersion(a)).toBe(0);
    },
  );

  it("agrees with node:net isIP on generated addresses (property)", () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6(), fc.string({ maxLength: 20 })), (a) => {
        expect(ipVersion(a)).toBe(isIP(a));
      }),
      { numRuns: 3000 },
    );
  });

  it("expands :: to eight groups", () => {
    expect(parseIPv6("1::8")).toEqual([1, 0, 0, 0, 0, 0, 0, 8]);
    expect(parseIPv6("::ffff:192.0.2.1")).toEqual([0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201]);
  });
});
