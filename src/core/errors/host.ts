import { defineErrors } from "./types.js";

/** Host errors: host route, PowerShell, host firewall, IPsec. Code range: CODE_RANGES in index.ts. */
export const hostErrors = defineErrors({
  E100: {
    title: "Target name does not resolve",
    exit: "environment",
    message: (p: { name: string; reason: string }) => `The name '${p.name}' does not resolve to an address: ${p.reason}.`,
    fix: (p: { name: string }) =>
      `Check the spelling and this machine's DNS (getent hosts ${p.name}), or give the target's IP address instead.`,
  },
  E101: {
    title: "No route to the target",
    exit: "environment",
    message: (p: { address: string; reason: string }) => `This machine has no route to ${p.address}: ${p.reason}.`,
    fix: () =>
      "Connect this machine to the target's network (cable, VLAN, VPN) so that 'ip route get <address>' (Linux) or 'Find-NetRoute' (Windows) finds a route, then try again.",
  },
  E102: {
    title: "Address cannot be a debug peer",
    exit: "usage",
    message: (p: { address: string; kind: string }) => `${p.address} is a ${p.kind} address, which cannot be a debugging target.`,
    fix: () => "Give the target's unicast IPv4/IPv6 address or DNS name.",
  },
  E103: {
    title: "Unexpected tool output",
    exit: "environment",
    message: (p: { command: string; problem: string }) => `The output of '${p.command}' could not be read: ${p.problem}.`,
    fix: () => "Run the command by hand to see what it prints; if it looks normal, report it to netdbg with that output.",
  },
  E104: {
    title: "Firewall scope is not an IP address",
    exit: "usage",
    message: (p: { value: string; field: string }) => `The ${p.field} '${p.value}' is not valid for a firewall rule.`,
    fix: () =>
      "A host firewall rule is scoped to one IPv4/IPv6 address and one UDP port 1-65535; give the target's IP (DNS names are resolved first).",
  },
  E105: {
    title: "Host UDP port in use",
    exit: "environment",
    message: (p: { port: number; address: string; reason: string; holder?: string }) =>
      p.reason === "EADDRINUSE"
        ? `UDP port ${p.port} on this host (${p.address}) is held by another process${p.holder ? ` (${p.holder})` : ""}, so netdbg cannot use it for the target.`
        : `netdbg may not bind UDP port ${p.port} on this host (${p.address}): ${p.reason}.`,
    fix: (p: { port: number; reason: string }) =>
      p.reason === "EADDRINUSE"
        ? `Stop the other debugger (or netdbg session) on port ${p.port}, or use another port: --port <n> for this run, or 'netdbg targets edit <target> --port <n>' and set the target up again.`
        : "Use a port above 1023 (--port), or run with the privileges the port needs.",
  },
  E110: {
    title: "PowerShell not found",
    exit: "environment",
    message: (p: { executable: string }) => `PowerShell ('${p.executable}') was not found on this machine.`,
    fix: () =>
      "Install PowerShell (Windows ships powershell.exe; elsewhere install PowerShell 7 'pwsh'), or point NODE_POWERSHELL at its path.",
  },
  E111: {
    title: "PowerShell script failed",
    exit: "environment",
    message: (p: { what: string; detail: string }) => `PowerShell failed while ${p.what}: ${p.detail}.`,
    fix: (p: { fix?: string }) =>
      p.fix ?? "Run netdbg again with --verbose to see the script's error output, fix its cause, and retry.",
  },
  E120: {
    title: "Firewall change needs administrator rights",
    exit: "environment",
    message: (p: { what: string }) =>
      `Changing the host firewall (${p.what}) needs administrator rights, which this process does not have.`,
    fix: () =>
      "Run the command again as root (sudo netdbg …) on Linux or from an elevated PowerShell on Windows, or use --check to print the commands and run them yourself.",
  },
  E121: {
    title: "Firewall command failed",
    exit: "environment",
    message: (p: { command: string; exitCode: number | string; detail: string }) =>
      `The firewall command '${p.command}' failed (exit ${p.exitCode})${p.detail ? `: ${p.detail}` : "."}`,
    fix: () =>
      "Read the error above; run the command by hand to check. Nothing else was changed after it; 'netdbg host firewall close' removes what was added.",
  },
  E122: {
    title: "Group Policy ignores local firewall rules",
    exit: "check",
    message: (p: { profiles: string }) =>
      `Group Policy on this Windows host makes the firewall ignore local rules (profiles: ${p.profiles}), so a netdbg rule would have no effect.`,
    fix: () =>
      "Ask your domain administrator to allow inbound UDP on the debug port from the target (a GPO rule), or to set 'Apply local firewall rules' to Yes.",
  },
  E123: {
    title: "Firewall rule not in effect after apply",
    exit: "check",
    message: (p: { frontEnd: string; detail: string }) =>
      `The ${p.frontEnd} rule netdbg added is not in effect on re-check: ${p.detail}.`,
    fix: () =>
      "Run 'netdbg host firewall status <target>' and compare with the commands from --check; another tool may be rewriting the firewall.",
  },
  E124: {
    title: "No debug port known",
    exit: "usage",
    message: (p: { target: string }) => `No debug port is known for '${p.target}'.`,
    fix: (p: { target: string }) =>
      `Pass --port <49152-65535>, or give the target a port in the inventory ('netdbg targets edit ${p.target} --port …').`,
  },
  E125: {
    title: "Host OS not supported for this step",
    exit: "environment",
    message: (p: { what: string; platform: string }) => `${p.what} is not supported on this host OS (${p.platform}).`,
    fix: () => "Run netdbg on a Linux or Windows host, or do this step by hand.",
  },
  E126: {
    title: "Windows firewall blocks all inbound connections",
    exit: "check",
    message: (p: { profiles: string }) =>
      `The Windows firewall is set to block all incoming connections, including allowed ones (profiles: ${p.profiles}).`,
    fix: () =>
      "Untick 'Block all incoming connections' for that network profile (or Set-NetFirewallProfile -AllowInboundRules True), then try again.",
  },
  E130: {
    title: "IPsec policy requires protection for the target's traffic",
    exit: "check",
    message: (p: { address: string; rule: string }) =>
      `An IPsec policy requires authentication/encryption for traffic from ${p.address} (${p.rule}), so the target's plain UDP debug packets are dropped.`,
    fix: (p: { exemption: string }) => `Add an exemption for the target: ${p.exemption}`,
  },
});
