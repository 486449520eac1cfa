/**
 * A KDNET target peer for tests: the target side of the protocol (pokes, handshake, KD packet layer, a small
 * simulated x64 kernel) over any DatagramTransport — real UDP on loopback in the tests.
 *
 * Wire behaviour mirrors what the real target does in test/fixtures/kdnet/windbg-uncut.pcapng.gz (CAP1) and
 * aeroctf2021-kek.pcap (CAP2): poke body layout and nonce counter, source port = destination port in the poke, a
 * 12-byte UNUSED hello first, ACK with the received id, ids 0, 2, 4 …, a duplicate request makes it send its last
 * answer again, pokes continue during a session, break-in byte 'b' → Exception 0x80000003 state change.
 * test/engine/kdnet/peer-wire.test.ts checks the peer's datagrams against CAP1's shapes.
 */
import { randomBytes } from "node:crypto";
import type { KdnetKey } from "../../core/kdnet-key.js";
import { kdnetControlKey, kdnetHmacKey } from "../../core/kdnet-key.js";
import { buildPoke, deriveDataKey, isResponse, responseNonce } from "../../engine/kdnet/control.js";
import { CHANNEL_CONTROL, CHANNEL_DATA, type KdnetKeys, openDatagram, sealDatagram } from "../../engine/kdnet/datagram.js";
import {
  Api,
  BREAKIN_BYTE,
  buildDebugIoPrint,
  buildKdPacket,
  buildManipulate,
  buildStateChange,
  CONTEXT_AMD64_SIZE,
  EXCEPTION_BREAKPOINT,
  EXCEPTION_SINGLE_STEP,
  FILE_IO_HEADER_LEN,
  type KdVersion,
  type Manipulate,
  PacketType,
  parseKdPacket,
  parseManipulate,
  type StateChange,
  STATUS_SUCCESS,
  STATUS_UNSUCCESSFUL,
  writeVersion,
} from "../../engine/kdnet/kd.js";
import type { DatagramTransport, UdpAddress } from "../../engine/kdnet/transport.js";

export const KERNEL_BASE = 0xfffff80012000000n;
export const MODULE_LIST = 0xfffff80012c2a000n; // PsLoadedModuleList head
export const BULK_BASE = 0xffffa00000000000n; // a large deterministic region for throughput tests
export const PHYS_BASE = 0x1000n;
export const INITIAL_RIP = KERNEL_BASE + 0x41a2b0n;

const PAGE = 4096n;

/** Sparse byte-addressable memory with mapped regions. */
export class SparseMemory {
  private readonly pages = new Map<bigint, Buffer>();
  map(base: bigint, length: number, fill?: (offset: number) => number): void {
    for (let off = 0; off < length; ) {
      const a = base + BigInt(off);
      const pb = a - (a % PAGE);
      let page = this.pages.get(pb);
      if (!page) {
        page = Buffer.alloc(Number(PAGE));
        this.pages.set(pb, page);
      }
      const n = Math.min(Number(PAGE - (a - pb)), length - off);
      if (fill) for (let i = 0; i < n; i++) page[Number(a - pb) + i] = fill(off + i) & 0xff;
      off += n;
    }
  }
  /** Read up to `length` bytes; stops at the first unmapped byte. */
  read(address: bigint, length: number): Buffer {
    const out = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const a = address + BigInt(done);
      const pb = a - (a % PAGE);
      const page = this.pages.get(pb);
      if (!page) break;
      const o = Number(a - pb);
      const n = Math.min(Number(PAGE) - o, length - done);
      page.copy(out, done, o, o + n);
      done += n;
    }
    return out.subarray(0, done);
  }
  write(address: bigint, data: Uint8Array): number {
    let done = 0;
    while (done < data.length) {
      const a = address + BigInt(done);
      const pb = a - (a % PAGE);
      const page = this.pages.get(pb);
      if (!page) break;
      const o = Number(a - pb);
      const n = Math.min(Number(PAGE) - o, data.length - done);
      page.set(data.subarray(done, done + n), o);
      done += n;
    }
    return done;
  }
}

/** Deterministic content of the bulk region: a cheap hash of the offset. */
export function bulkByte(offset: number): number {
  let x = (offset * 2654435761) >>> 0;
  x ^= x >>> 13;
  return (x * 0x5bd1e995) >>> 24;
}

