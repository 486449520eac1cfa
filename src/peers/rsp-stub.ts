import dgram from "node:dgram";
import type { Transport } from "../engine/transport/types.js";

/**
 * An in-process RSP peer that behaves like Linux kgdb's gdbstub as described in
 * the GDB manual ('Overview', 'Packet Acknowledgment') and Linux kernel/debug/gdbstub.c (get_packet/put_packet), sysprogs/kgdboe's kgdboe_io.c:
 * - get_packet: skip to `$`, bad checksum -> `-`, good -> `+` (flushed alone), packets longer than
 *   BUFMAX-2 silently dropped;
 * - put_packet: send, then wait: 0x03 skipped, `+` done, `$` -> write `-` and return as if acked (the `$` is
 *   consumed; after `D` the kernel runs on either way), anything else -> resend the reply;
 * - output in `flushSize`-byte datagrams (kgdboe: 30) plus a flush after every packet and ack;
 * - empty qSupported, `?` clears breakpoints, `m` beyond (BUFMAX-1)/2 is recorded as a kernel-buffer
 *   overflow, qsThreadInfo ends with an empty reply, E<decimal errno> errors, shadow CPU thread fffffffe;
 * - running (after `c`/`D`) only a 0x03 stops it while connected; when detached, any datagram other than a
 *   single non-0x03 byte breaks in (kgdboe_rx_handler).
 */

export interface StubRegion {
  base: bigint;
  data: Buffer;
  readOnly?: boolean;
}

export interface StubOptions {
  /** Per-arch BUFMAX (x86 1024). */
  bufmax?: number;
  /** Output datagram size (kgdboe 30; Infinity = a whole packet at once). */
  flushSize?: number;
  regions?: StubRegion[];
  /** Text printed before the first packet (a kdb prompt). */
  kdbBanner?: string;
  /** Delay (ms) between `c` and hitting a set breakpoint. */
  hitAfterMs?: number;
}

export const TEXT_BASE = 0xffffffff81000000n;
export const BANNER_ADDR = 0xffffffff82000000n;
export const BANNER = "Linux version 6.1.192-kgdb (netdbg@stub) #1 SMP PREEMPT_DYNAMIC\n";

