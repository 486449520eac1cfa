/**
 * The built-in Windows kernel debugger's commands (WinDbg/kd habits where they overlap): one command line in,
 * text and data out, against a KD client. Shared by `netdbg connect`'s REPL and --exec.
 */
import { open } from "node:fs/promises";
import { netdbgError } from "../../core/error.js";
import { AMD64_REGS, contextRegisters, hex, type KdClient } from "../../engine/kdnet/api.js";
import type { StateChange } from "../../engine/kdnet/kd.js";
import { walkStack } from "../../engine/kdnet/unwind.js";
import { columns } from "./columns.js";

export interface CommandResult {
  text: string;
  data?: unknown;
}

/** Hex digits per register in 'r' output (WinDbg style: 64-bit registers in full). */
const REG_WIDTH: Record<string, number> = { efl: 8, cs: 4, ss: 4, ds: 4, es: 4, fs: 4, gs: 4 };

export const COMMAND_NAMES = [
  "version",
  "lm",
  "r",
  "db",
  "dd",
  "dq",
  "k",
  "eb",
  "eq",
  "bp",
  "bl",
  "bc",
  "g",
  "t",
  "break",
  ".dump",
  ".reboot",
  "help",
  "q",
];

const MACHINES: Record<number, string> = { 34404: "x64", 332: "x86", 43620: "ARM64", 452: "ARM" };

export function describeState(s: StateChange): string {
  if (s.kind === "exception") {
    const what =
      s.code === 0x80000003 ? "Break instruction exception" : s.code === 0x80000004 ? "Single step exception" : "Exception";
    return `${what} - code ${s.code.toString(16).padStart(8, "0")} (${s.firstChance ? "first" : "second"} chance) at ${hex(s.address)}, cpu ${s.processor}`;
  }
  if (s.kind === "load-symbols") return `${s.unload ? "Unload" : "Load"} module ${s.path} at ${hex(s.base)}`;
  return `State change 0x${s.newState.toString(16)} at ${hex(s.pc)}`;
}

function parseNumber(text: string, what: string, command: string): bigint {
  const t = text.replace(/`/g, "").toLowerCase();
  const m = /^(0x)?([0-9a-f]+)$/.exec(t);
  if (!m) throw netdbgError("E507", { command, reason: `${what} '${text}' is not a hex number` });
  return BigInt(`0x${m[2]}`);
}

/** A count: hex by default as in WinDbg, `0n` for decimal, `0x` for hex. */
function parseCount(text: string, command: string): bigint {
  if (/^0n\d+$/i.test(text)) return BigInt(text.slice(2));
  return parseNumber(text, "count", command);
}

/** A 64-bit value as WinDbg prints it: 16 hex digits, a backtick between the halves. */
export function kdAddress(v: bigint): string {
  const a = v.toString(16).padStart(16, "0");
  return `${a.slice(0, 8)}\`${a.slice(8)}`;
}

const UNITS = { db: 1, dd: 4, dq: 8 } as const;
type DumpCommand = keyof typeof UNITS;

/** WinDbg's display layout: 16 bytes a row; db adds the ASCII column, dd and dq print little-endian values. */
export function hexdump(addr: bigint, data: Buffer, unit: 1 | 4 | 8): string {
  const rows: string[][] = [];
  for (let off = 0; off < data.length; off += 16) {
    const row = data.subarray(off, off + 16);
    const at = kdAddress(addr + BigInt(off));
    if (unit === 1) {
      const bytes = [...row].map((b) => b.toString(16).padStart(2, "0"));
      const left = bytes.slice(0, 8).join(" ");
      const right = bytes.slice(8).join(" ");
      const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".")).join("");
      rows.push([at, `${left}${right ? `-${right}` : ""}`, ascii]);
    } else {
      const vs: string[] = [];
      for (let i = 0; i + unit <= row.length; i += unit) {
        vs.push(unit === 8 ? kdAddress(row.readBigUInt64LE(i)) : row.readUInt32LE(i).toString(16).padStart(8, "0"));
      }
      rows.push([at, vs.join(" ")]);
    }
  }
  return columns(rows);
}

