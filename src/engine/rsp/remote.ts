import { netdbgError } from "../../core/error.js";
import { escapeBinary, fromHex, isErrorReply, toHex } from "./packet.js";
import type { RspClient } from "./client.js";
import { type Arch, bigIntToLeHex, parseRegisters, type Registers, SPECIAL } from "./registers.js";

/**
 * Debugger operations over the reliable RSP client, within Linux kgdb's limits
 * (the GDB manual's packet descriptions and Linux kernel/debug/gdbstub.c):
 * - capabilities are never taken from `qSupported` alone (kgdb answers empty); without a `PacketSize`
 *   memory transfers stay at 496 bytes per `m`/`M` (x86 BUFMAX 1024 overflows above 511);
 * - `?` is sent only at attach: on kgdb it removes all breakpoints;
 * - `qsThreadInfo` may end with an empty reply instead of `l`;
 * - `E17` after a retransmitted `Z` and `E02` after a retransmitted `z` mean the first copy worked.
 */

/** kgdb-safe memory packet payload (bytes). */
export const KGDB_MAX_MEM = 496;
/** Consecutive `m` requests of readMemory cycle through this many distinct lengths. */
const LENGTH_CYCLE = 16;
/** After any sign of damage on the link, memory blocks are read twice for this many requests. */
const VERIFY_WINDOW = 256;
/** Lengths of this many recent `m` requests are not asked for again (late copies of their replies). */
const RECENT_LENGTHS = 32;
/**
 * On a damaged link whose replies arrive in pieces (kgdb over a serial line bridged to UDP), reads shrink by
 * CAP_SHRINK after a reply carried by several datagrams and grow by CAP_GROW after one that came whole: the two
 * balance where about 3/4 of replies arrive whole (ln 1.04 / ln(1/0.88) = 0.31 split to 1 whole). A reply in
 * pieces is lost when any piece is, and must be read again to be trusted (see readMemory). Measured on the lab's
 * kgdb serial link at 20 % loss (128 KiB, three runs each): fixed 496-byte reads 68-100 ms/KiB (57-67 % whole),
 * 300-byte 53-76 (71-75 %), 250-byte 54-76; the clean link 17-18 ms/KiB at any of these sizes. This rule against
 * fixed 496-byte reads, 256 KiB pairs in turn: 58-65 against 68-84 ms/KiB (4 pairs), then, with shapes told apart
 * by datagram pairs, 53-64 against 57-72 (3 pairs, 2 of them faster): a gain, smaller than the noise of one pull.
 */
const CAP_GROW = 1.04;
const CAP_SHRINK = 0.88;
/** The cap never goes below this share of maxMemory: where even short replies arrive in pieces, shrinking gains nothing. */
const CAP_FLOOR = 1 / 4;
/** Ceiling on a `PacketSize`-derived memory chunk (a reply is twice this in hex). */
const MAX_ADVERTISED_MEM = 32 * 1024;

export interface StopReply {
  raw: string;
  /** Signal number (5 = SIGTRAP for breakpoints and steps), or exit status for `W`. */
  signal: number;
  kind: "stopped" | "exited" | "terminated";
  thread?: string;
  pairs: Record<string, string>;
}

export function parseStopReply(raw: string): StopReply {
  const kind = raw[0] === "W" ? "exited" : raw[0] === "X" ? "terminated" : "stopped";
  const signal = Number.parseInt(raw.slice(1, 3), 16);
  const pairs: Record<string, string> = {};
  if (raw[0] === "T") {
    for (const part of raw.slice(3).split(";")) {
      const i = part.indexOf(":");
      if (i > 0) pairs[part.slice(0, i)] = part.slice(i + 1);
    }
  }
  const out: StopReply = { raw, signal: Number.isNaN(signal) ? 0 : signal, kind, pairs };
  if (pairs.thread !== undefined) out.thread = pairs.thread;
  return out;
}

export interface RemoteOptions {
  /** Architecture; default: from target.xml when the stub offers it, else x86_64. */
  arch?: Arch;
  /** Largest `m`/`M` payload; default: from PacketSize when advertised, else 496. */
  maxMemory?: number;
}

