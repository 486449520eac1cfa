/** What --reboot records as the debug boot's KDNET source (inventory transport.kdnetAddress). */
import { describe, expect, it } from "vitest";
import { type KdnetPoke, kdnetSourceToRecord } from "../../../src/targets/windows/reboot.js";

const poke = (from: string, inner: string | undefined, authenticated: boolean | null = true): KdnetPoke => ({
  from,
  version: 5,
  authenticated,
  ...(inner !== undefined ? { targetAddress: inner } : {}),
});

describe("kdnetSourceToRecord", () => {
  it("records a DHCP / 169.254 source that differs from the SSH address, when the poke proves it", () => {
    expect(kdnetSourceToRecord(poke("169.254.7.9:50000", "169.254.7.9"), "192.0.2.10", undefined)).toEqual({
      address: "169.254.7.9",
      differs: true,
    });
    expect(kdnetSourceToRecord(poke("[fe80::1]:50000", "FE80::1"), "192.0.2.10", undefined)).toEqual({
      address: "fe80::1",
      differs: true,
    });
  });

  it("records nothing for the SSH address itself, an address already recorded, or a poke that proves nothing", () => {
    expect(kdnetSourceToRecord(poke("192.0.2.10:50000", "192.0.2.10"), "192.0.2.10", undefined)).toBeUndefined();
    expect(kdnetSourceToRecord(poke("169.254.7.9:50000", "169.254.7.9"), "192.0.2.10", "169.254.7.9")).toBeUndefined();
    // replayed from elsewhere: the inner address is where it was captured
    expect(kdnetSourceToRecord(poke("198.51.100.7:50000", "169.254.7.9"), "192.0.2.10", undefined)).toBeUndefined();
    expect(kdnetSourceToRecord(poke("169.254.7.9:50000", "169.254.7.9", false), "192.0.2.10", undefined)).toBeUndefined();
    expect(kdnetSourceToRecord(poke("169.254.7.9:50000", undefined), "192.0.2.10", undefined)).toBeUndefined();
  });

  it("follows a recorded address back to the SSH address", () => {
    expect(kdnetSourceToRecord(poke("192.0.2.10:50000", "::ffff:192.0.2.10"), "192.0.2.10", "169.254.7.9")).toEqual({
      address: "192.0.2.10",
      differs: false,
    });
  });
});