export interface PeerModule {
  name: string;
  base: bigint;
  size: number;
}

export const PEER_MODULES: readonly PeerModule[] = [
  { name: "ntoskrnl.exe", base: KERNEL_BASE, size: 0x1046000 },
  { name: "hal.dll", base: 0xfffff80011a00000n, size: 0x6a000 },
  { name: "kdstub.dll", base: 0xfffff80011b00000n, size: 0x2a000 },
  { name: "kd_02_8086.dll", base: 0xfffff80011b40000n, size: 0x38000 },
];

export interface TargetPeerOptions {
  transport: DatagramTransport;
  key: KdnetKey;
  /** The debugger host to poke. */
  host: UdpAddress;
  /** Protocol version byte (CAP1: 4, CAP2: 5). */
  version?: number;
  pokeIntervalMs?: number;
  retransmitMs?: number;
  /** Largest read the target serves per request (ActualBytesRead is clamped). */
  maxTransfer?: number;
  /** Answer GetContextEx with STATUS_UNSUCCESSFUL, as the CAP1 boot debugger did. */
  noGetContextEx?: boolean;
  /** Bytes of the bulk region (default 4 MiB). */
  bulkSize?: number;
  /** After the handshake, stop in the debugger with a LoadSymbols state change for this image (CAP1 frame 8). */
  stopAtBoot?: string;
}

export class KdnetTargetPeer {
  readonly memory = new SparseMemory();
  readonly physical = new SparseMemory();
  readonly context = Buffer.alloc(CONTEXT_AMD64_SIZE);
  readonly versionInfo: KdVersion = {
    majorVersion: 0x0f,
    minorVersion: 19041,
    protocolVersion: 6,
    kdSecondaryVersion: 2,
    flags: 0x0007,
    machineType: 0x8664,
    maxPacketType: 12,
    maxStateChange: 3,
    maxManipulate: 0x33,
    simulation: 0,
    kernBase: KERNEL_BASE,
    psLoadedModuleList: MODULE_LIST,
    debuggerDataList: 0n,
  };
  readonly breakpoints = new Map<number, { address: bigint; original: number }>();
  /** Everything the peer received (decoded), for assertions. */
  readonly received: { type: number; id: number; api?: number }[] = [];
  readonly prints: string[] = [];
  readonly stats = { pokes: 0, handshakes: 0, duplicates: 0, retransmits: 0, authFailed: 0 };

  private readonly transport: DatagramTransport;
  private readonly controlKeys: KdnetKeys;
  private readonly host: UdpAddress;
  private readonly version: number;
  private readonly pokeIntervalMs: number;
  private readonly retransmitMs: number;
  private readonly maxTransfer: number;
  private readonly noGetContextEx: boolean;
  private readonly stopAtBoot: string | undefined;
  private nonceTail = randomBytes(30);
  private pokeCounter = 0x370b;
  private pokeSeq = 2508;
  private pokeTimer: NodeJS.Timeout | undefined;
  private txSeq = 1;
  private nextId = 0;
  private lastRxId: number | undefined;
  private recentIds: number[] = [];
  private lastAnswer: Buffer | undefined;
  private pending: { packet: Buffer; id: number; timer: NodeJS.Timeout | undefined } | undefined;
  private queue: Buffer[] = [];
  private handleSeq = 1;
  running = true;
  private closed = false;
  private fileIoWaiters: ((status: number) => void)[] = [];

  constructor(opts: TargetPeerOptions) {
    this.transport = opts.transport;
    const control = kdnetControlKey(opts.key);
    this.controlKeys = { control, hmac: kdnetHmacKey(control) };
    this.host = opts.host;
    this.version = opts.version ?? 5;
    this.pokeIntervalMs = opts.pokeIntervalMs ?? 3016;
    this.retransmitMs = opts.retransmitMs ?? 500;
    this.maxTransfer = opts.maxTransfer ?? 4000;
    this.noGetContextEx = opts.noGetContextEx ?? false;
    this.stopAtBoot = opts.stopAtBoot;
    this.buildKernel(opts.bulkSize ?? 4 * 1024 * 1024);
    this.transport.onMessage((buf, from) => this.onDatagram(buf, from));
  }

  /** Start poking the host (first poke immediately). */
  start(): void {
    this.poke();
  }

