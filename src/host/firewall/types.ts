/**
 * The host-firewall step (probe / plan / apply / verify / undo). Every action carries the exact command
 * that makes the change and the exact command that undoes it (core/step.ts), plus what to execute.
 * Rules are named `netdbg-udp-<port>` wherever the front end has names or comments, so they can be found
 * and removed later.
 */
import type { NetdbgError } from "../../core/error.js";
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

/** The name every netdbg rule carries (Windows -Name, nft/iptables/ufw comment). */
export function ruleName(port: number): string {
  return `netdbg-udp-${port}`;
}
