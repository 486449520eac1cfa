/**
 * Read-only IPsec probes: would an IPsec policy on this host demand protection for the target's plain UDP
 * debug traffic (and so make the kernel drop it)? Linux: `ip xfrm policy` (text; `ip -j` is ignored by
 * `ip xfrm`) — layout checked against test/fixtures/linux/ip-xfrm-policy.txt ('level required' is the
 * default and is NOT printed; 'level use' is). Windows: Get-NetIPsecRule -PolicyStore ActiveStore (GPO rules
 * included) with their address filters (research host-side.md D1 "Windows IPsec"). Each report names the
 * exemption to add; nothing is changed.
 */
import { isNetdbgError, type NetdbgError, netdbgError } from "../core/error.js";
import { ipVersion, parseIPv6 } from "../core/ip.js";
import type { CommandRunner, PowerShellRunner } from "../core/interfaces.js";
import { psQuote, shCommand } from "../core/quote.js";
import { lastLines, psJson } from "./exec.js";

export interface IpsecQuery {
  /** The target's address. */
  target: string;
  /** This host's address toward the target (route.ts localAddress). */
  local: string;
  /** The host UDP port the target sends to. */
  port: number;
}

export interface IpsecFinding {
  /** Human name of the policy/rule. */
  rule: string;
  direction: "in" | "out";
  /** false when the match depends on something netdbg cannot evaluate (a Windows address keyword). */
  certain: boolean;
  detail: string;
  /** Linux: the policy's selector is exactly netdbg's bypass selector (so the bypass must replace it). */
  sameSelector?: boolean;
}

export interface IpsecReport {
  source: "ip-xfrm" | "Get-NetIPsecRule" | "none";
  /** Could the policy be read at all? (`ip xfrm` needs root.) */
  readable: boolean;
  findings: IpsecFinding[];
  /** The exemption(s) to add, exact commands; empty when nothing needs one. */
  exemption: string[];
  notes: string[];
}

// ---- address matching ------------------------------------------------------------------------------------

function toBits(address: string): { v: 4 | 6; bits: bigint } | undefined {
  const v = ipVersion(address);
  if (v === 4) return { v, bits: address.split(".").reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n) };
  if (v === 6) return { v, bits: parseIPv6(address)!.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n) };
  return undefined;
}

/** Does `prefix` (a/len, a bare address, or a Windows range a-b) contain `address`? undefined = cannot tell. */
export function prefixContains(prefix: string, address: string): boolean | undefined {
  const a = toBits(address);
  if (!a) return undefined;
  if (prefix.includes("-")) {
    const [lo, hi] = prefix.split("-").map((x) => toBits(x.trim()));
    if (!lo || !hi || lo.v !== a.v) return lo && hi ? false : undefined;
    return a.bits >= lo.bits && a.bits <= hi.bits;
  }
  const [net, lenText] = prefix.split("/");
  const n = toBits(net ?? "");
  if (!n) return undefined;
  if (n.v !== a.v) return false;
  const width = a.v === 4 ? 32 : 128;
  const len = lenText === undefined ? width : Number(lenText);
  if (!Number.isInteger(len) || len < 0 || len > width) return undefined;
  const shift = BigInt(width - len);
  return n.bits >> shift === a.bits >> shift;
}

// ---- Linux: ip xfrm policy -------------------------------------------------------------------------------

export interface XfrmTemplate {
  src?: string;
  dst?: string;
  proto?: string;
  mode?: string;
  /** 'required' when the line is absent (the default is not printed). */
  level: "required" | "use";
}

export interface XfrmPolicy {
  src: string;
  dst: string;
  proto?: string;
  sport?: number;
  dport?: number;
  dir?: string;
  priority?: number;
  action: "allow" | "block";
  templates: XfrmTemplate[];
}

/** Parse `ip xfrm policy` text output (fixture ip-xfrm-policy.txt). Empty output = no policy. */
export function parseXfrmPolicies(text: string): XfrmPolicy[] {
  const out: XfrmPolicy[] = [];
  let cur: XfrmPolicy | undefined;
  let tmpl: XfrmTemplate | undefined;
  for (const raw of text.split("\n")) {
    if (raw.trim() === "") continue;
    const words = raw.trim().split(/\s+/);
    const val = (key: string) => {
      const i = words.indexOf(key);
      return i >= 0 ? words[i + 1] : undefined;
    };
    if (!/^\s/.test(raw) && words[0] === "src") {
      cur = { src: val("src") ?? "", dst: val("dst") ?? "", action: "allow", templates: [] };
      tmpl = undefined;
      const proto = val("proto");
      if (proto) cur.proto = proto;
      const sport = val("sport");
      if (sport) cur.sport = Number(sport);
      const dport = val("dport");
      if (dport) cur.dport = Number(dport);
      out.push(cur);
      continue;
    }
    if (!cur) continue;
    if (words[0] === "dir") {
      const dir = val("dir");
      if (dir) cur.dir = dir;
      const prio = val("priority");
      if (prio !== undefined) cur.priority = Number(prio);
      if (val("action") === "block") cur.action = "block";
    } else if (words[0] === "tmpl") {
      tmpl = { level: "required" };
      const s = val("src");
      if (s) tmpl.src = s;
      const d = val("dst");
      if (d) tmpl.dst = d;
      cur.templates.push(tmpl);
    } else if (tmpl && words[0] === "proto") {
      const p = val("proto");
      if (p) tmpl.proto = p;
      const m = val("mode");
      if (m) tmpl.mode = m;
    } else if (tmpl && words[0] === "level") {
      tmpl.level = words[1] === "use" ? "use" : "required";
    }
  }
  return out;
}

