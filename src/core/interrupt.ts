/**
 * A request to stop (Ctrl-C, SIGTERM), raised by the CLI's signal handler and read by the journal-first loops in
 * apply.ts between their steps: the step in flight finishes, then the run stops cleanly (rollback or a
 * resumable journal) instead of dying between a remote change and its journal entry. No process access here:
 * the CLI owns the signals (src/cli/interrupt.ts).
 */

let requested: string | undefined;

/** Ask the running apply/undo loops to stop after their current step. */
export function requestInterrupt(signal: string): void {
  requested ??= signal;
}

/** The signal that asked to stop, if any. */
export function interruptRequested(): string | undefined {
  return requested;
}

/** Forget a request (the next command in the same process, tests). */
export function clearInterrupt(): void {
  requested = undefined;
}
