/**
 * Ctrl-C and SIGTERM while netdbg changes a target, handled in one place: the first signal asks the
 * journal-first loops (core/apply.ts) to stop after the step in flight — setup undoes what this run changed
 * (the host firewall rule included), teardown leaves the journal holding what is still to undo — and the run
 * ends with NETDBG-E019, exit 130, its outcome printed (JSON under --json). A second signal aborts at once;
 * the journal is still consistent then (each entry is written before its step runs and after it ends).
 * Handlers are counted: a fleet's parallel setups share one pair.
 */
import { clearInterrupt, interruptRequested, requestInterrupt } from "../core/interrupt.js";
import type { Context } from "./context.js";

let users = 0;
let signals = 0;
let say: (line: string) => void = () => {};

function onSignal(signal: NodeJS.Signals): void {
  signals++;
  if (signals === 1) {
    requestInterrupt(signal);
    say(`${signal}: stopping after the current step (press Ctrl-C again to abort at once; the journal stays consistent)`);
    return;
  }
  say(`${signal} again: aborting now. Run the same command again to finish; 'netdbg teardown' undoes what the journal records.`);
  process.exit(130);
}

/** Run `fn` with Ctrl-C/SIGTERM turned into a clean stop (see above). */
export async function withInterrupts<T>(ctx: Context, fn: () => Promise<T>): Promise<T> {
  if (users++ === 0) {
    signals = 0;
    clearInterrupt();
    say = (line) => process.stderr.write(`${line}\n`);
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  }
  try {
    const out = await fn();
    const signal = interruptRequested();
    if (signal) ctx.log.warn(`${signal} arrived after the last change: the run completed.`);
    return out;
  } finally {
    if (--users === 0) {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      clearInterrupt();
    }
  }
}