export interface AttachInfo {
  stop: StopReply;
  arch: Arch;
  maxMemory: number;
  features: Record<string, string | boolean>;
}

export type ProgressFn = (done: number, total: number) => void;

const ERRNO: Record<string, string> = {
  "01": "operation not permitted",
  "02": "no such entry",
  "14": "bad address: memory not mapped or not readable",
  "16": "busy",
  "17": "already exists",
  "22": "invalid argument or address",
};

function errorMeaning(reply: string): string {
  return ERRNO[reply.slice(1)] ?? "error reply";
}

export class GdbRemote {
  arch: Arch;
  maxMemory: number;
  features: Record<string, string | boolean> = {};
  private explicitArch: boolean;
  private explicitMax: boolean;
  /** Blocks whose second read differed from the first (damage the checksum did not catch). */
  verifyMismatches = 0;
  private readonly recentLengths: number[] = [];
  private damageSeen = 0;
  private damageAt: number | undefined;
  /** The largest read while the link shows damage (see CAP_GROW); unset on a clean link. */
  private cap: number | undefined;
  /** Software breakpoints we inserted (for the x86 pc fix-up after a hit). */
  private readonly swBreakpoints = new Set<bigint>();

  constructor(
    readonly client: RspClient,
    options: RemoteOptions = {},
  ) {
    this.arch = options.arch ?? "x86_64";
    this.explicitArch = options.arch !== undefined;
    this.maxMemory = options.maxMemory ?? KGDB_MAX_MEM;
    this.explicitMax = options.maxMemory !== undefined;
  }

  /** Raw request returning the decoded reply text. */
  request(body: string, accept?: (r: string) => boolean): Promise<string> {
    return this.client.request(body, accept ? { accept } : {});
  }

  private async ok(body: string, hint?: string): Promise<void> {
    const r = await this.request(body, (x) => x === "OK" || x === "" || isErrorReply(x));
    this.check(body, r, hint);
  }

  private check(request: string, reply: string, hint?: string): void {
    if (reply === "") throw netdbgError("E407", hint ? { request, hint } : { request });
    if (isErrorReply(reply)) {
      throw netdbgError(
        "E402",
        hint ? { request, reply, meaning: errorMeaning(reply), hint } : { request, reply, meaning: errorMeaning(reply) },
      );
    }
  }

  /**
   * Attach: learn what the stub offers (an empty qSupported is normal for kgdb), then `?`. The first packet
   * also stops a running kgdboe target and switches a kdb-mode kgdb to gdb mode.
   */
  async attach(): Promise<AttachInfo> {
    // xmlRegisters=i386: gdbserver 13 asserts on a qXfer target.xml read without it (gdb always sends it)
    const sup = await this.request("qSupported:swbreak+;hwbreak+;xmlRegisters=i386", (r) => !isStopReply(r));
    for (const item of sup.split(";")) {
      if (!item) continue;
      const eq = item.indexOf("=");
      if (eq > 0) this.features[item.slice(0, eq)] = item.slice(eq + 1);
      else if (item.endsWith("+") || item.endsWith("-")) this.features[item.slice(0, -1)] = item.endsWith("+");
    }
    const packetSize = typeof this.features.PacketSize === "string" ? Number.parseInt(this.features.PacketSize, 16) : 0;
    if (!this.explicitMax && packetSize > 0) {
      // reply `m`: 2 hex chars per byte plus framing; stay inside the advertised buffer (gdbserver 13 says
      // 0x47ff: 9199-byte reads, gdb itself reads 9215; a lower cap cost ~12 % more round trips)
      this.maxMemory = Math.max(16, Math.min(MAX_ADVERTISED_MEM, Math.floor((packetSize - 32) / 2)));
    }
    // over TCP (gdbserver) acks only cost work on both ends: drop them like gdb does; never over UDP
    if (this.client.transport.kind === "tcp" && this.features.QStartNoAckMode === true && this.client.ackMode) {
      if ((await this.request("QStartNoAckMode", (r) => !isStopReply(r))) === "OK") this.client.startNoAck();
    }
    const stop = parseStopReply(await this.request("?", isStopReply));
    this.swBreakpoints.clear(); // kgdb removes all breakpoints on `?`
    // after `?`: gdbserver picks its target description for the stopped thread then (as with gdb)
    if (!this.explicitArch && this.features["qXfer:features:read"] === true) {
      const xml = await this.readXfer("features", "target.xml").catch(() => "");
      if (/aarch64/.test(xml)) this.arch = "arm64";
      else if (/i386:x86-64|x86-64/.test(xml)) this.arch = "x86_64";
    }
    return { stop, arch: this.arch, maxMemory: this.maxMemory, features: this.features };
  }

