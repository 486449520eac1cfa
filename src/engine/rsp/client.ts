import { netdbgError } from "../../core/error.js";
import type { Transport } from "../transport/types.js";
import { decodeBody, framePacket, INTERRUPT, PacketParser, type RspEvent } from "./packet.js";

/**
 * The reliability layer of netdbg's GDB remote-protocol client: one request in flight, `+`/`-` acks,
 * retransmission with an adaptive timeout and backoff, duplicate-reply detection and resync, written for
 * the behaviour of Linux kgdb's stub over lossy UDP (the GDB manual ('Overview', 'Packet Acknowledgment', 'Interrupts') and Linux kernel/debug/gdbstub.c):
 *
 * - every good packet is acked; the ack rides in front of the next request when one follows at once
 *   (`+$m…#cc` in one datagram), otherwise it is sent on its own;
 * - after a timeout, if the stub acked our request, send a lone `-` (the stub resends its reply if it is
 *   still waiting for our ack); otherwise resend the request; a `-` from the stub resends the request
 *   unless the stub acks it right after (a stale `-`);
 * - a reply that equals the previous reply and was not preceded by an ack of the current request is a
 *   duplicate (kgdb resending its previous reply, or the network duplicating it): acked and ignored;
 *   callers make consecutive replies distinguishable where it matters (see GdbRemote.readMemory);
 * - bytes outside packets (kdb text, console output) are collected, never fatal.
 */

export interface RspClientOptions {
  /** First retransmission timeout (ms). Default 300 (UDP), 20000 (TCP), 3000 (memory). */
  timeoutMs?: number;
  /**
   * Floor and ceiling of the adaptive timeout. Defaults 0.15 (UDP: under two round trips of a loopback link, so a
   * loss costs little next to srtt + 2·rttvar, which rules on any slower link; a stall of this process never fires
   * it, see after(); 5 for requests that must not run twice) / 4000 ms. 0.25 left the bench's stub loss case at
   * 2.9-3.0x clean, 0.15 at 2.1-2.3x, with 0 resends on the clean link (median of 5 pairs).
   */
  minTimeoutMs?: number;
  maxTimeoutMs?: number;
  /** Transmissions (requests and `-`) per request before giving up. Default 30 (UDP), 1 (TCP), 4. */
  maxTries?: number;
  /** UDP: never give an exchange up before this long since it began, whatever the tries (default 2000 ms). */
  minGiveUpMs?: number;
  /** Console text: `O` packets and bytes outside packets (kdb prompt, printk). */
  onConsole?: (text: string) => void;
  /** Debug log of the wire (one line per event). */
  trace?: (line: string) => void;
}

export interface RspStats {
  requests: number;
  /** Requests sent again (timeout, `-` from the stub, suspected duplicate). */
  retransmits: number;
  /** Lone `-` sent after a timeout or a bad checksum. */
  naksSent: number;
  /** `-` sent at once because a packet tail arrived without its head (part of naksSent). */
  tailNaks: number;
  /** Lone `-` sent while the target runs, in case its stop reply was lost. */
  stopPokes: number;
  naksReceived: number;
  timeouts: number;
  badPackets: number;
  duplicates: number;
  /** Packets that arrived with nothing waiting for them (late duplicates, unsolicited stops). */
  stray: number;
  junkBytes: number;
}

export interface RequestOptions {
  /** A reply this rejects is treated as stray (stale) and waited past. */
  accept?: (reply: string) => boolean;
  /** Do not wait for a reply (e.g. `k`): resolve once acked (or after one timeout). */
  noReply?: boolean;
  /** Resolve with the reply as on the wire (escapes and run-length encoding kept), for relaying. */
  raw?: boolean;
  /**
   * The request ends the stub's command loop once its reply is acked (`D`: kgdb detaches and the kernel runs
   * on). Resent behind `-`, never `+`: a `+` would ack a reply we never saw and the `$` behind it would reach a
   * running, detached kgdboe, which breaks in on any datagram and runs the request again — then waits forever
   * for an ack of that second reply. kgdb's put_packet also returns on `$` (after writing `-`), so `-$D`
   * either gets the reply resent or detaches; never a second stop.
   */
  ends?: boolean;
  /**
   * What the stub answers when a copy of this request runs a second time (`Z`: E17, `z`: E02). Once this
   * exchange was resent, such a reply may arrive late; it is not taken as the next request's answer.
   */
  rerunReply?: string;
}

interface Exchange {
  label: string;
  /** Its number (stats.requests when it began). */
  seq: number;
  /** When its reply began to arrive (0: not yet). */
  replyAt: number;
  /** Timeouts of this exchange counted as signs of loss (see sawLoss), taken back when they prove spurious. */
  lossTimeouts: number;
  frame: Buffer;
  kind: "request" | "resume";
  accept: ((reply: string) => boolean) | undefined;
  noReply: boolean;
  raw: boolean;
  ends: boolean;
  rerunReply: string | undefined;
  ackSeen: boolean;
  naksSinceTx: number;
  tries: number;
  rto: number;
  /** Its first timeout: `rto` over this is how far it has been backed off. */
  firstRto: number;
  /** The round trips of its kind of request (see RoundTrips). */
  trips: RoundTrips;
  /** Reply bytes it asks for, where the request says (`m`, `x`); 0 when unknown. */
  replyBytes: number;
  sentAt: number;
  /** When the stub acked the current transmission. */
  ackAt: number;
  /** When the last datagram for it (a transmission or a `-`) was sent. */
  lastTxAt: number;
  /** The last turn of a sub-millisecond wait for it (see after()), and the stalls of this process seen between turns (ms). */
  lastTurn: number;
  stalled: number;
  /** When the exchange began (its first transmission is at or after this). */
  startedAt: number;
  retransmitted: boolean;
  /** A stop reply equal to the previous one arrived before any ack: maybe a duplicate, maybe ours. */
  suspect: boolean;
  /** A `-` was sent for a packet tail seen without its head (since the last transmission). */
  tailNak: boolean;
  /** Resends and `-`s in this exchange: extra copies of its reply the stub may send. */
  extra: number;
  /** The short wait after a `-` from the stub (see onEvent), cancelled by the ack or the next transmission. */
  nakWait: (() => void) | undefined;
  timer: NodeJS.Timeout | undefined;
  /** The look at the socket after the timer fired (see expire). */
  check: NodeJS.Immediate | undefined;
  /** A sub-millisecond wait in progress (see after()). */
  spin: NodeJS.Immediate | undefined;
  /** Running it twice is harmless (reads, queries): it may be resent on the short, measured timeout. */
  repeatable: boolean;
  /** A timeout was put off once since the last transmission because data was waiting. */
  deferred: boolean;
  /** Event-loop turns since the last datagram sent for it (counted while a sub-millisecond wait spins). */
  turns: number;
  resolve: (reply: string) => void;
  reject: (e: Error) => void;
}

