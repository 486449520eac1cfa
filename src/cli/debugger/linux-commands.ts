import { netdbgError } from "../../core/error.js";
import type { SymbolTable } from "../../engine/elf.js";
import { type GdbRemote, LAYOUTS, type StopReply, SPECIAL } from "../../engine/rsp/index.js";
import { columns } from "./columns.js";

/**
 * The debugger commands of `netdbg connect` for Linux (kgdb/kgdboe) targets. Each command returns a result
 * with human text and a JSON-able value; the REPL, `--exec` and `--json` are thin layers around `run`.
 */

export interface CommandResult {
  command: string;
  text: string;
  data?: unknown;
  /** The session ends after this command (detach, quit). */
  end?: boolean;
}

export interface DebuggerIo {
  /** Progress of long transfers (dump): done/total bytes and bytes per second. */
  progress?: (done: number, total: number, bytesPerSecond: number) => void;
  /** Write a dump file (cli does the I/O). */
  writeFile: (file: string, data: Buffer) => Promise<void>;
}

export const COMMANDS = [
  "regs",
  "info",
  "x/",
  "break",
  "hbreak",
  "delete",
  "continue",
  "step",
  "bt",
  "threads",
  "dump",
  "monitor",
  "detach",
  "quit",
  "help",
];

const HELP = `commands:
  info registers [reg…] | regs  registers (pc symbolized with --vmlinux)      info breakpoints   breakpoints
  x/<n><f><u> <addr>            examine memory: f = x d u o t a c s, u = b h w g, in either order
                                (x/4gx $rsp, x/s linux_banner, x/16xb $pc)
  break <addr> / hbreak <addr>  software / hardware breakpoint      delete [n]   remove one or all
  continue | c                  run until a breakpoint (Ctrl-C breaks in)   step | s   one instruction
  bt [n]                        backtrace by frame pointers          threads     kernel tasks (kgdb threads)
  dump <addr> <len> <file>      save memory to a file (progress, bytes/s)
  monitor <cmd>                 kdb command (kernels with CONFIG_KGDB_KDB)
  detach                        leave the debugger; the kernel runs on     quit   detach and exit
  disconnect                    exit but leave the target stopped (another debugger may attach)
addresses: 0x…, decimal, a symbol (needs --vmlinux), $reg, with +/- offsets: linux_banner+0x10`;

const UNIT: Record<string, number> = { b: 1, h: 2, w: 4, g: 8 };

export class LinuxDebugger {
  private breakpoints: { id: number; addr: bigint; hw: boolean }[] = [];
  private nextId = 1;
  private lastRegs: Map<string, bigint> | undefined;
  /** The session is over for the target: detached, or disconnected leaving it stopped. */
  done = false;

  constructor(
    readonly remote: GdbRemote,
    readonly symbols: SymbolTable | undefined,
    private readonly io: DebuggerIo,
  ) {}

  private bad(input: string, reason: string): never {
    throw netdbgError("E408", { input, reason });
  }

  fmt(addr: bigint): string {
    const hex = `0x${addr.toString(16).padStart(16, "0")}`;
    const s = this.symbols?.symbolize(addr);
    if (!s) return hex;
    return `${hex} <${s.offset === 0n ? s.symbol.name : `${s.symbol.name}+0x${s.offset.toString(16)}`}>`;
  }

