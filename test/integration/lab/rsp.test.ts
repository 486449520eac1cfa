/**
 * netdbg's RSP client against REAL kgdb: the lab's KGDB kernel (built by `netdbg lab build`, reused from its
 * cache) under QEMU TCG, kgdboc on ttyS1 (https://docs.kernel.org/process/debugging/kgdb.html) wired to
 * UDP on loopback with QEMU's `-serial udp:…` (https://www.qemu.org/docs/master/system/invocation.html) through a
 * relay (test/helpers/serial-relay.ts). This file boots its own QEMU (loopback only, no network device, the lab's
 * disk image in snapshot mode) so it never competes with the one-per-machine `netdbg lab up`.
 * In the same stop of the kernel, netdbg and a real gdb must read the same registers and memory; then netdbg
 * sets and hits a breakpoint, walks the stack, steps and detaches, and the kernel runs on.
 * Run by `npm run test:lab`.
 */
import { execa } from "execa";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readElfSymbols } from "../../../src/engine/elf.js";
import { findLabImage, KgdbVm } from "../../helpers/kgdb-vm.js";

const root = new URL("../../../", import.meta.url).pathname;
const bin = join(root, "bin/netdbg.js");
const work = mkdtempSync(join(tmpdir(), "rsp-lab-"));
const env = { NETDBG_HOME: work, NO_COLOR: "1" };
const vm = new KgdbVm(work);
let vmlinux: string;
let endpoint: string;
const consoleLog = vm.consoleLog;
const breakIn = () => vm.breakIn();