/** RFC 6298 smoothing of a series of times (ms): the smoothed mean and mean deviation. */
class Smoothed {
  srtt: number | undefined;
  rttvar = 0;

  add(ms: number): void {
    if (this.srtt === undefined) {
      this.srtt = ms;
      this.rttvar = ms / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - ms);
      this.srtt = 0.875 * this.srtt + 0.125 * ms;
    }
  }
}

/**
 * The measured round trips of one kind of request. A reply's time grows with its length where the target's way out
 * is slow (a TCG guest's emulated NIC: 0.1 ms for `S05`, 0.45 ms for a 496-byte read; a serial line: tens of ms), so
 * one timeout learnt on short exchanges fires before every long reply, and Karn's rule (resent exchanges are not
 * sampled) keeps it from ever learning otherwise. Kinds: the request's letter, and for memory the size class.
 */
class RoundTrips extends Smoothed {
  /** The fastest clean exchange of this kind (ms): no answer to a resend of it can come back sooner. */
  minRtt: number | undefined;

  /** The timeout: the first one given until a sample (a kind's is read only once sampled, see firstTimeout). */
  constructor(public rto = 0) {
    super();
  }

  /** One clean exchange's time. */
  sample(ms: number, min: number, max: number): void {
    this.add(ms);
    this.settle(min, max);
  }

  /** The timeout from the estimate: srtt + 2·rttvar within [min, max] (see RspClient.sample for the 2·rttvar). */
  settle(min: number, max: number): void {
    if (this.srtt !== undefined) this.rto = Math.min(max, Math.max(min, this.srtt + 2 * this.rttvar));
  }
}

/** The kind of a request (see RoundTrips), and the reply bytes it asks for (0: unknown). */
function kindOf(body: Buffer): { kind: string; replyBytes: number } {
  const letter = String.fromCharCode(body[0] ?? 0x3f);
  if (letter === "m" || letter === "x") {
    const m = /^[mx][0-9a-fA-F]+,([0-9a-fA-F]+)/.exec(body.subarray(0, 40).toString("latin1"));
    const len = m ? Number.parseInt(m[1]!, 16) : 0;
    // hex doubles it; `$`, `#cc`: 4 more
    const replyBytes = len > 0 ? (letter === "m" ? 2 * len : len) + 4 : 0;
    return { kind: `${letter}${32 - Math.clz32(len)}`, replyBytes };
  }
  if (letter === "M" || letter === "X") return { kind: `${letter}${32 - Math.clz32(body.length)}`, replyBytes: 0 };
  return { kind: letter, replyBytes: 0 };
}

/** While a resume runs over UDP, a lone `-` this often (at least) fetches a stop reply that was lost. */
const STOP_POKE_MS = 500;

/** Requests kgdb can run twice without harm: memory and register reads, queries, thread selection. */
const REPEATABLE = /^[mgpqH?T]/;

/**
 * Below this (ms), a wait runs on setImmediate against performance.now() instead of setTimeout, whose 1 ms
 * granularity (and the first-timer-fires-late habit) would be several round trips of a 0.15 ms link, while the link
 * shows loss (see RspClient.spinning).
 */
const SPIN_BELOW_MS = 2;

/**
 * Event-loop turns a sleeping sub-millisecond wait looks at the sockets for before it acts (see after()): a reply
 * crossing sockets of this process (client -> relay -> stub -> relay -> client in tests and the bench) takes one a hop.
 */
const LOOK_TURNS = 4;

/**
 * Sub-millisecond waits spin while SPIN_EVENTS signs of loss fell within the last SPIN_WINDOW requests (see
 * RspClient.sawLoss): a link losing 20 % each way shows ~23 in 64; the lab's kgdboe, a TCG guest that falls
 * silent for milliseconds now and then, 0-2 with sleeping waits (whose timer rides out most silences).
 */
const SPIN_WINDOW = 64;
const SPIN_EVENTS = 8;

/** A gap this long (ms) between turns of a sub-millisecond wait is a stall of this process (see noteStall). */
const STALL_MS = 1;

/**
 * How long (ms) a read waits before it resends while the session has lost nothing at all: a target's silences are
 * not known until one proved no loss (see RspClient.patient). The lab's kgdb (a TCG guest) fell silent for 6-30 ms
 * (median 11) in 5 % of reads, and each fresh session resent its first 2-3 reads at 5 ms, before any silence was
 * learnt. A real loss pays this once a session.
 */
const UNPROVEN_SILENCE_MS = 50;

/** The shortest wait before a request that must not run twice (`Z`, `M`, `D`, resumes) is resent. */
const MIN_RTO_UNSAFE_MS = 5;

/** The end of a packet: `#` and two hex digits. */
const TAIL = /#[0-9a-fA-F]{2}/;

const STOP_REPLY = /^[TSWX][0-9a-fA-F]{2}/;

/**
 * Call `fn` after `ms`; returns a canceller. Below SPIN_BELOW_MS the wait runs on setImmediate against
 * performance.now() (I/O is polled between turns), so a sub-millisecond wait lasts about what it says.
 */
export function later(ms: number, fn: () => void): () => void {
  if (ms >= SPIN_BELOW_MS) {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  }
  const deadline = performance.now() + ms;
  let im: NodeJS.Immediate;
  const turn = () => {
    if (performance.now() >= deadline) fn();
    else im = setImmediate(turn);
  };
  im = setImmediate(turn);
  return () => clearImmediate(im);
}

export function isStopReply(reply: string): boolean {
  return STOP_REPLY.test(reply) || reply.startsWith("W") || reply.startsWith("X");
}