  /** Resolve `0x…`, decimal, `$reg`, `symbol`, each optionally `+`/`-` offsets. */
  async address(expr: string, input: string): Promise<bigint> {
    const parts = expr.replace(/\s+/g, "").split(/(?=[+-])/);
    let total = 0n;
    for (const raw of parts) {
      const neg = raw.startsWith("-");
      const term = raw.replace(/^[+-]/, "");
      let v: bigint;
      if (/^0x[0-9a-f]+$/i.test(term)) v = BigInt(term);
      else if (/^\d+$/.test(term)) v = BigInt(term);
      else if (/^\$\w+$/.test(term)) {
        const regs = await this.registers();
        const name =
          term.slice(1) === "pc"
            ? SPECIAL[this.remote.arch].pc
            : term.slice(1) === "sp"
              ? SPECIAL[this.remote.arch].sp
              : term.slice(1);
        const r = regs.get(name);
        if (r === undefined) this.bad(input, `no register '${term}'`);
        v = r;
      } else if (/^[A-Za-z_.][\w.$]*$/.test(term)) {
        if (!this.symbols) throw netdbgError("E404", { name: term, source: "(no --vmlinux given)" });
        const sym = this.symbols.lookup(term);
        if (!sym) throw netdbgError("E404", { name: term, source: this.symbols.file });
        v = sym.value;
      } else this.bad(input, `cannot read '${term}' as an address`);
      total += neg ? -v : v;
    }
    return BigInt.asUintN(64, total);
  }

  private async registers(): Promise<Map<string, bigint>> {
    this.lastRegs ??= (await this.remote.registers()).values;
    return this.lastRegs;
  }

  private stopText(stop: StopReply, pc: bigint | undefined): string {
    if (stop.kind === "exited") return `target exited with status ${stop.signal}`;
    const where = pc !== undefined ? ` at ${this.fmt(pc)}` : "";
    const bp = pc !== undefined ? this.breakpoints.find((b) => b.addr === pc) : undefined;
    return `stopped (signal ${stop.signal}${stop.thread ? `, thread ${stop.thread}` : ""})${bp ? `, breakpoint ${bp.id}` : ""}${where}`;
  }

