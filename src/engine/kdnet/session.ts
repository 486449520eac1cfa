/**
 * The host side of a KDNET session: control-channel handshake (answer pokes, derive the data key, re-handshake when
 * the target reboots) and the KD packet layer (ACK / RESEND / RESET, ids, duplicates, retransmission, break-in,
 * File-I/O and GetString answers). The KD API on top lives in api.ts.
 *
 * Behaviour follows radare2/rizin winkd (iob_net.c, kd.c) and what WinDbg does in CAP1 (test/fixtures/kdnet/windbg-uncut.pcapng.gz, from Lekensteyn/kdnet;
 * CAP2 is the same folder's aeroctf2021-kek.pcap): answers only the first
 * poke; ACKs every data packet with the packet's id; sends RESEND for a packet it cannot use; host ids 0x80000000 + 2n;
 * re-sends an unanswered request after ≈0.5 s; answers File I/O with STATUS_NO_SUCH_FILE).
 */
import type { KdnetKey } from "../../core/kdnet-key.js";
import { kdnetControlKey, kdnetHmacKey } from "../../core/kdnet-key.js";
import { netdbgError } from "../../core/error.js";
import { plainAddress } from "../../core/ip.js";

export { plainAddress };
import { bootIdentity, buildResponse, deriveDataKey, parsePoke, type Poke } from "./control.js";
import { CHANNEL_CONTROL, CHANNEL_DATA, type KdnetKeys, openDatagram, peekHeader, sealDatagram } from "./datagram.js";
import {
  apiName,
  BREAKIN_BYTE,
  buildDebugIoGetStringReply,
  buildFileIoReply,
  buildKdPacket,
  type DebugIo,
  type KdPacket,
  type Manipulate,
  PacketType,
  parseDebugIo,
  parseFileIo,
  parseKdPacket,
  parseManipulate,
  parseStateChange,
  type StateChange,
} from "./kd.js";
import { type DatagramTransport, type UdpAddress, endpointKey } from "./transport.js";

export interface HostSessionOptions {
  transport: DatagramTransport;
  key: KdnetKey;
  /** Re-send an unanswered packet after this long (WinDbg: ≈485 ms). */
  retransmitMs?: number;
  /** Give up after this many sends of one packet (WinDbg: 128). */
  maxTries?: number;
  /**
   * The target's address (a literal IP; resolve a DNS name before). Pokes from any other address are ignored
   * ("foreign-poke") unless `acceptNewSource` is set. When unset, the first authentic poke pins the source.
   */
  targetAddress?: string;
  /**
   * Accept a poke from an address other than `targetAddress` (or than the live session's peer) when it proves the
   * target sent it from there: it authenticates with the target's key, the target address it carries inside the
   * encrypted body equals the datagram's source, and its nonce counter is newer than any seen in that boot. A
   * replayed poke fails the last two checks ("replayed-poke") and never moves the session. The debug boot of
   * Windows does change the source: KDNET's own address comes from DHCP or 169.254.x.x, not the NIC's static one.
   */
  acceptNewSource?: boolean;
  /** Source of the response's 32 random bytes (tests). */
  random?: () => Uint8Array;
  /**
   * A poke of the same boot arriving this long after our response, with no data from the target since, is answered
   * again (our response was lost). Pokes come every ≈3 s (CAP1), so 1 s separates "in flight" from "lost".
   */
  reanswerAfterMs?: number;
  /** Called with the host's ACK turnaround in nanoseconds (receive callback entry → ACK handed to the socket). */
  onAckTurnaround?: (ns: number) => void;
}

