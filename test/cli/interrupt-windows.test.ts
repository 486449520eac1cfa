/**
 * Ctrl-C at every step of a real Windows `setup` (the CLI from source against the built-in Windows peer: the
 * Windows model behind a real ssh2 server, every command slowed so the interrupt lands while the step is in
 * flight): the step finishes, this run's changes are undone, the journal stays valid, and the BCD store is byte
 * for byte what it was; the rerun and teardown converge to the same end state.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startWindowsPeer } from "../../src/peers/windows.js";
import { runCliSource as runCli } from "../helpers/cli.js";
import { peerHome } from "../helpers/peer-home.js";
import { interruptAt, journalEntries } from "../helpers/interrupt.js";

/** Off (no command matches) while the steps are listed; every command during the interrupted runs. */
const slow = { re: /$^/, ms: 300 };
let original: string;
const lab = peerHome(
  "nd-int-win-",
  async () => {
    const peer = await startWindowsPeer({ slow });
    original = peer.model.storeBytes();
    return peer;
  },
  (_peer, ssh) => ({
    name: "win",
    os: "windows",
    address: "127.0.0.1",
    port: 50000 + Math.floor(Math.random() * 15000),
    ssh,
    transport: { hostIp: "127.0.0.1" },
  }),
);

const ARGS = ["--json", "setup", "win", "--no-connect", "--no-host-firewall"];
const env = () => ({ NETDBG_HOME: lab.home });
const journalFile = () => join(lab.home, "state", "journals", "win.json");
const journal = () => journalEntries(journalFile(), "win");

const interruptedAt = (step: string) => interruptAt({ args: ARGS, env: env(), journalFile: journalFile(), target: "win", step });

describe("Ctrl-C at every step of a Windows setup", () => {
  let steps: string[] = [];
  it("lists the steps of an uninterrupted run (setup, then teardown: the BCD store as it was)", async () => {
    const r = await runCli(ARGS, { env: env(), timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    steps = (JSON.parse(r.stdout).actions as { id: string; where?: string; outcome: string }[])
      .filter((a) => a.outcome === "changed" && a.where !== "host")
      .map((a) => a.id);
    expect(steps.length).toBeGreaterThanOrEqual(6);
    const down = await runCli(["--json", "teardown", "win"], { env: env(), timeoutMs: 120_000 });
    expect(down.code, down.stderr).toBe(0);
    expect(lab.peer.model.storeBytes()).toBe(original);
  }, 240_000);

  it("at each step but the last: exit 130, every change undone, the BCD store byte for byte; the rerun and teardown converge", async () => {
    expect(steps.length).toBeGreaterThan(0);
    for (const step of steps.slice(0, -1)) {
      slow.re = /./;
      let r: Awaited<ReturnType<typeof interruptedAt>>;
      try {
        r = await interruptedAt(step);
      } finally {
        slow.re = /$^/;
      }
      expect(r.code, `${step}: ${r.stderr}`).toBe(130);
      expect(JSON.parse(r.stdout).error.code, step).toBe("NETDBG-E019");
      // every change with an undo was undone; the BCD export is a backup kept on the target (no undo, by design)
      expect(
        journal()
          .filter((e) => e.status === "applied")
          .map((e) => `${e.id}${e.undo ? " (has an undo)" : ""}`),
        step,
      ).toEqual(journal().some((e) => e.id === "bcd.export" && e.status === "applied") ? ["bcd.export"] : []);
      expect(lab.peer.model.storeBytes(), `after an interrupt during ${step}`).toBe(original);
      const again = await runCli(ARGS, { env: env(), timeoutMs: 120_000 });
      expect(again.code, `${step}: ${again.stderr}`).toBe(0);
      expect(JSON.parse(again.stdout).actions.filter((a: { outcome: string }) => a.outcome === "changed").length).toBeGreaterThan(
        0,
      );
      const down = await runCli(["--json", "teardown", "win"], { env: env(), timeoutMs: 120_000 });
      expect(down.code, `${step}: ${down.stderr}`).toBe(0);
      expect(lab.peer.model.storeBytes(), `after teardown (${step})`).toBe(original);
    }
  }, 600_000);
});
