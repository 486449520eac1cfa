/**
 * `netdbg host [target|address]`: which local address, interface and route this machine uses to reach a
 * target, and what about that route deserves a warning (loopback, link-local, VPN/tunnel, wireless).
 *
 * Sources: the portable UDP-connect trick (no packet is sent), `ip -j route get` + `ip -j -d link show` on
 * Linux, `Find-NetRoute` on Windows. Layouts checked against test/fixtures/linux/ip-route-get-and-udp-connect.txt
 * and test/host/fixtures/ip-link-route-netns.txt (real captures); Find-NetRoute per learn.microsoft.com
 * (nettcpip/find-netroute, Example 1: first a NetIPAddress, then the NetRoute).
 */
import { netdbgError, isNetdbgError } from "../core/error.js";
import { classifyAddress, ipVersion } from "../core/ip.js";
import type { CommandRunner, PowerShellRunner } from "../core/interfaces.js";
import { parseJsonLine, psJson } from "./exec.js";

/** Network facts this module needs from the machine (real adapter: src/io/net-probe.ts). */
export interface NetProbe {
  /** Every address of a DNS name (IPv4 and IPv6), resolver order. */
  resolve(name: string): Promise<string[]>;
  /** The local address the OS picks to send to address:port (UDP connect; no packet leaves). */
  localAddressFor(address: string, port: number): Promise<string>;
  /** Local interfaces and their addresses (os.networkInterfaces shape, reduced). */
  interfaces(): Record<string, readonly { address: string; family: 4 | 6; internal: boolean }[]>;
  /** Whether a file exists (e.g. /sys/class/net/<if>/wireless). */
  exists(path: string): Promise<boolean>;
}

export type Medium = "ethernet" | "wireless" | "loopback" | "tunnel" | "other" | "unknown";

export interface RouteWarning {
  kind: "loopback" | "link-local" | "vpn" | "wireless" | "mismatch";
  message: string;
}

export interface HostRoute {
  /** The address the route goes to (one candidate of the target). */
  address: string;
  localAddress: string;
  interface?: string;
  gateway?: string;
  mtu?: number;
  medium: Medium;
  /** true = wired Ethernet, false = not wired (wireless, loopback, tunnel), undefined = unknown. */
  wired?: boolean;
  /** Link kind when known: iproute2 linkinfo.info_kind (veth, tun, wireguard…) or Windows media type. */
  linkKind?: string;
  source: "ip-route" | "find-netroute" | "udp-connect";
  warnings: RouteWarning[];
}

export interface HostRouteReport {
  /** What was asked: a target name, an address or a DNS name. */
  query: string;
  candidates: HostRoute[];
}

export interface RouteDeps {
  net: NetProbe;
  platform: NodeJS.Platform | string;
  runner?: CommandRunner;
  ps?: PowerShellRunner;
}

/** Interface names of VPN/tunnel software (Linux and macOS). */
const TUNNEL_NAME = /^(tun|tap|wg|ppp|ipsec|vti|xfrm|utun|gre|gif|ipip|sit|tailscale|zt|nordlynx|cscotun|gpd|vpn)/i;
/** iproute2 linkinfo.info_kind values that are tunnels / VPNs. */
const TUNNEL_KINDS = new Set([
  "tun",
  "wireguard",
  "vti",
  "vti6",
  "xfrm",
  "ipip",
  "gre",
  "gretap",
  "sit",
  "ip6tnl",
  "ip6gre",
  "ppp",
]);
/** Windows adapter descriptions of VPN/tunnel drivers. */
const WINDOWS_TUNNEL = /(vpn|tap-windows|wintun|wireguard|anyconnect|pangp|fortinet|juniper|tunnel|ppp|wan miniport)/i;

/** Strip an IPv6 zone id (fe80::1%eth0). */
function bare(address: string): string {
  const i = address.indexOf("%");
  return i < 0 ? address : address.slice(0, i);
}

