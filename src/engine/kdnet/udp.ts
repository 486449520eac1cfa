/** The real UDP transport (node:dgram), the only file of the KDNET engine that touches sockets. */
import { createSocket, type Socket } from "node:dgram";
import { netdbgError } from "../../core/error.js";
import type { DatagramTransport, UdpAddress } from "./transport.js";
import { udpPortHolder } from "../transport/port-holder.js";

export interface UdpOptions {
  port: number;
  /** Bind address; default "0.0.0.0" (or "::" when family is 6). */
  address?: string;
  family?: 4 | 6;
}

class UdpTransport implements DatagramTransport {
  private handler: ((buf: Buffer, from: UdpAddress) => void) | undefined;
  private closed = false;
  constructor(
    private readonly sock: Socket,
    readonly local: UdpAddress,
  ) {
    sock.on("message", (msg, rinfo) => {
      this.handler?.(msg, { address: rinfo.address, port: rinfo.port });
    });
    // A send error (e.g. ICMP unreachable surfacing as ECONNREFUSED) must not kill the process: UDP is lossy anyway.
    sock.on("error", () => {});
  }
  send(buf: Uint8Array, to: UdpAddress): void {
    if (this.closed) return;
    this.sock.send(buf, to.port, to.address);
  }
  onMessage(handler: (buf: Buffer, from: UdpAddress) => void): void {
    this.handler = handler;
  }
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => this.sock.close(() => resolve()));
  }
}

/** Bind a UDP socket; a busy or forbidden port becomes NETDBG-E506. */
export function openUdp(opts: UdpOptions): Promise<DatagramTransport> {
  const family = opts.family ?? (opts.address?.includes(":") ? 6 : 4);
  const address = opts.address ?? (family === 6 ? "::" : "0.0.0.0");
  const sock = createSocket({ type: family === 6 ? "udp6" : "udp4", reuseAddr: false });
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      sock.close();
      const holder = e.code === "EADDRINUSE" && opts.port ? udpPortHolder(opts.port) : undefined;
      reject(
        netdbgError(
          "E506",
          { port: opts.port, address, reason: e.code ?? e.message, ...(holder ? { holder } : {}) },
          { cause: e },
        ),
      );
    };
    sock.once("error", onError);
    sock.bind(opts.port, address, () => {
      sock.off("error", onError);
      const a = sock.address();
      resolve(new UdpTransport(sock, { address: a.address, port: a.port }));
    });
  });
}
