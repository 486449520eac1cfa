/**
 * The host-firewall step (probe / plan / apply / verify / undo). Every action carries the exact command
 * that makes the change and the exact command that undoes it (core/step.ts), plus what to execute.
 * Rules are named `netdbg-udp-<port>` wherever the front end has names or comments, so they can be found
 * and removed later.
 */
import { type NetdbgError, netdbgError } from "../../core/error.js";
import { ipVersion } from "../../core/ip.js";
import type { Action } from "../../core/step.js";

/** Open inbound UDP `port` from `address` only. `interface`: the NIC the target is reached through (zones). */
export interface FirewallRequest {
  address: string;
  port: number;
  interface?: string;
}

export type PsParams = Record<string, string | number | boolean | readonly string[]>;

/** One thing to execute: a program with argv (never a shell) or a PowerShell script with parameters. */
export type Exec =
  | { kind: "argv"; argv: readonly string[]; okCodes?: readonly number[] }
  | { kind: "ps"; script: string; params: PsParams; what: string };

export interface FirewallAction extends Action {
  exec: Exec[];
  undoExec: Exec[];
}

export type FrontEnd = "firewalld" | "ufw" | "nftables" | "iptables" | "windows";

export interface FirewallPlan {
  /** Front ends in charge ([] = no active firewall that would drop the datagram). */
  frontEnds: FrontEnd[];
  /** One sentence for humans: what is in charge and what the plan does. */
  summary: string;
  actions: FirewallAction[];
  /** Findings that do not stop the plan (e.g. a Windows Block rule that may win). */
  warnings: string[];
  /** Findings that make the rule useless (GPO ignores local rules…): apply refuses while any exists. */
  blockers: NetdbgError[];
}

/**
 * Check a request before any command is built: the address becomes a token of nft's and firewalld's own
 * languages (not only an argv element), so only a plain IP address (no zone id) and an integer port pass.
 */
export function checkRequest(req: FirewallRequest): void {
  if (ipVersion(req.address) === 0) throw netdbgError("E104", { value: req.address, field: "address" });
  if (!Number.isInteger(req.port) || req.port < 1 || req.port > 65535)
    throw netdbgError("E104", { value: String(req.port), field: "port" });
  if (req.interface !== undefined && !/^[A-Za-z0-9_.:@-]{1,64}$/.test(req.interface)) {
    throw netdbgError("E104", { value: req.interface, field: "interface name" });
  }
}

/** The name every netdbg rule carries (Windows -Name, nft/iptables/ufw comment). */
export function ruleName(port: number): string {
  return `netdbg-udp-${port}`;
}
