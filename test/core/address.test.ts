import { isIP } from "node:net";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { literalVersion, parseAddressInput } from "../../src/core/address.js";
import { isValidAddress, targetSchema } from "../../src/core/inventory.js";

describe("address input (strict literals, host names, broken literals)", () => {
  it.each([
    ["10.0.0.300", /'300' is not a decimal number 0-255/],
    ["1.2.3", /read as 1\.2\.0\.3/],
    ["127.1", /read as 127\.0\.0\.1/],
    ["0x7f.1", /read as 127\.0\.0\.1/],
    ["017.0.0.1", /read as 15\.0\.0\.1/],
    ["1.2.3.4.5", /four decimal parts/],
    ["1::2::3", /not a valid IPv6/],
    ["::ffff:1.2.3", /not a valid IPv6/],
    ["[::1]", /without brackets/],
    ["fe80::1%eth0;rm", /zone/],
    ["win_box", /host name/],
    ["a..b", /host name/],
    ["", /empty/],
  ])("%s is a broken literal or name, with a reason", (value, reason) => {
    const a = parseAddressInput(value);
    expect(a.kind).toBe("invalid");
    expect(a.kind === "invalid" && a.reason).toMatch(reason);
    expect(isValidAddress(value)).toBe(false);
  });

  it.each([
    ["192.0.2.7", "ipv4"],
    ["0.0.0.0", "ipv4"],
    ["::1", "ipv6"],
    ["fe80::1%eth0", "ipv6"],
    ["::ffff:192.0.2.1", "ipv6"],
    ["lab-win", "hostname"],
    ["win11.corp.example.", "hostname"],
    ["1e100.net", "hostname"],
  ])("%s is %s", (value, kind) => {
    expect(parseAddressInput(value).kind).toBe(kind);
    expect(isValidAddress(value)).toBe(true);
  });

  it("the inventory refuses a broken literal and says why", () => {
    const r = targetSchema.safeParse({ name: "a", os: "linux", address: "10.0.0.300" });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toMatch(/'300' is not a decimal number/);
  });

  it("agrees with node:net isIP on generated literals (property)", () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6(), fc.ipV4Extended(), fc.string({ maxLength: 20 })), (a) => {
        // node:net accepts exactly the strict forms, without a zone
        if (!a.includes("%")) expect(literalVersion(a)).toBe(isIP(a));
      }),
      { numRuns: 3000 },
    );
  });

  it("never calls a dotted all-numeric string a host name (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 99999 }), { minLength: 1, maxLength: 6 }), (parts) => {
        const s = parts.join(".");
        expect(parseAddressInput(s).kind).not.toBe("hostname");
      }),
    );
  });
});
