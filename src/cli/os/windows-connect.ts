/**
 * `netdbg connect <windows-target>`: listen on the target's port with its stored key, show pokes and the handshake,
 * break in, show the kernel version and base, then run debugger commands (REPL, or --exec "a; b; c").
 */
import { open } from "node:fs/promises";
import { lookup } from "node:dns/promises";
import { createInterface } from "node:readline";
import { netdbgError } from "../../core/error.js";
import type { Target } from "../../core/inventory.js";
import { ipVersion } from "../../core/ip.js";
import { parseKdnetKey } from "../../core/kdnet-key.js";
import { AMD64_REGS, contextRegisters, hex, KdClient } from "../../engine/kdnet/api.js";
import type { StateChange } from "../../engine/kdnet/kd.js";
import { type HostEvent, KdnetHostSession } from "../../engine/kdnet/session.js";
import type { DatagramTransport } from "../../engine/kdnet/transport.js";
import { openUdp } from "../../engine/kdnet/udp.js";
import { kdnetPortOption } from "../options.js";
import type { Context } from "../context.js";

export interface CommandResult {
  text: string;
  data?: unknown;
}

/** Hex digits per register in 'r' output (WinDbg style: 64-bit registers in full). */
const REG_WIDTH: Record<string, number> = { efl: 8, cs: 4, ss: 4, ds: 4, es: 4, fs: 4, gs: 4 };