export type HostEvent =
  | { kind: "poke"; from: UdpAddress; version: number; seq: number; poke: Poke; authenticated: true; answered: boolean }
  | { kind: "auth-failed"; from: UdpAddress; channel: number; version: number }
  /** A control datagram from an address other than the expected target's (not even authenticated). */
  | { kind: "foreign-poke"; from: UdpAddress }
  /**
   * An authentic poke that did not come from where the target sent it (its inner target address is not the source,
   * or its nonce counter was already seen): a replay. Ignored.
   */
  | { kind: "replayed-poke"; from: UdpAddress; claimed: string; reason: "address" | "counter" }
  /** The session moved to a new source address on an authentic, fresh poke (acceptNewSource). */
  | { kind: "source-changed"; from: UdpAddress; previous: string | undefined }
  | { kind: "handshake"; from: UdpAddress; version: number; rebooted: boolean }
  | { kind: "hello"; from: UdpAddress }
  | { kind: "state-change"; state: StateChange }
  | { kind: "print"; text: string }
  | { kind: "file-io"; api: number; path?: string }
  | { kind: "reset" };

interface Outstanding {
  packet: Buffer;
  id: number;
  what: string;
  expectResponse: boolean;
  match: (m: Manipulate) => boolean;
  acked: boolean;
  tries: number;
  timer: NodeJS.Timeout | undefined;
  resolve: (m: Manipulate | undefined) => void;
  reject: (e: unknown) => void;
}

const INITIAL_HOST_ID = 0x80000000;
/** Consecutive unauthenticated data datagrams after which the next poke re-handshakes. */
const STALE_AFTER_FAILURES = 3;

export class KdnetHostSession {
  readonly keys: KdnetKeys;
  private readonly transport: DatagramTransport;
  private readonly retransmitMs: number;
  private readonly maxTries: number;
  private readonly random: (() => Uint8Array) | undefined;
  private readonly onAck: ((ns: number) => void) | undefined;
  private readonly listeners = new Set<(e: HostEvent) => void>();

  /** The target endpoint of the live session, once handshaken. */
  peer: UdpAddress | undefined;
  /** Protocol version byte the target uses (echoed back). */
  version = 0;
  private boot: string | undefined;
  private dataFailures = 0;
  private dataSeen = false;
  private answeredAt = 0;
  private readonly reanswerAfterMs: number;
  private previousDataKey: Uint8Array | undefined;
  private txSeq = 1;
  private nextId = INITIAL_HOST_ID;
  private lastRxId: number | undefined;
  private lastSent: Buffer | undefined;
  private outstanding: Outstanding | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private stateWaiters: ((s: StateChange) => void)[] = [];
  private handshakeWaiters: (() => void)[] = [];
  /** Last state change (the target is stopped in the debugger while `stopped` is true). */
  lastState: StateChange | undefined;
  stopped = false;
  readonly stats = { received: 0, authFailed: 0, sent: 0, retransmits: 0, duplicates: 0, badChecksum: 0 };
  private closed = false;

  constructor(opts: HostSessionOptions) {
    const control = kdnetControlKey(opts.key);
    this.keys = { control, hmac: kdnetHmacKey(control) };
    this.transport = opts.transport;
    this.retransmitMs = opts.retransmitMs ?? 500;
    this.reanswerAfterMs = opts.reanswerAfterMs ?? 1000;
    this.maxTries = opts.maxTries ?? 32;
    this.random = opts.random;
    this.onAck = opts.onAckTurnaround;
    this.targetAddress = opts.targetAddress === undefined ? undefined : plainAddress(opts.targetAddress);
    this.acceptNewSource = Boolean(opts.acceptNewSource);
    this.transport.onMessage((buf, from) => this.onDatagram(buf, from));
  }
  private targetAddress: string | undefined;
  private readonly acceptNewSource: boolean;
  /** Highest poke counter seen per boot identity (replay detection). */
  private readonly pokeCounters = new Map<string, number>();

