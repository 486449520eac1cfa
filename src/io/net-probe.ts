import { createSocket } from "node:dgram";
import { lookup } from "node:dns/promises";
import { access } from "node:fs/promises";
import { isIPv6 } from "node:net";
import { networkInterfaces } from "node:os";
import { ipVersion } from "../core/ip.js";
import type { ResolveOptions } from "./ssh-config.js";

/**
 * The real network probe behind src/host/route.ts's NetProbe port: DNS, the UDP-connect trick, the
 * interface list and sysfs existence checks. connect() on a UDP socket sends no packet (research
 * host-side.md D2 "Portable trick", checked on Node 20).
 */
export class SystemNetProbe {
  /** `ssh` is how ssh_config is read (tests point it at their own file and home). */
  constructor(private readonly ssh: ResolveOptions = {}) {}

  /**
   * The addresses a target name stands for, found the way ssh finds them: an ssh_config alias's HostName
   * first (`Host lab` / `HostName 10.0.0.5`, through `ssh -G` when OpenSSH is installed), then DNS.
   */
  async resolve(name: string): Promise<string[]> {
    if (ipVersion(name.split("%")[0] ?? name) !== 0) return [name];
    let host = name;
    try {
      const { resolveSshTarget } = await import("./ssh-config.js");
      host = (await resolveSshTarget({ name, address: name }, this.ssh)).hostName;
    } catch {
      // an unreadable ssh_config: DNS alone decides, as for a name ssh_config does not mention
    }
    if (ipVersion(host.split("%")[0] ?? host) !== 0) return [host];
    try {
      const all = await lookup(host, { all: true, verbatim: true });
      return all.map((a) => a.address);
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      throw new Error(
        host === name
          ? `DNS says ${why}, and no ssh_config Host entry gives '${name}' a HostName`
          : `ssh_config gives '${name}' the HostName '${host}', and DNS says ${why} for it`,
        { cause: e },
      );
    }
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