/** Policies that would drop the plain datagrams target:any → local:port (in) or local:port → target (out). */
const hostPrefix = (a: string) => `${a}/${ipVersion(a) === 6 ? 128 : 32}`;

export function xfrmFindings(policies: readonly XfrmPolicy[], q: IpsecQuery): IpsecFinding[] {
  const findings: IpsecFinding[] = [];
  for (const p of policies) {
    const dir = p.dir === "in" ? "in" : p.dir === "out" ? "out" : undefined;
    if (!dir) continue;
    const [peerSide, localSide] = dir === "in" ? [p.src, p.dst] : [p.dst, p.src];
    if (prefixContains(peerSide, q.target) !== true || prefixContains(localSide, q.local) !== true) continue;
    if (p.proto && p.proto !== "udp") continue;
    const localPort = dir === "in" ? p.dport : p.sport;
    if (localPort !== undefined && localPort !== q.port) continue;
    const required = p.templates.some((t) => t.level === "required");
    if (p.action !== "block" && !required) continue;
    const sel = `src ${p.src} dst ${p.dst}${p.proto ? ` proto ${p.proto}` : ""}${p.dport ? ` dport ${p.dport}` : ""}${p.sport ? ` sport ${p.sport}` : ""} dir ${dir}`;
    const exact =
      p.proto === "udp" &&
      localPort === q.port &&
      (dir === "in" ? p.sport === undefined : p.dport === undefined) &&
      peerSide === hostPrefix(q.target) &&
      localSide === hostPrefix(q.local);
    findings.push({
      rule: sel,
      direction: dir,
      certain: true,
      sameSelector: exact,
      detail:
        p.action === "block"
          ? "the policy blocks this traffic"
          : `requires ${p.templates.map((t) => `${t.proto ?? "ipsec"} ${t.mode ?? ""}`.trim()).join(", ")}`,
    });
  }
  return findings;
}

/**
 * Bypass policies (no template = plain traffic allowed) at priority 0, the highest, for each direction that
 * has a finding. Where the protecting policy has exactly the bypass's selector the kernel refuses a second
 * one ("File exists"), so the bypass replaces it with `update`. Checked for real in
 * test/host/ipsec.test.ts (datagram dropped before, delivered after).
 */
export function xfrmExemption(q: IpsecQuery, findings: readonly IpsecFinding[]): string[] {
  const out: string[] = [];
  for (const dir of ["in", "out"] as const) {
    const mine = findings.filter((f) => f.direction === dir);
    if (mine.length === 0) continue;
    const verb = mine.some((f) => f.sameSelector) ? "update" : "add";
    const sel =
      dir === "in"
        ? ["src", hostPrefix(q.target), "dst", hostPrefix(q.local), "proto", "udp", "dport", String(q.port)]
        : ["src", hostPrefix(q.local), "dst", hostPrefix(q.target), "proto", "udp", "sport", String(q.port)];
    out.push(shCommand(["ip", "xfrm", "policy", verb, ...sel, "dir", dir, "priority", "0"]));
  }
  return out;
}

export async function probeLinuxIpsec(runner: CommandRunner, q: IpsecQuery): Promise<IpsecReport> {
  let r: Awaited<ReturnType<CommandRunner["run"]>>;
  try {
    r = await runner.run("ip", ["xfrm", "policy"]);
  } catch (e) {
    if (isNetdbgError(e) && e.code === "NETDBG-E018") {
      return {
        source: "none",
        readable: false,
        findings: [],
        exemption: [],
        notes: ["iproute2 ('ip') is not installed, so IPsec policies were not read."],
      };
    }
    throw e;
  }
  if (r.exitCode !== 0) {
    return {
      source: "ip-xfrm",
      readable: false,
      findings: [],
      exemption: [],
      notes: [`'ip xfrm policy' failed (${lastLines(r.stderr) || `exit ${r.exitCode}`}); reading IPsec policies needs root.`],
    };
  }
  const findings = xfrmFindings(parseXfrmPolicies(r.stdout), q);
  const notes = findings.length
    ? [
        "If an IKE daemon manages these policies (strongSwan, Libreswan), add a passthrough connection there instead (strongSwan: a CHILD_SA with mode = pass) so it is not lost on reload.",
        "Policies of equal priority are matched in list order; check with 'ip xfrm policy' that the bypass comes first.",
      ]
    : [];
  return { source: "ip-xfrm", readable: true, findings, exemption: xfrmExemption(q, findings), notes };
}

