/**
 * The step contract (after Ansible modules): probe facts, plan actions, apply them (skipped in check mode),
 * verify. Every Action carries the exact command that does it and the exact command that undoes it, so
 * `--check` can print them byte for byte and teardown can replay undos from the journal.
 */

export type Where = "host" | "target";

/** One concrete change. `command` and `undo` are display strings of exactly what runs. */
export interface Action {
  /** Stable id within a plan, e.g. "firewall.open" or "bcd.copy". */
  id: string;
  title: string;
  where: Where;
  /** Exact command line(s) that perform the change. */
  command: string;
  /** Exact command line(s) that undo it; undefined when the change needs no undo (read-only or one-shot). */
  undo?: string;
  /** Machine-readable data needed to undo (e.g. a GUID, a rule handle). Must not contain secrets. */
  undoData?: Record<string, unknown>;
  /** When true the action is already in effect: apply skips it and reports "unchanged". */
  satisfied?: boolean;
}

export type ActionOutcome = "changed" | "unchanged" | "skipped" | "failed";

export interface ActionReport {
  id: string;
  title: string;
  outcome: ActionOutcome;
  command: string;
  error?: string;
}

/** What a step reports after apply. */
export interface StepReport {
  changed: boolean;
  actions: ActionReport[];
}
