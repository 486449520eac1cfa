import net from "node:net";
import { emptyStats, type Endpoint, formatEndpoint, type Transport, type TransportStats } from "./types.js";

/**
 * TCP byte stream with TCP_NODELAY: without it every RSP exchange waits out Nagle + delayed ACK
 * (1 MiB took 24 s instead of 0.38 s, measured against QEMU 7.2's -serial udp).
 */
export class TcpTransport implements Transport {
  readonly kind = "tcp" as const;
  readonly stats: TransportStats = emptyStats();
  readonly label: string;
  private receiver: ((chunk: Buffer) => void) | undefined;
  private closeFns: ((reason?: Error) => void)[] = [];
  closed = false;

  constructor(
    private readonly socket: net.Socket,
    label: string,
  ) {
    this.label = label;
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => {
      this.stats.bytesIn += chunk.length;
      this.stats.chunksIn++;
      this.receiver?.(chunk);
    });
    let error: Error | undefined;
    socket.on("error", (e) => {
      error = e;
    });
    socket.on("close", () => this.finish(error));
  }

  static async open(ep: Endpoint, timeoutMs = 10_000): Promise<TcpTransport> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: ep.host, port: ep.port, noDelay: true });
      const timer = setTimeout(() => {
        s.destroy();
        reject(Object.assign(new Error(`connect timed out after ${timeoutMs} ms`), { code: "ETIMEDOUT" }));
      }, timeoutMs);
      s.once("connect", () => {
        clearTimeout(timer);
        s.removeAllListeners("error");
        resolve(s);
      });
      s.once("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    return new TcpTransport(socket, formatEndpoint(ep));
  }

  write(bytes: Uint8Array): void {
    if (this.closed) return;
    this.stats.bytesOut += bytes.length;
    this.stats.chunksOut++;
    this.socket.write(bytes);
  }

  onData(fn: (chunk: Buffer) => void): void {
    this.receiver = fn;
  }

  onClose(fn: (reason?: Error) => void): void {
    this.closeFns.push(fn);
  }

  private finish(reason?: Error): void {
    if (this.closed) return;
    this.closed = true;
    for (const f of this.closeFns) f(reason);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await new Promise<void>((resolve) => {
      this.socket.once("close", () => resolve());
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 200).unref();
    });
    this.finish();
  }
}