  get connected(): boolean {
    return this.controlKeys.data !== undefined;
  }

  private buildKernel(bulkSize: number): void {
    // Kernel image header page with "MZ", code page at INITIAL_RIP (int3-free NOPs), bulk region, module list.
    this.memory.map(KERNEL_BASE, 0x2000, (o) => (o === 0 ? 0x4d : o === 1 ? 0x5a : 0));
    this.memory.map(INITIAL_RIP - 0x100n, 0x1000, () => 0x90);
    this.memory.map(BULK_BASE, bulkSize, bulkByte);
    for (const m of PEER_MODULES.slice(1)) this.memory.map(m.base, 0x1000, (o) => (o === 0 ? 0x4d : o === 1 ? 0x5a : 0));
    const n = PEER_MODULES.length;
    const entrySize = 0x200n;
    const entries = PEER_MODULES.map((_, i) => MODULE_LIST + 0x100n + BigInt(i) * entrySize);
    this.memory.map(MODULE_LIST, 0x100 + n * 0x200 + 0x1000);
    const head = Buffer.alloc(16);
    head.writeBigUInt64LE(entries[0]!, 0);
    head.writeBigUInt64LE(entries[n - 1]!, 8);
    this.memory.write(MODULE_LIST, head);
    PEER_MODULES.forEach((m, i) => {
      const e = Buffer.alloc(0x200);
      e.writeBigUInt64LE(i + 1 < n ? entries[i + 1]! : MODULE_LIST, 0);
      e.writeBigUInt64LE(i > 0 ? entries[i - 1]! : MODULE_LIST, 8);
      e.writeBigUInt64LE(m.base, 0x30);
      e.writeBigUInt64LE(m.base + 0x1000n, 0x38);
      e.writeUInt32LE(m.size, 0x40);
      const full = Buffer.from(`\\SystemRoot\\system32\\${m.name}`, "utf16le");
      const base = Buffer.from(m.name, "utf16le");
      const fullAt = entries[i]! + 0x80n;
      const baseAt = entries[i]! + 0x180n;
      e.writeUInt16LE(full.length, 0x48);
      e.writeUInt16LE(full.length + 2, 0x4a);
      e.writeBigUInt64LE(fullAt, 0x50);
      e.writeUInt16LE(base.length, 0x58);
      e.writeUInt16LE(base.length + 2, 0x5a);
      e.writeBigUInt64LE(baseAt, 0x60);
      full.copy(e, 0x80);
      base.copy(e, 0x180);
      this.memory.write(entries[i]!, e);
    });
    this.physical.map(PHYS_BASE, 0x10000, (o) => (o * 7 + 3) & 0xff);
    const regs: [number, bigint][] = [
      [0x78, 0x1111n],
      [0x80, 0x2222n],
      [0x98, 0xfffff80012345000n],
      [0xf8, INITIAL_RIP],
    ];
    for (const [off, v] of regs) this.context.writeBigUInt64LE(v, off);
    this.context.writeUInt32LE(0x246, 0x44);
    this.context.writeUInt16LE(0x10, 0x38);
    this.context.writeUInt16LE(0x18, 0x42);
  }

  get rip(): bigint {
    return this.context.readBigUInt64LE(0xf8);
  }

  // -------------------------------------------------------------- control channel

  private poke(): void {
    if (this.closed || this.connected) return;
    this.stats.pokes++;
    this.sendPoke();
    this.pokeTimer = setTimeout(() => this.poke(), this.pokeIntervalMs);
  }

  /** Send one poke now (also used during a live session, as real targets do). */
  sendPoke(): void {
    const nonce = Buffer.alloc(32);
    nonce.writeUInt16LE(this.pokeCounter++ & 0xffff, 0);
    this.nonceTail.copy(nonce, 2);
    const body = buildPoke({
      nonce,
      targetAddress: this.transport.local.address,
      targetPort: this.transport.local.port,
      hostAddress: this.host.address,
      hostPort: this.host.port,
      peerAddress: this.connected ? this.host.address : "",
      peerPort: this.connected ? this.host.port : 0,
    });
    this.lastPokeNonce = nonce;
    this.transport.send(
      sealDatagram(
        { version: this.version, channel: CHANNEL_CONTROL, seq: this.pokeSeq++, direction: "target-to-host", body },
        this.controlKeys,
      ),
      this.host,
    );
  }
  private lastPokeNonce: Buffer | undefined;

