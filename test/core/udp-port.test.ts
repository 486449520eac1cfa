import { describe, expect, it } from "vitest";
import { parsePort } from "../../src/core/udp-port.js";
import { parsePort as allocParsePort } from "../../src/host/port-alloc.js";

describe("the one port parser", () => {
  it("takes the debug range by default and names the option in a coded E003", () => {
    expect(parsePort("50000")).toBe(50000);
    expect(parsePort(65535)).toBe(65535);
    for (const bad of ["5364", "65536", "5e4", "-1", "", "50000.5"])
      expect(() => parsePort(bad, "--port")).toThrow(expect.objectContaining({ code: "NETDBG-E003" }));
    expect(() => parsePort("5364", "--port")).toThrow(/--port/);
  });
  it("takes a caller's range (kdnet listen: any UDP port)", () => {
    expect(parsePort("53", "<port>", { min: 1, max: 65535 })).toBe(53);
    expect(() => parsePort("0", "<port>", { min: 1, max: 65535 })).toThrow(/1–65535/);
  });
  it("is the parser the port allocator's callers use", () => {
    expect(allocParsePort).toBe(parsePort);
  });
});
