import { describe, expect, it } from "vitest";
import { pattern, TEXT_BASE } from "../../../src/peers/rsp-stub.js";
import { rspLinks } from "../../helpers/rsp-link.js";

/**
 * A perfect link to a target that stalls now and then (kgdb under an emulator: the guest's thread off the CPU for
 * a few ms). The stalls bring timeouts, resends and duplicate replies, but no datagram is lost, duplicated or
 * overtaken: replies cannot be damaged, and reading every block twice from the first stall on (as when any sign
 * of trouble marked the link) would cost the pull half its speed. Only the blocks whose own exchange met the
 * trouble are read again.
 */
const link = rspLinks();

describe("RSP memory reads from a target that stalls on a perfect link", () => {
  it("reads each block once, except those whose own exchange was resent", async () => {
    const memory = pattern(64 * 1024, 77);
    // 64-byte datagrams: every 496-byte read's reply is carried by ~16 of them; every 16th request waits 40 ms
    const { client, remote, relay } = await link({
      memory,
      flushSize: 64,
      relay: { stall: { every: 16, ms: 40 } },
      client: { timeoutMs: 20, minTimeoutMs: 4 },
    });
    const before = client.stats.requests;
    const got = await remote.readMemory(TEXT_BASE, memory.length);
    expect(got.equals(memory)).toBe(true);
    expect(relay.stats.dropped + relay.stats.duplicated + relay.stats.reordered).toBe(0);
    // the stalls were there: the client timed out and resent
    expect(client.stats.timeouts).toBeGreaterThanOrEqual(3);
    const reads = Math.ceil(memory.length / (remote.maxMemory - 15));
    const requests = client.stats.requests - before;
    // each stalled exchange costs a few verifying reads; every block read twice would be ~2 × reads
    expect(requests).toBeLessThan(reads + 4 * client.stats.timeouts + 8);
    expect(requests).toBeLessThan(1.5 * reads);
  }, 60_000);
});
