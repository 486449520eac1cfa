import { emptyStats, type Transport, type TransportStats } from "./types.js";

/**
 * In-memory transport pair for tests: what one end writes, the other receives asynchronously (next
 * microtask), preserving order. An optional `tap` sees every chunk (for asserting on the bytes sent).
 */
export class MemoryTransport implements Transport {
  readonly kind = "memory" as const;
  readonly stats: TransportStats = emptyStats();
  peer: MemoryTransport | undefined;
  private receiver: ((chunk: Buffer) => void) | undefined;
  private closeFns: ((reason?: Error) => void)[] = [];
  private pending: Buffer[] = [];
  closed = false;
  readonly sent: Buffer[] = [];

  constructor(readonly label: string) {}

  write(bytes: Uint8Array): void {
    if (this.closed) return;
    const chunk = Buffer.from(bytes);
    this.stats.bytesOut += chunk.length;
    this.stats.chunksOut++;
    this.sent.push(chunk);
    const peer = this.peer;
    if (peer) queueMicrotask(() => peer.deliver(chunk));
  }

  private deliver(chunk: Buffer): void {
    if (this.closed) return;
    this.stats.bytesIn += chunk.length;
    this.stats.chunksIn++;
    if (this.receiver) this.receiver(chunk);
    else this.pending.push(chunk);
  }

  onData(fn: (chunk: Buffer) => void): void {
    this.receiver = fn;
    for (const c of this.pending.splice(0)) fn(c);
  }

  onClose(fn: (reason?: Error) => void): void {
    this.closeFns.push(fn);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const f of this.closeFns) f();
    const peer = this.peer;
    if (peer && !peer.closed) queueMicrotask(() => void peer.close());
  }
}

export function memoryPair(): [MemoryTransport, MemoryTransport] {
  const a = new MemoryTransport("memory:a");
  const b = new MemoryTransport("memory:b");
  a.peer = b;
  b.peer = a;
  return [a, b];
}
