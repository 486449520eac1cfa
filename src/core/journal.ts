/**
 * The change journal: for each target, an ordered record of every change netdbg made, written BEFORE the
 * change runs, with its exact undo. `teardown` replays the undos in reverse; an interrupted apply leaves a
 * `pending` entry whose undo is tried too (undos are written to be idempotent).
 *
 * Pure types and transitions; persistence is a port (JournalStore) with a file adapter in src/io.
 */
import { z } from "zod";
import type { Action } from "./step.js";

export type EntryStatus = "pending" | "applied" | "failed" | "undone";

/** A journaled Action (same id, title, place, exact command and undo) plus what happened to it. */
export interface JournalEntry extends Pick<Action, "id" | "title" | "where" | "command" | "undo" | "undoData"> {
  /** Unique within the journal: `${step}:${action.id}`. */
  key: string;
  step: string;
  status: EntryStatus;
  /** ISO times. */
  startedAt: string;
  finishedAt?: string;
  error?: string;
}

export interface Journal {
  version: 1;
  target: string;
  /** Facts recorded for teardown checks (e.g. the BCD export path, the kgdboe module path). No secrets. */
  facts: Record<string, unknown>;
  entries: JournalEntry[];
}

export interface JournalStore {
  /** The journal of a target, or an empty one. Throws NETDBG-E015 when the file is damaged. */
  load(target: string): Promise<Journal>;
  save(journal: Journal): Promise<void>;
  /** Remove the journal (after a complete teardown). */
  remove(target: string): Promise<void>;
  /** Where it lives, for messages. */
  locate(target: string): string;
}

export const emptyJournal = (target: string): Journal => ({ version: 1, target, facts: {}, entries: [] });

export function entryKey(step: string, actionId: string): string {
  return `${step}:${actionId}`;
}

export function newEntry(step: string, a: Action, now: Date): JournalEntry {
  const e: JournalEntry = {
    key: entryKey(step, a.id),
    step,
    id: a.id,
    title: a.title,
    where: a.where,
    command: a.command,
    status: "pending",
    startedAt: now.toISOString(),
  };
  if (a.undo !== undefined) e.undo = a.undo;
  if (a.undoData !== undefined) e.undoData = a.undoData;
  return e;
}

/** A journal file as netdbg writes it. Anything else is damaged (NETDBG-E015), never "nothing to undo". */
export const journalEntrySchema = z
  .object({
    key: z.string().min(1),
    step: z.string().min(1),
    id: z.string().min(1),
    title: z.string(),
    where: z.enum(["target", "host"]),
    command: z.string(),
    undo: z.string().optional(),
    undoData: z.record(z.string(), z.unknown()).optional(),
    status: z.enum(["pending", "applied", "failed", "undone"]),
    startedAt: z.string().min(1),
    finishedAt: z.string().optional(),
    error: z.string().optional(),
  })
  .passthrough();

export const journalSchema = z
  .object({
    version: z.literal(1),
    target: z.string().min(1),
    facts: z.record(z.string(), z.unknown()),
    entries: z.array(journalEntrySchema),
  })
  .passthrough();

/**
 * Check a parsed journal file; the problem names the entry and the field ("entries[2].status: …") so the user
 * can find it. Returns the journal, or the problem text.
 */
export function checkJournal(data: unknown, target: string): { journal: Journal } | { problem: string } {
  const r = journalSchema.safeParse(data);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = (issue?.path ?? [])
      .map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))
      .join("")
      .replace(/^\./, "");
    return { problem: `${where || "the top"}: ${issue?.message ?? "not a journal"}` };
  }
  if (r.data.target !== target) return { problem: `it is the journal of '${r.data.target}', not of '${target}'` };
  return { journal: r.data as Journal };
}
