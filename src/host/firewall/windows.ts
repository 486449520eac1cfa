/**
 * Windows Defender Firewall through the NetSecurity cmdlets (research host-side.md D1): one rule
 * `-Name netdbg-udp-<port> -Group netdbg`, inbound UDP <port> from the target's address, all profiles.
 * Scripts take every value as a `param()` parameter; they print one JSON line. Enum values are read as
 * their names ([string] casts of GpoBoolean/Action/Direction), never as localized text.
 */
import { netdbgError } from "../../core/error.js";
import type { PowerShellRunner } from "../../core/interfaces.js";
import { psQuote } from "../../core/quote.js";
import { psJson } from "../exec.js";
import { type FirewallAction, type FirewallPlan, type FirewallRequest, checkRequest, ruleName } from "./types.js";

export const WIN_PROBE_PS = `param(
  [Parameter(Mandatory = $true)][string]$Name
)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$principal = [Security.Principal.WindowsPrincipal][Security.Principal.WindowsIdentity]::GetCurrent()
$elevated = $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)
$profiles = @(Get-NetFirewallProfile -PolicyStore ActiveStore | ForEach-Object {
  [pscustomobject]@{
    name = [string]$_.Name
    enabled = [string]$_.Enabled
    defaultInboundAction = [string]$_.DefaultInboundAction
    allowInboundRules = [string]$_.AllowInboundRules
    allowLocalFirewallRules = [string]$_.AllowLocalFirewallRules
  }
})
$rule = Get-NetFirewallRule -Name $Name -ErrorAction SilentlyContinue
$state = $null
if ($null -ne $rule) {
  $ports = $rule | Get-NetFirewallPortFilter
  $addrs = $rule | Get-NetFirewallAddressFilter
  $state = [pscustomobject]@{
    enabled = [string]$rule.Enabled
    direction = [string]$rule.Direction
    action = [string]$rule.Action
    profile = [string]$rule.Profile
    protocol = [string]$ports.Protocol
    localPort = @($ports.LocalPort | ForEach-Object { [string]$_ })
    remoteAddress = @($addrs.RemoteAddress | ForEach-Object { [string]$_ })
  }
}
$active = @(Get-NetConnectionProfile -ErrorAction SilentlyContinue | ForEach-Object { [string]$_.NetworkCategory })
$blocks = @(Get-NetFirewallRule -Enabled True -Direction Inbound -Action Block -PolicyStore ActiveStore -ErrorAction SilentlyContinue |
  Select-Object -First 20 | ForEach-Object { [string]$_.DisplayName })
[pscustomobject]@{ elevated = $elevated; profiles = $profiles; activeCategories = $active; rule = $state; blockRules = $blocks } |
  ConvertTo-Json -Compress -Depth 4
`;

export const WIN_OPEN_PS = `param(
  [Parameter(Mandatory = $true)][string]$Name,
  [Parameter(Mandatory = $true)][int]$Port,
  [Parameter(Mandatory = $true)][string]$RemoteAddress,
  [Parameter(Mandatory = $true)][string]$DisplayName
)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
Remove-NetFirewallRule -Name $Name -ErrorAction SilentlyContinue
$null = New-NetFirewallRule -Name $Name -DisplayName $DisplayName -Group 'netdbg' -Direction Inbound -Protocol UDP -LocalPort $Port -RemoteAddress $RemoteAddress -Action Allow -Profile Any -Enabled True
[pscustomobject]@{ changed = $true } | ConvertTo-Json -Compress
`;

export const WIN_CLOSE_PS = `param(
  [Parameter(Mandatory = $true)][string]$Name
)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$rule = Get-NetFirewallRule -Name $Name -ErrorAction SilentlyContinue
if ($null -ne $rule) { Remove-NetFirewallRule -Name $Name }
[pscustomobject]@{ changed = ($null -ne $rule) } | ConvertTo-Json -Compress
`;

export interface WinProfile {
  name: string;
  enabled: string;
  defaultInboundAction: string;
  allowInboundRules: string;
  allowLocalFirewallRules: string;
}

export interface WindowsFirewallFacts {
  elevated: boolean;
  profiles: WinProfile[];
  rule: {
    enabled: string;
    direction: string;
    action: string;
    profile: string;
    protocol: string;
    localPort: string[];
    remoteAddress: string[];
  } | null;
  blockRules: string[];
  /** Get-NetConnectionProfile NetworkCategory of each connected network: Public, Private, DomainAuthenticated. */
  activeCategories?: string[];
}

export async function probeWindowsFirewall(ps: PowerShellRunner, req: FirewallRequest): Promise<WindowsFirewallFacts> {
  checkRequest(req);
  const f = await psJson<WindowsFirewallFacts>(ps, "reading the Windows firewall", WIN_PROBE_PS, { Name: ruleName(req.port) });
  // ConvertTo-Json turns a one-element array into a scalar in Windows PowerShell 5.1
  const arr = <T>(v: T | T[] | null | undefined): T[] => (v == null ? [] : Array.isArray(v) ? v : [v]);
  return {
    elevated: Boolean(f.elevated),
    profiles: arr(f.profiles),
    rule: f.rule ? { ...f.rule, localPort: arr(f.rule.localPort), remoteAddress: arr(f.rule.remoteAddress) } : null,
    blockRules: arr(f.blockRules),
    activeCategories: arr(f.activeCategories),
  };
}