  private onDatagram(buf: Buffer, _from: UdpAddress): void {
    if (this.closed) return;
    const r = openDatagram(buf, this.controlKeys);
    if (!r.ok) {
      this.stats.authFailed++;
      return;
    }
    const d = r.datagram;
    if (d.direction !== "host-to-target") return;
    if (d.channel === CHANNEL_CONTROL) {
      const nonce = responseNonce(d.body);
      if (!isResponse(d.body) || !nonce || !this.lastPokeNonce) return;
      if (nonce.subarray(2).compare(this.nonceTail) !== 0) return;
      if (this.connected) return;
      this.controlKeys.data = deriveDataKey(this.controlKeys.control, d.body);
      this.stats.handshakes++;
      if (this.pokeTimer) clearTimeout(this.pokeTimer);
      this.pokeTimer = undefined;
      // CAP1 frame 3: a 12-byte UNUSED packet carrying the host's IPv4 address in the id slot.
      const hello = Buffer.alloc(12);
      this.sendData(hello);
      if (this.stopAtBoot) this.loadSymbols(this.stopAtBoot, KERNEL_BASE, 0x1046000);
      return;
    }
    if (d.channel !== CHANNEL_DATA) return;
    if (d.body.length === 1 && d.body[0] === BREAKIN_BYTE) {
      if (this.running) this.stop({ kind: "exception", code: EXCEPTION_BREAKPOINT, address: this.rip });
      return;
    }
    const p = parseKdPacket(d.body);
    if (!p) return;
    this.received.push(
      p.type === PacketType.StateManipulate
        ? { type: p.type, id: p.id, api: p.data.readUInt32LE(0) }
        : { type: p.type, id: p.id },
    );
    switch (p.type) {
      case PacketType.Acknowledge:
        if (this.pending && this.pending.id === p.id) {
          if (this.pending.timer) clearTimeout(this.pending.timer);
          this.pending = undefined;
          this.flush();
        }
        return;
      case PacketType.Resend:
        if (this.pending) this.sendData(this.pending.packet);
        return;
      case PacketType.Reset:
        this.lastRxId = undefined;
        this.sendData(buildKdPacket(PacketType.Reset, this.nextId));
        if (this.pending) this.sendData(this.pending.packet);
        return;
      default:
        break;
    }
    if (!p.checksumOk) {
      this.sendData(buildKdPacket(PacketType.Resend, 0));
      return;
    }
    this.sendData(buildKdPacket(PacketType.Acknowledge, p.id));
    if (p.id !== this.lastRxId && this.recentIds.includes(p.id)) {
      // A stale copy that arrived late (reordering): already handled, ignore.
      this.stats.duplicates++;
      return;
    }
    if (p.id === this.lastRxId) {
      // Duplicate: the host did not see our answer; send it again.
      this.stats.duplicates++;
      if (this.lastAnswer && !this.pending) this.sendData(this.lastAnswer);
      return;
    }
    this.lastRxId = p.id;
    this.recentIds.push(p.id);
    if (this.recentIds.length > 32) this.recentIds.shift();
    this.lastAnswer = undefined;
    if (p.type === PacketType.StateManipulate) {
      const m = parseManipulate(p.data);
      if (m) this.manipulate(m);
    } else if (p.type === PacketType.FileIo) {
      const ws = this.fileIoWaiters;
      this.fileIoWaiters = [];
      for (const w of ws) w(p.data.readUInt32LE(4));
    }
  }

  // -------------------------------------------------------------- KD sending

  private sendData(body: Uint8Array): void {
    if (!this.controlKeys.data) return;
    this.transport.send(
      sealDatagram(
        { version: this.version, channel: CHANNEL_DATA, seq: this.txSeq++, direction: "target-to-host", body },
        this.controlKeys,
      ),
      this.host,
    );
  }

  /** Queue a data packet that needs an ACK; sent when nothing else is outstanding, retransmitted until ACKed. */
  private post(type: number, data: Buffer, isAnswer = false): void {
    const id = this.nextId;
    this.nextId = (this.nextId + 2) >>> 0;
    const packet = buildKdPacket(type, id, data);
    if (isAnswer) this.lastAnswer = packet;
    this.queue.push(packet);
    this.flush();
  }