  /** `qXfer:<object>:read:<annex>:off,len` until `l`. */
  async readXfer(object: string, annex: string): Promise<string> {
    let out = "";
    for (let off = 0; off < 1 << 20; ) {
      const r = await this.request(`qXfer:${object}:read:${annex}:${off.toString(16)},fff`);
      if (r === "" || isErrorReply(r)) throw netdbgError("E407", { request: `qXfer:${object}` });
      out += r.slice(1);
      off += r.length - 1;
      if (r[0] === "l") break;
    }
    return out;
  }

  async registers(): Promise<Registers> {
    const r = await this.request("g", (x) => isErrorReply(x) || /^[0-9a-fA-Fx]+$/.test(x));
    this.check("g", r);
    return parseRegisters(this.arch, r);
  }

  async pc(): Promise<bigint> {
    const regs = await this.registers();
    const v = regs.values.get(SPECIAL[this.arch].pc);
    if (v === undefined) throw netdbgError("E409", { request: "g", reply: "(no program counter)" });
    return v;
  }

  /**
   * Read memory in chunks of at most maxMemory bytes. Requests within a window of LENGTH_CYCLE never ask
   * for the same length (the size cycles max, max-1 … max-15) and a reply must have exactly the asked
   * length: without sequence numbers this is what tells a late copy of an earlier reply (UDP duplication
   * or reordering, a request run again after a resend, a slow stub still draining resends) from the answer
   * to this request. A cycle of 3 let a copy three requests old pass; 16 costs ~1.5 % more requests.
   *
   * The checksum is a byte sum modulo 256: a reply whose datagrams were reordered (kgdb over a serial line
   * bridged to UDP sends one reply as many datagrams), or that lost a byte and gained a duplicate of the same
   * value, passes it with the right length. Such damage never comes alone on a real link: a link that reorders
   * or loses datagrams also delivers packets with a bad checksum and tails without their head. So once the link
   * has shown such damage (during this read, or in the last VERIFY_WINDOW requests), every block whose reply was
   * carried by more than one datagram is read again in another shape and kept only when reads agree (see
   * verifyBlock); blocks of this read taken before the first sign of damage are checked then, too. A block whose
   * own exchange met trouble (a timeout, a resend, a nak, a duplicate or a stray reply: a resent request can be
   * answered twice, and two copies can mix on a link that reorders) is checked at once, on any link. Timeouts
   * alone do not mark the link: a target that stalls now and then (kgdb under an emulator) gives them on a perfect
   * link, and reading its every block twice would halve the pull. A clean link pays nothing, and neither does a
   * link whose replies each fit in one datagram (a datagram arrives whole or not at all).
   */
  async readMemory(addr: bigint, length: number, progress?: ProgressFn): Promise<Buffer> {
    const out = Buffer.allocUnsafe(length);
    let done = 0;
    let unchecked: [number, number, string[]][] = [];
    while (done < length) {
      // leave room for verifying reads a few bytes longer
      const max = this.suspect() ? Math.min(this.cap ?? this.maxMemory, Math.max(1, this.maxMemory - 8)) : this.maxMemory;
      // the longest fresh length: on a clean pull it cycles max, max-1 … max-15 by itself
      const n = this.freshLength(Math.min(max, length - done));
      const trouble = this.client.trouble;
      const bytes = await this.readBlock(addr + BigInt(done), n);
      bytes.copy(out, done);
      // a reply carried by one datagram arrived whole or not at all: nothing to check
      if (!this.client.lastReplyWhole) {
        const shape = this.shapeOf(done, n, done, n);
        if (this.client.trouble !== trouble) await this.verifyBlock(addr, out, done, n, shape);
        else unchecked.push([done, n, shape]);
      }
      if (this.suspect()) {
        for (const [off, len, shape] of unchecked) await this.verifyBlock(addr, out, off, len, shape);
        unchecked = [];
      }
      done += n;
      progress?.(done, length);
    }
    return out;
  }