const displayName = (port: number) => `netdbg kernel debugging UDP ${port}`;

/** The exact cmdlet lines a user would type (what --check prints); values quoted by core's psQuote. */
export function windowsCommands(req: FirewallRequest): { open: string; close: string } {
  const name = psQuote(ruleName(req.port));
  return {
    open: `New-NetFirewallRule -Name ${name} -DisplayName ${psQuote(displayName(req.port))} -Group 'netdbg' -Direction Inbound -Protocol UDP -LocalPort ${req.port} -RemoteAddress ${psQuote(req.address)} -Action Allow -Profile Any -Enabled True`,
    close: `Remove-NetFirewallRule -Name ${name}`,
  };
}

/** Is the existing rule exactly what netdbg wants? */
export function windowsRuleMatches(f: WindowsFirewallFacts, req: FirewallRequest): boolean {
  const r = f.rule;
  if (!r) return false;
  return (
    r.enabled === "True" &&
    r.direction === "Inbound" &&
    r.action === "Allow" &&
    r.profile === "Any" &&
    r.protocol.toUpperCase() === "UDP" &&
    r.localPort.length === 1 &&
    r.localPort[0] === String(req.port) &&
    r.remoteAddress.length === 1 &&
    r.remoteAddress[0] === req.address
  );
}

function findings(f: WindowsFirewallFacts): Pick<FirewallPlan, "warnings" | "blockers"> & { enabled: WinProfile[] } {
  const enabled = f.profiles.filter((p) => p.enabled === "True");
  // policies only matter for the profiles of connected networks (when Windows says which those are)
  const active = new Set((f.activeCategories ?? []).map((c) => (c === "DomainAuthenticated" ? "Domain" : c)));
  const relevant = active.size ? enabled.filter((p) => active.has(p.name)) : enabled;
  const blockers = [];
  const gpo = relevant.filter((p) => p.allowLocalFirewallRules === "False");
  if (gpo.length) blockers.push(netdbgError("E122", { profiles: gpo.map((p) => p.name).join(", ") }));
  const shields = relevant.filter((p) => p.allowInboundRules === "False");
  if (shields.length) blockers.push(netdbgError("E126", { profiles: shields.map((p) => p.name).join(", ") }));
  const warnings = f.blockRules.length
    ? [
        `Enabled inbound Block rules exist and win over any Allow rule if they match UDP from the target: ${f.blockRules.join(", ")}.`,
      ]
    : [];
  return { warnings, blockers, enabled };
}

export function planWindowsOpen(f: WindowsFirewallFacts, req: FirewallRequest): FirewallPlan {
  checkRequest(req);
  const { warnings, blockers, enabled } = findings(f);
  const cmd = windowsCommands(req);
  if (enabled.length === 0) {
    return {
      frontEnds: [],
      summary: "The Windows firewall is off in every profile: nothing to change.",
      actions: [],
      warnings,
      blockers: [],
    };
  }
  const name = ruleName(req.port);
  const act: FirewallAction = {
    id: "firewall.windows",
    title: `Windows firewall: allow inbound UDP ${req.port} from ${req.address} (rule ${name}, group netdbg, all profiles)`,
    where: "host",
    command: f.rule && !windowsRuleMatches(f, req) ? `Remove-NetFirewallRule -Name ${psQuote(name)}; ${cmd.open}` : cmd.open,
    undo: cmd.close,
    undoData: { name },
    satisfied: windowsRuleMatches(f, req),
    exec: [
      {
        kind: "ps",
        script: WIN_OPEN_PS,
        params: { Name: name, Port: req.port, RemoteAddress: req.address, DisplayName: displayName(req.port) },
        what: `adding firewall rule ${name}`,
      },
    ],
    undoExec: [{ kind: "ps", script: WIN_CLOSE_PS, params: { Name: name }, what: `removing firewall rule ${name}` }],
  };
  return {
    frontEnds: ["windows"],
    summary: `The Windows firewall is on (${enabled.map((p) => p.name).join(", ")}): rule ${name} allows inbound UDP ${req.port} from ${req.address}.`,
    actions: [act],
    warnings,
    blockers,
  };
}

export function planWindowsClose(f: WindowsFirewallFacts, req: FirewallRequest): FirewallPlan {
  checkRequest(req);
  const name = ruleName(req.port);
  const cmd = windowsCommands(req);
  if (!f.rule) {
    return {
      frontEnds: [],
      summary: `No firewall rule ${name} exists: nothing to change.`,
      actions: [],
      warnings: [],
      blockers: [],
    };
  }
  return {
    frontEnds: ["windows"],
    summary: `Removes Windows firewall rule ${name}.`,
    actions: [
      {
        id: "firewall.windows.remove",
        title: `Windows firewall: remove rule ${name}`,
        where: "host",
        command: cmd.close,
        undo: cmd.open,
        satisfied: false,
        exec: [{ kind: "ps", script: WIN_CLOSE_PS, params: { Name: name }, what: `removing firewall rule ${name}` }],
        undoExec: [
          {
            kind: "ps",
            script: WIN_OPEN_PS,
            params: { Name: name, Port: req.port, RemoteAddress: req.address, DisplayName: displayName(req.port) },
            what: `adding firewall rule ${name}`,
          },
        ],
      },
    ],
    warnings: [],
    blockers: [],
  };
}
