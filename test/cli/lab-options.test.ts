/** `lab build --jobs`: a whole number, parsed before anything is built (a bad value is E607, not quietly 1). */
import { describe, expect, it } from "vitest";
import { labBuildCommand, labUpCommand, parseJobs } from "../../src/cli/commands/lab-run.js";
import type { Context } from "../../src/cli/context.js";

describe("lab build --jobs", () => {
  it("takes a whole number from 1", () => {
    expect(parseJobs("1")).toBe(1);
    expect(parseJobs(" 16 ")).toBe(16);
    for (const bad of ["abc", "0", "-4", "2.5", "", "1e2"]) expect(() => parseJobs(bad), bad).toThrow(/--jobs/);
  });

  // before: Math.max(1, Number(jobs) || 1): '--jobs abc' built with one job, without a word
  it("rejects a bad value before it builds anything (the context is never touched)", async () => {
    const untouched = new Proxy({} as Context, {
      get: (_t, p) => {
        throw new Error(`touched ctx.${String(p)}`);
      },
    });
    await expect(labBuildCommand(untouched, { jobs: "abc" })).rejects.toMatchObject({ code: "NETDBG-E607" });
  });
});

describe("lab up --smp", () => {
  // before: Number() took '0x2' for 2 and '1e0' for 1
  it("is whole digits 1–8, checked before anything runs", async () => {
    const untouched = new Proxy({} as Context, {
      get: (_t, p) => {
        throw new Error(`touched ctx.${String(p)}`);
      },
    });
    for (const smp of ["0x2", "1e0", "0", "9", "abc"])
      await expect(labUpCommand(untouched, { smp }), smp).rejects.toMatchObject({ code: "NETDBG-E607" });
  });
});
