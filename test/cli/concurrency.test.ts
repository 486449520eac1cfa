/**
 * Several netdbg processes at once (real processes, the CLI from source): nothing is lost. Targets added in
 * parallel all stay, with distinct ports and one key each; two setups of one target: exactly one applies, the
 * other stops with NETDBG-E016 and changes nothing; setups of different targets all succeed.
 * The targets are the built-in peers (src/peers: real SSH servers on 127.0.0.1, Linux and Windows models).
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LinuxPeer, startLinuxPeer } from "../../src/peers/linux.js";
import { startWindowsPeer, type WindowsPeer } from "../../src/peers/windows.js";
import { runCliSource as runCli } from "../helpers/cli.js";

const N = 16;
const COMPAT = fileURLToPath(new URL("../../assets/kgdboe-compat", import.meta.url));

function targetsOf(home: string): { name: string; port?: number }[] {
  const text = readFileSync(join(home, "targets.yaml"), "utf8");
  return [...text.matchAll(/^ {2}- name: (\S+)[\s\S]*?(?=^ {2}- name:|(?![\s\S]))/gm)].map((m) => ({
    name: m[1] as string,
    port: Number(/^ {4}port: (\d+)/m.exec(m[0])?.[1]),
  }));
}

describe(`${N} processes adding targets at once`, () => {
  it("leave N targets, N distinct ports and N keys (no orphans)", async () => {
    const home = mkdtempSync(join(tmpdir(), "nd-conc-add-"));
    const runs = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        runCli(["targets", "add", `t${i}`, "--os", "windows", "--address", `192.0.2.${i + 1}`, "--json"], {
          env: { NETDBG_HOME: home },
          timeoutMs: 120_000,
        }),
      ),
    );
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const announced = runs.map((r) => JSON.parse(r.stdout).target.port as number);
    expect(new Set(announced).size).toBe(N);
    const saved = targetsOf(home);
    expect(saved.map((t) => t.name).sort()).toEqual(Array.from({ length: N }, (_, i) => `t${i}`).sort());
    expect(new Set(saved.map((t) => t.port)).size).toBe(N);
    expect(saved.map((t) => t.port).sort()).toEqual([...announced].sort());
    expect(readdirSync(join(home, "keys")).sort()).toEqual(Array.from({ length: N }, (_, i) => `t${i}.key`).sort());
  }, 180_000);

  it("an orphaned key is never taken over silently: replaced with a warning, kept only with --reuse-key", async () => {
    const home = mkdtempSync(join(tmpdir(), "nd-conc-orphan-"));
    const env = { NETDBG_HOME: home };
    expect((await runCli(["targets", "add", "w", "--os", "windows", "--address", "192.0.2.9"], { env })).code).toBe(0);
    expect((await runCli(["targets", "remove", "w", "--keep-key"], { env })).code).toBe(0);
    const orphan = readFileSync(join(home, "keys", "w.key"), "utf8");
    const again = await runCli(["targets", "add", "w", "--os", "windows", "--address", "192.0.2.9"], { env });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("replaced by a new key");
    const fresh = readFileSync(join(home, "keys", "w.key"), "utf8");
    expect(fresh).not.toBe(orphan);
    expect(again.stdout + again.stderr).not.toContain(orphan.trim());
    expect((await runCli(["targets", "remove", "w", "--keep-key"], { env })).code).toBe(0);
    const kept = await runCli(["targets", "add", "w", "--os", "windows", "--address", "192.0.2.9", "--reuse-key"], { env });
    expect(kept.code).toBe(0);
    expect(readFileSync(join(home, "keys", "w.key"), "utf8")).toBe(fresh);
  }, 120_000);
});

describe("setups at the same time", () => {
  let linux: LinuxPeer[] = [];
  let windows: WindowsPeer | undefined;
  let home = "";

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), "nd-conc-setup-"));
    linux = await Promise.all([startLinuxPeer(), startLinuxPeer(), startLinuxPeer()]);
    windows = await startWindowsPeer();
    const peers = [...linux, windows];
    writeFileSync(join(home, "known_hosts"), `${peers.map((p) => p.ssh.knownHostsLine()).join("\n")}\n`);
    const entries = peers.map((p, i) => {
      const key = join(home, `id_${i}`);
      writeFileSync(key, p.ssh.clientKey.private, { mode: 0o600 });
      const isLinux = i < linux.length;
      return {
        name: isLinux ? `lin${i}` : "win",
        os: isLinux ? "linux" : "windows",
        address: "127.0.0.1",
        ssh: { user: p.user, port: p.ssh.port, identityFile: key, knownHostsFile: join(home, "known_hosts") },
        transport: isLinux
          ? { hostIp: "127.0.0.1", targetPort: (p as LinuxPeer).udpPort, kgdboeSource: COMPAT }
          : { hostIp: "127.0.0.1" },
      };
    });
    writeFileSync(
      join(home, "targets.yaml"),
      `version: 1\ntargets:\n${entries.map((e) => `  - ${JSON.stringify(e)}`).join("\n")}\n`,
    );
  });
  afterAll(async () => {
    await Promise.all([...linux, ...(windows ? [windows] : [])].map((p) => p.close()));
  });

  const setup = (name: string, extra: string[] = []) =>
    runCli(["setup", name, "--no-connect", "--no-host-firewall", "--json", ...extra], {
      env: { NETDBG_HOME: home },
      timeoutMs: 120_000,
    });

  it("of one Linux target: exactly one applies, the other stops with E016 and changes nothing", async () => {
    const peer = linux[0] as LinuxPeer;
    const [a, b] = await Promise.all([setup("lin0"), setup("lin0")]);
    const codes = [a.code, b.code].sort();
    expect(codes, `${a.stderr}\n${b.stderr}`).toEqual([0, 3]);
    const loser = a.code === 3 ? a : b;
    expect(JSON.parse(loser.stdout).error.code).toBe("NETDBG-E016");
    expect(JSON.parse(loser.stdout).error.message).toContain("netdbg setup lin0");
    // one load on the target, one journal that says so
    expect(peer.model.log.filter((c) => c.startsWith("insmod")).length).toBe(1);
    expect(peer.model.state.loaded).not.toBeNull();
    const journal = JSON.parse(readFileSync(join(home, "state", "journals", "lin0.json"), "utf8")) as {
      entries: { status: string }[];
    };
    expect(journal.entries.length).toBeGreaterThan(0);
    expect(journal.entries.every((e) => e.status === "applied")).toBe(true);
    // and teardown undoes it
    const down = await runCli(["teardown", "lin0", "--json"], { env: { NETDBG_HOME: home }, timeoutMs: 120_000 });
    expect(down.code, down.stderr).toBe(0);
    expect(peer.model.state.loaded).toBeNull();
  }, 240_000);

  it("of one Windows target: exactly one applies; after teardown no debug entry is left", async () => {
    const before = windows?.model.storeBytes();
    const [a, b] = await Promise.all([setup("win"), setup("win")]);
    expect([a.code, b.code].sort(), `${a.stderr}\n${b.stderr}`).toEqual([0, 3]);
    const down = await runCli(["teardown", "win", "--json"], { env: { NETDBG_HOME: home }, timeoutMs: 120_000 });
    expect(down.code, down.stderr).toBe(0);
    expect(windows?.model.storeBytes()).toBe(before);
  }, 240_000);

  it("--wait waits for the other setup, which then finds everything done", async () => {
    // both wait: whichever takes the lock second waits for the first (without --wait it would stop with E016)
    const [a, b] = await Promise.all([setup("lin1", ["--wait", "120"]), setup("lin1", ["--wait", "120"])]);
    expect(a.code, a.stderr + a.stdout).toBe(0);
    expect(b.code, b.stderr + b.stdout).toBe(0);
    const changed = [JSON.parse(a.stdout).changed, JSON.parse(b.stdout).changed].sort();
    expect(changed).toEqual([false, true]);
  }, 240_000);

  it("of different targets: all succeed, with distinct ports", async () => {
    const runs = await Promise.all([setup("lin2"), setup("win"), setup("lin0")]);
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const ports = runs.map((r) => JSON.parse(r.stdout).port ?? JSON.parse(r.stdout).udpPort);
    expect(new Set(ports).size).toBe(3);
  }, 240_000);
});