export class RspClient {
  readonly stats: RspStats = {
    requests: 0,
    retransmits: 0,
    naksSent: 0,
    tailNaks: 0,
    stopPokes: 0,
    naksReceived: 0,
    timeouts: 0,
    badPackets: 0,
    duplicates: 0,
    stray: 0,
    junkBytes: 0,
  };
  private readonly parser = new PacketParser();
  private pending: Exchange | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private ackOwed = false;
  private lastReplyRaw: Buffer | undefined;
  /** The exchange lastReplyRaw answered. */
  private lastReplyEx: Exchange | undefined;
  /**
   * Copies of the last reply the stub may still send: one per resend or `-` of that exchange (each can make
   * the stub run the request again or resend its reply). Such a copy can arrive after the stub's `+` for
   * the next request, so "before any ack" alone does not catch it.
   */
  private staleCopies = 0;
  private packetWhole = false;
  private replyWhole = false;
  private replyCuts: number[] = [];
  /** What a late rerun of the previous request would answer (see RequestOptions.rerunReply). */
  private staleRerun: string | undefined;
  /** The round trips of all kinds together (settling, pokes, a new kind's first wait). */
  private readonly all: RoundTrips;
  /** Time from sending a request to the stub's `+` (ms). */
  private readonly ack = new Smoothed();
  /** Time from the stub's `+` to the whole reply (ms), of clean exchanges. */
  private readonly gap = new Smoothed();
  /**
   * The target's silences: how long after its first transmission a reply began whose timeouts proved spurious (see
   * takeBack). While the link shows no loss, a read waits this long before it resends (see patient).
   */
  private readonly silences = new Smoothed();
  private readonly minRto: number;
  private readonly maxRto: number;
  private readonly maxTries: number;
  private readonly minGiveUpMs: number;
  /**
   * The fewest event-loop turns a clean reply took to arrive (see after()): a timeout waits at least twice as
   * many turns, whatever the clock says, so a stall of this process (GC, a busy machine) never makes a reply
   * that is still on its way through sockets of this process (a relay, a stub in tests and the bench) look lost.
   */
  private minTurns: number | undefined;
  /**
   * The requests (their numbers) that showed signs of loss within the last SPIN_WINDOW requests, oldest first, less
   * the timeouts that proved spurious (see sawLoss, takeBack): the link's record of loss.
   */
  private readonly lossAt: number[] = [];
  /** A sign of loss stayed on the record for a whole window: the link has lost something (see patient). */
  private lostOnce = false;
  private junkTail = "";
  private lastRx = 0;
  /** When the packet the parser is inside began to arrive. */
  private packetSince = 0;
  /** When the last complete packet began to arrive. */
  private packetStart = 0;
  /** The fastest clean exchange of any kind (ms). */
  private minRtt: number | undefined;
  /** Round trips per kind of request; the fields above (srtt, rttvar, rto) are those of all kinds together. */
  private readonly kinds = new Map<string, RoundTrips>();
  /** Clean exchanges whose reply length was known: their round trip and reply length, smoothed (ms, bytes). */
  private sized: { ms: number; bytes: number } | undefined;
  private everReceived = false;
  private closedReason: Error | undefined;
  /** Stop replies that arrived while nothing was resumed (the REPL shows them). */
  readonly unsolicited: string[] = [];
  private interruptTimer: NodeJS.Timeout | undefined;
  private noAck = false;

  constructor(
    readonly transport: Transport,
    private readonly options: RspClientOptions = {},
  ) {
    const udp = transport.kind === "udp";
    // TCP delivers or fails by itself: no retransmission (a resent request would run twice on a slow peer),
    // just a long wait before declaring the target dead
    const tcp = transport.kind === "tcp";
    const rto = options.timeoutMs ?? (udp ? 300 : tcp ? 20_000 : 3000);
    this.all = new RoundTrips(rto);
    this.minRto = options.minTimeoutMs ?? (udp ? 0.15 : Math.min(rto, 1000));
    this.maxRto = options.maxTimeoutMs ?? Math.max(4000, rto);
    this.maxTries = options.maxTries ?? (udp ? 30 : tcp ? 1 : 4);
    this.minGiveUpMs = options.minGiveUpMs ?? (udp ? 2000 : 0);
    transport.onData((chunk) => this.onChunk(chunk));
    transport.onClose((reason) => {
      this.closedReason = reason ?? new Error("closed");
      const p = this.pending;
      if (p) this.finish(p, undefined, netdbgError("E406", { endpoint: transport.label }, { cause: reason }));
    });
  }

  /**
   * A count that grows with every sign that the link itself damages what it carries: packets with a bad checksum
   * and packet tails without their head (a datagram lost or overtaken). A slow target never gives these.
   */
  get damage(): number {
    return this.stats.badPackets + this.stats.tailNaks;
  }

  /**
   * A count that grows with every sign of trouble, the link's damage or a slow target's: besides `damage`, resends,
   * naks either way, timeouts, duplicates and stray packets (a target that stalls past the timeout gives all of
   * these on a perfect link). Text outside packets (a console) does not count.
   */
  get trouble(): number {
    const s = this.stats;
    return this.damage + s.retransmits + s.naksSent + s.naksReceived + s.timeouts + s.duplicates + s.stray;
  }

  /** The current retransmission timeout (ms), adapted from measured round trips. */
  get timeout(): number {
    return this.all.rto;
  }

  /** Smoothed round-trip time of clean exchanges (ms), if measured. */
  get roundTrip(): number | undefined {
    return this.all.srtt;
  }

  /** Recent text seen outside packets (kdb prompt, console), for diagnostics. */
  get consoleTail(): string {
    return this.junkTail;
  }

  /** Send one request and return its (decoded) reply. Requests are serialized. */
  request(body: string | Buffer, options: RequestOptions = {}): Promise<string> {
    return this.enqueue(() => this.exchange(body, "request", options));
  }

  /**
   * Resume (`c`, `s`, `C09`, `vCont;c`…) and wait for the stop reply, however long the target runs.
   * Only the request itself is retransmitted; once the stub acked it, no timeout applies.
   */
  resume(body: string | Buffer, options: { raw?: boolean } = {}): Promise<string> {
    return this.enqueue(() => this.exchange(body, "resume", options));
  }

  /** Break in: a lone 0x03 (repeated until the pending resume sees its stop reply). */
  interrupt(): void {
    this.sendRaw(Buffer.of(INTERRUPT));
    if (this.pending?.kind === "resume" && this.interruptTimer === undefined) {
      let n = 0;
      const again = () => {
        if (this.pending?.kind !== "resume" || ++n > this.maxTries) {
          this.interruptTimer = undefined;
          return;
        }
        this.sendRaw(Buffer.of(INTERRUPT));
        this.interruptTimer = setTimeout(again, this.all.rto * 2);
      };
      this.interruptTimer = setTimeout(again, this.all.rto * 2);
    }
  }

  /**
   * No-ack mode (`QStartNoAckMode`, granted by gdbserver, never by kgdb): only over a reliable transport.
   * Call after the stub answered `OK`; that `OK` itself is still acked (GDB manual, "Packet Acknowledgment").
   */
  startNoAck(): void {
    if (this.transport.kind === "udp") throw new Error("no-ack mode needs a reliable transport");
    this.noAck = true;
  }