  /**
   * Up to `max` bytes at `addr` in one `m` request: the longest length the last requests did not ask for (see
   * freshLength), so a caller that reads a little at a time (`x/s`, 64 bytes a call) never splits a call in two.
   */
  async readUpTo(addr: bigint, max: number): Promise<Buffer> {
    return this.readMemory(addr, this.freshLength(Math.max(1, Math.min(max, this.maxMemory - 8))));
  }

  /**
   * The longest read of at most `n` bytes whose length none of the last LENGTH_CYCLE - 1 requests asked for, across
   * calls as within one (`x/s` reads a string 64 bytes a call); `n` itself when every shorter length was asked for.
   */
  private freshLength(n: number): number {
    const recent = this.recentLengths.slice(1 - LENGTH_CYCLE);
    for (let m = n; m >= 1; m--) if (!recent.includes(m)) return m;
    return n;
  }

  /** Damage seen recently on the link (see RspClient.damage)? */
  private suspect(): boolean {
    const d = this.client.damage;
    if (d !== this.damageSeen) {
      this.damageSeen = d;
      this.damageAt = this.client.stats.requests;
    }
    return this.damageAt !== undefined && this.client.stats.requests - this.damageAt < VERIFY_WINDOW;
  }

  /** One `m` request: the reply must have exactly the asked length. */
  private async readBlock(a: bigint, n: number): Promise<Buffer> {
    this.recentLengths.push(n);
    if (this.recentLengths.length > RECENT_LENGTHS) this.recentLengths.shift();
    const req = `m${a.toString(16)},${n.toString(16)}`;
    const r = await this.request(req, (x) => x.length === 2 * n || isErrorReply(x) || x === "");
    if (r === "" || isErrorReply(r)) {
      throw netdbgError("E402", {
        request: req,
        reply: r || "(empty)",
        meaning: `${errorMeaning(r)} at 0x${a.toString(16)}`,
      });
    }
    const bytes = fromHex(r);
    if (!bytes) throw netdbgError("E409", { request: req, reply: r.slice(0, 40) });
    this.adaptCap(n);
    return bytes;
  }

  /** After a read of `n` bytes: shrink or grow the cap on a damaged link (see CAP_GROW), drop it on a clean one. */
  private adaptCap(n: number): void {
    if (!this.suspect()) {
      this.cap = undefined;
      return;
    }
    const cap = this.cap ?? this.maxMemory;
    if (!this.client.lastReplyWhole) {
      this.cap = Math.max(Math.ceil(this.maxMemory * CAP_FLOOR), Math.floor(Math.min(cap, n) * CAP_SHRINK));
    } else if (n + LENGTH_CYCLE > cap) {
      // only a read near the cap tells about the cap (a short read arrives whole on any link)
      this.cap = Math.min(this.maxMemory, Math.ceil(cap * CAP_GROW));
    }
  }

