import dgram from "node:dgram";
import { seededRandom } from "./rng.js";

/**
 * A UDP relay on loopback that damages traffic on purpose: each datagram, in either direction, is dropped,
 * duplicated or held back (reordered behind the next datagram, or released after `holdMs`) at set rates,
 * from a seeded PRNG so a failing run can be replayed. Clients send to `port`; the relay forwards to the
 * target from its own socket and returns replies to the last client address (like kgdboe).
 */
export interface LossyRelayOptions {
  target: { host: string; port: number };
  /** Probability a datagram is dropped (0.2 = 20 %). */
  drop?: number;
  /** Probability a datagram is sent twice. */
  duplicate?: number;
  /** Probability a datagram is held and sent after the next one in the same direction. */
  reorder?: number;
  holdMs?: number;
  seed?: number;
  /**
   * A target that stalls now and then (kgdb under TCG when the emulator's thread is off the CPU): every `every`-th
   * datagram from the client holds everything on its way back for `ms`, in order. No loss, no reordering.
   */
  stall?: { every: number; ms: number };
}

export interface RelayStats {
  forwarded: number;
  dropped: number;
  duplicated: number;
  reordered: number;
  /** Stalls begun (see LossyRelayOptions.stall). */
  stalls: number;
}

export class LossyRelay {
  readonly stats: RelayStats = { forwarded: 0, dropped: 0, duplicated: 0, reordered: 0, stalls: 0 };
  private front: dgram.Socket | undefined;
  private back: dgram.Socket | undefined;
  private client: { address: string; port: number } | undefined;
  private rng: () => number;
  private held: Record<"up" | "down", { msg: Buffer; timer: NodeJS.Timeout } | undefined> = { up: undefined, down: undefined };
  private ups = 0;
  private stalledUntil = 0;
  private readonly stalled: Buffer[] = [];
  /** The one timer that releases the stalled datagrams (a later stall only moves stalledUntil). */
  private unstallTimer: NodeJS.Timeout | undefined;
  port = 0;

  constructor(private readonly options: LossyRelayOptions) {
    this.rng = seededRandom(options.seed ?? 1);
  }

  async start(): Promise<number> {
    const front = dgram.createSocket({ type: "udp4", recvBufferSize: 4 << 20 });
    const back = dgram.createSocket({ type: "udp4", recvBufferSize: 4 << 20 });
    this.front = front;
    this.back = back;
    front.on("error", () => {});
    back.on("error", () => {});
    front.on("message", (msg, rinfo) => {
      this.client = { address: rinfo.address, port: rinfo.port };
      this.pass("up", msg);
    });
    back.on("message", (msg) => this.pass("down", msg));
    await new Promise<void>((r) => front.bind(0, "127.0.0.1", () => r()));
    // the back side sends to the target: a loopback target from loopback, a lab address (inside the lab's own
    // namespace subnet) from whatever address routes there
    const backAddress = this.options.target.host.startsWith("127.") ? "127.0.0.1" : "0.0.0.0";
    await new Promise<void>((r) => back.bind(0, backAddress, () => r()));
    this.port = front.address().port;
    return this.port;
  }

  private out(dir: "up" | "down", msg: Buffer): void {
    const stall = this.options.stall;
    if (dir === "up" && stall && ++this.ups % stall.every === 0) {
      this.stalledUntil = performance.now() + stall.ms;
      this.stats.stalls++;
      this.unstallTimer ??= setTimeout(() => this.unstall(), stall.ms);
    }
    if (dir === "down" && (this.stalled.length || performance.now() < this.stalledUntil)) {
      this.stalled.push(msg);
      return;
    }
    this.send(dir, msg);
  }

  private send(dir: "up" | "down", msg: Buffer): void {
    this.stats.forwarded++;
    if (dir === "up") this.back?.send(msg, this.options.target.port, this.options.target.host);
    else if (this.client) this.front?.send(msg, this.client.port, this.client.address);
  }

  private unstall(): void {
    const left = this.stalledUntil - performance.now();
    // a timer can fire a little early, and a later stall extends the wait
    if (left > 0) {
      this.unstallTimer = setTimeout(() => this.unstall(), Math.ceil(left));
      return;
    }
    this.unstallTimer = undefined;
    for (const msg of this.stalled.splice(0)) this.send("down", msg);
  }

  private pass(dir: "up" | "down", msg: Buffer): void {
    const o = this.options;
    if (this.rng() < (o.drop ?? 0)) {
      this.stats.dropped++;
      this.release(dir);
      return;
    }
    if (!this.held[dir] && this.rng() < (o.reorder ?? 0)) {
      this.stats.reordered++;
      const timer = setTimeout(() => this.release(dir), o.holdMs ?? 5);
      this.held[dir] = { msg, timer };
      return;
    }
    this.out(dir, msg);
    this.release(dir);
    if (this.rng() < (o.duplicate ?? 0)) {
      this.stats.duplicated++;
      this.out(dir, msg);
    }
  }

  private release(dir: "up" | "down"): void {
    const h = this.held[dir];
    if (!h) return;
    clearTimeout(h.timer);
    this.held[dir] = undefined;
    this.out(dir, h.msg);
  }

  async stop(): Promise<void> {
    clearTimeout(this.unstallTimer);
    for (const dir of ["up", "down"] as const) {
      const h = this.held[dir];
      if (h) clearTimeout(h.timer);
    }
    for (const s of [this.front, this.back]) {
      if (s) await new Promise<void>((r) => s.close(() => r()));
    }
    this.front = undefined;
    this.back = undefined;
  }
}