  on(listener: (e: HostEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  private emit(e: HostEvent): void {
    for (const l of this.listeners) l(e);
  }

  get connected(): boolean {
    return this.peer !== undefined && this.keys.data !== undefined;
  }

  /** Resolve once a handshake has completed (immediately when one has). */
  waitForHandshake(timeoutMs: number): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.handshakeWaiters = this.handshakeWaiters.filter((w) => w !== done);
        this.closers.delete(cancel);
        reject(netdbgError("E502", { port: this.transport.local.port, seconds: Math.round(timeoutMs / 100) / 10 }));
      }, timeoutMs);
      const cancel = () => {
        clearTimeout(t);
        reject(netdbgError("E508", { what: "Waiting for the target", reason: "the session was closed" }));
      };
      this.closers.add(cancel);
      const done = () => {
        clearTimeout(t);
        this.closers.delete(cancel);
        resolve();
      };
      this.handshakeWaiters.push(done);
    });
  }

  /** Resolve with the next state change (break-in, breakpoint, step). */
  waitForStateChange(timeoutMs: number): Promise<StateChange> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.stateWaiters = this.stateWaiters.filter((w) => w !== done);
        this.closers.delete(cancel);
        reject(netdbgError("E513", { seconds: Math.round(timeoutMs / 100) / 10 }));
      }, timeoutMs);
      const cancel = () => {
        clearTimeout(t);
        reject(netdbgError("E508", { what: "Waiting for the target to stop", reason: "the session was closed" }));
      };
      const done = (s: StateChange) => {
        clearTimeout(t);
        this.closers.delete(cancel);
        resolve(s);
      };
      this.closers.add(cancel);
      this.stateWaiters.push(done);
    });
  }
  private readonly closers = new Set<() => void>();

  // ---------------------------------------------------------------- receive

  private onDatagram(buf: Buffer, from: UdpAddress): void {
    const t0 = this.onAck ? process.hrtime.bigint() : 0n;
    this.stats.received++;
    const hdr = peekHeader(buf);
    if (!hdr) return;
    if (hdr.channel === CHANNEL_CONTROL) {
      this.onControl(buf, from);
      return;
    }
    if (hdr.channel !== CHANNEL_DATA || !this.peer || endpointKey(from) !== endpointKey(this.peer)) return;
    let r = openDatagram(buf, this.keys);
    if (!r.ok && this.previousDataKey) {
      // We answered a repeated poke, but the target had kept the key of our earlier response: go back to it.
      const alt = openDatagram(buf, { ...this.keys, data: this.previousDataKey });
      if (alt.ok) {
        this.keys.data = this.previousDataKey;
        this.previousDataKey = undefined;
        r = alt;
      }
    }
    if (!r.ok) {
      this.stats.authFailed++;
      this.dataFailures++;
      if (r.reason === "bad-tag") this.emit({ kind: "auth-failed", from, channel: hdr.channel, version: hdr.version });
      return;
    }
    this.dataFailures = 0;
    this.dataSeen = true;
    const body = r.datagram.body;
    const p = parseKdPacket(body);
    if (!p) return;
    this.onKdPacket(p, t0);
  }

  private onControl(buf: Buffer, from: UdpAddress): void {
    const source = plainAddress(from.address);
    const pinned = this.peer ? plainAddress(this.peer.address) : this.targetAddress;
    const moved = pinned !== undefined && source !== pinned;
    if (moved && !this.acceptNewSource) {
      this.emit({ kind: "foreign-poke", from });
      return;
    }
    const r = openDatagram(buf, this.keys);
    if (!r.ok) {
      this.stats.authFailed++;
      this.emit({ kind: "auth-failed", from, channel: CHANNEL_CONTROL, version: r.version ?? 0 });
      return;
    }
    const poke = parsePoke(r.datagram.body);
    if (!poke || r.datagram.direction !== "target-to-host") return;
    const identity = bootIdentity(poke.nonce);
    const counter = poke.nonce.readUInt16LE(0);
    const seen = this.pokeCounters.get(identity);
    if (moved) {
      // The key is the identity, but a captured poke authenticates too: only the target can put its own (new)
      // address inside the encrypted body, and only a poke it sent after the last one seen is fresh.
      const claimed = plainAddress(poke.targetAddress);
      if (claimed !== source) {
        this.emit({ kind: "replayed-poke", from, claimed: poke.targetAddress, reason: "address" });
        return;
      }
      if (seen !== undefined && !newerCounter(counter, seen)) {
        this.emit({ kind: "replayed-poke", from, claimed: poke.targetAddress, reason: "counter" });
        return;
      }
    }
    if (seen === undefined || newerCounter(counter, seen)) this.pokeCounters.set(identity, counter);
    if (moved) {
      this.emit({ kind: "source-changed", from, previous: pinned });
      this.targetAddress = source;
    } else if (this.targetAddress === undefined) {
      this.targetAddress = source;
    }
    // Live = same target, same boot, and its data datagrams still authenticate (radare2's shlr/winkd/iob_net.c: otherwise
    // drop the data key and answer the poke).
    const live =
      this.connected &&
      this.boot === identity &&
      this.peer !== undefined &&
      endpointKey(this.peer) === endpointKey(from) &&
      this.dataFailures < STALE_AFTER_FAILURES &&
      // No data since our response, for longer than a poke could have been in flight: the response was probably
      // lost and the target still waits for one (answer again).
      (this.dataSeen || Date.now() - this.answeredAt < this.reanswerAfterMs);
    this.emit({
      kind: "poke",
      from,
      version: r.datagram.version,
      seq: r.datagram.seq,
      poke,
      authenticated: true,
      answered: !live,
    });
    // A poke from the target we already talk to must not reset a live session (CAP2: pokes keep coming).
    if (live) return;
    const rebooted = this.boot !== undefined && this.boot !== identity;
    const body = buildResponse(poke.nonce, this.random?.());
    this.version = r.datagram.version;
    this.send(
      sealDatagram(
        { version: this.version, channel: CHANNEL_CONTROL, seq: r.datagram.seq, direction: "host-to-target", body },
        this.keys,
      ),
      from,
    );
    const sameBoot = this.boot === identity && this.peer !== undefined && endpointKey(this.peer) === endpointKey(from);
    this.previousDataKey = sameBoot && !this.dataSeen ? this.keys.data : undefined;
    this.keys.data = deriveDataKey(this.keys.control, body);
    this.dataSeen = false;
    this.answeredAt = Date.now();
    this.peer = from;
    this.boot = identity;
    this.dataFailures = 0;
    this.txSeq = 1;
    this.nextId = INITIAL_HOST_ID;
    this.lastRxId = undefined;
    this.lastSent = undefined;
    this.stopped = false;
    this.lastState = undefined;
    const o = this.outstanding;
    if (o) {
      this.finish(o);
      o.reject(netdbgError("E508", { what: o.what, reason: "the target restarted its debug transport (new handshake)" }));
    }
    this.emit({ kind: "handshake", from, version: this.version, rebooted });
    const ws = this.handshakeWaiters;
    this.handshakeWaiters = [];
    for (const w of ws) w();
  }

  private onKdPacket(p: KdPacket, t0: bigint): void {
    switch (p.type) {
      case PacketType.Unused:
        if (this.peer) this.emit({ kind: "hello", from: this.peer });
        return;
      case PacketType.Acknowledge: {
        const o = this.outstanding;
        if (o && o.id === p.id && !o.acked) {
          o.acked = true;
          if (!o.expectResponse) {
            this.finish(o);
            o.resolve(undefined);
          }
        }
        return;
      }
      case PacketType.Resend:
        if (this.lastSent) this.sendData(this.lastSent);
        return;
      case PacketType.Reset:
        this.lastRxId = undefined;
        this.emit({ kind: "reset" });
        if (this.resetWaiter) {
          // The target's answer to our RESET (CAP1 frames 202/203).
          this.resetWaiter();
          return;
        }
        // The target reset the packet layer: answer with RESET, forget ids, re-send what is pending.
        this.sendData(buildKdPacket(PacketType.Reset, this.nextId));
        if (this.outstanding) this.sendData(this.outstanding.packet);
        return;
      default:
        break;
    }
    if (!p.checksumOk) {
      this.stats.badChecksum++;
      this.sendData(buildKdPacket(PacketType.Resend, 0));
      return;
    }
    this.sendData(buildKdPacket(PacketType.Acknowledge, p.id));
    if (this.onAck) this.onAck(Number(process.hrtime.bigint() - t0));
    if (p.id === this.lastRxId) {
      this.stats.duplicates++;
      return;
    }
    this.lastRxId = p.id;
    this.dispatch(p);
  }

  private dispatch(p: KdPacket): void {
    switch (p.type) {
      case PacketType.StateManipulate: {
        const m = parseManipulate(p.data);
        const o = this.outstanding;
        if (m && o?.expectResponse && o.match(m)) {
          this.finish(o);
          o.resolve(m);
        }
        return;
      }
      case PacketType.StateChange64: {
        const s = parseStateChange(p.data);
        if (!s) return;
        const o = this.outstanding;
        // A state change while a continue is pending means the continue took effect and the target stopped again.
        if (o && !o.expectResponse) {
          this.finish(o);
          o.resolve(undefined);
        }
        this.stopped = true;
        if (this.breakTimer) clearTimeout(this.breakTimer);
        this.breakTimer = undefined;
        this.lastState = s;
        this.emit({ kind: "state-change", state: s });
        const ws = this.stateWaiters;
        this.stateWaiters = [];
        for (const w of ws) w(s);
        return;
      }
      case PacketType.DebugIo: {
        const d: DebugIo | undefined = parseDebugIo(p.data);
        if (d?.kind === "print") this.emit({ kind: "print", text: d.text });
        else if (d?.kind === "get-string") {
          this.emit({ kind: "print", text: d.prompt });
          void this.post(PacketType.DebugIo, buildDebugIoGetStringReply(p.data, ""), "a GetString answer").catch(() => {});
        }
        return;
      }
      case PacketType.FileIo: {
        const f = parseFileIo(p.data);
        if (!f) return;
        this.emit(f.path === undefined ? { kind: "file-io", api: f.api } : { kind: "file-io", api: f.api, path: f.path });
        // Answer so a booting target never stalls (RZ do_io_reply; CAP1 frames 236/238).
        void this.post(PacketType.FileIo, buildFileIoReply(p.data), "a File-I/O answer").catch(() => {});
        return;
      }
      default:
        return;
    }
  }

  // ---------------------------------------------------------------- send

  private send(buf: Buffer, to: UdpAddress): void {
    this.stats.sent++;
    this.transport.send(buf, to);
  }

  private sendData(kdPacket: Uint8Array): void {
    if (!this.peer || !this.keys.data) return;
    const input = {
      version: this.version,
      channel: CHANNEL_DATA,
      seq: this.txSeq++,
      direction: "host-to-target" as const,
      body: kdPacket,
    };
    this.send(sealDatagram(input, this.keys), this.peer);
    // Until the target's data shows which of our two responses it took, send under both keys: the target drops
    // the copy it cannot authenticate.
    if (this.previousDataKey && !this.dataSeen)
      this.send(sealDatagram(input, { ...this.keys, data: this.previousDataKey }), this.peer);
  }

  /**
   * Send the break-in byte (RZ winkd_sync; CAP2's first host datagram), again every retransmit interval until the
   * target reports a state change (a lost break-in datagram is never answered).
   */
  breakIn(): void {
    if (!this.connected) throw netdbgError("E508", { what: "Breaking in", reason: "no target is connected" });
    if (this.breakTimer) clearTimeout(this.breakTimer);
    let tries = 0;
    const send = () => {
      this.breakTimer = undefined;
      if (this.closed || !this.connected || this.stopped || tries++ >= this.maxTries) return;
      this.sendData(Buffer.from([BREAKIN_BYTE]));
      this.breakTimer = setTimeout(send, this.retransmitMs);
    };
    this.stopped = false;
    send();
  }
  private breakTimer: NodeJS.Timeout | undefined;

  private resetWaiter: (() => void) | undefined;

  /**
   * Reset the KD packet layer: send RESET (id = our next id) until the target answers with RESET; both sides then
   * forget the last packet id (CAP1 frames 202/203: WinDbg RESET, target RESET, target re-sends its pending packet).
   */
  resetPacketLayer(): Promise<void> {
    const run = () =>
      new Promise<void>((resolve, reject) => {
        if (!this.connected) {
          reject(netdbgError("E508", { what: "Resetting the KD packet layer", reason: "no target is connected" }));
          return;
        }
        let tries = 0;
        let timer: NodeJS.Timeout | undefined;
        const done = (err?: unknown) => {
          if (timer) clearTimeout(timer);
          this.resetWaiter = undefined;
          this.closers.delete(cancel);
          if (err) reject(err);
          else resolve();
        };
        const cancel = () =>
          done(netdbgError("E508", { what: "Resetting the KD packet layer", reason: "the session was closed" }));
        this.closers.add(cancel);
        this.resetWaiter = () => done();
        const attempt = () => {
          if (tries >= this.maxTries) {
            done(netdbgError("E504", { what: "a RESET", tries }));
            return;
          }
          tries++;
          this.sendData(buildKdPacket(PacketType.Reset, this.nextId));
          timer = setTimeout(attempt, this.retransmitMs);
        };
        attempt();
      });
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => {});
    return p;
  }

  private finish(o: Outstanding): void {
    if (o.timer) clearTimeout(o.timer);
    o.timer = undefined;
    if (this.outstanding === o) this.outstanding = undefined;
  }

  /**
   * Send one KD data packet and wait for its ACK (and, when `match` is given, for the manipulate response it
   * selects). One packet is outstanding at a time; callers are queued.
   */
  private post(type: number, data: Buffer, what: string, match?: (m: Manipulate) => boolean): Promise<Manipulate | undefined> {
    const run = () =>
      new Promise<Manipulate | undefined>((resolve, reject) => {
        if (this.closed) {
          reject(netdbgError("E508", { what, reason: "the session was closed" }));
          return;
        }
        if (!this.connected) {
          reject(netdbgError("E508", { what, reason: "no target is connected" }));
          return;
        }
        const id = this.nextId;
        this.nextId = (this.nextId + 2) >>> 0;
        const packet = buildKdPacket(type, id, data);
        const o: Outstanding = {
          packet,
          id,
          what,
          expectResponse: match !== undefined,
          match: match ?? (() => false),
          acked: false,
          tries: 0,
          timer: undefined,
          resolve,
          reject,
        };
        this.outstanding = o;
        const attempt = () => {
          if (this.outstanding !== o) return;
          if (o.tries >= this.maxTries) {
            this.finish(o);
            reject(netdbgError("E504", { what, tries: o.tries }));
            return;
          }
          if (o.tries > 0) this.stats.retransmits++;
          o.tries++;
          this.lastSent = packet;
          this.sendData(packet);
          o.timer = setTimeout(attempt, this.retransmitMs);
        };
        attempt();
      });
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => {});
    return p;
  }

  /** A manipulate request whose response has the same API number (and passes `extra` when given). */
  request(data: Buffer, check?: (m: Manipulate) => boolean): Promise<Manipulate> {
    const api = data.readUInt32LE(0);
    const name = apiName(api) ?? `API 0x${api.toString(16)}`;
    return this.post(
      PacketType.StateManipulate,
      data,
      name,
      (m) => m.api === api && (check ? check(m) : true),
    ) as Promise<Manipulate>;
  }

  /** A manipulate request that has no response (Continue, Continue2, Reboot): resolves on ACK. */
  async command(data: Buffer): Promise<void> {
    const api = data.readUInt32LE(0);
    this.stopped = false;
    await this.post(PacketType.StateManipulate, data, apiName(api) ?? `API 0x${api.toString(16)}`);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.breakTimer) clearTimeout(this.breakTimer);
    for (const c of [...this.closers]) c();
    this.closers.clear();
    this.stateWaiters = [];
    this.handshakeWaiters = [];
    const o = this.outstanding;
    if (o) {
      this.finish(o);
      o.reject(netdbgError("E508", { what: o.what, reason: "the session was closed" }));
    }
    await this.transport.close();
  }
}

/** Serial-number order of the 16-bit poke counter (it wraps): b is newer than a. */
function newerCounter(b: number, a: number): boolean {
  const d = (b - a) & 0xffff;
  return d !== 0 && d < 0x8000;
}