  /**
   * The shape of the last reply, of a read of `len` bytes from `start`, as far as block [off, off+n) goes: the pairs
   * of neighbouring datagrams that carried some of the block, neither of them the reply's first (it holds the `$`)
   * nor its last (the `#`), each pair as its edges in bytes from `off` (.5 between a byte's two hex digits). Such a
   * pair is what a link can swap, or patch a loss in with a duplicate of the same length, and leave a packet with the
   * right length and checksum; moving the first or the last datagram breaks the packet. Two reads that share no pair
   * cannot be damaged alike; two that share one can (seen: a read 16 bytes earlier, over 16-digit datagrams, agreed
   * with the first read's wrong bytes). A reply in three datagrams or fewer has no such pair.
   */
  private shapeOf(start: number, len: number, off: number, n: number): string[] {
    // where its datagrams met, as offsets in its body (hex digits: two per byte)
    const cuts = this.client.lastReplyCuts;
    const edges = [start - off, ...cuts.map((c) => start + c / 2 - off), start + len - off];
    const pairs: string[] = [];
    // datagram i spans edges[i]..edges[i+1]; the pairs (i, i+1) with 1 <= i and i + 1 <= last - 1
    for (let i = 1; i + 3 < edges.length; i++) {
      if (edges[i + 2]! > 0 && edges[i]! < n) pairs.push(`${edges[i]}:${edges[i + 1]}:${edges[i + 2]}`);
    }
    return pairs;
  }

  /**
   * Read `out[off, off+n)` again and keep it only when two reads of different shapes (see shapeOf) agree: where a
   * read starts moves the block's bytes to other positions in the reply and so, mostly, into other datagrams, and
   * one reordering of datagrams cannot damage two shapes alike. No read repeats a length asked for in the last
   * RECENT_LENGTHS requests, so a late copy of an earlier reply — of a neighbouring block, whose bytes a shifted
   * read would line up with — can never pass the exact-length check. When reads keep disagreeing the replies are too long for
   * the link: the block is checked in halves, down to 16 bytes.
   */
  private async verifyBlock(addr: bigint, out: Buffer, off: number, n: number, firstShape?: string[]): Promise<void> {
    const first = firstShape !== undefined;
    const seen: { shape: string[]; bytes: Buffer }[] = first
      ? [{ shape: firstShape, bytes: Buffer.from(out.subarray(off, off + n)) }]
      : [];
    const maxReads = n > 16 ? 6 : 12;
    const splits = new Set<number>();
    let extra = 0;
    // halves are checked because the whole block's reads disagreed
    let mismatched = first ? 0 : 1;
    for (let k = 0; k < maxReads; k++) {
      extra = this.nextExtra(extra, n, off);
      let again: Buffer;
      let shape: string[];
      if (extra > 0) {
        // start before the block
        again = (await this.readBlock(addr + BigInt(off - extra), n + extra)).subarray(extra);
        shape = this.shapeOf(off - extra, n + extra, off, n);
      } else {
        // the range starts here (or no longer read fits): the block in two reads split where neither length was
        // asked for lately, a split not used for this block yet (each split is another shape). Never the block's
        // own shape again: a late copy of its first, damaged, reply (a resend answered twice) passes for a
        // second read and agrees with it (seen: 257 wrong bytes, two datagrams swapped, "verified")
        const split = this.freshSplit(n, splits);
        if (split === 0) break;
        splits.add(split);
        const head = await this.readBlock(addr + BigInt(off), split);
        const headShape = this.shapeOf(off, split, off, n);
        const tail = await this.readBlock(addr + BigInt(off + split), n - split);
        shape = [...headShape, ...this.shapeOf(off + split, n - split, off, n)];
        again = Buffer.concat([head, tail]);
      }
      // two reads that agree are enough on a link that has not damaged this block; once two of its reads
      // disagreed, the link damages it often and two damaged reads can agree by chance (the same swap at the
      // same place): then three reads of three shapes must agree
      if (extra > 0 && this.client.lastReplyWhole) {
        // this one came in a single datagram: it cannot have been reordered or patched together
        again.copy(out, off);
        return;
      }
      const agreeing = seen.filter((r) => r.bytes.equals(again));
      // reads that agree and share no pair of datagrams with each other (greedily, from this one)
      const pairs = new Set(shape);
      let shapes = 1;
      for (const r of agreeing) {
        if (r.shape.some((x) => pairs.has(x))) continue;
        for (const x of r.shape) pairs.add(x);
        shapes++;
      }
      const need = mismatched === 0 ? 2 : 3;
      if (shapes >= need) {
        again.copy(out, off);
        return;
      }
      if (agreeing.length < seen.length) {
        mismatched++;
        this.verifyMismatches++;
      }
      seen.push({ shape, bytes: Buffer.from(again) });
    }
    if (n > 16) {
      const half = Math.ceil(n / 2);
      await this.verifyBlock(addr, out, off, half);
      await this.verifyBlock(addr, out, off + half, n - half);
      return;
    }
    throw netdbgError("E411", { address: `0x${(addr + BigInt(off)).toString(16)}`, length: n, reads: seen.length });
  }

