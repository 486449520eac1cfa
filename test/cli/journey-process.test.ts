/**
 * The journey as a user runs it: the real `netdbg` process (from source) inside a host network namespace
 * whose firewall is nftables (policy drop), a Windows target model behind a real SSH server inside the target
 * namespace (test/cli/journey-peer.ts), the inventory, known_hosts and key store in a fresh home. Nothing is
 * injected: host IP, port, key, SSH, the host firewall and the journal are the real adapters.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NetnsPair, requireTool } from "../fakes/netns.js";

const ENTRY = fileURLToPath(new URL("../helpers/cli-entry.ts", import.meta.url));
const PEER = fileURLToPath(new URL("./journey-peer.ts", import.meta.url));
const PORT = 50720;

const pair = new NetnsPair("jnp", 250);
let home: string;
let peer: ChildProcess;
let lines: AsyncIterator<string>;
let originalStore: string;

async function nextJson(): Promise<Record<string, unknown>> {
  for (;;) {
    const r = await lines.next();
    if (r.done) throw new Error("the peer exited");
    if (r.value.startsWith("{")) return JSON.parse(r.value) as Record<string, unknown>;
  }
}

async function storeNow(): Promise<string> {
  peer.stdin!.write("store\n");
  return (await nextJson()).store as string;
}

/** `netdbg <args>` from source inside the host namespace, with our home. */
function netdbg(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [file, ...rest] = pair.hostArgv(process.execPath, "--import", "tsx", ENTRY, ...args);
  return new Promise((resolve) => {
    const child = spawn(file!, rest, {
      env: { ...process.env, NETDBG_HOME: join(home, "netdbg"), HOME: home, NO_COLOR: "1", SSH_AUTH_SOCK: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

const ruleset = () => pair.inHost("nft", "list", "ruleset");

beforeAll(async () => {
  requireTool("nft", "nftables");
  await pair.create();
  // a usual host firewall: replies to our own connections (SSH) come in, anything new is dropped
  pair.inHostWithInput(
    "table inet filter {\n chain input {\n  type filter hook input priority 0; policy drop;\n  ct state established,related accept\n }\n}\n",
    "nft",
    "-f",
    "-",
  );
  home = mkdtempSync(join(tmpdir(), "nd-journey-proc-"));
  const peerDir = join(home, "peer");
  mkdirSync(peerDir);
  const [file, ...rest] = pair.target.runner().argv(process.execPath, "--import", "tsx", PEER, peerDir, pair.targetIp);
  peer = spawn(file!, rest, { stdio: ["pipe", "pipe", "inherit"] });
  lines = createInterface({ input: peer.stdout! })[Symbol.asyncIterator]();
  const ready = (await nextJson()).ready as { identityFile: string; hostKey: string; store: string };
  originalStore = ready.store;
  mkdirSync(join(home, ".ssh"), { mode: 0o700 });
  writeFileSync(join(home, ".ssh", "known_hosts"), `[${pair.targetIp}]:2222 ${ready.hostKey.split(" ").slice(0, 2).join(" ")}\n`);
  mkdirSync(join(home, "netdbg"), { mode: 0o700 });
  writeFileSync(
    join(home, "netdbg", "targets.yaml"),
    `version: 1\ntargets:\n  - ${JSON.stringify({
      name: "win",
      os: "windows",
      address: pair.targetIp,
      port: PORT,
      ssh: { user: "admin", port: 2222, identityFile: ready.identityFile },
    })}\n`,
  );
}, 60_000);
afterAll(() => {
  peer?.stdin?.write("quit\n");
  peer?.kill();
  pair.destroy();
  rmSync(home, { recursive: true, force: true });
});

describe("netdbg setup / teardown as processes (host firewall = nftables in a netns, Windows model over SSH)", () => {
  it("setup --json → one object, real rule; re-run unchanged; teardown --check changes nothing; teardown undoes all", async () => {
    expect(await pair.probe(PORT, { windowMs: 800 })).toBe(false);
    const check = await netdbg(["setup", "win", "--check", "--no-kdnic"]);
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toMatch(
      new RegExp(
        `would run: nft insert rule inet filter input ip saddr ${pair.targetIp.replace(/\./g, "\\.")} udp dport ${PORT} .*\\(host\\)`,
      ),
    );
    expect(ruleset()).not.toContain("netdbg-udp-");

    const r = await netdbg(["--json", "setup", "win", "--no-connect", "--no-kdnic"]);
    expect(r.code, r.stderr).toBe(0);
    const obj = JSON.parse(r.stdout);
    // the host address is discovered from the route (the host namespace's veth address)
    expect(obj).toMatchObject({
      target: "win",
      os: "windows",
      changed: true,
      hostIp: pair.hostIp,
      port: PORT,
      handoff: { connect: false },
    });
    expect(obj.key).toMatch(/^<redacted:[0-9a-f]{8}>$/);
    expect(obj.handoff.windbg).toBe(`windbg -k net:port=${PORT},key=${obj.key}`);
    expect(obj.actions[0]).toMatchObject({ where: "host", outcome: "changed" });
    expect(ruleset()).toContain(`netdbg-udp-${PORT}`);
    expect(await pair.probe(PORT, { windowMs: 800 })).toBe(true);
    const afterSetup = await storeNow();
    expect(afterSetup).not.toBe(originalStore);

    const again = await netdbg(["--json", "setup", "win", "--no-connect", "--no-kdnic"]);
    expect(again.code, again.stderr).toBe(0);
    const o2 = JSON.parse(again.stdout);
    expect(o2.changed).toBe(false);
    expect(o2.actions.every((a: { outcome: string }) => a.outcome === "unchanged")).toBe(true);

    const plan = await netdbg(["teardown", "win", "--check"]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/would run: nft delete rule inet filter input handle \d+ {2}\(host\)/);
    expect(ruleset()).toContain(`netdbg-udp-${PORT}`);
    expect(await storeNow()).toBe(afterSetup);

    const down = await netdbg(["--json", "teardown", "win"]);
    expect(down.code, down.stderr).toBe(0);
    expect(JSON.parse(down.stdout).changed).toBe(true);
    expect(ruleset()).not.toContain("netdbg-udp-");
    expect(await pair.probe(PORT, { windowMs: 800 })).toBe(false);
    expect(await storeNow()).toBe(originalStore);
  }, 180_000);
});
