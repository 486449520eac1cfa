import { createSocket } from "node:dgram";
import { describe, expect, it } from "vitest";
import type { Inventory } from "../../src/core/inventory.js";
import { allocatePort, claimPort, parsePort } from "../../src/host/port-alloc.js";
import { isUdpPortFree } from "../../src/io/port-probe.js";

const inv = (ports: number[]): Inventory => ({
  version: 1,
  targets: ports.map((port, i) => ({ name: `t${i}`, os: "linux", address: `10.0.0.${i + 1}`, port })),
});

describe("port allocation", () => {
  it("skips ports held by targets and by local processes", async () => {
    const busy = new Set([50001]);
    const p = await allocatePort(inv([50000]), async (x) => !busy.has(x));
    expect(p).toBe(50002);
  });

  it("fails with a coded error when the range is exhausted", async () => {
    await expect(allocatePort(inv([]), async () => false)).rejects.toMatchObject({ code: "NETDBG-E003" });
  });

  it("validates the allowed range", () => {
    expect(parsePort("49152")).toBe(49152);
    expect(() => parsePort("49151")).toThrow(/49152/);
    expect(() => parsePort("65536")).toThrow(/65535/);
    expect(() => parsePort("5e4")).toThrow(/whole number/);
  });

  it("detects a real locally bound UDP port by trying to bind it", async () => {
    const s = createSocket("udp4");
    await new Promise<void>((r) => s.bind(0, "0.0.0.0", () => r()));
    const bound = s.address().port;
    try {
      expect(await isUdpPortFree(bound)).toBe(false);
      await expect(claimPort(inv([]), bound, isUdpPortFree)).rejects.toThrow(/bound already/);
    } finally {
      s.close();
    }
    expect(await isUdpPortFree(bound)).toBe(true);
  });
});
