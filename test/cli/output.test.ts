import { describe, expect, it } from "vitest";
import { fitColumns, table, terminalWidth, wrapText } from "../../src/cli/output.js";

const long = "The target is reached from 10.0.0.1 on eth0 via 10.0.0.254, but: ".repeat(12);
const path = `/var/lib/netdbg/${"very-long-directory-name/".repeat(20)}file`;

describe("tables fitted to the terminal", () => {
  it("a doctor-like table with a 900-character cell stays within 120 columns and loses no word", () => {
    const out = table(["", "check", "verdict", "fix"], [["FAIL", "host.firewall", long, `Open it: ${path}`]], false, 120);
    const widths = out.split("\n").map((l) => [...l].length);
    expect(Math.max(...widths)).toBeLessThanOrEqual(120);
    const column = (i: number) =>
      out
        .split("\n")
        .filter((l) => l.startsWith("│"))
        .slice(1) // the header row
        .map((l) => l.split("│")[i]!.trim())
        .join("");
    expect(column(4).replace(/\s/g, "")).toBe(`Openit:${path}`);
    expect(column(3).replace(/\s/g, "")).toBe(long.replace(/\s/g, ""));
  });

  it("prints every table's full text under --verbose (the fleet and inventory tables too)", async () => {
    const { createContext } = await import("../../src/cli/context.js");
    const before = process.env.COLUMNS;
    process.env.COLUMNS = "60";
    try {
      createContext({ verbose: true, stateDir: "/nonexistent-netdbg-test" });
      expect(table(["a", "b"], [["x", long]], false)).toContain(long.trim());
      createContext({ stateDir: "/nonexistent-netdbg-test" });
      expect(
        Math.max(
          ...table(["a", "b"], [["x", long]], false)
            .split("\n")
            .map((l) => l.length),
        ),
      ).toBeLessThanOrEqual(60);
    } finally {
      if (before === undefined) delete process.env.COLUMNS;
      else process.env.COLUMNS = before;
    }
  });

  it("prints the full text when no width is given (--verbose, a pipe)", () => {
    const out = table(["a", "b"], [["x", long]], false, undefined);
    expect(out).toContain(long.trim());
  });

  it("keeps narrow columns at their natural width and shares the rest between the wide ones", () => {
    const w = fitColumns(["", "check", "verdict", "fix"], [["WARN", "route.rtt", long, long]], 100)!;
    expect(w[0]).toBe(6);
    expect(w[1]).toBe(11);
    expect(Math.abs(w[2]! - w[3]!)).toBeLessThanOrEqual(1);
    expect(w.reduce((a, b) => a + b, 0) + 5).toBeLessThanOrEqual(100);
  });

  it("wraps at spaces and cuts a word longer than the line without dropping characters", () => {
    expect(wrapText("aaa bbb ccc", 7)).toBe("aaa bbb\nccc");
    expect(wrapText("abcdefghij", 4).replace(/\n/g, "")).toBe("abcdefghij");
    for (const l of wrapText(`x ${path}`, 20).split("\n")) expect(l.length).toBeLessThanOrEqual(20);
  });

  it("takes the width from COLUMNS or a terminal, and none from a pipe", () => {
    expect(terminalWidth({ isTTY: true, columns: 90 }, {})).toBe(90);
    expect(terminalWidth({ isTTY: false, columns: 90 }, {})).toBeUndefined();
    expect(terminalWidth({ isTTY: false }, { COLUMNS: "132" })).toBe(132);
  });
});
