/**
 * The error vocabulary. Every expected failure netdbg reports has a stable code `NETDBG-E###`, a message
 * that states the fact, a fix, and an exit class. Codes are never reused or renumbered: docs and `doctor`
 * link to them forever.
 *
 * One catalog file per area, so areas never edit each other's file; each area's code range is CODE_RANGES in
 * index.ts (a test keeps every code inside it; docs/errors/README.md prints the table).
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
