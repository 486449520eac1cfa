/**
 * The lab's private link: a small IPv4 subnet whose first host address stays in the normal namespace (on
 * the host end of a veth pair) and whose second host address is the lab's own address (the lab namespace's
 * end). Also the route-table checks: the output of `ip -j route show` (iproute2 6.1 JSON: objects with
 * `dst` — "default" or "a.b.c.d[/n]" — `dev`, `gateway`, `type`, `table`), checked against this machine's
 * `ip -j -4 route show table all`.
 */
import { isIPv4 } from "../core/ip.js";

export interface LabSubnet {
  cidr: string;
  network: number;
  prefix: number;
  hostAddress: string;
  labAddress: string;
}

const toInt = (a: string) => a.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
const toDotted = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
const mask = (prefix: number) => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);

/** Parse "a.b.c.d/n" (n 24–30, a private RFC 1918 network address) into the lab's two addresses. */
export function parseLabSubnet(cidr: string): LabSubnet | undefined {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(cidr.trim());
  if (!m?.[1] || !m[2] || !isIPv4(m[1])) return undefined;
  const prefix = Number(m[2]);
  if (prefix < 24 || prefix > 30) return undefined;
  const addr = toInt(m[1]);
  if ((addr & mask(prefix)) >>> 0 !== addr) return undefined;
  const private_ =
    (addr & mask(8)) >>> 0 === toInt("10.0.0.0") ||
    (addr & mask(12)) >>> 0 === toInt("172.16.0.0") ||
    (addr & mask(16)) >>> 0 === toInt("192.168.0.0");
  if (!private_) return undefined;
  return { cidr: `${m[1]}/${prefix}`, network: addr, prefix, hostAddress: toDotted(addr + 1), labAddress: toDotted(addr + 2) };
}

interface RouteJson {
  dst?: string;
  dev?: string;
  gateway?: string;
  type?: string;
  table?: string;
}

function routeRange(dst: string): [number, number] | undefined {
  if (dst === "default") return [0, 0xffffffff];
  const [a, p] = dst.split("/");
  if (!a || !isIPv4(a)) return undefined;
  const prefix = p === undefined ? 32 : Number(p);
  const start = (toInt(a) & mask(prefix)) >>> 0;
  return [start, start + 2 ** (32 - prefix) - 1];
}

const describe = (r: RouteJson) =>
  [r.dst, r.gateway ? `via ${r.gateway}` : "", r.dev ? `dev ${r.dev}` : "", r.table ? `table ${r.table}` : ""]
    .filter(Boolean)
    .join(" ");

/** Routes of the normal namespace (`ip -j -4 route show`) that overlap the subnet; `default` never counts. */
export function conflictingRoutes(routesJson: string, subnet: LabSubnet, ownDev: string): string[] {
  const routes = JSON.parse(routesJson || "[]") as RouteJson[];
  const lo = subnet.network;
  const hi = subnet.network + 2 ** (32 - subnet.prefix) - 1;
  return routes
    .filter((r) => r.dst && r.dst !== "default" && r.dev !== ownDev)
    .filter((r) => {
      const range = routeRange(r.dst ?? "");
      return range !== undefined && range[0] <= hi && range[1] >= lo;
    })
    .map(describe);
}

/**
 * Routes in the lab namespace (`ip -j route show table all`, IPv4 or IPv6) that lead anywhere but the lab's
 * own link: any default route, any gateway, any destination outside the subnet. The `local` table (the
 * namespace's own addresses and loopback) is not a way out and is ignored.
 */
export function isolationViolations(routesJson: string, subnet: LabSubnet): string[] {
  const routes = JSON.parse(routesJson || "[]") as RouteJson[];
  const lo = subnet.network;
  const hi = subnet.network + 2 ** (32 - subnet.prefix) - 1;
  return routes
    .filter((r) => r.table !== "local")
    .filter((r) => {
      if (r.gateway || r.dst === "default" || !r.dst) return true;
      if (r.type && r.type !== "unicast") return r.type !== "unreachable" && r.type !== "prohibit" && r.type !== "blackhole";
      const range = routeRange(r.dst);
      return range === undefined || range[0] < lo || range[1] > hi;
    })
    .map(describe);
}
