/**
 * What `netdbg connect` does before and while it waits: a target this host never set up is named at once with
 * the setup command (nothing is listened to); the default wait ends within about 15 s on the RSP ladder; the
 * terminal spinner says what it waits for, gets out of the way of other lines and ends at the first result.
 */
import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { DEFAULT_CONNECT_TIMEOUT_SECONDS } from "../../src/cli/commands/connect.js";
import { triesWithin } from "../../src/cli/debugger/linux-session.js";
import { startWaitSpinner } from "../../src/cli/wait-spinner.js";
import { runCli, tempHome } from "../helpers/cli.js";

describe("connect to a target never set up from this host", () => {
  for (const os of ["windows", "linux"] as const) {
    it(`${os}: says so at once with the setup command, without listening or waiting`, async () => {
      const home = tempHome();
      const add = await runCli(["targets", "add", "t1", "--os", os, "--address", "127.0.0.1", "--no-key"], { home });
      expect(add.code).toBe(0);
      const r = await runCli(["connect", "t1", "--exec", "r"], { home });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("[NETDBG-E714]");
      expect(r.stderr).toContain("Run 'netdbg setup t1'");
      expect(r.stderr).toContain("--no-setup-check");
      expect(r.stderr).not.toMatch(/listening on UDP|No KDNET poke|NETDBG-E400|NETDBG-E009/);
    });
  }
});

describe("how long connect waits by default", () => {
  it("is 15 s, and the RSP retransmission ladder for it ends within 15 s", () => {
    expect(DEFAULT_CONNECT_TIMEOUT_SECONDS).toBe(15);
    const tries = triesWithin(15_000);
    // the client's ladder: 300 ms, then ×1.5 per try, at most 4 s
    let rto = 300;
    let total = 0;
    for (let i = 0; i < tries; i++) {
      total += rto;
      rto = Math.min(4000, Math.ceil(rto * 1.5));
    }
    expect(total).toBeLessThanOrEqual(15_000);
    expect(total + rto).toBeGreaterThan(15_000);
    expect(triesWithin(100)).toBe(3);
  });
});

/** A fake terminal stream that records what is written. */
function fakeStream(): NodeJS.WriteStream & { text: () => string } {
  const chunks: string[] = [];
  const s = new EventEmitter() as unknown as NodeJS.WriteStream & { text: () => string };
  Object.assign(s, {
    columns: 200,
    isTTY: true,
    write: (c: string) => {
      chunks.push(String(c));
      return true;
    },
    text: () => chunks.join(""),
  });
  return s;
}

describe("the wait spinner", () => {
  it("shows what it waits for, clears itself before other lines, and ends at the first stdout output", () => {
    const out = fakeStream();
    const err = fakeStream();
    const spin = startWaitSpinner((s) => `waiting for kgdboe — ${s.toFixed(1)} s`, { out, err }, 10_000);
    expect(err.text()).toContain("waiting for kgdboe — 0.0 s");
    err.write("listening on UDP port 50000\n");
    // the spinner line was cleared (\r + erase line) right before the other line
    expect(err.text()).toMatch(/\r\x1b\[2Klistening on UDP port 50000\n$/);
    out.write("kd> r\n");
    const after = err.text();
    spin.stop();
    err.write("x\n");
    expect(err.text()).toBe(`${after}x\n`);
    expect(out.text()).toBe("kd> r\n");
  });
});
