/**
 * A byte-stream transport under the RSP client. UDP datagrams, TCP segments and in-memory chunks all arrive
 * as plain byte chunks with arbitrary boundaries: the protocol layer reassembles packets itself.
 */
export interface TransportStats {
  bytesIn: number;
  bytesOut: number;
  chunksIn: number;
  chunksOut: number;
  /** ICMP port-unreachable reports (ECONNREFUSED on a connected UDP socket), survived. */
  refused: number;
}

export interface Transport {
  /** `udp:127.0.0.1:31337`, `tcp:…`, `memory:…`: for messages. */
  readonly label: string;
  readonly kind: "udp" | "tcp" | "memory";
  readonly stats: TransportStats;
  /** Queue bytes for sending. Never throws on a transient send error (UDP is best effort). */
  write(bytes: Uint8Array): void;
  /** The single receiver of incoming chunks (set by the protocol layer). */
  onData(fn: (chunk: Buffer) => void): void;
  /** Called once when the transport ends (peer closed TCP, socket error, close()). */
  onClose(fn: (reason?: Error) => void): void;
  readonly closed: boolean;
  close(): Promise<void>;
}

export function emptyStats(): TransportStats {
  return { bytesIn: 0, bytesOut: 0, chunksIn: 0, chunksOut: 0, refused: 0 };
}

/** A parsed endpoint spec `udp:HOST:PORT` / `tcp:HOST:PORT` (IPv6 as `[addr]:port`). */
export interface Endpoint {
  kind: "udp" | "tcp";
  host: string;
  port: number;
  /** UDP only: bind this local port (QEMU's serial-over-UDP only accepts its configured peer port). */
  localPort?: number;
}

/** Parse `udp:HOST:PORT[@LOCALPORT]` or `tcp:HOST:PORT`; undefined when malformed. */
export function parseEndpoint(spec: string): Endpoint | undefined {
  const m = /^(udp|tcp):(\[[0-9a-fA-F:.]+\]|[^:@[\]]+):(\d{1,5})(?:@(\d{1,5}))?$/.exec(spec);
  if (!m) return undefined;
  const kind = m[1] as "udp" | "tcp";
  const host = m[2]!.startsWith("[") ? m[2]!.slice(1, -1) : m[2]!;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  const ep: Endpoint = { kind, host, port };
  if (m[4] !== undefined) {
    const lp = Number(m[4]);
    if (kind !== "udp" || lp < 1 || lp > 65535) return undefined;
    ep.localPort = lp;
  }
  return ep;
}

export function formatEndpoint(ep: Endpoint): string {
  const host = ep.host.includes(":") ? `[${ep.host}]` : ep.host;
  return `${ep.kind}:${host}:${ep.port}${ep.localPort !== undefined ? `@${ep.localPort}` : ""}`;
}
