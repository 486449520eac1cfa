import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readElfSymbols } from "../../src/engine/elf.js";
import { BANNER, BANNER_ADDR, pattern, TEXT_BASE, UdpKgdbStub } from "../../src/peers/rsp-stub.js";
import { runCliSource as runCli, stateDirWith } from "../helpers/cli.js";
import { type GdbServer, requireTool, startGdbServer, TEST_PROGRAM } from "../helpers/tools.js";

let dir: string;
let home: string;
let prog: string;
const cli = (args: string[], o: { input?: string } = {}) => runCli(args, { ...o, env: { NETDBG_HOME: home } });

beforeAll(() => {
  requireTool("gcc", "gcc");
  requireTool("gdbserver", "gdbserver");
  dir = mkdtempSync(join(tmpdir(), "rsp-connect-"));
  writeFileSync(join(dir, "prog.c"), TEST_PROGRAM);
  prog = join(dir, "prog");
  execFileSync("gcc", ["-O0", "-g", "-no-pie", "-fno-omit-frame-pointer", "-o", prog, join(dir, "prog.c")]);
  home = stateDirWith([{ name: "box", os: "linux", address: "127.0.0.1" }]);
});

afterAll(() => {
  for (const d of [dir, home]) if (d) rmSync(d, { recursive: true, force: true });
});

