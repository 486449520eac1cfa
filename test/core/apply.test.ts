import { describe, expect, it } from "vitest";
import { ApplyFailed, applyActions, applyJournaled, undoJournal } from "../../src/core/apply.js";
import { emptyJournal } from "../../src/core/journal.js";
import { systemClock } from "../../src/core/interfaces.js";
import type { Action } from "../../src/core/step.js";
import { MemoryJournalStore } from "../../src/io/journal-store.js";

const act = (id: string, extra: Partial<Action> = {}): Action => ({
  id,
  title: `do ${id}`,
  where: "target",
  command: `run ${id}`,
  undo: `unrun ${id}`,
  ...extra,
});

describe("applyActions", () => {
  it("journals each action before running it and reports changed", async () => {
    const store = new MemoryJournalStore();
    const journal = emptyJournal("t");
    const seen: string[] = [];
    const report = await applyActions({
      step: "s",
      actions: [act("a"), act("b", { satisfied: true }), act("c")],
      journal,
      store,
      clock: systemClock,
      hooks: {
        execute: async (a) => {
          // the journal was saved with this action pending before execute runs
          const saved = await store.load("t");
          expect(saved.entries.at(-1)).toMatchObject({ id: a.id, status: "pending" });
          seen.push(a.id);
          return a.id === "c" ? { guid: "{x}" } : undefined;
        },
        undo: async () => {},
      },
    });
    expect(seen).toEqual(["a", "c"]);
    expect(report.actions.map((r) => r.outcome)).toEqual(["changed", "unchanged", "changed"]);
    const saved = await store.load("t");
    expect(saved.entries.map((e) => [e.id, e.status])).toEqual([
      ["a", "applied"],
      ["c", "applied"],
    ]);
    expect(saved.entries[1]?.undoData).toEqual({ guid: "{x}" });
  });

  it("rolls back applied actions newest first when one fails, and undoes the failed one too", async () => {
    const store = new MemoryJournalStore();
    const undone: string[] = [];
    const run = applyActions({
      step: "s",
      actions: [act("a"), act("b"), act("c"), act("d")],
      journal: emptyJournal("t"),
      store,
      clock: systemClock,
      hooks: {
        execute: async (a) => {
          if (a.id === "c") throw new Error("boom");
          return undefined;
        },
        undo: async (a) => {
          undone.push(a.id);
        },
      },
    });
    await expect(run).rejects.toBeInstanceOf(ApplyFailed);
    expect(undone).toEqual(["c", "b", "a"]);
    const saved = await store.load("t");
    expect(saved.entries.map((e) => e.status)).toEqual(["undone", "undone", "undone"]);
  });

  it("the rollback handle undoes exactly this run's entries, newest first, with their refined undo, once", async () => {
    const store = new MemoryJournalStore();
    const journal = emptyJournal("t");
    // an earlier run's change of the same step: not this run's to undo
    const earlier = await applyJournaled({
      step: "s",
      actions: [act("a")],
      journal,
      store,
      clock: systemClock,
      hooks: { execute: async () => undefined, undo: async () => {} },
    });
    expect(earlier.entries.map((e) => e.id)).toEqual(["a"]);
    const undone: { id: string; undo?: string; undoData?: Record<string, unknown> }[] = [];
    const run = await applyJournaled({
      step: "s",
      actions: [act("b"), act("c", { satisfied: true }), act("d")],
      journal,
      store,
      clock: systemClock,
      hooks: {
        execute: async () => undefined,
        undo: async (a) => {
          undone.push({
            id: a.id,
            ...(a.undo !== undefined ? { undo: a.undo } : {}),
            ...(a.undoData ? { undoData: a.undoData } : {}),
          });
        },
      },
    });
    expect(run.entries.map((e) => e.id)).toEqual(["b", "d"]);
    // a later read-back refines d's undo (real handles): the rollback uses it
    run.entries[1]!.undo = "unrun d #7";
    run.entries[1]!.undoData = { handle: 7 };
    expect(await run.rollback()).toEqual([]);
    expect(undone).toEqual([
      { id: "d", undo: "unrun d #7", undoData: { handle: 7 } },
      { id: "b", undo: "unrun b" },
    ]);
    expect((await store.load("t")).entries.map((e) => [e.id, e.status])).toEqual([
      ["a", "applied"],
      ["b", "undone"],
      ["d", "undone"],
    ]);
    // a second rollback finds nothing left to undo
    expect(await run.rollback()).toEqual([]);
    expect(undone).toHaveLength(2);
  });

  it("check mode runs nothing and writes no journal", async () => {
    const store = new MemoryJournalStore();
    const report = await applyActions({
      step: "s",
      actions: [act("a")],
      journal: emptyJournal("t"),
      store,
      clock: systemClock,
      check: true,
      hooks: {
        execute: async () => {
          throw new Error("must not run");
        },
        undo: async () => {},
      },
    });
    expect(report.actions[0]?.outcome).toBe("skipped");
    expect(store.saved.size).toBe(0);
  });

  it("teardown replays undos in reverse and resumes after a failure", async () => {
    const store = new MemoryJournalStore();
    const journal = emptyJournal("t");
    await applyActions({
      step: "s",
      actions: [act("a"), act("b")],
      journal,
      store,
      clock: systemClock,
      hooks: { execute: async () => undefined, undo: async () => {} },
    });
    let fail = true;
    const order: string[] = [];
    const undo = async (e: { id: string }) => {
      if (e.id === "a" && fail) throw new Error("target busy");
      order.push(e.id);
    };
    await expect(undoJournal({ journal, store, clock: systemClock, undo })).rejects.toThrow(/target busy/);
    fail = false;
    await undoJournal({ journal: await store.load("t"), store, clock: systemClock, undo });
    expect(order).toEqual(["b", "a"]);
  });

  it("teardown: `only` picks the entries, an undo may say nothing was left, `fail` names the error", async () => {
    const store = new MemoryJournalStore();
    const journal = emptyJournal("t");
    await applyActions({
      step: "s",
      actions: [act("a"), act("b", { where: "host" }), act("c", { where: "host" })],
      journal,
      store,
      clock: systemClock,
      hooks: { execute: async () => undefined, undo: async () => {} },
    });
    const only = (e: { where: string }) => e.where === "host";
    const report = await undoJournal({
      journal,
      store,
      clock: systemClock,
      only,
      undo: async (e) => (e.id === "c" ? "unchanged" : undefined),
    });
    expect(report.actions.map((a) => [a.id, a.outcome])).toEqual([
      ["c", "unchanged"],
      ["b", "changed"],
    ]);
    expect(journal.entries.map((e) => e.status)).toEqual(["applied", "undone", "undone"]);
    const err = await undoJournal({
      journal,
      store,
      clock: systemClock,
      undo: async () => Promise.reject(new Error("boom")),
      fail: (e, cause) => new Error(`closing ${e.id}: ${(cause as Error).message}`),
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe("closing a: boom");
  });
});