  get ackMode(): boolean {
    return !this.noAck;
  }

  /** Is a resume outstanding (target running)? */
  get running(): boolean {
    return this.pending?.kind === "resume";
  }

  async close(): Promise<void> {
    this.flushAck();
    if (this.interruptTimer) clearTimeout(this.interruptTimer);
    await this.transport.close();
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async exchange(body: string | Buffer, kind: Exchange["kind"], options: RequestOptions): Promise<string> {
    if (options.ends && this.staleCopies > 0 && !this.noAck) await this.settle();
    return this.start(body, kind, options);
  }

  /**
   * Before a request whose answer cannot be told from a late copy of the previous one (`D` answers OK, as a
   * resent `M` or `Z` did): copies of the previous reply may still be on their way after its resends. Let
   * them arrive, and be dropped as stray, until the link has been quiet for two round trips.
   */
  private async settle(): Promise<void> {
    const quiet = Math.min(this.maxRto, Math.max(5, 2 * (this.all.srtt ?? this.all.rto) + 4 * this.all.rttvar));
    const deadline = performance.now() + Math.max(4 * quiet, 50);
    for (;;) {
      const since = performance.now() - this.lastRx;
      if (since >= quiet || performance.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, Math.max(1, quiet - since)));
    }
    this.staleCopies = 0;
  }

  private start(body: string | Buffer, kind: Exchange["kind"], options: RequestOptions): Promise<string> {
    if (this.closedReason || this.transport.closed) {
      return Promise.reject(netdbgError("E406", { endpoint: this.transport.label }));
    }
    const raw = typeof body === "string" ? Buffer.from(body, "latin1") : body;
    const label = raw.subarray(0, 40).toString("latin1");
    const { kind: requestKind, replyBytes } = kindOf(raw);
    const trips = this.tripsOf(requestKind);
    const firstRto = this.firstTimeout(trips, replyBytes, kind === "request" && REPEATABLE.test(label));
    return new Promise<string>((resolve, reject) => {
      const ex: Exchange = {
        label,
        seq: this.stats.requests + 1,
        replyAt: 0,
        lossTimeouts: 0,
        frame: framePacket(raw),
        kind,
        accept: options.accept,
        noReply: options.noReply ?? false,
        raw: options.raw ?? false,
        ends: options.ends ?? false,
        rerunReply: options.rerunReply,
        ackSeen: false,
        naksSinceTx: 0,
        tries: 0,
        rto: firstRto,
        firstRto,
        trips,
        replyBytes,
        sentAt: 0,
        ackAt: 0,
        lastTxAt: 0,
        lastTurn: 0,
        stalled: 0,
        startedAt: performance.now(),
        retransmitted: false,
        suspect: false,
        tailNak: false,
        extra: 0,
        nakWait: undefined,
        timer: undefined,
        check: undefined,
        spin: undefined,
        repeatable: kind === "request" && !options.ends && REPEATABLE.test(label) && !label.startsWith("qRcmd"),
        deferred: false,
        turns: 0,
        resolve,
        reject,
      };
      this.pending = ex;
      this.stats.requests++;
      this.transmit(ex);
    });
  }

  private transmit(ex: Exchange): void {
    ex.nakWait?.();
    ex.nakWait = undefined;
    ex.tries++;
    ex.deferred = false;
    ex.ackSeen = false;
    ex.naksSinceTx = 0;
    ex.tailNak = false;
    ex.turns = 0;
    ex.sentAt = performance.now();
    ex.lastTxAt = ex.sentAt;
    ex.lastTurn = ex.sentAt;
    ex.stalled = 0;
    if (ex.tries > 1) {
      ex.extra++;
      ex.retransmitted = true;
      this.stats.retransmits++;
    }
    // Every transmission carries an ack or a nak in front (one byte, same datagram). kgdb's put_packet
    // waits for one byte after each reply and answers a `$` there with `-`, abandoning the reply and
    // eating the request (the GDB manual ('Overview', 'Packet Acknowledgment', 'Interrupts') and Linux kernel/debug/gdbstub.c). When a datagram `+$req` is lost, the stub
    // still waits for the ack of the previous reply, so a bare `$req` resent would be eaten and cost a
    // second round trip. Hence:
    // - first transmission and request retransmissions: `+` (acks the previous reply if the stub still
    //   waits for it; junk for a stub reading requests). If instead our request arrived and only its
    //   reply was lost, the `+` acks that lost reply and the stub runs the request again: reads are
    //   idempotent, and `Z`/`z` treat E17/E02 as success;
    // - resume retransmissions: `-`, never `+`: if `c` ran and its stop reply was lost, a `+` would ack
    //   that stop and `$c` would resume the target again (a lost stop); `-` makes the stub resend it.
    const lead = ex.tries > 1 && (ex.kind === "resume" || ex.ends) ? 0x2d : 0x2b;
    const frame = this.noAck ? ex.frame : Buffer.concat([Buffer.of(lead), ex.frame]);
    this.ackOwed = false;
    this.options.trace?.(`-> ${frame.subarray(0, 80).toString("latin1")}`);
    this.transport.write(frame);
    this.arm(ex);
    // a stall of this process right after the send (GC, a busy machine) is not the link's time where the timeouts are
    // sub-millisecond: the event loop's first turn after it tells (a spinning wait sees later ones, see noteStall).
    // The link's, not this exchange's: a read on a link that has lost nothing waits far longer (see patient), and a
    // stall in its sample would raise the timeout every loss later waits out
    if (Math.min(ex.rto, this.all.rto) < SPIN_BELOW_MS) {
      const sentAt = ex.sentAt;
      setImmediate(() => {
        const gap = performance.now() - sentAt;
        if (this.pending === ex && ex.sentAt === sentAt && gap > STALL_MS) ex.stalled += gap;
      });
    }
    // no acks will come: the stub has the request once it is written (and a reply equal to the previous
    // one is this request's answer, not a duplicate)
    if (this.noAck) this.onAck(ex);
  }

  /**
   * Until the stub acks the request, a shorter timer runs: the 1-byte `+` comes back after about one
   * round trip, long before a big reply is complete (kgdb over a serial port), so a lost request is
   * resent early. Once acked, the rest of the full timeout applies to the reply.
   */
  private arm(ex: Exchange): void {
    this.disarm(ex);
    let wait = ex.rto;
    // only while the link shows loss (see spinning): on a clean one an ack late behind a long reply is far likelier
    // than a lost request, and each needless copy costs the target a whole reply more
    if (this.transport.kind === "udp" && !ex.ackSeen && ex.naksSinceTx === 0 && this.ack.srtt !== undefined && this.spinning()) {
      // backed off like the full timeout: a target that is merely slow (a starved VM) must not be fed a
      // resent request every few ms, each of which it answers in full
      const backoff = ex.rto / ex.firstRto;
      wait = Math.min(wait, Math.max(this.minRto, (2 * this.ack.srtt + 4 * this.ack.rttvar) * backoff));
    }
    if (!ex.repeatable) wait = Math.max(wait, MIN_RTO_UNSAFE_MS);
    this.after(ex, wait);
  }

