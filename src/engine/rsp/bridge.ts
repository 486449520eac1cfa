import { chmodSync } from "node:fs";
import net from "node:net";
import { fromHex, framePacket, isErrorReply, PacketParser } from "./packet.js";
import type { RspClient } from "./client.js";
import { KGDB_MAX_MEM } from "./remote.js";

/**
 * A local TCP server that lets a stock gdb (or an IDE driving gdb) debug through netdbg's reliability
 * layer: gdb talks plain RSP over TCP on loopback; every packet is relayed to the target by the RspClient
 * (retransmission, duplicate detection, kgdb limits) and the reply is relayed back byte for byte (escapes
 * and run-length encoding untouched). Behaviour from the GDB manual ("Packets", "Stop Reply Packets",
 * "Interrupts", "Packet Acknowledgment") and Linux kernel/debug/gdbstub.c:
 * - acks to gdb are local; `QStartNoAckMode` is granted on the gdb side only (the target keeps acks);
 * - resume packets (`c`, `s`, `C`, `S`, `vCont;c|s…`) get their stop reply whenever the target stops;
 *   a 0x03 from gdb meanwhile breaks in;
 * - `m` is served in pieces within the target's safe limit (kgdb: 496 bytes) whose lengths never repeat
 *   back to back, so a stale duplicate reply is recognised by its length;
 * - one gdb at a time; when it disconnects the target stays as it is and the next gdb may connect.
 */
export interface BridgeOptions {
  maxMemory?: number;
  log?: (line: string) => void;
}

export interface BridgeStats {
  connections: number;
  packets: number;
  resumes: number;
  interrupts: number;
  splitReads: number;
}

const RESUME = /^(?:[cs]|[CS][0-9a-fA-F]{2}|vCont;[cCsS])/;

export class RspBridge {
  readonly stats: BridgeStats = { connections: 0, packets: 0, resumes: 0, interrupts: 0, splitReads: 0 };
  private server: net.Server | undefined;
  private active: net.Socket | undefined;
  private readonly maxMemory: number;
  /** Length of the last `m` sent to the target. */
  private lastLen = -1;

  constructor(
    readonly client: RspClient,
    private readonly options: BridgeOptions = {},
  ) {
    this.maxMemory = options.maxMemory ?? KGDB_MAX_MEM;
  }

  async listen(port = 0, host = "127.0.0.1"): Promise<number> {
    const server = net.createServer((s) => this.accept(s));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    return (server.address() as net.AddressInfo).port;
  }

  /**
   * Listen on a Unix socket instead: only this user (mode 0600, created under a umask of 077 so no other user can
   * connect in between) may reach the target through it. gdb: `target remote <path>` (or `unix::<path>`).
   */
  async listenUnix(path: string): Promise<string> {
    const server = net.createServer((s) => this.accept(s));
    this.server = server;
    const old = process.umask(0o077);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(path, () => {
          server.off("error", reject);
          resolve();
        });
      });
    } finally {
      process.umask(old);
    }
    chmodSync(path, 0o600);
    return path;
  }

  async close(): Promise<void> {
    this.active?.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(sock: net.Socket): void {
    if (this.active) {
      this.options.log?.("refusing a second gdb connection: one debugger at a time");
      sock.destroy();
      return;
    }
    this.active = sock;
    this.stats.connections++;
    sock.setNoDelay(true);
    const parser = new PacketParser({ interrupts: true, maxPacket: 1 << 20 });
    let noAck = false;
    let last: Buffer | undefined;
    let queue: Promise<void> = Promise.resolve();
    const send = (body: Buffer) => {
      last = framePacket(body);
      if (!sock.destroyed) sock.write(last);
    };
    sock.on("data", (chunk: Buffer) => {
      for (const ev of parser.feed(chunk)) {
        if (ev.type === "interrupt") {
          this.stats.interrupts++;
          this.client.interrupt();
        } else if (ev.type === "nak") {
          if (last && !sock.destroyed) sock.write(last);
        } else if (ev.type === "bad-packet") {
          if (!noAck) sock.write("-");
        } else if (ev.type === "packet") {
          if (!noAck) sock.write("+");
          const raw = ev.raw;
          queue = queue.then(async () => {
            this.stats.packets++;
            const text = raw.toString("latin1");
            if (text === "QStartNoAckMode") {
              send(Buffer.from("OK"));
              noAck = true;
              return;
            }
            try {
              const reply = await this.relay(raw, text);
              if (reply !== undefined) send(Buffer.from(reply, "latin1"));
            } catch (e) {
              this.options.log?.(`target: ${(e as Error).message}`);
              sock.destroy();
            }
          });
        }
      }
    });
    const done = () => {
      if (this.active === sock) this.active = undefined;
    };
    sock.on("close", done);
    sock.on("error", done);
  }

  /** Relay one gdb packet; undefined = no reply is due (`k`). */
  private async relay(raw: Buffer, text: string): Promise<string | undefined> {
    if (RESUME.test(text)) {
      this.stats.resumes++;
      return this.client.resume(raw, { raw: true });
    }
    if (text === "k") {
      await this.client.request(raw, { noReply: true });
      return undefined;
    }
    const m = /^m([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(text);
    if (m) return this.readRange(BigInt(`0x${m[1]}`), Number.parseInt(m[2]!, 16));
    const reply = await this.client.request(raw, {
      raw: true,
      ends: text[0] === "D",
      ...(/^Z[01],/.test(text) ? { rerunReply: "E17" } : /^z[01],/.test(text) ? { rerunReply: "E02" } : {}),
    });
    if (text[0] === "D" && reply === "OK") await this.client.ackFinal();
    return reply;
  }

  /**
   * Serve gdb's `m` in target-safe pieces where no two consecutive requests to the target ask for the same
   * length (gdb asks the same size again and again): a reply must have exactly the asked length, so a late
   * duplicate of the previous reply cannot pass for this one. When the size would repeat, read one byte
   * more (dropped) or, if that fails (end of mapped memory), one byte less.
   */
  private async readRange(addr: bigint, len: number): Promise<string> {
    let hex = "";
    let done = 0;
    let noOverRead = false;
    if (len > this.maxMemory) this.stats.splitReads++;
    while (done < len) {
      const n = Math.min(this.maxMemory, len - done);
      let ask = n;
      if (ask === this.lastLen) ask = !noOverRead && n + 1 <= this.maxMemory ? n + 1 : n - 1;
      if (ask === 0) ask = 1;
      this.lastLen = ask;
      const r = await this.client.request(`m${(addr + BigInt(done)).toString(16)},${ask.toString(16)}`, {
        accept: (x) => isErrorReply(x) || x === "" || x.length === 2 * ask,
      });
      if (r === "" || isErrorReply(r) || !fromHex(r)) {
        if (ask > n) {
          noOverRead = true;
          continue;
        }
        // like a stub: a partial read returns what was read, a failed first piece the error
        return done > 0 ? hex : r || "E14";
      }
      const take = Math.min(ask, n);
      hex += r.slice(0, 2 * take);
      done += take;
      noOverRead = false;
    }
    return hex;
  }
}