/** The addresses a query stands for: an IP as is, a DNS name resolved (every address). */
export async function candidatesFor(query: string, net: NetProbe): Promise<string[]> {
  if (ipVersion(bare(query)) !== 0) return [query];
  let addrs: string[];
  try {
    addrs = await net.resolve(query);
  } catch (e) {
    throw netdbgError("E100", { name: query, reason: (e as Error).message }, { cause: e });
  }
  if (addrs.length === 0) throw netdbgError("E100", { name: query, reason: "no A or AAAA records" });
  return [...new Set(addrs)];
}

/** Report the route(s) to a target address or DNS name. */
export async function hostRoute(query: string, deps: RouteDeps, port = 50000): Promise<HostRouteReport> {
  const addrs = await candidatesFor(query, deps.net);
  const candidates: HostRoute[] = [];
  for (const a of addrs) candidates.push(await routeToAddress(a, deps, port));
  return { query, candidates };
}

/** The interface of the route to `address` (firewalld picks its zone by it); undefined when there is no route. */
export async function routeInterface(address: string, deps: RouteDeps, port?: number): Promise<string | undefined> {
  try {
    return (await routeToAddress(address, deps, port)).interface;
  } catch {
    return undefined; // no route: firewalld falls back to its default zone
  }
}

/** One address: the UDP-connect answer, refined by the OS's own routing tool where there is one. */
export async function routeToAddress(address: string, deps: RouteDeps, port = 50000): Promise<HostRoute> {
  const kind = classifyAddress(bare(address));
  if (kind === "unspecified" || kind === "multicast") throw netdbgError("E102", { address, kind });
  let local: string;
  try {
    local = await deps.net.localAddressFor(address, port);
  } catch (e) {
    throw netdbgError("E101", { address, reason: (e as Error).message }, { cause: e });
  }
  let route: HostRoute | undefined;
  if (deps.platform === "linux" && deps.runner) route = await linuxRoute(address, local, deps.runner, deps.net);
  else if (deps.platform === "win32" && deps.ps) route = await windowsRoute(address, deps.ps);
  route ??= fallbackRoute(address, local, deps.net);
  if (route.localAddress !== local && bare(route.localAddress) !== bare(local)) {
    route.warnings.push({
      kind: "mismatch",
      message: `The routing table says ${route.localAddress} but a UDP socket picks ${local}; netdbg uses ${local}.`,
    });
    route.localAddress = local;
  }
  route.warnings.unshift(...addressWarnings(address, route));
  return route;
}

function addressWarnings(address: string, r: HostRoute): RouteWarning[] {
  const w: RouteWarning[] = [];
  const targetKind = classifyAddress(bare(address));
  const localKind = classifyAddress(bare(r.localAddress));
  if (targetKind === "loopback" || localKind === "loopback" || r.medium === "loopback") {
    w.push({
      kind: "loopback",
      message:
        "The route is loopback: the target is this machine itself (or a VM reached through port forwarding). A real target needs a route over a network interface.",
    });
  } else if (targetKind === "link-local" || localKind === "link-local") {
    w.push({
      kind: "link-local",
      message:
        "The route uses a link-local address (169.254.0.0/16 or fe80::/10): it usually means DHCP failed, and it only works on the same link. Give both machines routable addresses.",
    });
  }
  if (r.medium === "tunnel") {
    w.push({
      kind: "vpn",
      message: `The route goes through ${r.interface ?? "a"} VPN/tunnel interface: its MTU, NAT and filtering often break debugger UDP. Prefer a direct wired link.`,
    });
  }
  if (r.medium === "wireless") {
    w.push({
      kind: "wireless",
      message: `The route goes over wireless (${r.interface ?? "Wi-Fi"}): kernel debugging over Wi-Fi is unsupported on most targets and lossy. Use a wired link.`,
    });
  }
  return w;
}

/** iproute2 `ip -j route get` object (fixture ip-route-get-and-udp-connect.txt). */
interface IpRouteGet {
  type?: string;
  dst: string;
  gateway?: string;
  dev?: string;
  prefsrc?: string;
}