  /**
   * Sub-millisecond waits spin while the link shows loss: a loss then costs a fraction of a millisecond, not the
   * timer's whole one. On a clean link a wait sleeps in the event loop's poll, where a reply wakes it at once: a
   * spinning wait keeps a core busy for as long as a request is outstanding, which is most of a memory pull, and on
   * a machine shared with the target (the lab's TCG guest takes one of two cores) that is the core the guest's network
   * path needs. Measured on the lab's kgdboe, 256 KiB pulls, rounds 3-8 of one process: quiet, 3.0-3.4 MB/s with
   * every wait on a timer against 2.55-2.95 spinning (the raw client 3.6-3.9); with tests running alongside, 2.0-2.9
   * with this rule against 1.3-2.4 spinning, and 0-12 resends per pull against 40-200 (the guest's silences).
   */
  private spinning(): boolean {
    return this.recentLoss() >= SPIN_EVENTS;
  }

  /** The signs of loss within the last SPIN_WINDOW requests. */
  private recentLoss(): number {
    while (this.lossAt.length && this.stats.requests - this.lossAt[0]! >= SPIN_WINDOW) {
      this.lossAt.shift();
      this.lostOnce = true;
    }
    return this.lossAt.length;
  }

  /**
   * A sign of loss: a timeout, a `-` either way, a packet's tail without its head, a bad checksum. One alone does
   * not make waits spin: a TCG guest falls silent for milliseconds now and then and answers every copy afterwards,
   * and spinning through such silences takes the core it needs (see SPIN_EVENTS).
   */
  private sawLoss(): void {
    this.lossAt.push(this.pending?.seq ?? this.stats.requests);
    this.recentLoss();
  }

  /** Call expire(ex) after `ms`: sub-millisecond waits spin on setImmediate (I/O is polled between turns) or sleep. */
  private after(ex: Exchange, ms: number): void {
    if (ms >= SPIN_BELOW_MS || !this.spinning()) {
      // a timer counts from the event loop's cached clock, which is behind by the time this turn has run so far:
      // it can fire up to a millisecond early, which is a whole timeout of a fast link. Wait out the rest.
      const start = performance.now();
      const deadline = start + ms;
      ex.timer = setTimeout(() => {
        ex.timer = undefined;
        const now = performance.now();
        const left = deadline - now;
        if (ms < SPIN_BELOW_MS) {
          // a sleeping sub-millisecond wait: a timer runs a millisecond at least. Later than that this process
          // stalled (as a spinning wait sees it): the reply gets the whole wait again. Else look at the sockets for
          // the turns a reply crossing sockets of this process takes (a spinning wait counts them as it goes)
          const late = now - start - Math.max(1, ms);
          if (late > STALL_MS) {
            ex.stalled += late;
            this.after(ex, ms);
          } else this.expire(ex, Math.max(LOOK_TURNS, 2 * (this.minTurns ?? 0)));
        } else if (left > 0.01) this.after(ex, left);
        else this.expire(ex);
      }, ms);
      return;
    }
    let deadline = performance.now() + ms;
    const turns = 2 * (this.minTurns ?? 0);
    const turn = () => {
      ex.spin = undefined;
      if (this.pending !== ex) return;
      ex.turns++;
      const now = performance.now();
      // the wait counts the time this process ran: after a stall (on a busy machine the kernel's loopback delivery
      // stalls with it) the reply gets the whole wait again
      if (this.noteStall(ex, now)) deadline = now + ms;
      if (now >= deadline && ex.turns >= turns) {
        this.expire(ex, 1);
        return;
      }
      ex.spin = setImmediate(turn);
    };
    ex.spin = setImmediate(turn);
  }

  /**
   * A gap between two turns of a sub-millisecond wait much longer than a round trip: this process did not run (GC,
   * a busy machine). Not the link's time: it is left out of the round-trip sample, so one stall does not raise
   * the timeout for the next few hundred requests (the turns a timeout waits for already cover our own stalls).
   */
  private noteStall(ex: Exchange, now: number): boolean {
    const gap = now - ex.lastTurn;
    ex.lastTurn = now;
    if (gap <= STALL_MS) return false;
    ex.stalled += gap - (this.minRtt ?? 0);
    return true;
  }

  /**
   * A timer that fires does not yet mean the reply is late. Node runs expired timers before it polls for I/O:
   * after any stall of this process (GC, a busy machine, the first compile of a code path) the reply may be
   * sitting in the socket's buffer while the timer fires. Look at the socket first (setImmediate runs after
   * the poll phase) and act only if nothing arrived meanwhile: a stall of ours never causes a resend, which on
   * kgdb could run a request twice.
   */
  private expire(ex: Exchange, turns = Math.max(1, 2 * (this.minTurns ?? 0))): void {
    ex.timer = undefined;
    const rx = this.lastRx;
    let left = turns;
    const look = () => {
      ex.check = undefined;
      if (this.pending !== ex) return;
      if (this.lastRx === rx && --left > 0) {
        ex.check = setImmediate(look);
        return;
      }
      if (this.lastRx !== rx && !ex.deferred) {
        // data was waiting behind the timer: give the exchange one more full wait rather than resending now
        ex.deferred = true;
        this.arm(ex);
        return;
      }
      this.onTimeout(ex);
    };
    ex.check = setImmediate(look);
  }

  private disarm(ex: Exchange): void {
    if (ex.timer) clearTimeout(ex.timer);
    ex.timer = undefined;
    if (ex.check) clearImmediate(ex.check);
    ex.check = undefined;
    if (ex.spin) clearImmediate(ex.spin);
    ex.spin = undefined;
  }

