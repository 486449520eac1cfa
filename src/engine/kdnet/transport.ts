/**
 * The datagram transport the KDNET engine talks through: real UDP (udp.ts) or in memory (for tests).
 */

export interface UdpAddress {
  address: string;
  port: number;
}

export interface DatagramTransport {
  /** The local address/port actually bound. */
  readonly local: UdpAddress;
  send(buf: Uint8Array, to: UdpAddress): void;
  /** Register the single receive handler (a later call replaces it). */
  onMessage(handler: (buf: Buffer, from: UdpAddress) => void): void;
  close(): Promise<void>;
}

export function endpointKey(e: UdpAddress): string {
  return e.address.includes(":") ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}

/** An in-memory network: transports opened on it deliver to each other by address:port, asynchronously. */
export class MemoryNetwork {
  private readonly nodes = new Map<string, MemoryTransport>();

  open(local: UdpAddress): MemoryTransport {
    const k = endpointKey(local);
    if (this.nodes.has(k)) throw new Error(`${k} is already bound`);
    const t = new MemoryTransport(local, this);
    this.nodes.set(k, t);
    return t;
  }

  /** @internal */
  deliver(buf: Uint8Array, from: UdpAddress, to: UdpAddress): void {
    const dest = this.nodes.get(endpointKey(to));
    if (!dest) return;
    const copy = Buffer.from(buf);
    queueMicrotask(() => dest.receive(copy, from));
  }

  /** @internal */
  remove(t: MemoryTransport): void {
    this.nodes.delete(endpointKey(t.local));
  }
}

export class MemoryTransport implements DatagramTransport {
  private handler: ((buf: Buffer, from: UdpAddress) => void) | undefined;
  private closed = false;
  /** Every datagram sent, for assertions. */
  readonly sent: { buf: Buffer; to: UdpAddress }[] = [];
  constructor(
    readonly local: UdpAddress,
    private readonly net: MemoryNetwork,
  ) {}
  send(buf: Uint8Array, to: UdpAddress): void {
    if (this.closed) return;
    this.sent.push({ buf: Buffer.from(buf), to });
    this.net.deliver(buf, this.local, to);
  }
  onMessage(handler: (buf: Buffer, from: UdpAddress) => void): void {
    this.handler = handler;
  }
  /** @internal */
  receive(buf: Buffer, from: UdpAddress): void {
    if (!this.closed) this.handler?.(buf, from);
  }
  async close(): Promise<void> {
    this.closed = true;
    this.net.remove(this);
  }
}
