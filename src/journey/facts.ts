/**
 * The journal's identity facts: which OS and address the changes were made on (recorded before anything
 * changes), and the teardown check that refuses when the inventory no longer matches them.
 */
import { isDeepStrictEqual } from "node:util";
import { netdbgError } from "../core/error.js";
import type { Target } from "../core/inventory.js";
import type { JournalStore } from "../core/journal.js";

/** What the journal says the changes were made on. */
export interface JourneyFacts {
  os: string;
  address: string;
  port?: number;
  hostIp?: string;
}

/** Record the target's identity in its journal before anything changes (teardown compares it). */
export async function recordJourneyFacts(
  store: JournalStore,
  target: Target,
  facts: Omit<JourneyFacts, "os" | "address">,
): Promise<void> {
  const j = await store.load(target.name);
  const next: JourneyFacts = { os: target.os, address: target.address, ...facts };
  if (isDeepStrictEqual(j.facts.journey, next)) return;
  j.facts.journey = next;
  await store.save(j);
}

/** Teardown refuses (E741) when the journal's changes were made on another OS or address than the inventory says now. */
export async function checkJournalMatches(store: JournalStore, target: Target): Promise<void> {
  const j = await store.load(target.name);
  const f = j.facts.journey as JourneyFacts | undefined;
  if (!f || !j.entries.some((e) => e.status !== "undone")) return;
  if (f.os === target.os && f.address === target.address) return;
  throw netdbgError("E741", {
    target: target.name,
    journal: store.locate(target.name),
    recorded: `${f.os} ${f.address}`,
    now: `${target.os} ${target.address}`,
    address: f.address,
    os: f.os,
  });
}