/** iproute2 `ip -j -d link show dev X` object (fixture test/host/fixtures/ip-link-route-netns.txt). */
interface IpLink {
  ifname: string;
  mtu?: number;
  link_type?: string;
  flags?: string[];
  linkinfo?: { info_kind?: string };
}

export function parseIpRouteGet(stdout: string): IpRouteGet {
  const arr = parseJsonLine<IpRouteGet[]>(stdout, "ip -j route get");
  const first = Array.isArray(arr) ? arr[0] : undefined;
  if (!first || typeof first.dst !== "string") {
    throw netdbgError("E103", { command: "ip -j route get", problem: "no route object in the output" });
  }
  return first;
}

export function parseIpLink(stdout: string): IpLink {
  const arr = parseJsonLine<IpLink[]>(stdout, "ip -j -d link show");
  const first = Array.isArray(arr) ? arr[0] : undefined;
  if (!first || typeof first.ifname !== "string") {
    throw netdbgError("E103", { command: "ip -j -d link show", problem: "no link object in the output" });
  }
  return first;
}

/** Medium of a Linux link from iproute2 facts plus the sysfs wireless markers. */
export function linuxMedium(link: IpLink, wireless: boolean): Medium {
  if (link.link_type === "loopback" || link.flags?.includes("LOOPBACK")) return "loopback";
  if (wireless) return "wireless";
  const kind = link.linkinfo?.info_kind;
  if ((kind && TUNNEL_KINDS.has(kind)) || TUNNEL_NAME.test(link.ifname)) return "tunnel";
  if (link.link_type === "none" || link.link_type === "ppp" || link.flags?.includes("POINTOPOINT")) return "tunnel";
  if (link.link_type === "ether") return "ethernet";
  return link.link_type ? "other" : "unknown";
}

/** Linux: `ip -j route get` and `ip -j -d link show`; wireless from /sys/class/net/<if>/{wireless,phy80211}. */
export async function linuxRoute(address: string, local: string, runner: CommandRunner, net: NetProbe): Promise<HostRoute> {
  let rg: IpRouteGet;
  try {
    const r = await runner.run("ip", ["-j", "route", "get", address]);
    if (r.exitCode !== 0) throw netdbgError("E101", { address, reason: r.stderr.trim() || `ip route get exit ${r.exitCode}` });
    rg = parseIpRouteGet(r.stdout);
  } catch (e) {
    // no iproute2 here: the portable answer still stands
    if (isNetdbgError(e) && e.code === "NETDBG-E018") return fallbackRoute(address, local, net);
    throw e;
  }
  const route: HostRoute = {
    address,
    localAddress: rg.prefsrc ?? local,
    medium: rg.type === "local" ? "loopback" : "unknown",
    source: "ip-route",
    warnings: [],
  };
  if (rg.dev) route.interface = rg.dev;
  if (rg.gateway) route.gateway = rg.gateway;
  if (rg.dev) {
    const l = await runner.run("ip", ["-j", "-d", "link", "show", "dev", rg.dev]);
    if (l.exitCode === 0) {
      const link = parseIpLink(l.stdout);
      const wireless =
        (await net.exists(`/sys/class/net/${rg.dev}/wireless`)) || (await net.exists(`/sys/class/net/${rg.dev}/phy80211`));
      if (link.mtu !== undefined) route.mtu = link.mtu;
      const k = link.linkinfo?.info_kind ?? link.link_type;
      if (k) route.linkKind = k;
      route.medium = rg.type === "local" ? "loopback" : linuxMedium(link, wireless);
    }
  }
  setWired(route);
  return route;
}

function setWired(r: HostRoute): void {
  if (r.medium === "ethernet") r.wired = true;
  else if (r.medium !== "unknown" && r.medium !== "other") r.wired = false;
}

