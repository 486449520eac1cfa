import { describe, expect, it } from "vitest";
import { pattern, TEXT_BASE } from "../../../src/peers/rsp-stub.js";
import { rspLinks } from "../../helpers/rsp-link.js";

/**
 * A target whose replies take time in proportion to their length (a TCG guest's emulated NIC, a serial line): after
 * the short exchanges of attaching, a full-size read takes many times their round trip. The retransmission timer
 * must time each kind of request by its own round trips: one timeout for all, learnt on the short ones, resends
 * nearly every long read, and each needless copy costs the target a whole reply more.
 */
const link = rspLinks();

describe("RSP timeout per kind of request", () => {
  it("full-size reads after short exchanges are not resent on a clean link whose replies take time by length", async () => {
    const size = 48 * 1024;
    // 100 bytes/ms: a full read's ~1 KB reply takes ~10 ms, an ack or `S05` well under a millisecond of the link
    const { client, remote, relay } = await link({ memory: pattern(size, 5), outBytesPerMs: 100, relay: { seed: 3 } });
    // short exchanges first, as a session does (stop reason, registers, a few small reads)
    for (let i = 0; i < 20; i++) await remote.readMemory(TEXT_BASE + BigInt(i * 8), 8);
    const before = { ...client.stats };
    const data = await remote.readMemory(TEXT_BASE, size);
    expect(data.equals(pattern(size, 5))).toBe(true);
    expect(relay.stats.dropped).toBe(0);
    const reads = client.stats.requests - before.requests;
    expect(reads).toBeGreaterThan(90);
    // before: 800 resends and naks, most long reads resent (the timeout sat at the short exchanges' few ms); 0–1
    // on a quiet machine, a few where a loaded one stalls the stub's timers (it runs in this process)
    expect(client.stats.retransmits - before.retransmits + (client.stats.naksSent - before.naksSent)).toBeLessThanOrEqual(5);
  }, 60_000);
});
