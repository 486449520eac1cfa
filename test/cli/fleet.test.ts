import { describe, expect, it } from "vitest";
import { netdbgError } from "../../src/core/error.js";
import type { Target } from "../../src/core/inventory.js";
import { createContext } from "../../src/cli/context.js";
import { fleetExitCode, runFleet } from "../../src/cli/fleet.js";
import { runCli, tempHome } from "../helpers/cli.js";

const t = (name: string): Target => ({ name, os: "linux", address: "127.0.0.1" });

describe("fleets", () => {
  it("run targets in parallel up to the bound; one failure never stops the others", async () => {
    const ctx = createContext({ json: true, stateDir: tempHome() });
    let running = 0;
    let peak = 0;
    const outcomes = await runFleet(
      ctx,
      ["a", "b", "c", "d", "e"].map(t),
      async (child, target) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 30));
        running--;
        if (target.name === "b") throw netdbgError("E005", { name: "b" });
        child.out(`set up ${target.name}`);
        child.json({ target: target.name });
      },
      { concurrency: 2, title: "setup" },
    );
    expect(peak).toBe(2);
    expect(outcomes.map((o) => [o.target, o.ok])).toEqual([
      ["a", true],
      ["b", false],
      ["c", true],
      ["d", true],
      ["e", true],
    ]);
    expect(outcomes[0]).toMatchObject({ message: "set up a", result: { target: "a" } });
    expect(outcomes[1]).toMatchObject({ code: "NETDBG-E005", exitCode: 2 });
    expect(fleetExitCode(outcomes)).toBe(2);
    expect(fleetExitCode(outcomes.filter((o) => o.ok))).toBe(0);
  });

  it("an operation's returned result is its outcome's result: nothing is read back from what it printed", async () => {
    const ctx = createContext({ json: true, stateDir: tempHome() });
    const outcomes = await runFleet(ctx, ["a", "b"].map(t), async (_child, target) => ({ target: target.name, changed: true }), {
      concurrency: 2,
      title: "setup",
    });
    expect(outcomes.map((o) => o.result)).toEqual([
      { target: "a", changed: true },
      { target: "b", changed: true },
    ]);
  });

  it("setup of a group prints one summary with every target's outcome (real CLI)", async () => {
    const home = tempHome();
    for (const n of ["l1", "l2"])
      await runCli(["targets", "add", n, "--os", "linux", "--address", "127.0.0.1", "--group", "rack"], { home });
    const r = await runCli(["--json", "setup", "--group", "rack", "--check"], { home });
    const out = JSON.parse(r.stdout) as { fleet: { target: string; ok: boolean; error?: { code: string } }[] };
    expect(out.fleet.map((f) => f.target)).toEqual(["l1", "l2"]);
    // Nothing answers SSH on these targets (or provisioning is not available yet): each fails with a coded
    // environment error of its own — never a fake success — and the fleet exits 3.
    for (const f of out.fleet) {
      expect(f.ok).toBe(false);
      expect(f.error?.code).toMatch(/^NETDBG-E\d{3}$/);
    }
    expect(r.code).toBe(3);
  });

  it("setup with no target and no TTY names what to pass", async () => {
    const r = await runCli(["--json", "setup"], { home: tempHome() });
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error).toMatchObject({
      code: "NETDBG-E002",
      fix: expect.stringContaining("Pass the target (a name, --all or --group)"),
    });
  });
});
