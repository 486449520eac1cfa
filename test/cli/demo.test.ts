/**
 * `netdbg demo` through the built CLI (bin/netdbg.js, no TTY): the whole journey against the built-in peers on
 * loopback — setup over real SSH (ssh2 server + netdbg's SSH client), the Windows model's restart starting the
 * KDNET peer on real UDP, connect over KDNET and over the GDB remote protocol on UDP, teardown — and nothing left
 * behind. The expected kernel facts come from the peers' own definitions, so the test proves they crossed the wire.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { INITIAL_RIP, KERNEL_BASE } from "../../src/peers/kdnet-target/index.js";
import { BANNER, stubRegisters } from "../../src/peers/rsp-stub.js";
import { runCli, spawnCli, tempHome } from "../helpers/cli.js";
import { waitForOutput } from "../helpers/tools.js";

const _BIN = new URL("../../bin/netdbg.js", import.meta.url).pathname;

const homes: string[] = [];
afterAll(() => {
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

const hex = (v: bigint) => `0x${v.toString(16)}`;

/** Command lines of live processes that mention `text` (a leftover peer or helper would). */
function processesMentioning(text: string): string[] {
  const out = execFileSync("ps", ["-eo", "args="], { encoding: "utf8" });
  return out.split("\n").filter((l) => l.includes(text) && !l.startsWith("ps "));
}

/** True when nothing listens on 127.0.0.1:port any more. */
function tcpRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: "127.0.0.1", port });
    sock.once("connect", () => {
      sock.destroy();
      resolve(false);
    });
    sock.once("error", (e: NodeJS.ErrnoException) => resolve(e.code === "ECONNREFUSED"));
  });
}

interface DemoJson {
  demo: { elapsedMs: number; stateDir: string; kept: boolean; kdnetPort: number };
  targets: { name: string; os: string; ssh: string }[];
  windows: {
    setup: {
      expected: { key: string; hostip: string; port: number };
      reboot: { poke: { authenticated: boolean; from: string } };
    };
    connect: {
      port: number;
      handshake: { from: { address: string } };
      results: { command: string; ok: boolean; data: Record<string, string | number> }[];
      resumed: boolean;
    };
    teardown: { changed: boolean; actions: unknown[]; notes: string[] };
  };
  linux: {
    setup: { changed: boolean; verified: unknown; port: number | null; hostFirewall: { summary: string } };
    connect: {
      endpoint: string;
      results: { command: string; data: Record<string, unknown> }[];
      stats: { transport: { bytesIn: number } };
    };
    teardown: { actions: unknown[]; notes: string[] };
  };
  restored: Record<string, boolean>;
}