// ---- Windows: Get-NetIPsecRule ---------------------------------------------------------------------------

export const WIN_IPSEC_PS = `$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$rules = @(Get-NetIPsecRule -PolicyStore ActiveStore -ErrorAction SilentlyContinue | Where-Object { [string]$_.Enabled -eq 'True' } | ForEach-Object {
  $addr = Get-NetFirewallAddressFilter -AssociatedNetIPsecRule $_ -ErrorAction SilentlyContinue
  [pscustomobject]@{
    name = [string]$_.DisplayName
    inboundSecurity = [string]$_.InboundSecurity
    outboundSecurity = [string]$_.OutboundSecurity
    mode = [string]$_.Mode
    remoteAddress = @($addr.RemoteAddress | ForEach-Object { [string]$_ })
  }
})
$profiles = @(Get-NetFirewallProfile -PolicyStore ActiveStore | ForEach-Object {
  [pscustomobject]@{ name = [string]$_.Name; allowLocalIPsecRules = [string]$_.AllowLocalIPsecRules }
})
[pscustomobject]@{ rules = $rules; profiles = $profiles } | ConvertTo-Json -Compress -Depth 4
`;

export interface WinIpsecRule {
  name: string;
  inboundSecurity: string;
  outboundSecurity: string;
  mode: string;
  remoteAddress: string[] | string;
}

const list = <T>(v: T | T[] | null | undefined): T[] => (v == null ? [] : Array.isArray(v) ? v : [v]);

/** Rules that Require authentication for traffic with the target (Request falls back to plain: fine). */
export function windowsIpsecFindings(rules: readonly WinIpsecRule[], q: IpsecQuery): IpsecFinding[] {
  const findings: IpsecFinding[] = [];
  for (const r of rules) {
    const addrs = list(r.remoteAddress);
    let certain = true;
    const covers = addrs.some((a) => {
      if (a === "Any" || a === "*") return true;
      const hit = prefixContains(a, q.target);
      if (hit === undefined) certain = false; // a keyword such as LocalSubnet, DNS, Intranet
      return hit === true;
    });
    const maybe = !covers && !certain;
    if (!covers && !maybe) continue;
    for (const [dir, sec] of [
      ["in", r.inboundSecurity],
      ["out", r.outboundSecurity],
    ] as const) {
      if (sec !== "Require") continue;
      findings.push({
        rule: r.name,
        direction: dir,
        certain: covers,
        detail: `${dir === "in" ? "inbound" : "outbound"} security Require (${r.mode || "Transport"} mode) for remote address ${addrs.join(", ") || "Any"}`,
      });
    }
  }
  return findings;
}

export function windowsIpsecExemption(q: IpsecQuery): string {
  return `New-NetIPsecRule -DisplayName ${psQuote(`netdbg exempt ${q.target}`)} -RemoteAddress ${psQuote(q.target)} -InboundSecurity None -OutboundSecurity None`;
}

export async function probeWindowsIpsec(ps: PowerShellRunner, q: IpsecQuery): Promise<IpsecReport> {
  const j = await psJson<{
    rules: WinIpsecRule[] | WinIpsecRule | null;
    profiles: { name: string; allowLocalIPsecRules: string }[] | null;
  }>(ps, "reading IPsec rules", WIN_IPSEC_PS);
  const findings = windowsIpsecFindings(list(j.rules), q);
  const notes: string[] = [];
  const gpo = list(j.profiles).filter((p) => p.allowLocalIPsecRules === "False");
  if (findings.length && gpo.length) {
    notes.push(
      `Group Policy ignores local IPsec rules (profiles: ${gpo.map((p) => p.name).join(", ")}): the exemption must come from the domain's IPsec policy.`,
    );
  }
  return {
    source: "Get-NetIPsecRule",
    readable: true,
    findings,
    exemption: findings.length ? [windowsIpsecExemption(q)] : [],
    notes,
  };
}

export async function probeIpsec(
  deps: { platform: NodeJS.Platform | string; runner?: CommandRunner; ps?: PowerShellRunner },
  q: IpsecQuery,
): Promise<IpsecReport> {
  if (deps.platform === "linux" && deps.runner) return probeLinuxIpsec(deps.runner, q);
  if (deps.platform === "win32" && deps.ps) return probeWindowsIpsec(deps.ps, q);
  return {
    source: "none",
    readable: false,
    findings: [],
    exemption: [],
    notes: [`IPsec probes are not implemented for ${deps.platform}.`],
  };
}

/** For doctor: the coded error a report amounts to, or undefined when nothing requires protection. */
export function ipsecError(report: IpsecReport, q: IpsecQuery): NetdbgError | undefined {
  const f = report.findings[0];
  if (!f) return undefined;
  return netdbgError("E130", { address: q.target, rule: f.rule, exemption: report.exemption.join(" ; ") });
}
