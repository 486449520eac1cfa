/**
 * The error vocabulary. Every expected failure netdbg reports has a stable code `NETDBG-E###`, a message
 * that states the fact, a fix, and an exit class. Codes are never reused or renumbered: docs and `doctor`
 * link to them forever.
 *
 * Code ranges (one catalog file each, so areas never edit each other's file):
 *   E001–E099 core, cli, inventory, secrets      (core.ts)
 *   E100–E199 host: route, ports, firewall, IPsec (host.ts)
 *   E200–E299 Windows targets                     (windows.ts)
 *   E300–E399 Linux targets, SSH                  (linux.ts)
 *   E400–E499 engine: GDB RSP                     (rsp.ts)
 *   E500–E599 engine: KDNET / KD                  (kdnet.ts)
 *   E600–E699 the built-in lab                    (lab.ts)
 *   E700–E799 setup / doctor / teardown / fleets  (journey.ts)
 *   E800–E849 SSH transport (both target kinds)   (ssh.ts)
 */

/** How an error maps to the process exit code (decided once, in the CLI). */
export type ExitClass = "check" | "usage" | "environment" | "interrupted" | "internal";

export const EXIT_CODES: Record<ExitClass, number> = {
  check: 1,
  usage: 2,
  environment: 3,
  /** 128 + SIGINT, as a shell reports a process Ctrl-C stopped. */
  interrupted: 130,
  internal: 70,
};

export interface ErrorSpec<P> {
  /** A short stable title for the docs page. */
  title: string;
  exit: ExitClass;
  message: (p: P) => string;
  fix: (p: P) => string;
}

/** Declare a catalog section with checked code keys. */
export function defineErrors<T extends Record<`E${number}`, ErrorSpec<never>>>(specs: T): T {
  return specs;
}