describe("netdbg demo (built CLI, no TTY)", { timeout: 90_000 }, () => {
  it("--json: version and registers come back from both peers over real SSH and UDP; nothing is left behind", async () => {
    const home = tempHome("nd-demo-home-");
    homes.push(home);
    const r = await runCli(["--json", "demo"], { home });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(""); // --json: progress stays quiet, the one object is on stdout
    const j = JSON.parse(r.stdout) as DemoJson;

    expect(j.targets.map((t) => `${t.name}/${t.os}`)).toEqual(["demo-win/windows", "demo-linux/linux"]);
    for (const t of j.targets) expect(t.ssh).toMatch(/^127\.0\.0\.1:\d+$/);

    // Windows: setup wrote a loopback host and a fresh key into the model's BCD store; its restart made the KDNET
    // peer poke with that key, and the stored key authenticated it
    const ws = j.windows.setup;
    expect(ws.expected.hostip).toBe("127.0.0.1");
    expect(ws.expected.port).toBe(j.demo.kdnetPort);
    expect(ws.expected.key).toMatch(/^<redacted:[0-9a-f]{8}>$/); // redacted without --show-secrets
    expect(ws.reboot.poke.authenticated).toBe(true);
    expect(ws.reboot.poke.from).toMatch(/^127\.0\.0\.1:\d+$/);
    // …then connect did the KDNET handshake, broke in and read the kernel's version and registers
    const wc = j.windows.connect;
    expect(wc.port).toBe(j.demo.kdnetPort);
    expect(wc.handshake.from.address).toBe("127.0.0.1");
    const version = wc.results.find((x) => x.command === "version")!;
    expect(version.ok).toBe(true);
    expect(version.data).toMatchObject({ build: 19041, machine: "x64", kernBase: hex(KERNEL_BASE) });
    const regs = wc.results.find((x) => x.command === "r")!;
    expect(regs.ok).toBe(true);
    expect(regs.data).toMatchObject({ rip: hex(INITIAL_RIP), efl: "0x246", cs: "0x10" });
    expect(wc.resumed).toBe(true);
    expect(j.windows.teardown.changed).toBe(true);
    expect(j.windows.teardown.actions.length).toBeGreaterThanOrEqual(5);

    // Linux: kgdboe loaded and verified over SSH; the GDB remote protocol over UDP read the banner and registers
    expect(j.linux.setup.changed).toBe(true);
    expect(j.linux.setup.verified).toBeTruthy();
    const lc = j.linux.connect;
    expect(lc.endpoint).toMatch(/^udp:127\.0\.0\.1:\d+$/);
    expect(lc.stats.transport.bytesIn).toBeGreaterThan(0);
    const banner = lc.results.find((x) => x.command.startsWith("x/s"))!;
    expect(banner.data.strings).toEqual([BANNER]);
    const want = stubRegisters();
    const names = ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp"];
    const got = lc.results.find((x) => x.command === "regs")!.data;
    for (const [i, n] of names.entries()) expect(got[n], n).toBe(hex(want[i]!));
    expect(got.rip).toBe(hex(want[16]!));
    expect(j.linux.teardown.actions.length).toBeGreaterThanOrEqual(4);
    // the demo runs the path 'setup' and 'teardown' run (src/journey): the port step gave the Linux target its host
    // port, and teardown's host-firewall half reported (nothing to close on loopback)
    expect(j.linux.setup.port).toBeGreaterThanOrEqual(50000);
    expect(j.linux.setup.hostFirewall.summary).toBe("left alone (the target is on loopback)");
    expect(j.linux.teardown.notes).toEqual([]);
    expect(j.windows.teardown.notes).toEqual([]);

    // teardown restored both models, and the demo removed its state and stopped everything it started
    expect(j.restored).toEqual({ "demo-win": true, "demo-linux": true });
    expect(j.demo.kept).toBe(false);
    expect(existsSync(j.demo.stateDir)).toBe(false);
    expect(readdirSync(home)).toEqual([]); // the user's own state dir was never touched
    expect(processesMentioning(j.demo.stateDir)).toEqual([]);
    // the SSH servers are gone with the demo: their loopback ports refuse connections
    for (const t of j.targets) expect(await tcpRefused(Number(t.ssh.split(":")[1]))).toBe(true);
  });

  it("human output: progress on stderr, kd> and register dumps on stdout, the key never in full; --keep keeps the state", async () => {
    const home = tempHome("nd-demo-home-");
    homes.push(home);
    const r = await runCli(["demo", "--keep"], { home });
    expect(r.code, r.stderr).toBe(0);
    const dir = /demo: state directory (\S+)/.exec(r.stderr)?.[1];
    expect(dir).toBeDefined();
    homes.push(dir!);
    for (const step of [
      "host IP for demo-win: 127.0.0.1",
      "KDNET key of demo-win:",
      "setup demo-linux:",
      "hand-off:",
      "teardown",
    ]) {
      expect(r.stderr).toContain(`demo: ${step}`);
    }
    expect(r.stdout).toContain("kd> r\nrax=0000000000001111 rcx=0000000000002222");
    expect(r.stdout).toContain(`"${BANNER.replace("\n", "\\n")}"`);
    expect(r.stdout).toMatch(/^rax +0x0000000000001111 +4369$/m);
    // the kept state: the inventory and the generated key; the journals are gone (teardown removed them)
    expect(readFileSync(join(dir!, "targets.yaml"), "utf8")).toContain("demo-linux");
    expect(readdirSync(join(dir!, "state", "journals"))).toEqual([]);
    const keyFile = readdirSync(join(dir!, "keys")).find((f) => f.startsWith("demo-win"));
    expect(keyFile).toBeDefined();
    const key = readFileSync(join(dir!, "keys", keyFile!), "utf8").trim();
    expect(key.length).toBeGreaterThan(20);
    expect(r.stdout + r.stderr).not.toContain(key);
  });

  it("Ctrl-C during setup stops the built-in targets and removes the demo state (exit 130)", async () => {
    const child = spawnCli(["demo"], "dist", { home: tempHome("nd-demo-home-") });
    child.stdin.end();
    const seen = await waitForOutput(child, /demo: setup demo-win/);
    const dir = /demo: state directory (\S+)/.exec(seen)![1]!;
    expect(existsSync(dir)).toBe(true);
    const code = new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
    child.kill("SIGINT");
    expect(await code).toBe(130);
    expect(existsSync(dir)).toBe(false);
    expect(processesMentioning(dir)).toEqual([]);
  });

  it("Ctrl-C as setup writes its journal, the state's removal slow: the steps stop first, nothing writes it back", async () => {
    const preload = fileURLToPath(new URL("../helpers/interrupt-in-journal.mjs", import.meta.url));
    const child = spawnCli(["demo"], "dist", {
      home: tempHome("nd-demo-home-"),
      env: { NODE_OPTIONS: `--import ${preload}` },
    });
    child.stdin.end();
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
    expect(await code, stderr).toBe(130);
    expect(stderr).toContain("demo: interrupted"); // the preload's Ctrl-C, at the journal
    const dir = /demo: state directory (\S+)/.exec(stderr)![1]!;
    expect(existsSync(dir) ? readdirSync(dir, { recursive: true }) : "removed").toBe("removed");
    expect(processesMentioning(dir)).toEqual([]);
  });

  it("a --kgdboe-source that does not exist stops before anything starts", async () => {
    const r = await runCli(["demo", "--kgdboe-source", "/nonexistent/kgdboe"], { home: tempHome("nd-demo-home-") });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("NETDBG-E311");
    expect(r.stderr).not.toContain("demo: state directory");
  });

  it("an unknown --os is a usage error with its code and fix", async () => {
    const r = await runCli(["demo", "--os", "beos"], { home: tempHome("nd-demo-home-") });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("NETDBG-E003");
    expect(r.stderr).toContain("--os windows or --os linux");
  });
});
