import { createSocket } from "node:dgram";

/** True when UDP `port` can be bound on all IPv4 and IPv6 addresses right now (then released at once). */
export async function isUdpPortFree(port: number): Promise<boolean> {
  const tryBind = (type: "udp4" | "udp6", address: string) =>
    new Promise<boolean>((resolve) => {
      const s = createSocket({ type, ipv6Only: type === "udp6" });
      s.once("error", (e: NodeJS.ErrnoException) => {
        s.close();
        // an absent IPv6 stack is not a conflict
        resolve(e.code === "EAFNOSUPPORT" || e.code === "EADDRNOTAVAIL");
      });
      s.bind({ port, address, exclusive: true }, () => s.close(() => resolve(true)));
    });
  return (await tryBind("udp4", "0.0.0.0")) && (await tryBind("udp6", "::"));
}
