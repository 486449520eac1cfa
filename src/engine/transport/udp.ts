import dgram from "node:dgram";
import { isIPv6 } from "node:net";
import { netdbgError } from "../../core/error.js";
import { udpPortHolder } from "./port-holder.js";
import { emptyStats, type Endpoint, formatEndpoint, type Transport, type TransportStats } from "./types.js";

/** 4 MiB: QEMU's serial-over-UDP sends one datagram per byte (measured against QEMU 7.2's -serial udp). */
export const UDP_RCVBUF = 4 << 20;

/**
 * UDP as a byte stream: a connected datagram socket with a large receive buffer. Datagrams are delivered
 * in arrival order as chunks; packet reassembly is the protocol's job (kgdboe flushes every 30 bytes).
 * ECONNREFUSED (ICMP port unreachable: nothing listening yet) is counted and survived, never fatal.
 */
export class UdpTransport implements Transport {
  readonly kind = "udp" as const;
  readonly stats: TransportStats = emptyStats();
  readonly label: string;
  private receiver: ((chunk: Buffer) => void) | undefined;
  private closeFns: ((reason?: Error) => void)[] = [];
  closed = false;

  private constructor(
    private readonly socket: dgram.Socket,
    ep: Endpoint,
  ) {
    this.label = formatEndpoint(ep);
    socket.on("message", (msg) => {
      this.stats.bytesIn += msg.length;
      this.stats.chunksIn++;
      this.receiver?.(msg);
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "ECONNREFUSED") this.stats.refused++;
      // any other receive error on a datagram socket is transient too: keep the socket
    });
    socket.on("close", () => this.finish());
  }

  static async open(ep: Endpoint): Promise<UdpTransport> {
    const type = isIPv6(ep.host) ? "udp6" : "udp4";
    const socket = dgram.createSocket({ type, recvBufferSize: UDP_RCVBUF, sendBufferSize: 1 << 20 });
    const address = type === "udp6" ? "::" : "0.0.0.0";
    await new Promise<void>((resolve, reject) => {
      const onError = (e: NodeJS.ErrnoException) => {
        socket.close();
        // a host port that is taken or forbidden is the environment's doing, never netdbg's: say which and by whom
        if (ep.localPort !== undefined && (e.code === "EADDRINUSE" || e.code === "EACCES")) {
          const holder = e.code === "EADDRINUSE" ? udpPortHolder(ep.localPort) : undefined;
          reject(
            netdbgError("E105", { port: ep.localPort, address, reason: e.code, ...(holder ? { holder } : {}) }, { cause: e }),
          );
        } else reject(e);
      };
      socket.once("error", onError);
      socket.bind({ port: ep.localPort ?? 0, address, exclusive: true }, () => {
        socket.off("error", onError);
        resolve();
      });
    });
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.connect(ep.port, ep.host, () => {
        socket.off("error", reject);
        resolve();
      });
    });
    return new UdpTransport(socket, ep);
  }

  /** The local port (for firewall rules and logs). */
  get localPort(): number {
    return this.socket.address().port;
  }

  get recvBufferSize(): number {
    return this.socket.getRecvBufferSize();
  }

  write(bytes: Uint8Array): void {
    if (this.closed) return;
    this.stats.bytesOut += bytes.length;
    this.stats.chunksOut++;
    // A send with a callback costs Node a request object and a tick, about 3 µs a datagram (CPU per request of
    // 1 MiB pulls against a stub in another process: medians 71.6 and 68.2 µs, spreads overlapping), and on a
    // machine shared with a TCG guest every microsecond of ours is one the guest waits. The callback only counts
    // ICMP refusals (a send after one fails), and those only say something while the peer has never answered (see
    // RspClient's diagnosis)
    if (this.stats.bytesIn > 0) this.socket.send(bytes);
    else this.socket.send(bytes, this.onSent);
  }

  private readonly onSent = (err: Error | null): void => {
    if ((err as NodeJS.ErrnoException | null)?.code === "ECONNREFUSED") this.stats.refused++;
  };

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
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
    this.finish();
  }
}
