/**
 * Apply a plan: each action is journaled (pending) before it runs and marked applied after. A failure rolls
 * back the actions this run applied, newest first, then rethrows. Check mode runs nothing and reports what
 * would run. Actions already `satisfied` are reported unchanged (that is what makes a second run a no-op).
 */
import { netdbgError } from "./error.js";
import { interruptRequested } from "./interrupt.js";
import { type Journal, type JournalEntry, type JournalStore, newEntry } from "./journal.js";
import type { Clock } from "./interfaces.js";
import type { Action, ActionReport, StepReport } from "./step.js";

export interface ApplyHooks {
  /** Perform the action. Return extra undo data learned while doing it (e.g. the GUID bcdedit printed). */
  execute(action: Action): Promise<Record<string, unknown> | undefined>;
  /** Undo an action (given the journaled form, with any undo data learned at execute time). */
  undo(action: Action): Promise<void>;
  /** Progress callbacks for the UI. */
  onStart?(action: Action): void;
  onDone?(action: Action, report: ActionReport): void;
}

export interface ApplyOptions {
  step: string;
  actions: readonly Action[];
  journal: Journal;
  store: JournalStore;
  clock: Clock;
  check?: boolean;
  hooks: ApplyHooks;
}

export class ApplyFailed extends Error {
  constructor(
    readonly failed: ActionReport,
    readonly report: StepReport,
    readonly rollbackErrors: string[],
    options: { cause: unknown },
  ) {
    super(`'${failed.title}' failed: ${failed.error ?? "unknown error"}`, options);
    this.name = "ApplyFailed";
  }
}

/** What an apply leaves behind: the report, and the handle that undoes exactly this run's changes. */
export interface Applied {
  report: StepReport;
  /** The journal entries this run applied, oldest first (a caller may refine their undo before a rollback). */
  entries: JournalEntry[];
  /** Undo this run's changes newest first, with their entries' current undo; entries already undone are left. */
  rollback(): Promise<string[]>;
}

export async function applyActions(o: ApplyOptions): Promise<StepReport> {
  return (await applyJournaled(o)).report;
}

/** applyActions, keeping the rollback handle (a later step of the same run that fails undoes this run's changes). */
export async function applyJournaled(o: ApplyOptions): Promise<Applied> {
  const report: StepReport = { changed: false, actions: [] };
  const done: Done[] = [];
  for (const action of o.actions) {
    const signal = o.check ? undefined : interruptRequested();
    if (signal && !action.satisfied) {
      // stopped between two steps: what this run changed is undone, so nothing is left half-applied
      const rollbackErrors = await rollback(o, done);
      throw netdbgError(
        "E019",
        {
          signal,
          what: `'${o.step}'`,
          outcome:
            done.length === 0
              ? "nothing had been changed yet"
              : rollbackErrors.length === 0
                ? `the ${done.length} change(s) this run made were undone`
                : `undoing this run's changes failed (${rollbackErrors.join("; ")}); the journal records what is left`,
          next: "Run the same command again to finish; 'netdbg teardown' undoes whatever the journal still records.",
        },
        { details: { rolledBack: done.map((d) => d.action.id), rollbackErrors } },
      );
    }
    if (action.satisfied) {
      const r: ActionReport = { id: action.id, title: action.title, outcome: "unchanged", command: action.command };
      report.actions.push(r);
      o.hooks.onDone?.(action, r);
      continue;
    }
    if (o.check) {
      const r: ActionReport = { id: action.id, title: action.title, outcome: "skipped", command: action.command };
      report.actions.push(r);
      o.hooks.onDone?.(action, r);
      continue;
    }
    const entry = newEntry(o.step, action, o.clock.now());
    o.journal.entries.push(entry);
    await o.store.save(o.journal);
    o.hooks.onStart?.(action);
    try {
      const learned = await o.hooks.execute(action);
      if (learned) entry.undoData = { ...entry.undoData, ...learned };
      entry.status = "applied";
      entry.finishedAt = o.clock.now().toISOString();
      await o.store.save(o.journal);
      done.push({ action, entry });
      report.changed = true;
      const r: ActionReport = { id: action.id, title: action.title, outcome: "changed", command: action.command };
      report.actions.push(r);
      o.hooks.onDone?.(action, r);
    } catch (err) {
      entry.status = "failed";
      entry.error = err instanceof Error ? err.message : String(err);
      entry.finishedAt = o.clock.now().toISOString();
      await o.store.save(o.journal);
      const failed: ActionReport = {
        id: action.id,
        title: action.title,
        outcome: "failed",
        command: action.command,
        error: entry.error,
      };
      report.actions.push(failed);
      o.hooks.onDone?.(action, failed);
      const rollbackErrors = await rollback(o, [...done, { action, entry }]);
      throw new ApplyFailed(failed, report, rollbackErrors, { cause: err });
    }
  }
  return { report, entries: done.map((d) => d.entry), rollback: () => rollback(o, done) };
}

