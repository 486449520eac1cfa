/**
 * Ctrl-C at every step of a real Windows `setup` (the CLI from source against the built-in Windows peer: the
 * Windows model behind a real ssh2 server, every command slowed so the interrupt lands while the step is in
 * flight): the step finishes, this run's changes are undone, the journal stays valid, and the BCD store is byte
 * for byte what it was; the rerun and teardown converge to the same end state.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWindowsPeer, type WindowsPeer } from "../../src/peers/windows.js";
import { runCliSource as runCli } from "../helpers/cli.js";
import { interruptAt, journalEntries } from "../helpers/interrupt.js";

/** Off (no command matches) while the steps are listed; every command during the interrupted runs. */
const slow = { re: /$^/, ms: 300 };
let peer: WindowsPeer;
let home: string;
let original: string;

beforeAll(async () => {
  peer = await startWindowsPeer({ slow });
  original = peer.model.storeBytes();
  home = mkdtempSync(join(tmpdir(), "nd-int-win-"));
  writeFileSync(join(home, "known_hosts"), `${peer.ssh.knownHostsLine()}\n`);
  const key = join(home, "id");
  writeFileSync(key, peer.ssh.clientKey.private, { mode: 0o600 });
  const t = {
    name: "win",
    os: "windows",
    address: "127.0.0.1",
    port: 50000 + Math.floor(Math.random() * 15000),
    ssh: { user: peer.user, port: peer.ssh.port, identityFile: key, knownHostsFile: join(home, "known_hosts") },
    transport: { hostIp: "127.0.0.1" },
  };
  writeFileSync(join(home, "targets.yaml"), `version: 1\ntargets:\n  - ${JSON.stringify(t)}\n`);
});
afterAll(async () => {
  await peer?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

const ARGS = ["--json", "setup", "win", "--no-connect", "--no-host-firewall"];
const env = () => ({ NETDBG_HOME: home });
const journalFile = () => join(home, "state", "journals", "win.json");
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
    expect(peer.model.storeBytes()).toBe(original);
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
      expect(peer.model.storeBytes(), `after an interrupt during ${step}`).toBe(original);
      const again = await runCli(ARGS, { env: env(), timeoutMs: 120_000 });
      expect(again.code, `${step}: ${again.stderr}`).toBe(0);
      expect(JSON.parse(again.stdout).actions.filter((a: { outcome: string }) => a.outcome === "changed").length).toBeGreaterThan(
        0,
      );
      const down = await runCli(["--json", "teardown", "win"], { env: env(), timeoutMs: 120_000 });
      expect(down.code, `${step}: ${down.stderr}`).toBe(0);
      expect(peer.model.storeBytes(), `after teardown (${step})`).toBe(original);
    }
  }, 600_000);
});