/** Deterministic pseudo-random bytes (xorshift32), so tests can recompute the expected memory. */
export function pattern(length: number, seed = 0x1234567): Buffer {
  const b = Buffer.allocUnsafe(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

export function defaultRegions(textSize = 2 << 20): StubRegion[] {
  const banner = Buffer.alloc(256);
  banner.write(BANNER, "latin1");
  return [
    { base: TEXT_BASE, data: pattern(textSize), readOnly: false },
    { base: BANNER_ADDR, data: banner },
  ];
}

/** Registers at the stop: rax=1, rbx=2 … r15=15, rip in text, eflags 0x246, cs 0x10, ss 0x18, ds/es 0. */
export function stubRegisters(): bigint[] {
  const r: bigint[] = [];
  for (let i = 0; i < 16; i++) r.push(BigInt(i + 1) * 0x1111n);
  r[6] = BANNER_ADDR + 0x80n; // rbp
  r[7] = BANNER_ADDR + 0x40n; // rsp
  r.push(TEXT_BASE + 0x1234n); // rip
  return r;
}

function csum(s: Buffer): number {
  let x = 0;
  for (const b of s) x = (x + b) & 0xff;
  return x;
}

export interface StubStats {
  packets: number;
  badChecksums: number;
  resends: number;
  abandoned: number;
  oversizeDropped: number;
  /** `m`/`M` requests that would have overflowed kgdb's BUFMAX buffer. */
  overflows: number;
  commands: string[];
}

export class KgdbStub {
  readonly stats: StubStats = {
    packets: 0,
    badChecksums: 0,
    resends: 0,
    abandoned: 0,
    oversizeDropped: 0,
    overflows: 0,
    commands: [],
  };
  readonly breakpoints = new Set<bigint>();
  readonly hwBreakpoints = new Set<bigint>();
  readonly regions: StubRegion[];
  regs: bigint[] = stubRegisters();
  eflags = 0x246;
  connected = false;
  running = false;
  private state: "get" | "body" | "cs1" | "cs2" | "put" = "get";
  private body: number[] = [];
  private cs1 = 0;
  private overlong = false;
  private reply: Buffer | undefined;
  private out: number[] = [];
  private readonly bufmax: number;
  private readonly flushSize: number;
  private bannerSent = false;
  private hitTimer: NodeJS.Timeout | undefined;
  private threadCursor = 0;
  /** Input that arrived in the datagram that resumed the kernel: read at the next stop. */
  private leftover = Buffer.alloc(0);
  send: (chunk: Buffer) => void = () => {};

  constructor(private readonly options: StubOptions = {}) {
    this.bufmax = options.bufmax ?? 1024;
    this.flushSize = options.flushSize ?? 30;
    this.regions = options.regions ?? defaultRegions();
  }

  /** Bytes from the debugger (one datagram / chunk). */
  feed(chunk: Buffer): void {
    if (this.running) {
      const breakIn = chunk.includes(0x03) || (!this.connected && !(chunk.length === 1 && chunk[0] !== 0x03));
      if (!breakIn) return;
      this.stop("S05");
      if (!this.connected) {
        // kgdboe queued this datagram for the stub: it is read as input once stopped (the stop reply above
        // went out only because a debugger was connected, which it is not: drop it)
        this.reply = undefined;
        this.state = "get";
        this.out = [];
      }
      chunk = Buffer.concat([this.leftover, Buffer.from(chunk.filter((b) => b !== 0x03))]);
      this.leftover = Buffer.alloc(0);
    }
    if (!this.bannerSent && this.options.kdbBanner) {
      this.bannerSent = true;
      this.write(Buffer.from(this.options.kdbBanner, "latin1"));
      this.flush();
    }
    for (let i = 0; i < chunk.length; i++) {
      this.byte(chunk[i]!);
      if (this.running && i + 1 < chunk.length) {
        // the kernel resumed in the middle of this datagram (the ack of `D`'s OK, or a `$` there): the rest was
        // queued for the debugger while it was stopped, so it stays queued, unread, until the next stop
        this.leftover = Buffer.concat([this.leftover, chunk.subarray(i + 1)]);
        return;
      }
    }
  }

  private byte(b: number): void {
    switch (this.state) {
      case "put":
        if (b === 0x03) return;
        if (b === 0x2b) {
          this.reply = undefined;
          this.state = "get";
          const after = this.afterAck;
          this.afterAck = undefined;
          after?.();
          return;
        }
        if (b === 0x24) {
          // put_packet writes `-` and returns, as after a `+`: the command goes on (`D` detaches and the
          // kernel runs on); the `$` is consumed, so the request it began is read as junk
          this.stats.abandoned++;
          this.write(Buffer.from("-"));
          this.flush();
          this.reply = undefined;
          this.state = "get";
          const after = this.afterAck;
          this.afterAck = undefined;
          after?.();
          return;
        }
        this.stats.resends++;
        this.emitReply();
        return;
      case "get":
        if (b === 0x24) {
          this.state = "body";
          this.body = [];
          this.overlong = false;
        }
        return;
      case "body":
        if (b === 0x23) {
          this.state = "cs1";
          return;
        }
        if (b === 0x24) {
          this.body = [];
          this.overlong = false;
          return;
        }
        if (this.body.length >= this.bufmax - 2) this.overlong = true;
        else this.body.push(b);
        return;
      case "cs1":
        this.cs1 = b;
        this.state = "cs2";
        return;
      case "cs2": {
        this.state = "get";
        if (this.overlong) {
          this.stats.oversizeDropped++;
          return;
        }
        const data = Buffer.from(this.body);
        const want = Number.parseInt(String.fromCharCode(this.cs1, b), 16);
        if (want !== csum(data)) {
          this.stats.badChecksums++;
          this.write(Buffer.from("-"));
          this.flush();
          return;
        }
        this.write(Buffer.from("+"));
        this.flush();
        this.stats.packets++;
        this.connected = true;
        this.handle(data.toString("latin1"));
        return;
      }
    }
  }

  private afterAck: (() => void) | undefined;

  private putPacket(body: string, afterAck?: () => void): boolean {
    this.reply = Buffer.from(body, "latin1");
    this.afterAck = afterAck;
    this.state = "put";
    this.emitReply();
    return true;
  }

  private emitReply(): void {
    const r = this.reply!;
    const cs = csum(r).toString(16).padStart(2, "0");
    this.write(Buffer.concat([Buffer.from("$"), r, Buffer.from(`#${cs}`)]));
    this.flush();
  }

  private write(bytes: Buffer): void {
    for (const b of bytes) {
      this.out.push(b);
      if (this.out.length >= this.flushSize) this.flush();
    }
  }

  private flush(): void {
    if (this.out.length === 0) return;
    const chunk = Buffer.from(this.out);
    this.out = [];
    this.send(chunk);
  }

  private stop(reply: string): void {
    this.running = false;
    if (this.hitTimer) clearTimeout(this.hitTimer);
    this.hitTimer = undefined;
    if (this.connected) this.putPacket(reply);
  }

  private find(addr: bigint, len: number): { region: StubRegion; off: number } | undefined {
    for (const region of this.regions) {
      const off = addr - region.base;
      if (off >= 0n && off + BigInt(len) <= BigInt(region.data.length)) return { region, off: Number(off) };
    }
    return undefined;
  }

  private regHex(): string {
    let hex = "";
    for (const v of this.regs) hex += le(v, 8);
    hex += le(BigInt(this.eflags), 4) + le(0x10n, 4) + le(0x18n, 4) + le(0n, 4) + le(0n, 4);
    return hex; // 17*8 + 5*4 = 156 bytes, like x86_64 kgdb
  }

  private handle(cmd: string): boolean {
    this.stats.commands.push(cmd.slice(0, 24));
    if (this.stats.commands.length > 64) this.stats.commands.shift();
    const c = cmd[0];
    switch (c) {
      case "?":
        this.breakpoints.clear();
        this.hwBreakpoints.clear();
        return this.putPacket("S05");
      case "g":
        return this.putPacket(this.regHex());
      case "G":
        return this.putPacket("OK");
      case "P": {
        // x86 kgdb: registers below DBG_MAX_REG_NUM (24) and GDB_ORIG_AX (57)
        const m = /^P([0-9a-f]+)=([0-9a-f]+)$/i.exec(cmd);
        const n = m ? Number.parseInt(m[1]!, 16) : 99;
        if (!m || (n >= 24 && n !== 57)) return this.putPacket("E22");
        if (n <= 16 && m[2]!.length === 16) this.regs[n] = BigInt(`0x${Buffer.from(m[2]!, "hex").reverse().toString("hex")}`);
        return this.putPacket("OK");
      }
      case "p": {
        const n = Number.parseInt(cmd.slice(1), 16);
        if (n >= 24) return this.putPacket("E22");
        if (n < 17) return this.putPacket(le(this.regs[n]!, 8));
        return this.putPacket(le(n === 17 ? BigInt(this.eflags) : 0n, 4));
      }
      case "m": {
        const [a, l] = cmd.slice(1).split(",");
        const addr = BigInt(`0x${a}`);
        const len = Number.parseInt(l ?? "0", 16);
        if (2 * len + 1 > this.bufmax) this.stats.overflows++;
        const hit = this.find(addr, len);
        if (!hit) return this.putPacket("E22");
        return this.putPacket(hit.region.data.subarray(hit.off, hit.off + len).toString("hex"));
      }
      case "M": {
        const m = /^M([0-9a-f]+),([0-9a-f]+):([0-9a-f]*)$/i.exec(cmd);
        if (!m) return this.putPacket("E22");
        const len = Number.parseInt(m[2]!, 16);
        if (cmd.length > this.bufmax - 2) this.stats.overflows++;
        const hit = this.find(BigInt(`0x${m[1]}`), len);
        if (!hit || hit.region.readOnly) return this.putPacket("E14");
        Buffer.from(m[3]!, "hex").copy(hit.region.data, hit.off);
        return this.putPacket("OK");
      }
      case "Z":
      case "z": {
        const m = /^[Zz]([0-4]),([0-9a-f]+),/i.exec(cmd);
        if (!m) return this.putPacket("E22");
        const type = Number(m[1]);
        const addr = BigInt(`0x${m[2]}`);
        if (type > 1) return this.putPacket("");
        const set = type === 0 ? this.breakpoints : this.hwBreakpoints;
        if (c === "Z") {
          if (set.has(addr)) return this.putPacket("E17");
          if (type === 1 && set.size >= 4) return this.putPacket("E16");
          set.add(addr);
        } else {
          if (!set.has(addr)) return this.putPacket("E02");
          set.delete(addr);
        }
        return this.putPacket("OK");
      }
      case "c": {
        this.running = true;
        const bp = [...this.breakpoints, ...this.hwBreakpoints][0];
        if (bp !== undefined) {
          this.hitTimer = setTimeout(() => {
            // int3 traps with rip one past the breakpoint; kgdb reports it raw (hardware ones: exact)
            this.regs[16] = this.breakpoints.has(bp) ? bp + 1n : bp;
            this.stop("T05thread:fffffffe;");
          }, this.options.hitAfterMs ?? 20);
        }
        return false;
      }
      case "s":
        this.running = true;
        this.hitTimer = setTimeout(() => {
          this.regs[16] = this.regs[16]! + 1n;
          this.stop("T05thread:fffffffe;");
        }, 1);
        return false;
      case "D":
        this.breakpoints.clear();
        this.hwBreakpoints.clear();
        return this.putPacket("OK", () => {
          this.connected = false;
          this.running = true;
        });
      case "k":
        this.breakpoints.clear();
        this.connected = false;
        this.running = true;
        return false;
      case "H":
        return this.putPacket("OK");
      case "T":
        return this.putPacket("OK");
      case "q":
        if (cmd === "qC") return this.putPacket("QCfffffffe");
        if (cmd === "qfThreadInfo") {
          this.threadCursor = 0;
          return this.putPacket(this.threadChunk());
        }
        if (cmd === "qsThreadInfo") return this.putPacket(this.threadChunk());
        if (cmd.startsWith("qThreadExtraInfo,")) {
          const id = cmd.slice(17);
          const name = id === "fffffffe" ? "shadowCPU0" : `task${Number.parseInt(id, 16)}`;
          return this.putPacket(Buffer.from(name).toString("hex"));
        }
        return this.putPacket("");
      default:
        return this.putPacket("");
    }
  }

  /** 20 tasks (pids 1..20) + shadow CPU thread, at most 17 per reply, ending with an empty reply. */
  private threadChunk(): string {
    const all = ["fffffffe", ...Array.from({ length: 20 }, (_, i) => (i + 1).toString(16))];
    const part = all.slice(this.threadCursor, this.threadCursor + 17);
    this.threadCursor += part.length;
    return part.length ? `m${part.join(",")}` : "";
  }

  /** Attach to the far end of a transport pair (memory tests). */
  serve(t: Transport): void {
    this.send = (chunk) => t.write(chunk);
    t.onData((chunk) => this.feed(chunk));
  }

  dispose(): void {
    if (this.hitTimer) clearTimeout(this.hitTimer);
  }
}

function le(v: bigint, size: number): string {
  let out = "";
  let x = BigInt.asUintN(size * 8, v);
  for (let i = 0; i < size; i++) {
    out += (x & 0xffn).toString(16).padStart(2, "0");
    x >>= 8n;
  }
  return out;
}

export interface UdpStubOptions extends StubOptions {
  /**
   * Whether the kernel's debugger is listening right now (kgdboe loaded with this port): datagrams that arrive
   * while it says no are dropped unread, as a kernel without kgdboe on that port does. Default: always listening.
   */
  listening?: () => boolean;
  /**
   * The speed of the target's way out (bytes per ms): each datagram leaves when the one before it has, after its
   * length at this speed, as on a TCG guest's emulated NIC or a serial line. A long reply then takes longer than a
   * short one, and the ack, sent alone before the reply, comes back first. Default: no limit.
   */
  outBytesPerMs?: number;
}

/** The stub on a real UDP socket on loopback, replying to whoever sent last (like kgdboe). */
export class UdpKgdbStub {
  readonly stub: KgdbStub;
  private socket: dgram.Socket | undefined;
  private peer: { address: string; port: number } | undefined;
  private readonly listening: () => boolean;
  /** When the way out is free again (see UdpStubOptions.outBytesPerMs). */
  private outFreeAt = 0;
  private readonly outQueue: { chunk: Buffer; peer: { address: string; port: number }; at: number }[] = [];
  private outTimer: NodeJS.Timeout | undefined;
  datagramsOut = 0;
  /** Datagrams dropped because nothing listened (see UdpStubOptions.listening). */
  datagramsDropped = 0;

  constructor(options: UdpStubOptions = {}) {
    this.stub = new KgdbStub(options);
    this.listening = options.listening ?? (() => true);
    const rate = options.outBytesPerMs;
    this.stub.send = (chunk) => {
      const peer = this.peer;
      if (!peer || !this.socket) return;
      this.datagramsOut++;
      if (!rate) {
        this.socket.send(chunk, peer.port, peer.address);
        return;
      }
      this.outFreeAt = Math.max(performance.now(), this.outFreeAt) + chunk.length / rate;
      this.outQueue.push({ chunk, peer, at: this.outFreeAt });
      if (this.outQueue.length === 1) this.drainLater();
    };
  }

  /** One timer for the head of the queue, so datagrams leave in the order they were written. */
  private drainLater(): void {
    const head = this.outQueue[0];
    if (!head) return;
    this.outTimer = setTimeout(
      () => {
        this.outTimer = undefined;
        const now = performance.now();
        while (this.outQueue.length && this.outQueue[0]!.at <= now) {
          const { chunk, peer } = this.outQueue.shift()!;
          this.socket?.send(chunk, peer.port, peer.address);
        }
        this.drainLater();
      },
      Math.max(0, head.at - performance.now()),
    );
  }

  async start(): Promise<number> {
    const s = dgram.createSocket({ type: "udp4", recvBufferSize: 4 << 20 });
    this.socket = s;
    s.on("message", (msg, rinfo) => {
      if (!this.listening()) {
        this.datagramsDropped++;
        return;
      }
      this.peer = { address: rinfo.address, port: rinfo.port };
      this.stub.feed(msg);
    });
    s.on("error", () => {});
    await new Promise<void>((resolve) => s.bind(0, "127.0.0.1", () => resolve()));
    return s.address().port;
  }

  async stop(): Promise<void> {
    if (this.outTimer) clearTimeout(this.outTimer);
    this.outQueue.length = 0;
    this.stub.dispose();
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