  private flush(): void {
    if (this.pending || this.closed) return;
    const packet = this.queue.shift();
    if (!packet) return;
    const pending = { packet, id: packet.readUInt32LE(8), timer: undefined as NodeJS.Timeout | undefined };
    this.pending = pending;
    const attempt = (first: boolean) => {
      if (this.pending !== pending || this.closed) return;
      if (!first) this.stats.retransmits++;
      this.sendData(packet);
      pending.timer = setTimeout(() => attempt(false), this.retransmitMs);
    };
    attempt(true);
  }

  private stop(s: { kind: "exception"; code: number; address: bigint }): void {
    this.running = false;
    const sc: StateChange = {
      kind: "exception",
      processor: 0,
      processors: 1,
      thread: 0xffffc0012345f080n,
      pc: s.address,
      code: s.code,
      address: s.address,
      firstChance: true,
    };
    this.post(PacketType.StateChange64, buildStateChange(sc));
  }

  /** A DbgPrint from the target. */
  print(text: string): void {
    this.prints.push(text);
    this.post(PacketType.DebugIo, buildDebugIoPrint(text));
  }

  /** Announce a module load (LoadSymbols state change, as in CAP1 frame 8). The target then waits in the debugger. */
  loadSymbols(path: string, base: bigint, size: number): void {
    this.running = false;
    this.post(
      PacketType.StateChange64,
      buildStateChange({
        kind: "load-symbols",
        processor: 0,
        processors: 1,
        thread: 0n,
        pc: this.rip,
        base,
        size,
        unload: false,
        path,
      }),
    );
  }

  /** Ask the host for a file (kdfiles); resolves with the status the host answers. */
  createFile(path: string): Promise<number> {
    const name = Buffer.from(`${path}\0`, "utf16le");
    const b = Buffer.alloc(FILE_IO_HEADER_LEN + name.length);
    b.writeUInt32LE(Api.CreateFile, 0);
    name.copy(b, FILE_IO_HEADER_LEN);
    const p = new Promise<number>((resolve) => this.fileIoWaiters.push(resolve));
    this.post(PacketType.FileIo, b);
    return p;
  }

  /** Simulate a reboot: new boot nonce, fresh counters, pokes again. */
  reboot(): void {
    if (this.pending?.timer) clearTimeout(this.pending.timer);
    this.pending = undefined;
    this.queue = [];
    this.controlKeys.data = undefined;
    this.nonceTail = randomBytes(30);
    this.txSeq = 1;
    this.nextId = 0;
    this.lastRxId = undefined;
    this.recentIds = [];
    this.lastAnswer = undefined;
    this.running = true;
    this.breakpoints.clear();
    this.context.writeBigUInt64LE(INITIAL_RIP, 0xf8);
    if (this.pokeTimer) clearTimeout(this.pokeTimer);
    this.poke();
  }

  // -------------------------------------------------------------- the simulated kernel

  private answer(m: Manipulate, status: number, fill: (b: Buffer) => void, extra?: Uint8Array): void {
    const data = buildManipulate(
      m.api,
      (b) => {
        m.union.copy(b, 16);
        fill(b);
      },
      extra,
      { processor: m.processor, status },
    );
    this.post(PacketType.StateManipulate, data, true);
  }