/** Find-NetRoute plus the interface's MTU and adapter media type; one JSON line out. Values enter as param(). */
export const FIND_NET_ROUTE_PS = `param([Parameter(Mandatory = $true)][string]$Address)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$found = @(Find-NetRoute -RemoteIPAddress $Address)
$ip = $found | Where-Object { $_.CimClass.CimClassName -eq 'MSFT_NetIPAddress' } | Select-Object -First 1
$route = $found | Where-Object { $_.CimClass.CimClassName -eq 'MSFT_NetRoute' } | Select-Object -First 1
if ($null -eq $ip) { $ip = $found[0] }
if ($null -eq $route) { $route = $found[-1] }
$if = Get-NetIPInterface -InterfaceIndex $ip.InterfaceIndex -AddressFamily $ip.AddressFamily -ErrorAction SilentlyContinue
$ad = Get-NetAdapter -InterfaceIndex $ip.InterfaceIndex -ErrorAction SilentlyContinue
[pscustomobject]@{
  localAddress = [string]$ip.IPAddress
  interfaceAlias = [string]$ip.InterfaceAlias
  interfaceIndex = [int]$ip.InterfaceIndex
  nextHop = [string]$route.NextHop
  mtu = if ($if) { [int]$if.NlMtu } else { $null }
  physicalMediaType = if ($ad) { [string]$ad.PhysicalMediaType } else { $null }
  description = if ($ad) { [string]$ad.InterfaceDescription } else { $null }
} | ConvertTo-Json -Compress
`;

export interface WindowsRouteJson {
  localAddress: string;
  interfaceAlias: string;
  interfaceIndex: number;
  nextHop?: string | null;
  mtu?: number | null;
  physicalMediaType?: string | null;
  description?: string | null;
}

/** Medium from Get-NetAdapter's PhysicalMediaType/description (element values, not localized text). */
export function windowsMedium(j: WindowsRouteJson): Medium {
  const media = j.physicalMediaType ?? "";
  if (/loopback/i.test(j.interfaceAlias) && !j.description) return "loopback";
  if (/802\.11|wireless|wi-?fi|native 802/i.test(media)) return "wireless";
  if (WINDOWS_TUNNEL.test(j.description ?? "") || /tunnel/i.test(media)) return "tunnel";
  if (/802\.3/.test(media)) return "ethernet";
  return media ? "other" : "unknown";
}

export function windowsRouteFromJson(address: string, j: WindowsRouteJson): HostRoute {
  const route: HostRoute = {
    address,
    localAddress: j.localAddress,
    interface: j.interfaceAlias,
    medium: windowsMedium(j),
    source: "find-netroute",
    warnings: [],
  };
  if (j.nextHop && j.nextHop !== "0.0.0.0" && j.nextHop !== "::") route.gateway = j.nextHop;
  if (typeof j.mtu === "number") route.mtu = j.mtu;
  if (j.physicalMediaType) route.linkKind = j.physicalMediaType;
  setWired(route);
  return route;
}

export async function windowsRoute(address: string, ps: PowerShellRunner): Promise<HostRoute> {
  const j = await psJson<WindowsRouteJson>(ps, `finding the route to ${address}`, FIND_NET_ROUTE_PS, { Address: address });
  return windowsRouteFromJson(address, j);
}

/** Any OS: the interface that owns the local address (os.networkInterfaces), medium guessed from its name. */
export function fallbackRoute(address: string, local: string, net: NetProbe): HostRoute {
  const route: HostRoute = { address, localAddress: local, medium: "unknown", source: "udp-connect", warnings: [] };
  for (const [name, addrs] of Object.entries(net.interfaces())) {
    const hit = addrs.find((a) => bare(a.address) === bare(local));
    if (!hit) continue;
    route.interface = name;
    if (hit.internal) route.medium = "loopback";
    else if (TUNNEL_NAME.test(name)) route.medium = "tunnel";
    else if (/^(wl|wlan|wifi|ath|ra)\d*/i.test(name)) route.medium = "wireless";
    break;
  }
  setWired(route);
  return route;
}
