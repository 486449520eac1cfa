/**
 * How doctor runs its checks: independent checks at the same time, `after` waits for a shared resource, a check
 * whose `needs` failed says "skipped: needs <id>", a target never set up gets a short poke listen and the
 * never-set-up verdict, and no fix tells the user to run the doctor they are running.
 */
import { describe, expect, it } from "vitest";
import type { Target } from "../../src/core/inventory.js";
import { checks as allChecks } from "../../src/doctor/index.js";
import { runChecks } from "../../src/doctor/run.js";
import { DEFAULT_POKE_LISTEN_MS, pokesCheck, SHORT_POKE_LISTEN_MS } from "../../src/doctor/checks-windows.js";
import type { Check, DoctorDeps } from "../../src/doctor/types.js";
import { netdbgError } from "../../src/core/error.js";

const win: Target = { name: "w", os: "windows", address: "10.0.0.5", port: 50000 };

/** A check that records when it started and finished, and finishes when `release` is called. */
function gate(id: string, log: string[], extra: Partial<Check> = {}): Check & { release: () => void } {
  let release: () => void = () => {};
  const gateP = new Promise<void>((r) => {
    release = r;
  });
  return {
    id,
    title: id,
    applies: () => true,
    async run() {
      log.push(`start ${id}`);
      await gateP;
      log.push(`end ${id}`);
      return { status: "ok", message: id };
    },
    ...extra,
    release: () => release(),
  };
}

describe("doctor's scheduler", () => {
  it("starts independent checks together and holds one with `after` until the other finished", async () => {
    const log: string[] = [];
    const a = gate("a", log);
    const b = gate("b", log);
    const c = gate("c", log, { after: ["a"] });
    const run = runChecks({}, [a, b, c]);
    await new Promise((r) => setImmediate(r));
    // a and b both started before either ended: they run at the same time; c waits for a
    expect(log).toEqual(["start a", "start b"]);
    a.release();
    await new Promise((r) => setImmediate(r));
    expect(log).toContain("start c");
    b.release();
    c.release();
    const results = await run;
    expect(results.map((r) => r.id)).toEqual(["a", "b", "c"]);
    expect(log.indexOf("end a")).toBeLessThan(log.indexOf("start c"));
  });

  it("skips a check whose needed check failed, saying which, instead of failing it", async () => {
    const ssh: Check = {
      id: "target.ssh",
      title: "ssh",
      applies: () => true,
      run: async () => ({ status: "fail", message: "SSH failed", fix: "check ssh", code: "NETDBG-E703" }),
    };
    let ran = false;
    const needing: Check = {
      id: "x",
      title: "x",
      applies: () => true,
      needs: "target.ssh",
      run: async () => {
        ran = true;
        return { status: "fail", message: "would fail", fix: "a fix that cannot apply" };
      },
    };
    const [, x] = await runChecks({}, [ssh, needing]);
    expect(ran).toBe(false);
    expect(x).toMatchObject({ status: "skip", message: "skipped: needs target.ssh", needs: "target.ssh" });
    expect(x!.fix).toBeUndefined();
  });

  it("every target check that reads over SSH is skipped (not failed) when SSH to the target fails", async () => {
    const deps: DoctorDeps = {
      target: win,
      session: async () => {
        throw netdbgError("E703", { target: "w", reason: "connection refused" });
      },
      windowsFacts: async () => {
        throw new Error("never reached");
      },
    };
    const results = await runChecks(deps, allChecks);
    const ssh = results.find((r) => r.id === "target.ssh")!;
    expect(ssh.status).toBe("fail");
    for (const id of ["target.nic", "windows.secureboot", "windows.bitlocker", "windows.bcd"]) {
      expect(results.find((r) => r.id === id)).toMatchObject({ status: "skip", message: "skipped: needs target.ssh" });
    }
  });
});

describe("kdnet.pokes on a target never set up", () => {
  const base = (setUp: boolean, seen: number[]): DoctorDeps => ({
    target: win,
    storedKey: async () => "2steg4fzbj2sz.23418vzkd4ko3.1g34ou07z4pev.1sp3yo9yz874p",
    setUp: async () => setUp,
    listenPokes: async (ports, ms) => {
      seen.push(ms);
      return ports.map((port) => ({ port, sources: [] }));
    },
  });

  it("listens briefly and says it was never set up, with the setup command", async () => {
    const seen: number[] = [];
    const r = await pokesCheck.run(base(false, seen));
    expect(seen).toEqual([SHORT_POKE_LISTEN_MS]);
    expect(r).toMatchObject({ status: "fail", code: "NETDBG-E714", fix: expect.stringContaining("netdbg setup w") });
  });

  it("listens the full time for a target this host set up", async () => {
    const seen: number[] = [];
    const r = await pokesCheck.run(base(true, seen));
    expect(seen).toEqual([DEFAULT_POKE_LISTEN_MS]);
    expect(r.code).toBe("NETDBG-E708");
    expect(r.fix).not.toMatch(/netdbg doctor/);
  });
});
