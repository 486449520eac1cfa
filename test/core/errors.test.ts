import { describe, expect, it } from "vitest";
import { netdbgError } from "../../src/core/error.js";
import { CODE_RANGES, sections } from "../../src/core/errors/index.js";

describe("error catalog", () => {
  it("keeps every code unique and inside its area's range (CODE_RANGES)", () => {
    const seen = new Map<string, string>();
    for (const [area, specs] of Object.entries(sections)) {
      const range = CODE_RANGES[area as keyof typeof CODE_RANGES];
      expect(range, `no range declared for area ${area}`).toBeDefined();
      for (const code of Object.keys(specs)) {
        expect(code).toMatch(/^E\d{3}$/);
        const n = Number(code.slice(1));
        expect(n, `${code} of ${area}`).toBeGreaterThanOrEqual(range.first);
        expect(n, `${code} of ${area}`).toBeLessThanOrEqual(range.last);
        expect(seen.get(code), `${code} defined twice`).toBeUndefined();
        seen.set(code, area);
      }
    }
  });

  it("gives each area its own range: one per section, none overlapping, E001–E999", () => {
    expect(Object.keys(CODE_RANGES).sort()).toEqual(Object.keys(sections).sort());
    const ranges = Object.entries(CODE_RANGES).sort(([, a], [, b]) => a.first - b.first);
    for (const [area, r] of ranges) {
      expect(r.first, area).toBeGreaterThanOrEqual(1);
      expect(r.last, area).toBeLessThanOrEqual(999);
      expect(r.first, area).toBeLessThanOrEqual(r.last);
    }
    for (let i = 1; i < ranges.length; i++) {
      const [prevArea, prev] = ranges[i - 1]!;
      const [area, r] = ranges[i]!;
      expect(r.first, `${area} overlaps ${prevArea}`).toBeGreaterThan(prev.last);
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