  async run(line: string): Promise<CommandResult> {
    const input = line.trim();
    const [word = "", ...rest] = input.split(/\s+/);
    const args = rest.join(" ");
    if (word !== "regs" && !word.startsWith("x")) this.lastRegs = undefined;
    if (word.startsWith("x/") || word === "x") return this.examine(input, word, args);
    switch (word) {
      case "":
        return { command: input, text: "" };
      case "help":
      case "?":
        return { command: "help", text: HELP };
      case "regs":
      case "registers":
        return this.infoRegisters(input, "regs", []);
      case "break":
      case "b":
      case "hbreak": {
        if (!args) this.bad(input, "give an address or symbol");
        const addr = await this.address(args, input);
        const hw = word === "hbreak";
        await this.remote.setBreakpoint(addr, hw);
        const id = this.nextId++;
        this.breakpoints.push({ id, addr, hw });
        return {
          command: input,
          text: `${hw ? "hardware " : ""}breakpoint ${id} at ${this.fmt(addr)}`,
          data: { id, address: `0x${addr.toString(16)}`, hardware: hw },
        };
      }
      case "delete":
      case "d": {
        const which = args ? this.breakpoints.filter((b) => String(b.id) === args) : [...this.breakpoints];
        if (args && which.length === 0) this.bad(input, `no breakpoint ${args}`);
        for (const b of which) {
          await this.remote.removeBreakpoint(b.addr, b.hw);
          this.breakpoints = this.breakpoints.filter((x) => x !== b);
        }
        return { command: input, text: `deleted ${which.length} breakpoint(s)`, data: { deleted: which.map((b) => b.id) } };
      }
      case "info":
      case "i":
        return this.info(input, rest);
      case "continue":
      case "c":
      case "step":
      case "s":
      case "stepi":
      case "si": {
        const stop = word.startsWith("c") ? await this.remote.cont() : await this.remote.step();
        const pc = stop.kind === "stopped" ? await this.remote.pc().catch(() => undefined) : undefined;
        return {
          command: input,
          text: this.stopText(stop, pc),
          data: {
            signal: stop.signal,
            kind: stop.kind,
            thread: stop.thread,
            pc: pc !== undefined ? `0x${pc.toString(16)}` : undefined,
            symbol: pc !== undefined ? this.symbols?.format(pc) : undefined,
          },
        };
      }
      case "bt":
      case "backtrace":
        return this.backtrace(input, args ? Number(args) : 32);
      case "threads": {
        const ids = await this.remote.threads();
        const rows: { id: string; name?: string }[] = [];
        for (const id of ids.slice(0, 256)) {
          const name = await this.remote.threadInfo(id).catch(() => undefined);
          rows.push(name ? { id, name } : { id });
        }
        const more = ids.length > rows.length ? `\n… ${ids.length - rows.length} more` : "";
        return {
          command: input,
          text: rows.map((r) => `${r.id.padStart(9)}  ${r.name ?? ""}`).join("\n") + more,
          data: { threads: rows, total: ids.length },
        };
      }
      case "dump": {
        const m = /^(\S+)\s+(\S+)\s+(.+)$/.exec(args);
        if (!m) this.bad(input, "usage: dump <addr> <len> <file>");
        const addr = await this.address(m[1]!, input);
        const len = Number(m[2]);
        if (!Number.isSafeInteger(len) || len <= 0 || len > 1 << 30) this.bad(input, "length must be 1 byte to 1 GiB");
        const t0 = performance.now();
        const data = await this.remote.readMemory(addr, len, (done, total) => {
          const s = (performance.now() - t0) / 1000;
          this.io.progress?.(done, total, s > 0 ? done / s : 0);
        });
        const seconds = (performance.now() - t0) / 1000;
        await this.io.writeFile(m[3]!, data);
        const rate = seconds > 0 ? len / seconds : 0;
        return {
          command: input,
          text: `dumped ${len} bytes from ${this.fmt(addr)} to ${m[3]} in ${seconds.toFixed(2)} s (${(rate / 1024).toFixed(1)} KiB/s)`,
          data: { address: `0x${addr.toString(16)}`, bytes: len, file: m[3], seconds, bytesPerSecond: Math.round(rate) },
        };
      }
      case "monitor": {
        const out = await this.remote.monitor(args);
        return { command: input, text: out, data: { output: out } };
      }
      case "detach":
      case "quit":
      case "q":
      case "exit": {
        if (!this.done) {
          await this.remote.detach();
          this.done = true;
        }
        return { command: input, text: "detached: the target runs on", data: { detached: true }, end: true };
      }
      case "disconnect":
        this.done = true;
        return {
          command: input,
          text: "disconnected: the target stays stopped in the debugger",
          data: { detached: false },
          end: true,
        };
      default:
        this.bad(input, `unknown command '${word}'`);
    }
  }