  private onAck(ex: Exchange): void {
    if (ex.ackSeen) return;
    ex.ackSeen = true;
    ex.ackAt = performance.now();
    if (ex.kind === "resume") {
      // the target runs now: no timeout until its stop reply. But a stop reply lost on the way leaves
      // kgdb waiting for its ack forever (it never resends on its own) and us waiting for the stop: so
      // while running over UDP, poke with a lone `-` now and then. A stub waiting for that ack resends the
      // stop reply; a running target ignores it (kgdboe stops only on 0x03 while connected).
      this.disarm(ex);
      if (this.transport.kind === "udp") this.pokeForStop(ex);
      return;
    }
    const elapsed = performance.now() - ex.sentAt;
    if (!ex.retransmitted) {
      this.ack.add(elapsed);
    }
    if ((ex.timer || ex.check || ex.spin) && ex.naksSinceTx === 0) {
      this.disarm(ex);
      const left = (ex.repeatable ? ex.rto : Math.max(ex.rto, MIN_RTO_UNSAFE_MS)) - elapsed;
      // a read's timeout still counts from its transmission: kgdb sends the reply right behind the ack, so after
      // a late ack only the time a reply takes to follow it is added, not the whole floor again (which cost a lost
      // reply ~0.1 ms more than a lost request on loopback)
      const floor =
        this.transport.kind === "udp" && ex.repeatable && this.gap.srtt !== undefined
          ? Math.min(this.minRto, 2 * this.gap.srtt + 4 * this.gap.rttvar)
          : this.minRto;
      this.after(ex, Math.max(floor, left));
    }
  }

  private pokeForStop(ex: Exchange): void {
    ex.timer = setTimeout(
      () => {
        if (this.pending !== ex || this.transport.closed) return;
        this.stats.stopPokes++;
        this.sendRaw(Buffer.of(0x2d));
        this.pokeForStop(ex);
      },
      Math.max(STOP_POKE_MS, 4 * this.all.rto),
    );
  }

  private onTimeout(ex: Exchange): void {
    if (this.pending !== ex) return;
    // a reply still streaming in (kgdb over a serial port sends ~100 KiB/s, so a 496-byte read takes tens
    // of ms): keep waiting rather than asking for a copy of what is arriving
    if (this.parser.inPacket && performance.now() - this.lastRx < Math.max(this.minRto, ex.rto / 2)) {
      this.after(ex, Math.max(this.minRto, ex.rto / 2));
      return;
    }
    this.stats.timeouts++;
    this.sawLoss();
    ex.lossTimeouts++;
    if (ex.noReply && ex.ackSeen) {
      this.finish(ex, "");
      return;
    }
    if (this.exhausted(ex)) {
      this.finish(ex, undefined, this.notAnswering(ex));
      return;
    }
    // a loss is far more likely than a slow target on the first two misses of a read (at 20 % loss each way two
    // misses in a row are common): resend it on the same timeout, and back off ×1.5 from the third. A request that
    // must not run twice backs off at once: every needless copy of it may run again on kgdb
    if (!ex.repeatable || ex.tries + ex.naksSinceTx >= 3) ex.rto = Math.min(this.maxRto, ex.rto * 1.5);
    if ((ex.ackSeen || ex.suspect) && ex.naksSinceTx < 2) {
      // the stub has our request: its reply was lost or mangled; ask for it again
      ex.naksSinceTx++;
      ex.extra++;
      ex.retransmitted = true;
      ex.turns = 0;
      this.stats.naksSent++;
      this.sendRaw(Buffer.of(0x2d));
      ex.lastTxAt = performance.now();
      this.arm(ex);
    } else {
      this.transmit(ex);
    }
  }

  /**
   * Out of tries, and out of time: a try count alone is no budget when the timeout adapts to a sub-millisecond round
   * trip (30 tries can pass in a few ms while a TCG guest or a busy host pauses for tens of ms). An exchange is given
   * up only after MIN_GIVE_UP_MS as well; until then it is resent on its (backed-off) timeout.
   */
  private exhausted(ex: Exchange): boolean {
    return ex.tries + ex.naksSinceTx >= this.maxTries && performance.now() - ex.startedAt >= this.minGiveUpMs;
  }

  private notAnswering(ex: Exchange): Error {
    const t = this.transport.stats;
    let diagnosis: string;
    if (t.refused > 0 && t.bytesIn === 0) diagnosis = "the port is unreachable (ICMP port unreachable: nothing listens there)";
    else if (t.bytesIn === 0) diagnosis = "nothing at all came back";
    else if (!this.everReceived && this.junkTail.trim())
      diagnosis = `only text came back (${JSON.stringify(this.junkTail.trim().slice(-60))}): the target may be in kdb or printing a console`;
    else diagnosis = "replies were lost or damaged every time";
    return netdbgError(
      "E400",
      { endpoint: this.transport.label, request: ex.label, tries: ex.tries + ex.naksSinceTx, diagnosis },
      { details: { stats: { ...this.stats }, transport: { ...t } } },
    );
  }

  private finish(ex: Exchange, reply: string | undefined, error?: Error): void {
    ex.nakWait?.();
    ex.nakWait = undefined;
    this.disarm(ex);
    if (this.pending === ex) this.pending = undefined;
    if (this.interruptTimer && ex.kind === "resume") {
      clearTimeout(this.interruptTimer);
      this.interruptTimer = undefined;
    }
    if (error) ex.reject(error);
    else ex.resolve(reply ?? "");
  }

  private sendRaw(bytes: Buffer): void {
    this.options.trace?.(`-> ${bytes.toString("latin1")}`);
    this.transport.write(bytes);
  }

  private owe(): void {
    if (this.noAck) return;
    this.ackOwed = true;
    setImmediate(() => this.flushAck());
  }

  /**
   * After a final reply (`OK` to `D`) nothing follows that would make kgdb resend it, so a lost ack would
   * leave the kernel stopped: repeat the ack as lone 1-byte datagrams (kgdboe never breaks in on a single
   * non-0x03 byte, and a stub reading requests skips stray `+`).
   */
  async ackFinal(copies = 3, spacingMs = 5): Promise<void> {
    this.flushAck();
    if (this.noAck) return;
    for (let i = 1; i < copies; i++) {
      await new Promise((r) => setTimeout(r, spacingMs));
      if (!this.transport.closed) this.sendRaw(Buffer.of(0x2b));
    }
  }

  /** Send an owed ack now (before closing or after a final reply such as `D`). */
  flushAck(): void {
    if (!this.ackOwed) return;
    this.ackOwed = false;
    this.sendRaw(Buffer.of(0x2b));
  }

