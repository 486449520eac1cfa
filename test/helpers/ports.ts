/** Free ports for tests: drawn, bound once to prove they are free, released. Loopback only. */
import { createSocket } from "node:dgram";
import { createServer } from "node:net";

/**
 * A free UDP port. `debug`: one in KDNET's range (49152–60999, below the ephemeral range, so the kernel does not
 * hand it to another socket meanwhile); else any port the kernel picks. `address`: where it must be free.
 */
export async function freeUdpPort(o: { debug?: boolean; address?: string } = {}): Promise<number> {
  const address = o.address ?? "127.0.0.1";
  for (;;) {
    const want = o.debug ? 49152 + Math.floor(Math.random() * (60999 - 49152)) : 0;
    const got = await new Promise<number | undefined>((resolve) => {
      const s = createSocket(address.includes(":") ? "udp6" : "udp4");
      s.once("error", () => resolve(undefined));
      s.bind(want, address, () => {
        const p = s.address().port;
        s.close(() => resolve(p));
      });
    });
    if (got !== undefined) return got;
  }
}

/** A free TCP port on loopback. */
export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}