  private async examine(input: string, word: string, args: string): Promise<CommandResult> {
    // gdb's x/nfu: a count, then the format and unit letters in either order (x/4gx and x/4xg are the same)
    const m = /^x(?:\/(\d*)([a-z]*))?$/.exec(word);
    if (!m || !args) this.bad(input, "usage: x/<count><format><unit> <address>, e.g. x/4gx $rsp, x/16xb $pc or x/s linux_banner");
    const count = m[1] ? Number(m[1]) : 1;
    let format: string | undefined;
    let unitLetter: string | undefined;
    for (const ch of m[2] ?? "") {
      if ("bhwg".includes(ch)) {
        if (unitLetter) this.bad(input, `two unit letters ('${unitLetter}', '${ch}')`);
        unitLetter = ch;
      } else if ("xduotacs".includes(ch)) {
        if (format) this.bad(input, `two format letters ('${format}', '${ch}')`);
        format = ch;
      } else if ("fiz".includes(ch)) {
        this.bad(
          input,
          `format '${ch}' (${ch === "f" ? "float" : ch === "i" ? "instructions" : "zero-padded hex"}) is not implemented in netdbg; use gdb through 'netdbg gdb'`,
        );
      } else this.bad(input, `'${ch}' is neither a format (x d u o t a c s) nor a unit (b h w g)`);
    }
    format ??= "x";
    if (format === "a") unitLetter ??= "g";
    if (count < 1 || count > 65536) this.bad(input, "count must be 1..65536");
    const addr = await this.address(args, input);
    if (format === "s") {
      // gdb's x/Ns: N strings one after another, each shown at its own address
      const strings: string[] = [];
      const addresses: bigint[] = [];
      let at = addr;
      for (let i = 0; i < count; i++) {
        const parts: Buffer[] = [];
        let length = 0;
        while (length < 4096) {
          // one `m` request per piece, whatever lengths the last requests asked for (see GdbRemote.readUpTo)
          const chunk = await this.remote.readUpTo(at + BigInt(length), 64);
          const nul = chunk.indexOf(0);
          parts.push(nul >= 0 ? chunk.subarray(0, nul) : chunk);
          length += nul >= 0 ? nul : chunk.length;
          if (nul >= 0) break;
        }
        strings.push(Buffer.concat(parts).toString("latin1"));
        addresses.push(at);
        at += BigInt(length + 1);
      }
      return {
        command: input,
        text: strings.map((s, i) => `${this.fmt(addresses[i]!)}:\t${JSON.stringify(s)}`).join("\n"),
        data: { address: `0x${addr.toString(16)}`, strings, addresses: addresses.map((a) => `0x${a.toString(16)}`) },
      };
    }
    const unit = UNIT[unitLetter ?? (format === "c" ? "b" : "w")]!;
    const data = await this.remote.readMemory(addr, count * unit);
    const values: bigint[] = [];
    for (let i = 0; i < count; i++) {
      let v = 0n;
      for (let k = unit - 1; k >= 0; k--) v = (v << 8n) | BigInt(data[i * unit + k]!);
      values.push(v);
    }
    const show = (v: bigint) => {
      if (format === "x") return `0x${v.toString(16).padStart(unit * 2, "0")}`;
      if (format === "d") return BigInt.asIntN(unit * 8, v).toString();
      if (format === "c") return JSON.stringify(String.fromCharCode(Number(v & 0xffn)));
      if (format === "o") return `0${v.toString(8)}`;
      if (format === "t") return v.toString(2).padStart(unit * 8, "0");
      if (format === "a") return this.fmt(v);
      return v.toString();
    };
    const perLine = Math.max(1, 16 / unit);
    const lines: string[] = [];
    for (let i = 0; i < values.length; i += perLine) {
      lines.push(
        `${this.fmt(addr + BigInt(i * unit))}:\t${values
          .slice(i, i + perLine)
          .map(show)
          .join("\t")}`,
      );
    }
    return {
      command: input,
      text: lines.join("\n"),
      data: { address: `0x${addr.toString(16)}`, unit, format, values: values.map(show), hex: data.toString("hex") },
    };
  }

  /** gdb's `info registers [names…]` / `info breakpoints`, and their short forms (`i r`, `info b`). */
  private async info(input: string, rest: string[]): Promise<CommandResult> {
    const [what = "", ...names] = rest;
    if (what.length > 0 && "registers".startsWith(what)) return this.infoRegisters(input, input, names);
    if (what.length > 0 && ("breakpoints".startsWith(what) || what === "break")) {
      const rows = this.breakpoints.map((b) => [
        String(b.id),
        b.hw ? "hw breakpoint" : "breakpoint",
        "keep",
        "y",
        `0x${b.addr.toString(16).padStart(16, "0")}`,
        this.symbols?.symbolize(b.addr) ? `<${this.symbols.format(b.addr)}>` : "",
      ]);
      return {
        command: input,
        text: rows.length ? columns(rows, ["Num", "Type", "Disp", "Enb", "Address", "What"]) : "No breakpoints.",
        data: {
          breakpoints: this.breakpoints.map((b) => ({ id: b.id, address: `0x${b.addr.toString(16)}`, hardware: b.hw })),
        },
      };
    }
    this.bad(input, "netdbg knows 'info registers [reg…]' and 'info breakpoints'");
  }

