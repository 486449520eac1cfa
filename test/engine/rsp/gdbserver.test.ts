import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readElfSymbols, type SymbolTable } from "../../../src/engine/elf.js";
import { RspClient } from "../../../src/engine/rsp/client.js";
import { GdbRemote } from "../../../src/engine/rsp/remote.js";
import { TcpTransport } from "../../../src/engine/transport/tcp.js";
import { pattern } from "../../../src/peers/rsp-stub.js";
import { type GdbServer, gdbBatch, parseInfoRegisters, requireTool, startGdbServer, TEST_PROGRAM } from "../../helpers/tools.js";

/**
 * Against a REAL gdbserver (Debian package `gdbserver`) over TCP on loopback, on a C program built here:
 * netdbg's client stops the program at a breakpoint, reads registers and memory; then a real
 * `gdb -batch` connects to the same stopped program and must read the same values.
 */
let dir: string;
let prog: string;
let server: GdbServer;
let syms: SymbolTable;

beforeAll(async () => {
  requireTool("gcc", "gcc");
  requireTool("gdb", "gdb");
  requireTool("gdbserver", "gdbserver");
  dir = mkdtempSync(join(tmpdir(), "rsp-gdbserver-"));
  writeFileSync(join(dir, "prog.c"), TEST_PROGRAM);
  prog = join(dir, "prog");
  execFileSync("gcc", ["-O0", "-g", "-no-pie", "-o", prog, join(dir, "prog.c")]);
  syms = await readElfSymbols(prog);
  server = await startGdbServer(prog);
});

afterAll(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("netdbg's RSP client and real gdb agree on a gdbserver target", () => {
  const seen: { regs?: Map<string, bigint>; big?: Buffer } = {};

  it("reads ELF symbols of the test program", () => {
    expect(syms.arch).toBe("x86_64");
    expect(syms.lookup("ready")?.type).toBe(2);
    expect(syms.lookup("big")?.size).toBe(1n << 20n);
    const ready = syms.lookup("ready")!.value;
    expect(syms.format(ready + 4n)).toBe("ready+0x4");
  });

  it("netdbg: attach, break at ready(), continue, registers, 1 MiB of memory, write, disconnect", async () => {
    const t = await TcpTransport.open({ kind: "tcp", host: "127.0.0.1", port: server.port });
    const client = new RspClient(t);
    const remote = new GdbRemote(client);
    const info = await remote.attach();
    expect(info.arch).toBe("x86_64"); // from gdbserver's target.xml
    expect(info.features.PacketSize).toBeDefined();
    expect(info.stop.signal).toBe(5);
    // gdbserver grants QStartNoAckMode over TCP (as gdb uses it), and its PacketSize sets the chunk
    expect(client.ackMode).toBe(false);
    expect(remote.maxMemory).toBe(Math.floor((Number.parseInt(String(info.features.PacketSize), 16) - 32) / 2));
    expect(remote.maxMemory).toBeGreaterThan(8192);
    const ready = syms.lookup("ready")!.value;
    await remote.setBreakpoint(ready);
    const stop = await remote.cont();
    expect(stop.signal).toBe(5);
    await remote.removeBreakpoint(ready);
    const regs = await remote.registers();
    expect(regs.values.get("rip")).toBe(ready);
    seen.regs = regs.values;
    const banner = await remote.readMemory(syms.lookup("banner")!.value, 28);
    expect(banner.toString()).toBe("netdbg gdbserver test banner");
    // without acks a reply equal to the previous one is the answer, not a duplicate to wait past
    const again = [
      await remote.readMemory(syms.lookup("banner")!.value, 1),
      await remote.readMemory(syms.lookup("banner")!.value, 1),
    ];
    expect(again.map((b) => b.toString())).toEqual(["n", "n"]);
    await remote.writeMemory(syms.lookup("banner")!.value, Buffer.from("NETDBG"));
    const big = await remote.readMemory(syms.lookup("big")!.value, 1 << 20);
    expect(big.equals(pattern(1 << 20, 0x1234567))).toBe(true);
    seen.big = big;
    expect((await remote.threads()).length).toBeGreaterThanOrEqual(1);
    await client.close(); // no detach: gdbserver keeps the program stopped for the next debugger
  });

  it("real gdb reads the same registers and memory", async () => {
    expect(seen.regs).toBeDefined();
    const out = join(dir, "big.bin");
    const r = await gdbBatch([
      prog,
      "-ex",
      `target remote 127.0.0.1:${server.port}`,
      "-ex",
      "info registers",
      "-ex",
      "x/s banner",
      "-ex",
      `dump binary memory ${out} &big[0] &big[1048576]`,
      "-ex",
      "kill",
    ]);
    const gdbRegs = parseInfoRegisters(r.stdout);
    const names = "rax rbx rcx rdx rsi rdi rbp rsp r8 r9 r10 r11 r12 r13 r14 r15 rip eflags cs ss ds es fs gs".split(" ");
    expect(gdbRegs.get("rip")).toBe(syms.lookup("ready")!.value);
    for (const n of names) {
      expect(seen.regs!.get(n), n).toBeDefined();
      expect({ n, v: seen.regs!.get(n) }).toEqual({ n, v: gdbRegs.get(n) });
    }
    expect(r.stdout).toContain('"NETDBG gdbserver test banner"');
    expect(readFileSync(out).equals(seen.big!)).toBe(true);
  });
});