const COMMAND_NAMES = [
  "version",
  "lm",
  "r",
  "db",
  "dq",
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

function hexdump(addr: bigint, data: Buffer, unit: 1 | 8): string {
  const lines: string[] = [];
  for (let off = 0; off < data.length; off += 16) {
    const row = data.subarray(off, off + 16);
    const a = (addr + BigInt(off)).toString(16).padStart(16, "0");
    const at = `${a.slice(0, 8)}\`${a.slice(8)}`;
    if (unit === 8) {
      const qs: string[] = [];
      for (let i = 0; i + 8 <= row.length; i += 8) {
        const q = row.readBigUInt64LE(i).toString(16).padStart(16, "0");
        qs.push(`${q.slice(0, 8)}\`${q.slice(8)}`);
      }
      lines.push(`${at}  ${qs.join(" ")}`);
    } else {
      const bytes = [...row].map((b) => b.toString(16).padStart(2, "0"));
      const left = bytes.slice(0, 8).join(" ");
      const right = bytes.slice(8).join(" ");
      const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".")).join("");
      lines.push(`${at}  ${left}${right ? `-${right}` : ""}`.padEnd(68) + ascii);
    }
  }
  return lines.join("\n");
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
            "db <addr> [len]         bytes (default 128)",
            "eb <addr> <b> [b …]     write bytes;  eq <addr> <q> [q …]  write quadwords",
            "dq <addr> [len]         quadwords (default 128 bytes)",
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
          text: [
            "start             end                 module name",
            ...rows.map((r) => `${r.base.padEnd(18)}${r.end.padEnd(20)}${r.name}`),
          ].join("\n"),
          data: rows,
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
      case "dq": {
        this.needStopped(`'${c}'`);
        if (!args[0]) throw netdbgError("E507", { command: line, reason: "an address is needed" });
        const addr = await this.address(args[0], line);
        const len = args[1] ? Number(parseNumber(args[1], "length", line)) : 128;
        if (len <= 0 || len > 1 << 20) throw netdbgError("E507", { command: line, reason: "length must be 1..0x100000" });
        const data = await kd.readVirtual(addr, len);
        return { text: hexdump(addr, data, c === "dq" ? 8 : 1), data: { address: hex(addr), hex: data.toString("hex") } };
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

function describeEvent(e: HostEvent): string | undefined {
  switch (e.kind) {
    case "poke":
      return e.answered ? `poke from ${e.from.address}:${e.from.port} (KDNET v${e.version}, seq ${e.seq})` : undefined;
    case "auth-failed":
      return `a datagram from ${e.from.address}:${e.from.port} does not authenticate with the stored key (wrong key?)`;
    case "handshake":
      return e.rebooted
        ? `target restarted its debug transport: new handshake with ${e.from.address}:${e.from.port}`
        : `handshake with ${e.from.address}:${e.from.port} done (data key derived)`;
    case "state-change":
      return describeState(e.state);
    case "print":
      return `target: ${e.text.replace(/\n$/, "")}`;
    case "file-io":
      return `target asked for file ${e.path ?? ""}: answered 'no such file'`;
    case "reset":
      return "target reset the KD packet layer";
    default:
      return undefined;
  }
}

export async function connectWindows(ctx: Context, target: Target, opts: Record<string, unknown>): Promise<void> {
  const stored = await ctx.secrets.get(target.name);
  if (stored === undefined) throw netdbgError("E009", { name: target.name });
  ctx.secretsSeen.push(stored);
  const key = parseKdnetKey(stored);
  const port = kdnetPortOption(opts.port, target);
  const timeoutS = opts.timeout !== undefined ? Number(opts.timeout) : 60;
  if (!Number.isFinite(timeoutS) || timeoutS <= 0) {
    throw netdbgError("E003", {
      option: "--timeout",
      value: String(opts.timeout),
      reason: "expected a positive number of seconds",
      fix: "Use e.g. --timeout 60.",
    });
  }
  const exec = typeof opts.exec === "string" ? opts.exec : undefined;
  const json = Boolean(ctx.opts.json);
  const say = (t: string) => {
    if (!json) process.stderr.write(`${t}\n`);
  };
  const family = ipVersion(target.address) === 6 ? 6 : 4;
  // a target on loopback (the demo) can only reach this host over loopback: do not listen on the network for it
  const loopback = /^127\./.test(target.address) || target.address === "::1";
  const transport: DatagramTransport = await openUdp({
    port,
    family,
    ...(loopback ? { address: family === 6 ? "::1" : "127.0.0.1" } : {}),
  });
  // Pin the source: the KDNET address recorded at --reboot, else the target's address (a DNS name resolved now, so
  // that no authentic poke from anywhere else can take the session over).
  const expected = await kdnetSourceAddress(target);
  const session = new KdnetHostSession({ transport, key, targetAddress: expected });
  let wrongKeyFrom: string | undefined;
  let foreignFrom: string | undefined;
  session.on((e) => {
    if (e.kind === "auth-failed") wrongKeyFrom ??= `${e.from.address}:${e.from.port}`;
    if (e.kind === "foreign-poke" && foreignFrom === undefined) {
      foreignFrom = e.from.address;
      say(`ignoring KDNET datagrams from ${e.from.address}: the inventory says ${target.name} pokes from ${expected}`);
    }
    const d = describeEvent(e);
    if (d) say(d);
  });
  const kd = new KdClient(session, { stateTimeoutMs: Math.max(timeoutS, 10) * 1000 });
  const dbg = new WindowsDebugger(kd, say);
  const results: {
    command: string;
    ok: boolean;
    data?: unknown;
    error?: { code: string; message: string; fix: string };
  }[] = [];
  let resumed = false;
  try {
    say(`listening on UDP port ${port} for ${target.name} (${target.address}) …`);
    try {
      await session.waitForHandshake(timeoutS * 1000);
    } catch (e) {
      if (wrongKeyFrom) throw netdbgError("E503", { from: wrongKeyFrom, port, target: target.name });
      if (foreignFrom) throw netdbgError("E512", { name: target.name, expected, seen: foreignFrom, port });
      throw e;
    }
    const stop = await kd.breakIn();
    const v = await dbg.exec("version");
    say(v.text);
    const handshake = { from: session.peer, protocolVersion: session.version, stop: describeState(stop), version: v.data };
    if (exec !== undefined) {
      for (const line of exec
        .split(";")
        .map((s) => s.trim())
        .filter(Boolean)) {
        try {
          const r = await dbg.exec(line);
          results.push({ command: line, ok: true, data: r.data ?? r.text });
          if (!json) ctx.out(`kd> ${line}\n${r.text}`);
        } catch (e) {
          const err = e as { code?: string; message?: string; fix?: string };
          if (!err.code?.startsWith("NETDBG-")) throw e;
          results.push({ command: line, ok: false, error: { code: err.code, message: err.message ?? "", fix: err.fix ?? "" } });
          if (!json) process.stderr.write(`${err.message} ${err.fix} [${err.code}]\n`);
          process.exitCode = 1;
        }
      }
    } else {
      // commands shown before the prompt (the demo shows the registers), output as if typed
      for (const line of typeof opts.before === "string" ? opts.before.split(";").map((x) => x.trim()) : []) {
        if (line) ctx.out(`kd> ${line}\n${(await dbg.exec(line)).text}`);
      }
      await repl(dbg, ctx, say);
    }
    resumed = await dbg.leave();
    if (resumed) say("breakpoints removed; the target runs on");
    if (json && exec !== undefined) {
      ctx.json({ target: target.name, port, handshake, results, resumed, stats: session.stats });
    }
  } finally {
    await session.close();
  }
}

async function repl(dbg: WindowsDebugger, ctx: Context, say: (t: string) => void): Promise<void> {
  const rl = createInterface({
    input: process.stdin,
    output: process.stdout,
    prompt: "kd> ",
    terminal: ctx.isTTY,
    historySize: 1000,
    completer: (l: string) => {
      const hits = COMMAND_NAMES.filter((n) => n.startsWith(l.trim()));
      return [hits.length ? hits : COMMAND_NAMES, l.trim()];
    },
  });
  rl.on("SIGINT", () => {
    if (!dbg.kd.session.stopped) {
      say("breaking in …");
      dbg.kd.breakIn().catch(() => {});
    } else rl.close();
  });
  rl.prompt();
  let busy: Promise<void> = Promise.resolve();
  for await (const line of rl) {
    const l = line.trim();
    if (l === "q" || l === "quit" || l === "exit") break;
    if (l === "break" && !dbg.kd.session.stopped) {
      // Do not queue behind a running 'g': send the break-in now.
      dbg.kd.breakIn().catch(() => {});
      continue;
    }
    busy = busy.then(async () => {
      try {
        const r = await dbg.exec(l);
        if (r.text) ctx.out(r.text);
      } catch (e) {
        const err = e as { code?: string; message?: string; fix?: string };
        if (err.code?.startsWith("NETDBG-")) process.stderr.write(`${err.message} ${err.fix} [${err.code}]\n`);
        else ctx.log.error(`internal error (please report): ${(e as Error)?.stack ?? String(e)}`);
      }
      rl.prompt();
    });
  }
  rl.close();
  // A piped stdin would keep the process alive after 'q'.
  if (!process.stdin.isTTY) process.stdin.destroy();
  // 'q' while the target runs: do not wait for it to stop (closing the session cancels the wait).
  if (dbg.kd.session.stopped) await busy;
}

/** Where this target's KDNET pokes must come from: transport.kdnetAddress, else its address (a name resolved). */
async function kdnetSourceAddress(target: Target): Promise<string> {
  const pinned = target.transport?.kdnetAddress ?? target.address;
  if (ipVersion(pinned) !== 0) return pinned;
  try {
    return (await lookup(pinned)).address;
  } catch (e) {
    throw netdbgError("E003", {
      option: "address",
      value: pinned,
      reason: `the name does not resolve (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
      fix: `Fix the name in DNS or set the address with 'netdbg targets edit ${target.name} --address <ip>'.`,
    });
  }
}