  private onChunk(chunk: Buffer): void {
    const now = performance.now();
    this.lastRx = now;
    let events: RspEvent[];
    const continued = this.parser.inPacket;
    try {
      events = this.parser.feed(chunk);
    } catch {
      return;
    }
    let first = true;
    for (const ev of events) {
      if (ev.type === "packet" || ev.type === "bad-packet") {
        // a packet that began in an earlier chunk (datagram) was carried by several
        this.packetWhole = !(first && continued);
        this.packetStart = this.packetWhole ? now : this.packetSince;
        first = false;
      }
      this.onEvent(ev);
    }
    // a packet left open by this chunk began in it, unless the one open before is still going on
    if (this.parser.inPacket && !(continued && first)) this.packetSince = now;
  }

  /**
   * Did the last reply arrive in one chunk (one UDP datagram)? Such a reply cannot have been reordered,
   * nor lost or gained a piece, on the way: the datagram arrives whole or not at all.
   */
  get lastReplyWhole(): boolean {
    return this.replyWhole;
  }

  /** Where in the last reply's body (offsets as on the wire) one datagram ended and the next began. */
  get lastReplyCuts(): readonly number[] {
    return this.replyCuts;
  }

  private onEvent(ev: RspEvent): void {
    const ex = this.pending;
    switch (ev.type) {
      case "ack":
        if (ex) this.onAck(ex);
        return;
      case "nak":
        // kgdb sends `-` for a request with a bad checksum, and when a request arrives while it waits for
        // the ack of its reply (it abandons the reply). The second kind is often stale: it answers an
        // earlier (re)transmission and arrives just before the ack of the current one. Resending at once
        // would feed a cycle of abandoned replies, so wait for that ack first — but only until it is due (the
        // measured ack round trip after the transmission): a `-` later than that answers this transmission, and
        // the request is resent at once. Sub-millisecond: a 1 ms timer would be several round trips of a fast link.
        this.stats.naksReceived++;
        this.sawLoss();
        if (ex && !ex.ackSeen && ex.nakWait === undefined) {
          const resend = () => {
            ex.nakWait = undefined;
            if (this.pending !== ex || ex.ackSeen) return;
            if (this.exhausted(ex)) this.finish(ex, undefined, this.notAnswering(ex));
            else this.transmit(ex);
          };
          const cap = Math.min(ex.rto / 2, 2 * (this.all.srtt ?? 1));
          const due = this.ack.srtt === undefined ? cap : ex.sentAt + this.ack.srtt + 2 * this.ack.rttvar - performance.now();
          // at least the rest of this turn: the ack may follow in the same chunk or the next datagram read
          ex.nakWait = later(Math.max(0, Math.min(cap, due)), resend);
        }
        return;
      case "interrupt":
        return;
      case "junk": {
        this.stats.junkBytes += ev.bytes.length;
        // the tail of a packet (`…#cc`) outside any packet: a reply lost its head. The stub waits for
        // our ack after sending it: ask for it again now rather than after a timeout (once per transmission)
        if (ex && ex.kind === "request" && !ex.tailNak && TAIL.test(ev.bytes.toString("latin1"))) {
          ex.tailNak = true;
          ex.turns = 0;
          ex.naksSinceTx++;
          ex.extra++;
          ex.retransmitted = true;
          this.stats.naksSent++;
          this.stats.tailNaks++;
          this.sawLoss();
          this.sendRaw(Buffer.of(0x2d));
          ex.lastTxAt = performance.now();
          this.arm(ex);
        }
        const text = ev.bytes.toString("latin1");
        this.junkTail = (this.junkTail + text).slice(-1024);
        this.options.onConsole?.(text);
        return;
      }
      case "bad-packet":
        this.stats.badPackets++;
        this.sawLoss();
        this.stats.naksSent++;
        this.sendRaw(Buffer.of(0x2d));
        if (ex) {
          ex.extra++;
          ex.lastTxAt = performance.now();
        }
        return;
      case "packet":
        this.onPacket(ev.raw, ev.cuts);
        return;
    }
  }

  private onPacket(raw: Buffer, cuts: number[]): void {
    this.everReceived = true;
    this.options.trace?.(`<- $${raw.subarray(0, 80).toString("latin1")}`);
    this.owe();
    const ex = this.pending;
    const text = decodeBody(raw).toString("latin1");
    // console output pushed by the stub (kgdbcon, qRcmd): `O` + hex text
    if (text.length > 1 && text[0] === "O" && /^O([0-9a-fA-F]{2})+$/.test(text)) {
      this.options.onConsole?.(Buffer.from(text.slice(1), "hex").toString("latin1"));
      return;
    }
    const copy = this.lastReplyRaw !== undefined && raw.equals(this.lastReplyRaw);
    // a second copy of the previous reply: the target answered a resend of it too, so the first copy was late, not lost
    if (copy && this.lastReplyEx) this.takeBack(this.lastReplyEx);
    if (!ex) {
      this.stats.stray++;
      // one of the copies the previous exchange's resends could bring: one fewer to expect
      if (this.staleCopies > 0 && (copy || text === this.staleRerun)) this.staleCopies--;
      if (isStopReply(text) && !copy) this.unsolicited.push(text);
      return;
    }
    // equal to the previous reply, and either before any ack of this request and not an answer to our `-`
    // (kgdb resending its previous reply because our ack of it was lost, or the network duplicating it),
    // or while copies of it may still be on their way (that exchange was resent or nakked), however often this
    // request was sent: a copy late behind this request's resend and the `+` of that resend passed for its answer
    // (the lab's kgdb: a string read 64 bytes a call returned the previous 64 bytes). Each copy dropped is one
    // fewer to expect, so two reads of unchanged memory cost at most that many more waits, never a stall
    const dupLike = copy && ((!ex.ackSeen && ex.naksSinceTx === 0) || this.staleCopies > 0);
    // the previous request ran again from one of its copies: its answer differs from the first one (E17 for a
    // second `Z`) and must not be taken for this request's (an `E17` answering `D`)
    const rerunLike =
      !dupLike && this.staleCopies > 0 && this.staleRerun !== undefined && text === this.staleRerun && ex?.rerunReply !== text;
    if ((dupLike || rerunLike) && this.staleCopies > 0) this.staleCopies--;
    if (rerunLike) {
      this.stats.duplicates++;
      return;
    }
    if (ex.kind === "resume") {
      if (!isStopReply(text)) {
        this.stats.stray++;
        return;
      }
      if (dupLike) {
        this.stats.duplicates++;
        ex.suspect = true;
        return;
      }
    } else {
      if (dupLike) {
        // a duplicate (relay duplication or kgdb resending): ignore it; if it was in fact our reply
        // (identical content, ack lost), the timeout resends the request and kgdb answers again
        this.stats.duplicates++;
        return;
      }
      if (ex.accept && !ex.accept(text)) {
        this.stats.stray++;
        return;
      }
    }
    this.lastReplyRaw = raw;
    this.lastReplyEx = ex;
    ex.replyAt = this.packetStart;
    this.replyWhole = this.packetWhole;
    this.replyCuts = cuts;
    this.staleCopies = ex.extra;
    this.staleRerun = ex.extra > 0 ? ex.rerunReply : undefined;
    // a reply that began to arrive sooner after our last resend (or `-`) than any answer comes back answers an
    // earlier copy: it was late, not lost, and the timer fired early. A second copy of a reply alone says nothing
    // about the timer: the network duplicates and reorders (a held request released behind our resend is answered
    // twice), and widening the timeout on those copies drove it from its floor to tens of ms on a link that only reorders
    const trips = ex.trips;
    if (ex.retransmitted && ex.kind === "request" && trips.minRtt !== undefined) {
      if (this.packetStart - ex.lastTxAt < trips.minRtt / 2) this.spurious(ex);
    }
    if (!ex.retransmitted && ex.kind === "request") {
      const now = performance.now();
      if (ex.spin) this.noteStall(ex, now);
      const elapsed = now - ex.sentAt;
      if (ex.stalled === 0) {
        this.minRtt = Math.min(this.minRtt ?? elapsed, elapsed);
        trips.minRtt = Math.min(trips.minRtt ?? elapsed, elapsed);
      }
      // a stall of this process is not the link's time; a stall seen twice (right after the send and by a late
      // timer) leaves the fastest round trip known
      const floor = trips.minRtt ?? this.minRtt ?? elapsed;
      this.sample(trips, ex.stalled === 0 ? elapsed : Math.max(floor, elapsed - ex.stalled), ex.replyBytes);
      if (ex.ackSeen) this.gap.add(performance.now() - ex.ackAt);
      if (ex.turns > 0) this.minTurns = Math.min(this.minTurns ?? ex.turns, ex.turns);
    }
    this.finish(ex, ex.raw ? raw.toString("latin1") : text);
  }