  private manipulate(m: Manipulate): void {
    const u = m.union;
    switch (m.api) {
      case Api.GetVersion:
        this.answer(m, STATUS_SUCCESS, (b) => writeVersion(b, this.versionInfo));
        return;
      case Api.ReadVirtualMemory:
      case Api.ReadPhysicalMemory:
      case Api.ReadControlSpace: {
        const addr = u.readBigUInt64LE(0);
        const count = Math.min(u.readUInt32LE(8), this.maxTransfer);
        let data: Buffer;
        if (m.api === Api.ReadControlSpace) data = this.controlSpace(addr, count);
        else data = (m.api === Api.ReadVirtualMemory ? this.memory : this.physical).read(addr, count);
        this.answer(
          m,
          data.length > 0 || count === 0 ? STATUS_SUCCESS : STATUS_UNSUCCESSFUL,
          (b) => b.writeUInt32LE(data.length, 28),
          data,
        );
        return;
      }
      case Api.WriteVirtualMemory:
      case Api.WritePhysicalMemory: {
        const addr = u.readBigUInt64LE(0);
        const count = Math.min(u.readUInt32LE(8), m.extra.length);
        const n = (m.api === Api.WriteVirtualMemory ? this.memory : this.physical).write(addr, m.extra.subarray(0, count));
        this.answer(m, n > 0 || count === 0 ? STATUS_SUCCESS : STATUS_UNSUCCESSFUL, (b) => b.writeUInt32LE(n, 28));
        return;
      }
      case Api.GetContext:
        this.answer(m, STATUS_SUCCESS, () => {}, this.context);
        return;
      case Api.GetContextEx: {
        if (this.noGetContextEx) {
          this.answer(m, STATUS_UNSUCCESSFUL, () => {});
          return;
        }
        const off = u.readUInt32LE(0);
        const count = Math.min(u.readUInt32LE(4), this.maxTransfer);
        const data = this.context.subarray(Math.min(off, CONTEXT_AMD64_SIZE), Math.min(off + count, CONTEXT_AMD64_SIZE));
        this.answer(m, STATUS_SUCCESS, (b) => b.writeUInt32LE(data.length, 24), data);
        return;
      }
      case Api.SetContext:
        m.extra.copy(this.context, 0, 0, Math.min(m.extra.length, CONTEXT_AMD64_SIZE));
        this.answer(m, STATUS_SUCCESS, () => {});
        return;
      case Api.WriteBreakPoint: {
        const addr = u.readBigUInt64LE(0);
        const orig = this.memory.read(addr, 1);
        if (orig.length === 0) {
          this.answer(m, STATUS_UNSUCCESSFUL, () => {});
          return;
        }
        const handle = this.handleSeq++;
        this.breakpoints.set(handle, { address: addr, original: orig[0]! });
        this.memory.write(addr, Buffer.from([0xcc]));
        this.answer(m, STATUS_SUCCESS, (b) => b.writeUInt32LE(handle, 24));
        return;
      }
      case Api.RestoreBreakPoint: {
        const handle = u.readUInt32LE(0);
        const bp = this.breakpoints.get(handle);
        if (!bp) {
          this.answer(m, STATUS_UNSUCCESSFUL, () => {});
          return;
        }
        this.memory.write(bp.address, Buffer.from([bp.original]));
        this.breakpoints.delete(handle);
        this.answer(m, STATUS_SUCCESS, () => {});
        return;
      }
      case Api.Continue:
      case Api.Continue2: {
        this.running = true;
        const trace = m.api === Api.Continue2 && u.readUInt32LE(4) !== 0;
        setTimeout(() => this.afterContinue(trace), 1);
        return;
      }
      case Api.Reboot:
        setTimeout(() => this.reboot(), 5);
        return;
      default:
        this.answer(m, STATUS_UNSUCCESSFUL, () => {});
    }
  }

  /** After a continue: a trace step stops one instruction later; otherwise the lowest breakpoint above rip "hits". */
  private afterContinue(trace: boolean): void {
    if (this.closed || !this.running) return;
    if (trace) {
      const pc = this.rip + 1n;
      this.context.writeBigUInt64LE(pc, 0xf8);
      this.stop({ kind: "exception", code: EXCEPTION_SINGLE_STEP, address: pc });
      return;
    }
    const next = [...this.breakpoints.values()].map((b) => b.address).filter((a) => a > this.rip);
    if (next.length === 0) return; // runs until a break-in
    let pc = next[0]!;
    for (const a of next) if (a < pc) pc = a;
    this.context.writeBigUInt64LE(pc, 0xf8);
    this.stop({ kind: "exception", code: EXCEPTION_BREAKPOINT, address: pc });
  }

  private controlSpace(item: bigint, count: number): Buffer {
    // 0 KPCR, 1 KPRCB, 2 special registers (VBOX NTKCONTEXT64): a recognisable pattern per item.
    if (item > 3n) return Buffer.alloc(0);
    const b = Buffer.alloc(Math.min(count, 0x400));
    for (let i = 0; i < b.length; i++) b[i] = (Number(item) * 0x40 + i) & 0xff;
    return b;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.pokeTimer) clearTimeout(this.pokeTimer);
    if (this.pending?.timer) clearTimeout(this.pending.timer);
    await this.transport.close();
  }
}