async function netdbg(args: string[], timeout = 600_000) {
  const t0 = Date.now();
  const r = await execa(process.execPath, [bin, ...args], { env, reject: false, timeout, all: true });
  console.log(
    `[rsp-lab] netdbg ${args.join(" ").slice(0, 160)} -> exit ${r.exitCode} in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  return r;
}

function need(tool: string, pkg: string) {
  if (!process.env.PATH?.split(":").some((d) => existsSync(join(d, tool))))
    throw new Error(`${tool} is missing: apt-get install ${pkg}`);
}

beforeAll(async () => {
  need("qemu-system-x86_64", "qemu-system-x86");
  need("gdb", "gdb");
  if (!findLabImage()) {
    const b = await netdbg(["lab", "build"], 3_000_000);
    if (b.exitCode !== 0) throw new Error(`netdbg lab build failed:\n${b.all}`);
  }
  writeFileSync(join(work, "targets.yaml"), "version: 1\ntargets:\n  - { name: lab, os: linux, address: 127.0.0.1 }\n");
  await vm.boot((m) => console.log(`[rsp-lab] ${m}`));
  vmlinux = vm.vmlinux;
  endpoint = vm.endpoint;
}, 3_000_000);

afterAll(async () => {
  await vm.stop();
  rmSync(work, { recursive: true, force: true });
});

function parseRegs(text: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const line of text.split("\n")) {
    const m = /^(\w+)\s+(0x[0-9a-f]+)/.exec(line);
    if (m) out.set(m[1]!, BigInt(m[2]!));
  }
  return out;
}

describe("netdbg connect against real kgdb (lab, kgdboc over UDP)", () => {
  it("reads the same registers and memory as a real gdb in the same stop", async () => {
    const syms = await readElfSymbols(vmlinux);
    const text = syms.lookup("_text")?.value ?? syms.lookup("startup_64")!.value;
    await breakIn();
    const ours = join(work, "netdbg.bin");
    const r = await netdbg([
      "--json",
      "connect",
      "lab",
      "--endpoint",
      endpoint,
      "--vmlinux",
      vmlinux,
      "--exec",
      `regs; x/s linux_banner; x/16xb linux_banner; dump 0x${text.toString(16)} 65536 ${ours}; threads; disconnect`,
    ]);
    expect(r.exitCode, r.all).toBe(0);
    const j = JSON.parse(r.stdout) as {
      results: { command: string; data: Record<string, unknown> }[];
      stats: Record<string, unknown>;
    };
    console.log(`[rsp-lab] netdbg stats ${JSON.stringify(j.stats)}`);
    const by = (c: string) => j.results.find((x) => x.command.startsWith(c))!.data;
    const regs = by("regs") as Record<string, string>;
    const banner = (by("x/s") as { strings: string[] }).strings[0]!;
    expect(banner).toContain("6.1.192-kgdb");

    // the kernel is still stopped: real gdb attaches to the same stop
    const theirs = join(work, "gdb.bin");
    const g = await execa(
      "gdb",
      [
        "-q",
        "-batch",
        "-nx",
        vmlinux,
        "-ex",
        "set remotetimeout 20",
        "-ex",
        `target remote ${endpoint}`,
        "-ex",
        "info registers",
        "-ex",
        "x/s (char *)&linux_banner",
        "-ex",
        "x/16xb (char *)&linux_banner",
        "-ex",
        `dump binary memory ${theirs} 0x${text.toString(16)} 0x${(text + 65536n).toString(16)}`,
        "-ex",
        "detach",
      ],
      { reject: false, timeout: 300_000, all: true },
    );
    const gdbRegs = parseRegs(g.stdout);
    const names = "rax rbx rcx rdx rsi rdi rbp rsp r8 r9 r10 r11 r12 r13 r14 r15 rip eflags cs ss ds es".split(" ");
    for (const n of names) {
      expect(regs[n], `netdbg ${n}`).toBeDefined();
      expect({ n, v: BigInt(regs[n]!) }, g.all).toEqual({ n, v: gdbRegs.get(n) });
    }
    expect(g.stdout).toContain(JSON.stringify(banner).slice(0, -3)); // gdb prints the trailing \n as "\n"
    const xb = (by("x/16xb") as { hex: string }).hex;
    const gdbBytes = [...g.stdout.matchAll(/0x([0-9a-f]{2})(?=\s|$)/g)].map((m) => m[1]).join("");
    expect(gdbBytes).toContain(xb);
    expect(readFileSync(ours).equals(readFileSync(theirs))).toBe(true);
  });

  it("sets and hits a breakpoint, walks the stack, detaches; the kernel runs on", async () => {
    await breakIn();
    const r = await netdbg([
      "--json",
      "connect",
      "lab",
      "--endpoint",
      endpoint,
      "--vmlinux",
      vmlinux,
      "--exec",
      "break process_one_work; continue; bt 6; delete; step; detach",
    ]);
    expect(r.exitCode, r.all).toBe(0);
    const j = JSON.parse(r.stdout) as { results: { command: string; data: Record<string, unknown> }[] };
    const by = (c: string) => j.results.find((x) => x.command.startsWith(c))!.data;
    expect(by("continue")).toMatchObject({ signal: 5, symbol: "process_one_work" });
    const frames = (by("bt") as { frames: { symbol?: string }[] }).frames;
    expect(frames[0]!.symbol).toBe("process_one_work");
    expect(frames.length).toBeGreaterThanOrEqual(2);
    expect(frames[1]!.symbol, JSON.stringify(frames)).toMatch(/^(worker_thread|rescuer_thread)\+0x/); // both call process_one_work
    expect(by("step")).toMatchObject({ signal: 5 });
    expect(by("detach")).toEqual({ detached: true });
    // the kernel runs on: its console keeps going and it can be broken into again
    const before = readFileSync(consoleLog, "latin1").length;
    await breakIn();
    const again = await netdbg(["connect", "lab", "--endpoint", endpoint, "--exec", "regs; detach"]);
    expect(again.exitCode, again.all).toBe(0);
    expect(again.stdout).toMatch(/^rip\s+0xffffffff8/m);
    expect(readFileSync(consoleLog, "latin1").length).toBeGreaterThanOrEqual(before);
  });
});