  /**
   * Where to split an n-byte block into two reads, near its middle: both lengths fresh (not asked for in the last
   * RECENT_LENGTHS requests), unequal (the first read's late copy must not fit the second), and a split not in
   * `used`; 0 if none.
   */
  private freshSplit(n: number, used: Set<number>): number {
    const mid = n >> 1;
    for (let d = 0; d < n; d++) {
      for (const s of [mid - d, mid + d + 1]) {
        if (s < 1 || s >= n || used.has(s) || 2 * s === n) continue;
        if (!this.recentLengths.includes(s) && !this.recentLengths.includes(n - s)) return s;
      }
    }
    return 0;
  }

  /** The next start offset before the block (> after) whose read length is fresh and fits; 0 if none. */
  private nextExtra(after: number, n: number, off: number): number {
    for (let e = after + 1; e <= off && n + e <= this.maxMemory; e++) {
      if (!this.recentLengths.includes(n + e)) return e;
    }
    return 0;
  }

  /** Write memory with `M` (hex) in kgdb-safe chunks. */
  async writeMemory(addr: bigint, data: Uint8Array, progress?: ProgressFn): Promise<void> {
    const chunk = Math.min(this.maxMemory, KGDB_MAX_MEM);
    for (let done = 0; done < data.length; ) {
      const n = Math.min(chunk, data.length - done);
      const a = addr + BigInt(done);
      await this.ok(`M${a.toString(16)},${n.toString(16)}:${toHex(data.subarray(done, done + n))}`);
      done += n;
      progress?.(done, data.length);
    }
  }

  /** Binary write with `X` (escaped): fewer bytes on the wire. */
  async writeMemoryBinary(addr: bigint, data: Uint8Array): Promise<void> {
    const head = Buffer.from(`X${addr.toString(16)},${data.length.toString(16)}:`, "latin1");
    const r = await this.client.request(Buffer.concat([head, escapeBinary(data)]), {
      accept: (x) => x === "OK" || x === "" || isErrorReply(x),
    });
    this.check(`X${addr.toString(16)},${data.length.toString(16)}`, r);
  }

  /** Software (`Z0`) or hardware (`Z1`) breakpoint. Idempotent across retransmissions. */
  async setBreakpoint(addr: bigint, hardware = false): Promise<void> {
    const req = `Z${hardware ? 1 : 0},${addr.toString(16)},${SPECIAL[this.arch].breakKind}`;
    const r = await this.client.request(req, { accept: (x) => x === "OK" || x === "" || isErrorReply(x), rerunReply: "E17" });
    if (r !== "E17") {
      // E17 (EEXIST): an earlier copy of this request set it
      this.check(req, r, hardware ? "The target has no free hardware breakpoint (x86 has 4) or no support for them." : undefined);
    }
    if (!hardware) this.swBreakpoints.add(addr);
  }

  async removeBreakpoint(addr: bigint, hardware = false): Promise<void> {
    const req = `z${hardware ? 1 : 0},${addr.toString(16)},${SPECIAL[this.arch].breakKind}`;
    const r = await this.client.request(req, { accept: (x) => x === "OK" || x === "" || isErrorReply(x), rerunReply: "E02" });
    if (r !== "E02") this.check(req, r); // E02 (ENOENT): an earlier copy of this request removed it
    if (!hardware) this.swBreakpoints.delete(addr);
  }