/** Executes one debugger command line against a KD client. Shared by the REPL and --exec. */
export class WindowsDebugger {
  private readonly bps = new Map<number, { address: bigint; handle: number }>();
  private nextBp = 0;
  constructor(
    readonly kd: KdClient,
    private readonly progress: (text: string) => void = () => {},
  ) {}

  private needStopped(what: string): void {
    if (!this.kd.session.stopped) throw netdbgError("E509", { what });
  }

  async exec(line: string): Promise<CommandResult> {
    const [cmd = "", ...args] = line.trim().split(/\s+/);
    const c = cmd.toLowerCase();
    const kd = this.kd;
    switch (c) {
      case "":
        return { text: "" };
      case "help":
      case "?":
        return {
          text: [
            "version                 kernel version, base, PsLoadedModuleList",
            "lm                      loaded modules",
            "r                       registers of cpu 0",
            "r <reg>=<value>         set a register",
            "db|dd|dq <addr> [L<n>]  bytes, dwords, quadwords: n of them (default 128 bytes' worth)",
            "db|dd|dq <from> <to>    the range, WinDbg style (L?<n> past 1 MiB)",
            "eb <addr> <b> [b …]     write bytes;  eq <addr> <q> [q …]  write quadwords",
            "k [n]                   stack walk of cpu 0 from the context (x64 unwind data, n frames)",
            "bp <addr> | bl | bc <n|*>  breakpoints",
            "g                       continue (wait for the next stop)",
            "t                       single-step",
            "break                   break in",
            ".dump <addr> <len> <file>  save memory to a file",
            ".reboot                 reboot the target",
          ].join("\n"),
        };
      case "version": {
        this.needStopped("'version'");
        const v = await kd.getVersion();
        const data = {
          build: v.minorVersion,
          major: v.majorVersion,
          machine: MACHINES[v.machineType] ?? hex(v.machineType),
          protocolVersion: v.protocolVersion,
          kernBase: hex(v.kernBase),
          psLoadedModuleList: hex(v.psLoadedModuleList),
          debuggerDataList: hex(v.debuggerDataList),
          multiprocessor: (v.flags & 1) !== 0,
        };
        return {
          text: `Windows kernel build ${v.minorVersion} ${data.machine} (${data.multiprocessor ? "MP" : "UP"}), KD protocol ${v.protocolVersion}\nKernel base = ${data.kernBase}  PsLoadedModuleList = ${data.psLoadedModuleList}`,
          data,
        };
      }
      case "lm": {
        this.needStopped("'lm'");
        const mods = await kd.modules();
        const rows = mods.map((m) => ({ base: hex(m.base), end: hex(m.base + BigInt(m.size)), name: m.name, path: m.path }));
        return {
          text: columns(
            mods.map((m) => [kdAddress(m.base), kdAddress(m.base + BigInt(m.size)), m.name]),
            ["start", "end", "module name"],
          ),
          data: rows,
        };
      }
      case "k": {
        this.needStopped("'k'");
        const max = args[0] ? Number(parseCount(args[0], line)) : 20;
        if (!Number.isSafeInteger(max) || max < 1 || max > 0x400)
          throw netdbgError("E507", { command: line, reason: "the frame count must be 1..0x400" });
        const regs = contextRegisters(await kd.getContext());
        const gp = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"];
        const mods = await kd.modules();
        const walk = await walkStack(
          (a, n) => kd.readVirtual(a, n),
          mods,
          { regs: gp.map((n) => regs[n] ?? 0n), rip: regs.rip ?? 0n },
          max,
        );
        const site = (f: { ip: bigint; module?: string; offset?: bigint }) =>
          f.module
            ? `${f.module.replace(/\.[^.]*$/, "").replace(/^ntoskrnl$/i, "nt")}+0x${f.offset!.toString(16)}`
            : kdAddress(f.ip);
        const rows = walk.frames.map((f) => [
          f.index.toString(16).padStart(2, "0"),
          kdAddress(f.childSp),
          kdAddress(f.retAddr),
          site(f),
        ]);
        const text = columns(rows, ["#", "Child-SP", "RetAddr", "Call Site"]);
        return {
          text: walk.stopped ? `${text}\n(${walk.stopped})` : text,
          data: {
            frames: walk.frames.map((f) => ({
              frame: f.index,
              childSp: hex(f.childSp),
              retAddr: hex(f.retAddr),
              callSite: site(f),
              how: f.how,
            })),
            ...(walk.stopped ? { stopped: walk.stopped } : {}),
          },
        };
      }
      case "r": {
        this.needStopped("'r'");
        if (args.length > 0) {
          // r <reg>=<value>: GetContext, change one register, SetContext.
          const m = /^([a-z0-9]+)=(.+)$/i.exec(args.join(""));
          const spec = m ? AMD64_REGS.find(([n]) => n === m[1]!.toLowerCase()) : undefined;
          if (!m || !spec)
            throw netdbgError("E507", { command: line, reason: "use 'r' or 'r <register>=<hex value>' (rax … r15, rip, efl)" });
          const value = parseNumber(m[2]!, "value", line);
          const ctxBuf = await kd.getContext();
          const [name, off, size] = spec;
          if (size === 8) ctxBuf.writeBigUInt64LE(value & 0xffffffffffffffffn, off);
          else if (size === 4) ctxBuf.writeUInt32LE(Number(value & 0xffffffffn), off);
          else ctxBuf.writeUInt16LE(Number(value & 0xffffn), off);
          await kd.setContext(ctxBuf);
          return { text: `${name}=${value.toString(16)}`, data: { [name]: hex(value) } };
        }
        const regs = contextRegisters(await kd.getContext());
        const data = Object.fromEntries(Object.entries(regs).map(([k, v]) => [k, hex(v)]));
        const names = Object.keys(regs);
        const lines: string[] = [];
        for (let i = 0; i < names.length; i += 3) {
          lines.push(
            names
              .slice(i, i + 3)
              .map((n) => `${n.padStart(3)}=${regs[n]!.toString(16).padStart(REG_WIDTH[n] ?? 16, "0")}`)
              .join(" "),
          );
        }
        return { text: lines.join("\n"), data };
      }
      case "db":
      case "dd":
      case "dq": {
        this.needStopped(`'${c}'`);
        if (!args[0]) throw netdbgError("E507", { command: line, reason: "an address is needed" });
        const unit = UNITS[c as DumpCommand];
        const addr = await this.address(args[0], line);
        const len = await this.dumpLength(addr, args.slice(1), unit, line);
        const data = await kd.readVirtual(addr, len);
        return { text: hexdump(addr, data, unit), data: { address: hex(addr), hex: data.toString("hex") } };
      }
      case "eb":
      case "eq": {
        this.needStopped(`'${c}'`);
        if (args.length < 2) throw netdbgError("E507", { command: line, reason: `usage: ${c} <addr> <value> [value …]` });
        const addr = await this.address(args[0]!, line);
        const values = args.slice(1).map((a) => parseNumber(a, "value", line));
        const unit = c === "eq" ? 8 : 1;
        const buf = Buffer.alloc(values.length * unit);
        values.forEach((v, i) => {
          if (unit === 8) buf.writeBigUInt64LE(v & 0xffffffffffffffffn, i * 8);
          else if (v > 0xffn) throw netdbgError("E507", { command: line, reason: `'${v.toString(16)}' is not a byte` });
          else buf[i] = Number(v);
        });
        await kd.writeVirtual(addr, buf);
        return { text: `wrote ${buf.length} bytes at ${hex(addr)}`, data: { address: hex(addr), bytes: buf.length } };
      }
      case "bp": {
        this.needStopped("'bp'");
        if (!args[0]) throw netdbgError("E507", { command: line, reason: "an address is needed" });
        const addr = await this.address(args[0], line);
        const handle = await kd.writeBreakpoint(addr);
        const n = this.nextBp++;
        this.bps.set(n, { address: addr, handle });
        return { text: `breakpoint ${n} at ${hex(addr)}`, data: { id: n, address: hex(addr) } };
      }
      case "bl":
        return {
          text: [...this.bps].map(([n, b]) => `${n} e ${hex(b.address)}`).join("\n") || "no breakpoints",
          data: [...this.bps].map(([n, b]) => ({ id: n, address: hex(b.address) })),
        };
      case "bc": {
        this.needStopped("'bc'");
        const which = args[0] === "*" ? [...this.bps.keys()] : [Number(args[0])];
        for (const n of which) {
          const b = this.bps.get(n);
          if (!b) throw netdbgError("E507", { command: line, reason: `there is no breakpoint ${args[0] ?? ""}` });
          await kd.restoreBreakpoint(b.handle);
          this.bps.delete(n);
        }
        return { text: `cleared ${which.length} breakpoint(s)`, data: { cleared: which } };
      }
      case "g": {
        this.needStopped("'g'");
        const next = kd.session.waitForStateChange(24 * 3600 * 1000);
        next.catch(() => {});
        await kd.continue();
        this.progress("target running (type 'break' or press Ctrl-C to break in)");
        const s = await next;
        return { text: describeState(s), data: { state: describeState(s), pc: hex(s.pc) } };
      }
      case "t": {
        this.needStopped("'t'");
        const s = await kd.step();
        return { text: describeState(s), data: { state: describeState(s), pc: hex(s.pc) } };
      }
      case "break": {
        if (kd.session.stopped) return { text: "the target is already stopped", data: { alreadyStopped: true } };
        const s = await kd.breakIn();
        return { text: describeState(s), data: { state: describeState(s), pc: hex(s.pc) } };
      }
      case ".dump": {
        this.needStopped("'.dump'");
        if (args.length < 3) throw netdbgError("E507", { command: line, reason: "usage: .dump <addr> <len> <file>" });
        const addr = await this.address(args[0]!, line);
        const len = Number(parseNumber(args[1]!, "length", line));
        const file = args.slice(2).join(" ");
        if (!Number.isSafeInteger(len) || len <= 0)
          throw netdbgError("E507", { command: line, reason: "the length must be a positive hex number" });
        const t0 = process.hrtime.bigint();
        let last = 0;
        // Streamed to the file 1 MiB at a time, so a large dump does not sit in memory.
        const fh = await open(file, "w");
        try {
          const piece = 1 << 20;
          for (let off = 0; off < len; off += piece) {
            const n = Math.min(piece, len - off);
            const data = await kd.readVirtual(addr + BigInt(off), n, (doneInPiece) => {
              const done = off + doneInPiece;
              const now = Date.now();
              if (now - last >= 250 || done === len) {
                last = now;
                const s = Number(process.hrtime.bigint() - t0) / 1e9;
                this.progress(
                  `  ${done}/${len} bytes (${Math.round((100 * done) / len)} %), ${Math.round(done / Math.max(s, 1e-6))} B/s`,
                );
              }
            });
            await fh.write(data);
          }
        } finally {
          await fh.close();
        }
        const secs = Number(process.hrtime.bigint() - t0) / 1e9;
        const rate = Math.round(len / Math.max(secs, 1e-6));
        return {
          text: `wrote ${len} bytes to ${file} in ${secs.toFixed(2)} s (${rate} B/s)`,
          data: { file, bytes: len, seconds: secs, bytesPerSecond: rate },
        };
      }
      case ".reboot":
        this.needStopped("'.reboot'");
        await kd.reboot();
        return { text: "target rebooting; netdbg will answer its next poke", data: { rebooting: true } };
      default:
        throw netdbgError("E507", { command: line, reason: `'${cmd}' is not a command` });
    }
  }

