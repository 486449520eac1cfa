import { createHook } from "node:async_hooks";
import { describe, expect, it } from "vitest";
import { pattern, TEXT_BASE } from "../../../src/peers/rsp-stub.js";
import { rspLinks } from "../../helpers/rsp-link.js";

/**
 * Waiting for a reply on a clean fast link must not keep a core busy: on a machine shared with the target (the
 * lab's TCG guest) a wait that turned the event loop on setImmediate until its sub-millisecond deadline took the
 * core the guest's network path needed. On a link that loses datagrams it still does: there a loss must cost a
 * fraction of a millisecond, not a millisecond timer. Counted here as setImmediate calls per request.
 */
const link = rspLinks();

async function immediatesPerRequest(drop: number): Promise<{ perRequest: number; retransmits: number }> {
  const size = 64 * 1024;
  const { client, remote } = await link({ memory: pattern(size, 4), relay: { seed: 7, drop } });
  await remote.readMemory(TEXT_BASE, 8 * 1024); // learn the round trip (and, lossy, see the losses)
  let immediates = 0;
  const hook = createHook({
    init(_id, type) {
      if (type === "Immediate") immediates++;
    },
  }).enable();
  const before = { ...client.stats };
  try {
    const data = await remote.readMemory(TEXT_BASE, size);
    expect(data.equals(pattern(size, 4))).toBe(true);
  } finally {
    hook.disable();
  }
  return {
    perRequest: immediates / (client.stats.requests - before.requests),
    retransmits: client.stats.retransmits - before.retransmits,
  };
}

describe("RSP waits on a fast link", () => {
  it("sleep in the event loop's poll on a clean link", async () => {
    const clean = await immediatesPerRequest(0);
    // before: 7 per request (the wait turned until the reply came); now 2-3 (the ack, a stall check)
    expect(clean.perRequest).toBeLessThan(4);
  }, 60_000);

  it("turn on a link that loses datagrams", async () => {
    const lossy = await immediatesPerRequest(0.3);
    expect(lossy.retransmits).toBeGreaterThan(20);
    expect(lossy.perRequest).toBeGreaterThan(4);
  }, 60_000);
});
