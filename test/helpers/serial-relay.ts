import dgram from "node:dgram";
import { coalescer, MAX } from "../../templates/lab/serial-relay.mjs";

/**
 * Loopback relay for QEMU's `-serial udp:127.0.0.1:PEER@127.0.0.1:LOCAL` (QEMU sends to PEER, accepts only
 * from PEER; syntax: https://www.qemu.org/docs/master/system/invocation.html, -serial): binds PEER before QEMU
 * starts (QEMU's UDP chardev stops reading after one failed read such as ECONNREFUSED: udp_chr_read in
 * https://gitlab.com/qemu-project/qemu/-/blob/master/chardev/char-udp.c), lets any client talk through `port`,
 * answers the last client, and coalesces QEMU's one-datagram-per-byte output (the emulated 16550 writes one
 * byte at a time: serial_xmit in https://gitlab.com/qemu-project/qemu/-/blob/master/hw/char/serial.c) as the
 * lab's relay does (its coalescer: after 1 ms idle, measured, or 1400 bytes).
 */
export class SerialRelay {
  private qemuSide: dgram.Socket | undefined;
  private clientSide: dgram.Socket | undefined;
  private client: { address: string; port: number } | undefined;
  private output: ReturnType<typeof coalescer> | undefined;
  peerPort = 0;
  port = 0;

  async start(qemuLocalPort: number): Promise<void> {
    const q = dgram.createSocket({ type: "udp4", recvBufferSize: 4 << 20 });
    const c = dgram.createSocket({ type: "udp4", recvBufferSize: 4 << 20 });
    q.on("error", () => {});
    c.on("error", () => {});
    const output = coalescer((data) => {
      const to = this.client;
      if (to) for (let i = 0; i < data.length; i += MAX) c.send(data.subarray(i, i + MAX), to.port, to.address);
    });
    this.output = output;
    q.on("message", (m) => output.push(m));
    c.on("message", (m, r) => {
      this.client = { address: r.address, port: r.port };
      q.send(m, qemuLocalPort, "127.0.0.1");
    });
    await new Promise<void>((r) => q.bind(0, "127.0.0.1", () => r()));
    await new Promise<void>((r) => c.bind(0, "127.0.0.1", () => r()));
    this.qemuSide = q;
    this.clientSide = c;
    this.peerPort = q.address().port;
    this.port = c.address().port;
  }

  async stop(): Promise<void> {
    this.output?.drop();
    for (const s of [this.qemuSide, this.clientSide]) if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}