  /**
   * Before netdbg exits: never leave a kernel frozen. When the target waits in the debugger (a '.reboot' or 'g'
   * leaves it running), remove our breakpoints and continue it. Returns whether it was resumed.
   */
  async leave(): Promise<boolean> {
    const s = this.kd.session;
    if (!s.connected || !s.stopped) return false;
    try {
      for (const [n, b] of [...this.bps]) {
        await this.kd.restoreBreakpoint(b.handle);
        this.bps.delete(n);
      }
      await this.kd.continue();
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The byte count of a display command's range, WinDbg's syntax: none (128 bytes), `L<n>` (n units; `L?<n>`
   * lifts netdbg's 1 MiB limit), or an end address (the unit at the end address included).
   */
  private async dumpLength(addr: bigint, rest: string[], unit: number, line: string): Promise<number> {
    if (rest.length === 0) return 128;
    const spec = rest.join(" ");
    const m = /^[lL](\?)?\s*(\S+)$/.exec(spec);
    let bytes: bigint;
    let limit = 1n << 20n;
    if (m) {
      if (m[1]) limit = 1n << 30n;
      const count = parseCount(m[2]!, line);
      if (count === 0n) throw netdbgError("E507", { command: line, reason: "the count after L must be at least 1" });
      bytes = count * BigInt(unit);
    } else {
      if (rest.length !== 1)
        throw netdbgError("E507", { command: line, reason: `use '${rest[0]} <addr> L<count>' or '<from> <to>'` });
      const end = await this.address(rest[0]!, line);
      if (end < addr) throw netdbgError("E507", { command: line, reason: "the range ends before it starts" });
      bytes = end - addr + BigInt(unit);
    }
    if (bytes > limit)
      throw netdbgError("E507", {
        command: line,
        reason: `the range is ${bytes} bytes, over the ${limit} byte limit (write L?<count> to mean it, or use .dump)`,
      });
    return Number(bytes);
  }

  /** hex address, or @reg from the current context. */
  private async address(text: string, line: string): Promise<bigint> {
    // term (('+'|'-') term)*, a term being a hex number, @register, 'nt' or a loaded module's name (lm).
    const parts = text.split(/([+-])/);
    let total = 0n;
    let sign = 1n;
    for (const part of parts) {
      if (part === "+" || part === "-") {
        sign = part === "+" ? 1n : -1n;
        continue;
      }
      if (part === "") throw netdbgError("E507", { command: line, reason: `'${text}' is not an address` });
      total += sign * (await this.term(part, line));
    }
    return total & 0xffffffffffffffffn;
  }

  private modulesCache: Map<string, bigint> | undefined;

  private async term(t: string, line: string): Promise<bigint> {
    if (t.startsWith("@")) {
      const regs = contextRegisters(await this.kd.getContext());
      const v = regs[t.slice(1).toLowerCase()];
      if (v === undefined) throw netdbgError("E507", { command: line, reason: `no register ${t}` });
      return v;
    }
    if (/^(0x)?[0-9a-f`]+$/i.test(t)) return parseNumber(t, "address", line);
    const name = t.toLowerCase();
    if (name === "nt") return (this.kd.version ?? (await this.kd.getVersion())).kernBase;
    if (!this.modulesCache) {
      this.modulesCache = new Map();
      for (const m of await this.kd.modules()) {
        const base = m.name.toLowerCase();
        this.modulesCache.set(base, m.base);
        this.modulesCache.set(base.replace(/\.[^.]*$/, ""), m.base);
      }
    }
    const v = this.modulesCache.get(name);
    if (v === undefined)
      throw netdbgError("E507", { command: line, reason: `'${t}' is neither a hex number, a register nor a loaded module` });
    return v;
  }
}