  /** gdb's layout: name, hex value, natural value (pc and pointers symbolized when --vmlinux is given). */
  private async infoRegisters(input: string, command: string, names: string[]): Promise<CommandResult> {
    this.lastRegs = undefined;
    const regs = await this.registers();
    const pcName = SPECIAL[this.remote.arch].pc;
    const width = new Map(LAYOUTS[this.remote.arch].map((d) => [d.name, d.size * 2]));
    const wanted = names
      .map((n) => n.replace(/^\$/, ""))
      .map((n) => (n === "pc" ? pcName : n === "sp" ? SPECIAL[this.remote.arch].sp : n));
    for (const n of wanted) if (!regs.has(n)) this.bad(input, `no register '${n}'`);
    const shown = wanted.length ? wanted.map((n) => [n, regs.get(n)!] as const) : [...regs];
    const special = SPECIAL[this.remote.arch];
    const pointers = new Set([special.pc, special.sp, special.fp]);
    const rows = shown.map(([n, v]) => {
      const w = width.get(n) ?? 16;
      const sym = n === pcName && this.symbols ? this.symbols.format(v) : "";
      // gdb's natural column: pointers in hex (pc with its symbol), the rest as signed decimal
      const natural = pointers.has(n)
        ? `0x${v.toString(16)}${sym && !sym.startsWith("0x") ? ` <${sym}>` : ""}`
        : BigInt.asIntN(w * 4, v).toString();
      return [n, `0x${v.toString(16).padStart(w, "0")}`, natural];
    });
    const data = Object.fromEntries(shown.map(([n, v]) => [n, `0x${v.toString(16)}`]));
    return { command, text: columns(rows), data };
  }

  /** Frame-pointer walk: [fp] = caller's fp, [fp+8] = return address (x86_64 rbp chain, arm64 x29/x30). */
  private async backtrace(input: string, max: number): Promise<CommandResult> {
    const regs = await this.registers();
    const sp = SPECIAL[this.remote.arch];
    const frames: { pc: bigint; fp: bigint }[] = [];
    let pc = regs.get(sp.pc);
    let fp = regs.get(sp.fp);
    if (pc === undefined || fp === undefined) this.bad(input, "the target did not send pc and frame pointer");
    frames.push({ pc, fp });
    // stopped on a function's first instruction (a breakpoint on a symbol): the frame is not set up yet,
    // the return address is at [sp] (x86_64) or in the link register (arm64)
    if (this.symbols?.symbolize(pc)?.offset === 0n) {
      let ret: bigint | undefined;
      if (this.remote.arch === "arm64") ret = regs.get("x30");
      else {
        const spv = regs.get(sp.sp);
        if (spv !== undefined)
          ret = await this.remote.readMemory(spv, 8).then(
            (b) => b.readBigUInt64LE(0),
            () => undefined,
          );
      }
      if (ret !== undefined && ret !== 0n) frames.push({ pc: ret, fp });
    }
    for (let i = frames.length; i < max && fp !== 0n; i++) {
      let frame: Buffer;
      try {
        frame = await this.remote.readMemory(fp, 16);
      } catch {
        break;
      }
      const next = frame.readBigUInt64LE(0);
      pc = frame.readBigUInt64LE(8);
      if (pc === 0n || next <= fp) {
        if (pc !== 0n) frames.push({ pc, fp: next });
        break;
      }
      fp = next;
      frames.push({ pc, fp });
    }
    return {
      command: input,
      text: frames.map((f, i) => `#${i}  ${this.fmt(f.pc)}`).join("\n"),
      data: { frames: frames.map((f) => ({ pc: `0x${f.pc.toString(16)}`, symbol: this.symbols?.format(f.pc) })) },
    };
  }
}
