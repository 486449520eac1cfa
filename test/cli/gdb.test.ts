import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCliSource as runCli, spawnCli, stateDirWith } from "../helpers/cli.js";
import { type GdbServer, gdbBatch, requireTool, startGdbServer, TEST_PROGRAM, waitForOutput } from "../helpers/tools.js";

let dir: string;
let home: string;
let prog: string;
const cli = (args: string[]) => runCli(args, { env: { NETDBG_HOME: home } });

beforeAll(() => {
  requireTool("gcc", "gcc");
  requireTool("gdb", "gdb");
  requireTool("gdbserver", "gdbserver");
  dir = mkdtempSync(join(tmpdir(), "rsp-gdbcmd-"));
  writeFileSync(join(dir, "prog.c"), TEST_PROGRAM);
  prog = join(dir, "prog");
  execFileSync("gcc", ["-O0", "-g", "-no-pie", "-o", prog, join(dir, "prog.c")]);
  home = stateDirWith([
    { name: "kbox", os: "linux", address: "127.0.0.1", transport: { targetPort: 31337 } },
    { name: "serial", os: "linux", address: "127.0.0.1", port: 50001, transport: { targetPort: 5556 } },
  ]);
});
afterAll(() => {
  for (const d of [dir, home]) if (d) rmSync(d, { recursive: true, force: true });
});

describe("netdbg gdb <target>", () => {
  it("prints the exact gdb command line for the target's kgdboe endpoint", async () => {
    const r = await cli(["gdb", "kbox", "--vmlinux", "/boot/my vmlinux"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("gdb '/boot/my vmlinux' -ex 'set remotetimeout 10' -ex 'target remote udp:127.0.0.1:31337'");
    const j = await cli(["--json", "gdb", "kbox"]);
    expect(JSON.parse(j.stdout)).toMatchObject({
      argv: ["gdb", "vmlinux", "-ex", "set remotetimeout 10", "-ex", "target remote udp:127.0.0.1:31337"],
    });
  });

  it("passes the vmlinux the inventory knows for the target", async () => {
    const h = stateDirWith([
      { name: "sym", os: "linux", address: "127.0.0.1", transport: { targetPort: 31337, vmlinux: "/srv/k/vmlinux-6.1" } },
    ]);
    try {
      const r = await runCli(["gdb", "sym"], { env: { NETDBG_HOME: h } });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe("gdb /srv/k/vmlinux-6.1 -ex 'set remotetimeout 10' -ex 'target remote udp:127.0.0.1:31337'");
    } finally {
      rmSync(h, { recursive: true, force: true });
    }
  });

  it("serves the bridge by default where gdb cannot bind the fixed host port a target needs; --no-bridge only warns", async () => {
    const r = await cli(["gdb", "serial", "--no-bridge"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/host port 50001.*without --no-bridge/);
    // a free host port for the bridge's UDP side (the 'serial' target's own port may be taken by another test)
    const { createSocket } = await import("node:dgram");
    const probe = createSocket("udp4");
    await new Promise<void>((res) => probe.bind(0, "127.0.0.1", () => res()));
    const free = probe.address().port;
    await new Promise<void>((res) => probe.close(() => res()));
    const child = spawnCli(["--json", "gdb", "serial", "--port", String(free)], "src", { home });
    child.stdin.end();
    try {
      const out = await waitForOutput(child, /"bridge": "127\.0\.0\.1:\d+"/, 30_000);
      expect(out).toMatch(/"target remote 127\.0\.0\.1:\d+"/);
    } finally {
      child.kill("SIGINT");
    }
  });

  describe("--bridge", () => {
    let server: GdbServer | undefined;
    afterAll(async () => server?.stop());

    it("serves a stock gdb on a local TCP port, relaying to real gdbserver", async () => {
      server = await startGdbServer(prog);
      const child = spawnCli(["--json", "gdb", "kbox", "--bridge", "--endpoint", `tcp:127.0.0.1:${server.port}`], "src", {
        home,
      });
      child.stdin.end();
      try {
        let bridgeLog = "";
        child.stderr!.on("data", (d: Buffer) => (bridgeLog += d.toString()));
        const out = await waitForOutput(child, /"bridge": "127\.0\.0\.1:\d+"/, 30_000);
        const port = Number(/"bridge": "127\.0\.0\.1:(\d+)"/.exec(out)![1]);
        const r = await gdbBatch([
          prog,
          "-ex",
          `target remote 127.0.0.1:${port}`,
          "-ex",
          "break ready",
          "-ex",
          "continue",
          "-ex",
          "x/s banner",
          "-ex",
          "print/x $pc",
          "-ex",
          "kill",
        ]);
        expect(r.stdout, `${r.stderr}\nbridge: ${bridgeLog}`).toMatch(/Breakpoint 1, [^\n]*ready \(\)/);
        expect(r.stdout).toContain('"netdbg gdbserver test banner"');
      } finally {
        const exited = new Promise((res) => child.once("exit", res));
        child.kill("SIGTERM");
        await exited;
      }
    });

    it("--listen unix:PATH serves a socket only this user can use (0600), which stock gdb connects to", async () => {
      // its own gdbserver: the test above killed its program, and gdbserver leaves with it
      const own = await startGdbServer(prog);
      const sock = join(dir, "bridge.sock");
      const child = spawnCli(
        ["--json", "gdb", "kbox", "--bridge", "--endpoint", `tcp:127.0.0.1:${own.port}`, "--listen", `unix:${sock}`],
        "src",
        { home },
      );
      child.stdin.end();
      try {
        await waitForOutput(child, /"bridge": "[^"]*bridge\.sock"/, 30_000);
        expect(statSync(sock).isSocket()).toBe(true);
        expect(statSync(sock).mode & 0o777).toBe(0o600);
        const r = await gdbBatch([prog, "-ex", `target remote ${sock}`, "-ex", "print/x $pc", "-ex", "kill"]);
        expect(r.stdout, r.stderr).toMatch(/\$1 = 0x[0-9a-f]+/);
      } finally {
        const exited = new Promise((res) => child.once("exit", res));
        child.kill("SIGTERM");
        await exited;
        await own.stop();
      }
      expect(existsSync(sock)).toBe(false); // removed when the bridge stops
    }, 90_000);
  });
});
