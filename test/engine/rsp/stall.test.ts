import { describe, expect, it } from "vitest";
import type { RspClient } from "../../../src/engine/rsp/client.js";
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

/** Every sign of trouble an exchange can meet (RspClient.trouble, spelt out so the test runs on older clients too). */
const trouble = (s: RspClient["stats"]) =>
  s.timeouts + s.retransmits + s.naksSent + s.naksReceived + s.duplicates + s.stray + s.badPackets + s.tailNaks;

describe("RSP memory reads from a target that stalls on a perfect link", () => {
  it("reads each block once, except those whose own exchange was resent", async () => {
    const memory = pattern(64 * 1024, 77);
    // 64-byte datagrams: every 496-byte read's reply is carried by ~16 of them; every 16th request waits 80 ms
    // (longer than a session that has lost nothing waits anyway, see the last test)
    const { client, remote, relay } = await link({
      memory,
      flushSize: 64,
      relay: { stall: { every: 16, ms: 80 } },
      client: { timeoutMs: 20, minTimeoutMs: 4 },
    });
    const before = client.stats.requests;
    const troubleBefore = trouble(client.stats);
    const got = await remote.readMemory(TEXT_BASE, memory.length);
    expect(got.equals(memory)).toBe(true);
    expect(relay.stats.dropped + relay.stats.duplicated + relay.stats.reordered).toBe(0);
    // the stalls were there: the client timed out and resent (at least on the first: later ones it may wait out, see
    // the next test), and before, the first timeout made every later block be read twice
    expect(client.stats.timeouts).toBeGreaterThanOrEqual(1);
    const reads = Math.ceil(memory.length / (remote.maxMemory - 15));
    const requests = client.stats.requests - before;
    // each block whose exchange met trouble is verified: on this link of 64-byte datagrams up to ~17 reads for an
    // exchange that met 3 troubles (a timeout, a resend, a duplicate reply), as a split read's datagrams mostly break
    // where the first read's did and so count as the same shape (a busy machine adds troubles of its own: the stub
    // and relay share this process); before, the first timeout made every later block be read twice (322 of ~137)
    expect(requests - reads).toBeLessThan(6 * (trouble(client.stats) - troubleBefore) + 8);
    expect(requests).toBeLessThan(1.8 * reads);
  }, 60_000);

  it("learns the target's silences: once a stall proved no loss, later stalls cost no resend", async () => {
    const memory = pattern(32 * 1024, 78);
    const { client, remote } = await link({
      memory,
      relay: { stall: { every: 16, ms: 80 } },
      client: { timeoutMs: 20, minTimeoutMs: 4 },
    });
    // the first stalls: the short timeout resends, and the target answers every copy (the proof: a second copy)
    expect((await remote.readMemory(TEXT_BASE, memory.length)).equals(memory)).toBe(true);
    const first = client.stats.retransmits;
    expect(first).toBeGreaterThanOrEqual(1);
    expect(client.stats.duplicates).toBeGreaterThanOrEqual(1);
    // as many stalls again (~4): each waited out
    expect((await remote.readMemory(TEXT_BASE, memory.length)).equals(memory)).toBe(true);
    expect(client.stats.retransmits - first).toBeLessThanOrEqual(1);
  }, 60_000);

  it("a session that has lost nothing waits out the target's silences from its first read: no resend", async () => {
    // the lab's kgdb: silences of 6-30 ms against a 5 ms timeout; a fresh session resent its first reads before
    // it had learnt any silence
    const memory = pattern(32 * 1024, 79);
    const { client, remote, relay } = await link({
      memory,
      relay: { stall: { every: 16, ms: 30 } },
      client: { timeoutMs: 20, minTimeoutMs: 4 },
    });
    expect((await remote.readMemory(TEXT_BASE, memory.length)).equals(memory)).toBe(true);
    expect(relay.stats.stalls).toBeGreaterThanOrEqual(3);
    expect({ timeouts: client.stats.timeouts, retransmits: client.stats.retransmits }).toEqual({ timeouts: 0, retransmits: 0 });
  }, 60_000);
});