  /** Continue until the target stops again (breakpoint, interrupt()). */
  async cont(): Promise<StopReply> {
    return this.afterStop(parseStopReply(await this.client.resume("c")));
  }

  async step(): Promise<StopReply> {
    return this.afterStop(parseStopReply(await this.client.resume("s")));
  }

  /**
   * x86 `int3` traps with the pc one byte past the breakpoint. Linux kgdb reports that raw pc (gdb fixes it
   * up itself: gdbarch decr_pc_after_break = 1 for i386/amd64); gdbserver reports the fixed pc. So when the
   * pc is one past a breakpoint of ours, write pc - 1 back, or resuming would execute from the middle of an
   * instruction.
   */
  private async afterStop(stop: StopReply): Promise<StopReply> {
    if (this.arch !== "x86_64" || stop.kind !== "stopped" || stop.signal !== 5 || this.swBreakpoints.size === 0) return stop;
    const regs = await this.registers();
    const pc = regs.values.get("rip");
    if (pc === undefined || !this.swBreakpoints.has(pc - 1n)) return stop;
    const r = await this.request(`P10=${bigIntToLeHex(pc - 1n, 8)}`, (x) => x === "OK" || x === "" || isErrorReply(x));
    if (r === "OK") return stop;
    // no `P`: write the whole register block back with `G`
    const g = await this.request("g", (x) => isErrorReply(x) || /^[0-9a-fA-Fx]+$/.test(x));
    this.check("g", g);
    const off = 16 * 16;
    await this.ok(`G${g.slice(0, off)}${bigIntToLeHex(pc - 1n, 8)}${g.slice(off + 16)}`);
    return stop;
  }

  /** Break in with 0x03 (while `cont()` is pending, its promise resolves with the stop). */
  interrupt(): void {
    this.client.interrupt();
  }

  /** `D`: kgdb removes all breakpoints and resumes the kernel. */
  async detach(): Promise<void> {
    const r = await this.client.request("D", { accept: (x) => x === "OK" || isErrorReply(x), ends: true });
    this.check("D", r);
    this.swBreakpoints.clear();
    await this.client.ackFinal(); // kgdb resumes the kernel only once its OK is acked
  }

  /** Thread ids: qfThreadInfo/qsThreadInfo until `l` or (kgdb) an empty reply. */
  async threads(): Promise<string[]> {
    const ids: string[] = [];
    let r = await this.request("qfThreadInfo");
    for (let i = 0; i < 10_000; i++) {
      if (r === "" || r === "l" || isErrorReply(r)) break;
      if (r[0] !== "m") throw netdbgError("E409", { request: "qfThreadInfo", reply: r.slice(0, 40) });
      ids.push(...r.slice(1).split(",").filter(Boolean));
      r = await this.request("qsThreadInfo");
    }
    return ids;
  }

  async threadInfo(id: string): Promise<string | undefined> {
    const r = await this.request(`qThreadExtraInfo,${id}`);
    if (r === "" || isErrorReply(r)) return undefined;
    return Buffer.from(r, "hex").toString("latin1");
  }

  async currentThread(): Promise<string | undefined> {
    const r = await this.request("qC");
    return r.startsWith("QC") ? r.slice(2) : undefined;
  }

  async selectThread(id: string, op: "g" | "c" = "g"): Promise<void> {
    await this.ok(`H${op}${id}`);
  }

  /** `qRcmd` (gdb `monitor`): kdb commands on kgdb with CONFIG_KGDB_KDB. */
  async monitor(command: string): Promise<string> {
    let text = "";
    const r = await this.request(`qRcmd,${Buffer.from(command, "latin1").toString("hex")}`);
    if (r === "") throw netdbgError("E407", { request: "qRcmd", hint: "The kernel was built without CONFIG_KGDB_KDB." });
    if (r !== "OK" && !isErrorReply(r)) text += Buffer.from(r, "hex").toString("latin1");
    return text;
  }
}

function isStopReply(r: string): boolean {
  return /^[TS][0-9a-fA-F]{2}/.test(r) || /^[WX][0-9a-fA-F]{2}/.test(r);
}
