/**
 * `netdbg teardown <target>`, written once for every OS: the journal replayed newest first. It refuses when the
 * journal was written for another OS or address (E741); the driver undoes the target's entries (it sees only
 * those: targetView); then the host firewall entries, which setup made first, are closed with their exact undo.
 */
import type { DriverDeps, JourneyAction, TargetTeardownResult, TeardownRequest } from "../core/driver.js";
import type { Target } from "../core/inventory.js";
import { checkJournalMatches } from "./facts.js";
import { closeHostFirewall, targetView } from "./host-firewall.js";
import { type JourneyDeps, type JourneyUi, noDisplay } from "./setup.js";

export interface TeardownResult {
  /** The target's half (its `text` lines are for a text report only). */
  target: TargetTeardownResult;
  host: { actions: JourneyAction[]; notes: string[] };
  /** Set when nothing is recorded and `check` was asked: no link was opened. */
  nothing?: string;
}

/** The `--json` object of a teardown (shape fixed by the tests). */
export function teardownJson(r: TeardownResult, t: Target): Record<string, unknown> {
  if (r.nothing !== undefined)
    return { target: t.name, os: t.os, check: r.target.check, changed: false, actions: [], notes: [r.nothing] };
  const { text: _text, ...os } = r.target;
  return {
    ...os,
    changed: os.changed || r.host.actions.some((a) => a.outcome === "changed"),
    actions: [...os.actions.map((a) => ({ where: "target", ...a })), ...r.host.actions],
    notes: r.host.notes,
  };
}

export async function runTeardown(
  target: Target,
  request: TeardownRequest,
  deps: DriverDeps & Pick<JourneyDeps, "firewall" | "drivers" | "now">,
  ui: JourneyUi = {},
): Promise<TeardownResult> {
  const { check } = request;
  const store = deps.store;
  if (check && !request.restoreExport && (await store.load(target.name)).entries.length === 0) {
    // nothing recorded: say so without opening a link (a plan of nothing needs no target)
    return {
      target: { target: target.name, os: target.os, check, changed: false, actions: [] },
      host: { actions: [], notes: [] },
      nothing: `Nothing is recorded for '${target.name}' (no change journal at ${store.locate(target.name)}): netdbg made no change there to undo.`,
    };
  }
  await checkJournalMatches(store, target);
  // the driver sees the target's entries only
  const driverDeps: DriverDeps = { ...deps, store: targetView(store) };
  const os = await deps.drivers[target.os].teardown(target, request, driverDeps, ui.progress ?? noDisplay);
  const host = await closeHostFirewall({ ...deps, target: target.name, check });
  return { target: os, host };
}
