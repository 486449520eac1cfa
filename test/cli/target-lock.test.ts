/** The per-target lock's flags: `--wait` is parsed (E003 for a bad value) even on a `--check` run, which takes no lock. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createContext } from "../../src/cli/context.js";
import { parseWait, withTargetLock } from "../../src/cli/target-lock.js";

const dir = mkdtempSync(join(tmpdir(), "netdbg-lock-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("withTargetLock", () => {
  it("--wait is seconds from 0 to 86400", () => {
    expect(parseWait(undefined)).toBe(0);
    expect(parseWait("1.5")).toBe(1500);
    for (const bad of ["abc", "-1", "1e3", "86401", ""]) expect(() => parseWait(bad), bad).toThrow(/--wait/);
  });

  // before: a --check run returned before --wait was read, so `setup t --check --wait abc` ran and exited 0
  it("a --check run rejects a bad --wait instead of ignoring it", async () => {
    const ctx = createContext({ stateDir: dir });
    let ran = false;
    const e = await withTargetLock(ctx, "t", "setup", { check: true, wait: "abc" }, async () => {
      ran = true;
    }).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: "NETDBG-E003" });
    expect(ran).toBe(false);
    // a good one: the check runs, without a lock
    expect(await withTargetLock(ctx, "t", "setup", { check: true, wait: "5" }, async () => "checked")).toBe("checked");
  });
});
