/**
 * Pure IP address syntax and classification (core may not import node:net). Used for inventory validation,
 * route warnings and firewall rule scoping.
 */

const V4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIPv4(s: string): boolean {
  return V4.test(s);
}

/** Parse an IPv6 address (no zone id) into 8 groups, or undefined. Accepts an embedded IPv4 tail. */
export function parseIPv6(s: string): number[] | undefined {
  if (s.length === 0 || s.length > 45 || !/^[0-9A-Fa-f:.]+$/.test(s)) return undefined;
  let text = s;
  if (text.includes(".")) {
    // an embedded IPv4 tail (::ffff:192.0.2.1) is two 16-bit groups
    const lastColon = text.lastIndexOf(":");
    const v4 = text.slice(lastColon + 1);
    if (lastColon < 0 || !isIPv4(v4)) return undefined;
    const o = v4.split(".").map(Number) as [number, number, number, number];
    text = `${text.slice(0, lastColon + 1)}${((o[0] << 8) | o[1]).toString(16)}:${((o[2] << 8) | o[3]).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const parse = (part: string): number[] | undefined => {
    if (part === "") return [];
    const groups = part.split(":");
    const out: number[] = [];
    for (const g of groups) {
      if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return undefined;
      out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  const head = parse(halves[0] ?? "");
  if (!head) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const rest = parse(halves[1] ?? "");
  if (!rest) return undefined;
  const fill = 8 - head.length - rest.length;
  if (fill < 1) return undefined;
  return [...head, ...new Array<number>(fill).fill(0), ...rest];
}

export function isIPv6(s: string): boolean {
  return parseIPv6(s) !== undefined;
}

/** 4 for IPv4, 6 for IPv6, 0 otherwise (the contract of node:net isIP). */
export function ipVersion(s: string): 0 | 4 | 6 {
  if (isIPv4(s)) return 4;
  if (isIPv6(s)) return 6;
  return 0;
}

export type AddressKind = "loopback" | "link-local" | "private" | "unspecified" | "multicast" | "global";

export function classifyAddress(s: string): AddressKind | undefined {
  if (isIPv4(s)) {
    const [a, b] = s.split(".").map(Number) as [number, number];
    if (a === 127) return "loopback";
    if (a === 0) return "unspecified";
    if (a === 169 && b === 254) return "link-local";
    if (a >= 224 && a <= 239) return "multicast";
    if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127))
      return "private";
    return "global";
  }
  const g = parseIPv6(s);
  if (!g) return undefined;
  if (g.every((x) => x === 0)) return "unspecified";
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return "loopback";
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) {
    return classifyAddress(`${g[6]! >> 8}.${g[6]! & 255}.${g[7]! >> 8}.${g[7]! & 255}`);
  }
  const first = g[0]!;
  if ((first & 0xffc0) === 0xfe80) return "link-local";
  if ((first & 0xff00) === 0xff00) return "multicast";
  if ((first & 0xfe00) === 0xfc00) return "private";
  return "global";
}

/** An address as compared for source pinning: IPv4-mapped IPv6 as the dotted quad, IPv6 lower case. */
export function plainAddress(a: string): string {
  const m = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(a);
  return m ? m[1]! : a.toLowerCase();
}