  /**
   * A reply to an earlier copy of a resent request: the stub answered a resend it did not need (the first reply
   * was late, not lost; each such copy occupies a slow serial link for a whole reply). Widen the variance so the
   * timeout stops firing early; clean samples shrink it again.
   */
  private spurious(ex: Exchange): void {
    this.takeBack(ex);
    const trips = ex.trips;
    if (trips.srtt === undefined) return;
    // in proportion to the link: one round trip more (a fixed millisecond would be ten round trips of a fast link)
    trips.rttvar = Math.min(this.maxRto, trips.rttvar * 1.5 + trips.srtt);
    trips.settle(this.minRto, this.maxRto);
  }

  /**
   * The timeouts of `ex` were no loss: the target answered the copy they gave up on (its reply came too soon after the
   * resend to answer it, or a second copy of it came). They leave the record of loss, so a target that stalls now and
   * then is not fed ever more needless copies by spinning waits (each a sign of loss again), and the silence is learnt
   * (see patient). A link that loses 20 % duplicates some replies too: its record keeps most of its timeouts.
   */
  private takeBack(ex: Exchange): void {
    if (ex.lossTimeouts > 0 && ex.replyAt > 0) this.silences.add(ex.replyAt - ex.startedAt);
    for (; ex.lossTimeouts > 0; ex.lossTimeouts--) {
      const k = this.lossAt.lastIndexOf(ex.seq);
      if (k >= 0) this.lossAt.splice(k, 1);
    }
  }

  private tripsOf(kind: string): RoundTrips {
    let t = this.kinds.get(kind);
    if (!t) {
      t = new RoundTrips();
      this.kinds.set(kind, t);
    }
    return t;
  }

  /**
   * The timeout of an exchange's first transmission: its kind's, once measured. A kind not yet measured takes the
   * shared timeout, or where its reply's length is known, twice the time the measured replies of known length took
   * in proportion to theirs if that is longer (a reply's time grows with its length on a slow way out; on a fast
   * one the longer wait only matters if this one exchange is lost). A read of any kind waits out the target's
   * measured silences (see patient).
   */
  private firstTimeout(trips: RoundTrips, replyBytes: number, repeatable: boolean): number {
    let rto: number;
    if (trips.srtt !== undefined) rto = trips.rto;
    else if (replyBytes === 0 || !this.sized) rto = this.all.rto;
    // twice the time in proportion: a reply's fixed costs make the proportion an overestimate for a longer one
    else rto = Math.min(this.maxRto, Math.max(this.all.rto, (2 * this.sized.ms * replyBytes) / this.sized.bytes));
    // the target's silences do not depend on the kind: a pull's short last read met one 5 times over
    return repeatable ? this.patient(rto) : rto;
  }

  /**
   * A read's timeout on a link that has lost nothing lately: long enough for the target's measured silences. On the
   * lab's kgdb over a serial line (a TCG guest), 5 % of reads met a silence of 6-30 ms (median 11) against an 8 ms
   * timeout; each resend it answered in full, a whole reply more on a slow line. A loss on such a link is rare by
   * the link's own record, and costs the longer wait only then. Until the link has lost anything at all, a read
   * waits UNPROVEN_SILENCE_MS at least: the learnt silences trail the longest ones (a long session's needless
   * resends came at 13-29 ms against an estimate of 6-11), and a fresh session has learnt none.
   */
  private patient(rto: number): number {
    if (this.recentLoss() > 0) return rto;
    const s = this.silences;
    const silence = s.srtt === undefined ? 0 : s.srtt + 2 * s.rttvar;
    return Math.min(this.maxRto, Math.max(rto, this.lostOnce ? 0 : UNPROVEN_SILENCE_MS, silence));
  }

  /**
   * RFC 6298-style smoothing (Karn: only clean exchanges are sampled), but srtt + 2·rttvar rather than
   * + 4·rttvar: a debug stub has no queues, so a reply later than that is lost far more often than slow.
   * Measured on the lab's kgdb at 20 % loss (64 KiB, 3 runs each): 4·rttvar waited ~60 ms per loss with
   * srtt ~15 ms; 2·rttvar halved the pull time. Spurious resends stay rare (backoff ×1.5 per timeout).
   */
  private sample(trips: RoundTrips, ms: number, replyBytes: number): void {
    trips.sample(ms, this.minRto, this.maxRto);
    this.all.sample(ms, this.minRto, this.maxRto);
    if (replyBytes > 0) {
      this.sized = this.sized
        ? { ms: 0.875 * this.sized.ms + 0.125 * ms, bytes: 0.875 * this.sized.bytes + 0.125 * replyBytes }
        : { ms, bytes: replyBytes };
    }
  }
}
