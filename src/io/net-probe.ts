import { createSocket } from "node:dgram";
import { lookup } from "node:dns/promises";
import { access } from "node:fs/promises";
import { isIPv6 } from "node:net";
import { networkInterfaces } from "node:os";

/**
 * The real network probe behind src/host/route.ts's NetProbe port: DNS, the UDP-connect trick, the
 * interface list and sysfs existence checks. connect() on a UDP socket sends no packet (research
 * host-side.md D2 "Portable trick", checked on Node 20).
 */
export class SystemNetProbe {
  async resolve(name: string): Promise<string[]> {
    const all = await lookup(name, { all: true, verbatim: true });
    return all.map((a) => a.address);
  }

  localAddressFor(address: string, port: number): Promise<string> {
    const zoneless = address.split("%")[0] ?? address;
    const sock = createSocket(isIPv6(zoneless) ? "udp6" : "udp4");
    return new Promise<string>((resolve, reject) => {
      const done = (err: Error | null, value?: string) => {
        sock.close();
        if (err) reject(err);
        else resolve(value ?? "");
      };
      sock.once("error", (e) => done(e));
      sock.connect(port, address, () => {
        try {
          done(null, sock.address().address);
        } catch (e) {
          done(e as Error);
        }
      });
    });
  }

  interfaces(): Record<string, { address: string; family: 4 | 6; internal: boolean }[]> {
    const out: Record<string, { address: string; family: 4 | 6; internal: boolean }[]> = {};
    for (const [name, list] of Object.entries(networkInterfaces())) {
      out[name] = (list ?? []).map((a) => ({ address: a.address, family: a.family === "IPv6" ? 6 : 4, internal: a.internal }));
    }
    return out;
  }

  async exists(path: string): Promise<boolean> {
    try {
      await access(path);
      return true;
    } catch {
      return false;
    }
  }
}
