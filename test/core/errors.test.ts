import { describe, expect, it } from "vitest";
import { netdbgError } from "../../src/core/error.js";
import { sections } from "../../src/core/errors/index.js";

const RANGES: Record<string, [number, number]> = {
  core: [1, 99],
  host: [100, 199],
  windows: [200, 299],
  linux: [300, 399],
  rsp: [400, 499],
  kdnet: [500, 599],
  lab: [600, 699],
  journey: [700, 799],
  doctor: [700, 739],
  ssh: [800, 849],
  ansible: [900, 919],
};

describe("error catalog", () => {
  it("keeps every code unique and inside its area's range", () => {
    const seen = new Map<string, string>();
    for (const [area, specs] of Object.entries(sections)) {
      const range = RANGES[area];
      expect(range, `no range declared for area ${area}`).toBeDefined();
      for (const code of Object.keys(specs)) {
        expect(code).toMatch(/^E\d{3}$/);
        const n = Number(code.slice(1));
        expect(n, `${code} of ${area}`).toBeGreaterThanOrEqual(range![0]);
        expect(n, `${code} of ${area}`).toBeLessThanOrEqual(range![1]);
        expect(seen.get(code), `${code} defined twice`).toBeUndefined();
        seen.set(code, area);
      }
    }
  });

  it("formats fact, fix and code", () => {
    const e = netdbgError("E005", { name: "box" });
    expect(e.code).toBe("NETDBG-E005");
    expect(e.format()).toMatch(/^No target named 'box' is in the inventory\. .+ \[NETDBG-E005\]$/);
    expect(e.exitCode).toBe(2);
    expect(e.toJSON()).toEqual({ code: "NETDBG-E005", message: e.message, fix: e.fix });
  });

  it("E200 names where an administrator's key must be (Windows OpenSSH reads administrators_authorized_keys)", () => {
    const e = netdbgError("E200", { target: "win", user: "admin" });
    expect(e.fix).toContain("C:\\ProgramData\\ssh\\administrators_authorized_keys");
  });
});
