/**
 * Ctrl-C (SIGINT) in the middle of a real `setup` (the CLI from source against the built-in Linux peer, a real
 * ssh2 server on 127.0.0.1 whose kgdboe build is slow on purpose): the step in flight finishes, this run's
 * changes are undone (host firewall included), the journal stays valid, the outcome is printed as NETDBG-E019
 * with exit 130 (JSON under --json); the rerun converges and teardown restores. A second Ctrl-C aborts at once.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { startLinuxPeer } from "../../src/peers/linux.js";
import { runCliSource as runCli } from "../helpers/cli.js";
import { peerHome } from "../helpers/peer-home.js";
import { interruptAt, journalEntries as entriesOf } from "../helpers/interrupt.js";

const COMPAT = fileURLToPath(new URL("../../assets/kgdboe-compat", import.meta.url));
/** The peer's slow command (mutable: the every-step test points it at one step's command at a time). */
const slow = { re: /make -C/, ms: 2500 };
const lab = peerHome(
  "nd-int-",
  () => startLinuxPeer({ slow }),
  (peer, ssh) => ({
    name: "lin",
    os: "linux",
    address: "127.0.0.1",
    ssh,
    transport: { hostIp: "127.0.0.1", targetPort: peer.udpPort, kgdboeSource: COMPAT },
  }),
);

const ARGS = ["--json", "setup", "lin", "--no-connect", "--no-host-firewall"];
const journalFile = () => join(lab.home, "state", "journals", "lin.json");

/** Run setup and send `signals` SIGINTs (50 ms apart) once the journal shows step `step` in flight. */
const interrupted = (signals: number, step = "module.build") =>
  interruptAt({
    args: ARGS,
    env: { NETDBG_HOME: lab.home },
    journalFile: journalFile(),
    target: "lin",
    step,
    signals,
    pollMs: 50,
    startBudgetMs: 60_000,
  });

const journalEntries = () => entriesOf(journalFile(), "lin");

describe("Ctrl-C during setup", () => {
  it("finishes the step in flight, undoes this run's changes, prints E019 and exits 130; the rerun converges", async () => {
    const r = await interrupted(1);
    expect(r.code, r.stderr).toBe(130);
    const err = JSON.parse(r.stdout).error as { code: string; message: string; fix: string };
    expect(err.code).toBe("NETDBG-E019");
    expect(err.message).toMatch(/SIGINT stopped .*change\(s\) this run made were undone/);
    expect(err.fix).toMatch(/Run the same command again/);
    expect(r.stderr).toContain("stopping after the current step");
    // the build finished (it was in flight), then everything this run did was undone: nothing stays applied
    expect(journalEntries().filter((e) => e.status === "applied")).toEqual([]);
    expect(lab.peer.model.state.loaded).toBeNull();
    expect(lab.peer.model.log.some((c) => c.startsWith("insmod"))).toBe(false);

    const again = await runCli(ARGS, { env: { NETDBG_HOME: lab.home }, timeoutMs: 120_000 });
    expect(again.code, again.stderr).toBe(0);
    expect(lab.peer.model.state.loaded).not.toBeNull();
    const down = await runCli(["--json", "teardown", "lin"], { env: { NETDBG_HOME: lab.home }, timeoutMs: 120_000 });
    expect(down.code, down.stderr).toBe(0);
    expect(lab.peer.model.state.loaded).toBeNull();
  }, 240_000);

  it("a second Ctrl-C aborts at once (exit 130); the journal is still valid and the rerun converges", async () => {
    const r = await interrupted(2);
    expect(r.code).toBe(130);
    expect(r.stderr).toContain("aborting now");
    expect(() => journalEntries()).not.toThrow();
    const again = await runCli(ARGS, { env: { NETDBG_HOME: lab.home }, timeoutMs: 120_000 });
    expect(again.code, again.stderr).toBe(0);
    const down = await runCli(["--json", "teardown", "lin"], { env: { NETDBG_HOME: lab.home }, timeoutMs: 120_000 });
    expect(down.code, down.stderr).toBe(0);
    expect(lab.peer.model.state.loaded).toBeNull();
  }, 240_000);
});

describe("Ctrl-C at every step of a Linux setup", () => {
  // each step's first command on the target, made slow so the interrupt lands while that step is in flight
  const steps: [string, RegExp][] = [
    ["workdir.create", /^mkdir -p \/var\/lib\/netdbg\/kgdboe$/],
    ["source.upload", /^rm -rf \/var\/lib\/netdbg\/kgdboe\/src && mkdir -p /],
    ["module.build", /make -C/],
    ["module.load", /^insmod /],
  ];
  for (const [step, re] of steps) {
    it(`during ${step}: the step finishes, then this run is undone (or, at the last change, completed); rerun and teardown converge`, async () => {
      slow.re = re;
      slow.ms = 1500;
      try {
        const r = await interrupted(1, step);
        if (step === "module.load") {
          // the last change: when it is done there is nothing left to stop, so the run completes and says so
          expect(r.code, r.stderr).toBe(0);
          expect(r.stderr).toContain("SIGINT arrived after the last change: the run completed.");
          expect(JSON.parse(r.stdout).changed).toBe(true);
          expect(lab.peer.model.state.loaded).not.toBeNull();
        } else {
          expect(r.code, r.stderr).toBe(130);
          expect(JSON.parse(r.stdout).error.code).toBe("NETDBG-E019");
          expect(journalEntries().filter((e) => e.status === "applied")).toEqual([]);
          expect(lab.peer.model.state.loaded).toBeNull();
          expect(lab.peer.model.leftovers()).toEqual([]);
        }
        const again = await runCli(ARGS, { env: { NETDBG_HOME: lab.home }, timeoutMs: 120_000 });
        expect(again.code, again.stderr).toBe(0);
        expect(lab.peer.model.state.loaded).not.toBeNull();
        const down = await runCli(["--json", "teardown", "lin"], { env: { NETDBG_HOME: lab.home }, timeoutMs: 120_000 });
        expect(down.code, down.stderr).toBe(0);
        expect(lab.peer.model.state.loaded).toBeNull();
        expect(lab.peer.model.leftovers()).toEqual([]);
      } finally {
        slow.re = /make -C/;
        slow.ms = 2500;
      }
    }, 240_000);
  }
});