/** An action this run applied (or tried to) and its journal entry. */
interface Done {
  action: Action;
  entry: JournalEntry;
}

/** Undo `done` newest first, marking their journal entries undone. Returns the undo errors (never throws). */
async function rollback(o: ApplyOptions, done: readonly Done[]): Promise<string[]> {
  const errors: string[] = [];
  for (const { action, entry } of [...done].reverse()) {
    if (entry.undo === undefined || entry.status === "undone") continue;
    const { undo: _u, undoData: _d, ...rest } = action;
    const a: Action = { ...rest, undo: entry.undo, ...(entry.undoData ? { undoData: entry.undoData } : {}) };
    try {
      await o.hooks.undo(a);
      entry.status = "undone";
      entry.finishedAt = o.clock.now().toISOString();
    } catch (err) {
      errors.push(`undo of '${a.title}' failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  await o.store.save(o.journal);
  return errors;
}

/**
 * Replay the journal's undos newest first (teardown). Entries without an undo are marked undone. `only` picks the
 * entries to replay (the rest stay as they are); an undo that finds nothing left to undo returns "unchanged"; a
 * failed undo throws `fail`'s error (default NETDBG-E017).
 */
export async function undoJournal(o: {
  journal: Journal;
  store: JournalStore;
  clock: Clock;
  check?: boolean;
  only?: (entry: JournalEntry) => boolean;
  // biome-ignore lint/suspicious/noConfusingVoidType: an undo returns nothing, or says nothing was left to undo
  undo: (entry: JournalEntry) => Promise<void | "unchanged">;
  fail?: (entry: JournalEntry, err: unknown) => Error;
  onDone?: (entry: JournalEntry, outcome: "changed" | "unchanged" | "skipped" | "failed", error?: string) => void;
}): Promise<StepReport> {
  const report: StepReport = { changed: false, actions: [] };
  const pending = o.journal.entries.filter((e) => e.status !== "undone" && (o.only?.(e) ?? true)).reverse();
  for (const [i, e] of pending.entries()) {
    const signal = o.check ? undefined : interruptRequested();
    if (signal) {
      // stopped between two undos: the journal holds exactly what is still to undo
      throw netdbgError(
        "E019",
        {
          signal,
          what: "teardown",
          outcome: `${i} of ${pending.length} change(s) undone, ${pending.length - i} still recorded in the journal`,
          next: "Run 'netdbg teardown' again: it resumes with what the journal still records.",
        },
        { details: { undone: i, remaining: pending.length - i } },
      );
    }
    if (o.check) {
      report.actions.push({ id: e.id, title: `undo: ${e.title}`, outcome: "skipped", command: e.undo ?? "(nothing to undo)" });
      o.onDone?.(e, "skipped");
      continue;
    }
    try {
      const outcome = (e.undo !== undefined ? await o.undo(e) : undefined) ?? "changed";
      e.status = "undone";
      e.finishedAt = o.clock.now().toISOString();
      await o.store.save(o.journal);
      if (outcome === "changed") report.changed = true;
      report.actions.push({ id: e.id, title: `undo: ${e.title}`, outcome, command: e.undo ?? "" });
      o.onDone?.(e, outcome);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      report.actions.push({ id: e.id, title: `undo: ${e.title}`, outcome: "failed", command: e.undo ?? "", error: msg });
      o.onDone?.(e, "failed", msg);
      if (o.fail) throw o.fail(e, err);
      throw netdbgError(
        "E017",
        {
          command: e.undo ?? e.title,
          exitCode: "?",
          stderrTail: msg,
          fix: "Fix the cause and run 'netdbg teardown' again: it resumes where it stopped.",
        },
        { cause: err },
      );
    }
  }
  return report;
}