describe("netdbg connect <linux target>", () => {
  let server: GdbServer | undefined;
  afterAll(async () => server?.stop());

  it("--exec against real gdbserver: break, continue, regs, x/s, x/xb, bt, threads, dump, --json, detach", async () => {
    server = await startGdbServer(prog);
    const detached = new Promise<void>((r) =>
      server!.child.stderr!.on("data", (d: Buffer) => /Detaching/.test(d.toString()) && r()),
    );
    const out = join(dir, "dump.bin");
    const syms = await readElfSymbols(prog);
    const r = await cli([
      "--json",
      "connect",
      "box",
      "--endpoint",
      `tcp:127.0.0.1:${server.port}`,
      "--vmlinux",
      prog,
      "--exec",
      `break ready; continue; regs; x/s banner; x/4xb big; bt; threads; delete; dump big 65536 ${out}`,
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { results: { command: string; data: Record<string, unknown> }[]; arch: string };
    expect(j.arch).toBe("x86_64");
    const by = (c: string) => j.results.find((x) => x.command.startsWith(c))!.data;
    expect(by("continue")).toMatchObject({ signal: 5, symbol: "ready" });
    expect(by("regs").rip).toBe(`0x${syms.lookup("ready")!.value.toString(16)}`);
    expect(by("x/s")).toMatchObject({ strings: ["netdbg gdbserver test banner"] });
    expect((by("x/4xb") as { hex: string }).hex).toBe(pattern(4, 0x1234567).toString("hex"));
    const frames = (by("bt") as { frames: { symbol?: string }[] }).frames;
    expect(frames[0]!.symbol).toBe("ready");
    expect(frames.some((f) => f.symbol?.startsWith("main+"))).toBe(true);
    expect((by("threads") as { total: number }).total).toBeGreaterThanOrEqual(1);
    expect(by("dump")).toMatchObject({ bytes: 65536 });
    expect(readFileSync(out).equals(pattern(65536, 0x1234567))).toBe(true);
    await detached; // the session ended with D: gdbserver lets the program go
  });

  it("human output over UDP against a kgdb-like stub, and the kernel runs on after the session", async () => {
    const stub = new UdpKgdbStub({ flushSize: 30 });
    const port = await stub.start();
    try {
      const r = await cli([
        "connect",
        "box",
        "--endpoint",
        `udp:127.0.0.1:${port}`,
        "--exec",
        `regs; x/s ${BANNER_ADDR}; x/2xg 0x${TEXT_BASE.toString(16)}; detach`,
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/attached to box \(udp:127\.0\.0\.1:\d+, x86_64, 496-byte memory packets\): stopped, signal 5/);
      expect(r.stdout).toMatch(/^rip\s+0xffffffff81001234\s+0xffffffff81001234$/m);
      expect(r.stdout).toContain(JSON.stringify(BANNER));
      const q = pattern(16);
      expect(r.stdout).toContain(`0x${q.readBigUInt64LE(0).toString(16).padStart(16, "0")}`);
      expect(r.stdout).toContain("detached: the target runs on");
      expect(stub.stub.running).toBe(true);
      expect(stub.stub.connected).toBe(false);
      expect(stub.stub.stats.overflows).toBe(0);
    } finally {
      await stub.stop();
    }
  });

  it("x/2s shows each string at its own address and reads each 64-byte piece with one request", async () => {
    const stub = new UdpKgdbStub({ flushSize: 30 });
    const port = await stub.start();
    try {
      const r = await cli([
        "--json",
        "connect",
        "box",
        "--endpoint",
        `udp:127.0.0.1:${port}`,
        "--exec",
        `x/2s 0x${BANNER_ADDR.toString(16)}; detach`,
      ]);
      expect(r.code, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout) as { results: { command: string; data: Record<string, unknown> }[] };
      const x = j.results.find((c) => c.command.startsWith("x/2s"))!;
      // the banner, its NUL, then the empty string that the NUL after it ends
      const second = BANNER_ADDR + BigInt(BANNER.length + 1);
      expect(x.data).toMatchObject({
        strings: [BANNER, ""],
        addresses: [`0x${BANNER_ADDR.toString(16)}`, `0x${second.toString(16)}`],
      });
      // 66 bytes and a NUL in two pieces, the empty string in one: three requests, never a piece split in two
      const reads = stub.stub.stats.commands.filter(
        (c) => c.startsWith("m") && BigInt(`0x${c.slice(1).split(",")[0]}`) >= BANNER_ADDR,
      );
      expect(reads).toHaveLength(3);
      const human = await cli([
        "connect",
        "box",
        "--endpoint",
        `udp:127.0.0.1:${port}`,
        "--exec",
        `x/2s 0x${BANNER_ADDR.toString(16)}`,
      ]);
      expect(human.stdout).toMatch(new RegExp(`^0x${second.toString(16)}:\\s+""$`, "m"));
    } finally {
      await stub.stop();
    }
  });

  it("the REPL reads commands from stdin and reports a bad command with its code without ending", async () => {
    const stub = new UdpKgdbStub();
    const port = await stub.start();
    try {
      const r = await cli(["connect", "box", "--endpoint", `udp:127.0.0.1:${port}`], {
        input: "frobnicate\nx/s linux_banner\nx/s 0xffffffff82000000\nquit\n",
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain("NETDBG-E408");
      expect(r.stderr).toContain("NETDBG-E404"); // a symbol without --vmlinux
      expect(r.stdout).toContain(JSON.stringify(BANNER));
      expect(stub.stub.connected).toBe(false);
    } finally {
      await stub.stop();
    }
  });

  it("reports a target that does not answer with E400 and a diagnosis", async () => {
    const stub = new UdpKgdbStub();
    const port = await stub.start();
    await stub.stop();
    const r = await cli(["connect", "box", "--endpoint", `udp:127.0.0.1:${port}`, "--timeout", "1", "--exec", "regs"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("NETDBG-E400");
    expect(r.stderr).toMatch(/unreachable/);
  });

  it("rejects a malformed endpoint with E403", async () => {
    const r = await cli(["connect", "box", "--endpoint", "udp:nowhere", "--exec", "regs"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("NETDBG-E403");
  });

  it("follows gdb's habits: x/4gx $rsp (letters in either order), info registers, info breakpoints", async () => {
    const stub = new UdpKgdbStub();
    const port = await stub.start();
    try {
      const text = `0x${TEXT_BASE.toString(16)}`;
      const r = await cli([
        "--json",
        "connect",
        "box",
        "--endpoint",
        `udp:127.0.0.1:${port}`,
        "--exec",
        `x/4gx $rsp; x/4xg $sp; x/2tb ${text}; info registers rip rbx; i r; break ${text}; hbreak ${text}+8; info breakpoints; detach`,
      ]);
      expect(r.code, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout) as {
        results: { command: string; ok: boolean; data: Record<string, unknown>; error?: { code: string; message: string } }[];
      };
      const at = (i: number) => j.results[i]!;
      const stack = Buffer.alloc(256);
      stack.write(BANNER, "latin1");
      const quads = [0, 1, 2, 3].map(
        (i) =>
          `0x${stack
            .readBigUInt64LE(0x40 + i * 8)
            .toString(16)
            .padStart(16, "0")}`,
      );
      expect(at(0).data).toMatchObject({ address: `0x${(BANNER_ADDR + 0x40n).toString(16)}`, unit: 8, values: quads });
      expect(at(1).data).toEqual(at(0).data);
      const b = pattern(2);
      expect(at(2).data).toMatchObject({ values: [...b].map((x) => x.toString(2).padStart(8, "0")) });
      expect(at(3).data).toEqual({ rip: "0xffffffff81001234", rbx: "0x2222" });
      expect(Object.keys(at(4).data)).toContain("eflags");
      expect(at(7).data).toEqual({
        breakpoints: [
          { id: 1, address: text, hardware: false },
          { id: 2, address: `0x${(TEXT_BASE + 8n).toString(16)}`, hardware: true },
        ],
      });
      const float = await cli(["--json", "connect", "box", "--endpoint", `udp:127.0.0.1:${port}`, "--exec", `x/4fw ${text}`]);
      expect(float.code).toBe(2);
      expect(JSON.parse(float.stdout).error).toMatchObject({
        code: "NETDBG-E408",
        message: expect.stringMatching(/format 'f' \(float\) is not implemented/),
      });
      const human = await cli([
        "connect",
        "box",
        "--endpoint",
        `udp:127.0.0.1:${port}`,
        "--exec",
        `info registers rbx; break ${text}; info breakpoints`,
      ]);
      expect(human.code, human.stderr).toBe(0);
      expect(human.stdout).toMatch(/^rbx {2}0x0000000000002222 {2}8738$/m);
      expect(human.stdout).toMatch(/^Num {2}Type {8}Disp {2}Enb {2}Address {13}What$/m);
      expect(human.stdout).toMatch(/^1 {4}breakpoint {2}keep {2}y {4}0xffffffff81000000$/m);
    } finally {
      await stub.stop();
    }
  });
});
