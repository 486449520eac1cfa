/**
 * The host firewall step of the setup / teardown sequence: open inbound UDP from the target on its host port
 * through the firewall in charge (src/host/firewall), each change journaled in the TARGET's change journal as
 * a `where: "host"` entry with its exact undo (argv, never a shell) through core/apply's journal-first loop;
 * rolled back when the target part fails; closed by teardown after the target's own undos ran.
 */
import { ApplyFailed, applyJournaled, undoJournal } from "../core/apply.js";
import { isNetdbgError, netdbgError } from "../core/error.js";
import type { JourneyAction } from "../core/driver.js";
import type { Target } from "../core/inventory.js";
import { classifyAddress } from "../core/ip.js";
import type { Clock } from "../core/interfaces.js";
import type { JournalEntry, JournalStore } from "../core/journal.js";
import type { Exec, FirewallAction, FirewallFacts, FirewallRequest, HostFirewallStep } from "../host/firewall/index.js";

/** The journal step name of host firewall entries. */
const HOST_FIREWALL_STEP = "host-firewall";

/** How setup reaches this machine's firewall (src/cli/journey-deps.ts builds the real one; tests run theirs in a namespace). */
export interface HostFirewallPort {
  /** The request for a target: its IP (a DNS name is resolved), the port, the interface of the route. */
  request(target: Target, port: number): Promise<FirewallRequest>;
  /** The step for a request, and whether this process may change the firewall. */
  step(req: FirewallRequest): { step: HostFirewallStep; elevated: boolean };
}

export interface HostFirewallResult {
  req: FirewallRequest;
  /** The firewalls in charge (none when not involved). */
  frontEnds: string[];
  /** One line per planned action (none when no firewall is in charge). */
  actions: JourneyAction[];
  /** What happened, for humans (the plan's summary, or why nothing was done). */
  summary: string;
  /** Undo what THIS run opened, newest first (a later failure of the target part). Never throws. */
  rollback(): Promise<string[]>;
}

/** What opening and closing both take: the target's journal, check mode, this machine's firewall, the clock. */
interface StepOptions {
  store: JournalStore;
  check: boolean;
  firewall: HostFirewallPort;
  now?: () => Date;
}

const nothing = async (): Promise<string[]> => [];
const clockOf = (o: StepOptions): Clock => ({ now: o.now ?? (() => new Date()), sleep: async () => {} });

/**
 * Open inbound UDP `port` from the target through the host firewall in charge, each change journaled first
 * (pending → applied, with the exact undo re-read after apply so nft handles are real). With `check`, only
 * plans. Refuses before any change when a blocker exists or a change is needed without root (E740).
 */
export async function openHostFirewall(o: StepOptions & { target: Target; port: number }): Promise<HostFirewallResult> {
  const req = await o.firewall.request(o.target, o.port);
  const result = (summary: string, frontEnds: string[] = [], actions: JourneyAction[] = [], rollback = nothing) => ({
    req,
    frontEnds,
    actions,
    summary: `Host firewall: ${summary}`,
    rollback,
  });
  // the target is this machine (the demo, tests): its datagrams arrive on lo, which host firewalls accept
  if (classifyAddress(req.address) === "loopback")
    return result(`not involved (the target ${req.address} is on this machine's loopback).`);
  const { step, elevated } = o.firewall.step(req);
  const facts = await step.probe();
  const plan = step.plan(facts, "open");
  const actions = plan.actions.map((a): JourneyAction => {
    const outcome = a.satisfied ? "unchanged" : "skipped";
    return { id: a.id, title: a.title, where: "host", outcome, command: a.command, undo: a.undo ?? null };
  });
  const said = (summary: string) => result(summary, plan.frontEnds, actions);
  if (o.check || (plan.actions.length === 0 && plan.blockers.length === 0)) return said(plan.summary);
  if (
    !elevated &&
    plan.actions.length === 0 &&
    plan.frontEnds.length === 0 &&
    plan.blockers.every((b) => b.code === "NETDBG-E120")
  ) {
    // without root the rules cannot even be read: say so and go on (a firewall that drops the traffic shows up
    // as a debugger that never connects, which 'netdbg doctor' names)
    return said(
      `${plan.summary} If it drops the debug traffic, open it as root: 'sudo netdbg host firewall open ${o.target.name}' (or run setup with sudo).`,
    );
  }
  if (plan.blockers.length) throw plan.blockers[0];
  const todo = plan.actions.filter((a) => !a.satisfied);
  if (todo.length === 0) return said(`already open (${plan.frontEnds.join(", ")}).`);
  if (!elevated) {
    throw netdbgError("E740", {
      frontEnds: plan.frontEnds.join(", "),
      port: req.port,
      address: req.address,
      target: o.target.name,
      commands: todo.map((a) => a.command),
    });
  }

  const journal = await o.store.load(o.target.name);
  // the journal-first loop of every change netdbg makes (core/apply.ts): pending before, applied after, and a
  // failure (or Ctrl-C between two rules) undoes what this run opened before it rethrows
  const {
    report,
    entries: opened,
    rollback,
  } = await applyJournaled({
    step: HOST_FIREWALL_STEP,
    // the journal keeps each rule's request and exact undo (argv) for teardown
    actions: todo.map((a) => ({ ...a, undoData: { request: { ...req }, exec: a.undoExec } })),
    journal,
    store: o.store,
    clock: clockOf(o),
    hooks: {
      execute: async (a) => {
        await step.apply({ ...plan, actions: [a as FirewallAction] }, facts);
        return undefined;
      },
      undo: (a) => undoOne(step, facts, a),
    },
  }).catch((e: unknown) => {
    // a failed open: the rule's own error, with the rollback's errors appended
    throw e instanceof ApplyFailed ? withRollbackErrors(e.cause instanceof Error ? e.cause : e, e.rollbackErrors) : e;
  });
  for (const r of report.actions)
    if (r.outcome === "changed") actions[plan.actions.findIndex((x) => x.id === r.id)]!.outcome = "changed";
  try {
    // read back: every rule in place; the fresh plan's undo carries the real handles (the rollback uses them)
    const after = await step.verify("open");
    for (const entry of opened) {
      const again = after.actions.find((x) => x.id === entry.id);
      if (again?.undo) entry.undo = again.undo;
      if (again?.undoExec.length) entry.undoData = { ...entry.undoData, exec: again.undoExec };
      actions[plan.actions.findIndex((x) => x.id === entry.id)]!.undo = entry.undo ?? null;
    }
    await o.store.save(journal);
  } catch (e) {
    throw withRollbackErrors(e, await rollback());
  }
  return result(plan.summary, plan.frontEnds, actions, rollback);
}

/**
 * Teardown's host half: undo the journal's host firewall entries newest first, with their exact undo, through
 * core/apply's undoJournal. An entry whose rule is already gone (someone removed it) is marked undone with a
 * note. With `check`, only lists.
 */
export async function closeHostFirewall(
  o: StepOptions & { target: string },
): Promise<{ actions: JourneyAction[]; notes: string[] }> {
  const journal = await o.store.load(o.target);
  const bad = journal.entries.find((e) => isHost(e) && e.status !== "undone" && !e.undoData?.request);
  if (bad && !o.check)
    throw netdbgError("E015", { file: o.store.locate(o.target), problem: `host entry '${bad.key}' has no request` });
  const actions: JourneyAction[] = [];
  const notes: string[] = [];
  await undoJournal({
    journal,
    store: o.store,
    clock: clockOf(o),
    check: o.check,
    only: isHost,
    undo: async (e) => {
      const { step, elevated } = o.firewall.step(e.undoData!.request as FirewallRequest);
      const facts = await step.probe();
      const close = step.plan(facts, "close");
      if (close.actions.length === 0 && close.blockers.length === 0) {
        notes.push(`The host firewall rule '${e.title}' was already gone; nothing to remove.`);
        return "unchanged";
      }
      if (close.blockers.length) throw close.blockers[0];
      if (!elevated) throw netdbgError("E120", { what: e.undo ?? e.title });
      await undoOne(step, facts, e);
    },
    fail: (e, err) => {
      const detail = isNetdbgError(err) ? `${err.message} ${err.fix}` : (err as Error).message;
      return netdbgError(
        "E742",
        { title: e.title, detail, undo: e.undo ?? "the rule commented netdbg-udp-<port>" },
        { cause: err },
      );
    },
    onDone: (e, outcome) => {
      const command = e.undo ?? "(remove the rules named for this port)";
      actions.push({ id: e.id, title: `undo: ${e.title}`, where: "host", outcome, command });
    },
  });
  if (!o.check && actions.length && journal.entries.every((x) => x.status === "undone")) await o.store.remove(o.target);
  return { actions, notes };
}

const isHost = (e: JournalEntry) => e.where === "host" && e.step === HOST_FIREWALL_STEP;

/**
 * The target's half of a journal, for the OS teardowns (they replay every entry they load on the target, so
 * they must never see host entries): load hides the host entries, save keeps them, remove keeps the file
 * while a host entry is still in effect (closeHostFirewall removes it after).
 */
export function targetView(inner: JournalStore): JournalStore {
  return {
    locate: (t) => inner.locate(t),
    async load(t) {
      const j = await inner.load(t);
      return { ...j, entries: j.entries.filter((e) => !isHost(e)) };
    },
    async save(j) {
      const full = await inner.load(j.target);
      await inner.save({ ...j, entries: [...full.entries.filter(isHost), ...j.entries.filter((e) => !isHost(e))] });
    },
    async remove(t) {
      const full = await inner.load(t);
      const host = full.entries.filter(isHost);
      if (host.some((e) => e.status !== "undone")) await inner.save({ ...full, entries: host });
      else await inner.remove(t);
    },
  };
}

/** Undo one host entry: its exact undo argv, or (an interrupted apply without one) every rule named for the port. */
async function undoOne(
  step: HostFirewallStep,
  facts: FirewallFacts,
  e: Pick<JournalEntry, "id" | "title" | "undo" | "undoData">,
): Promise<void> {
  const exec = (e.undoData?.exec as Exec[] | undefined) ?? [];
  const action = { id: e.id, title: e.title, where: "host" as const, command: e.undo ?? "", exec: [...exec], undoExec: [] };
  if (exec.length === 0) await step.run("close");
  else await step.apply({ frontEnds: [], summary: "", actions: [action], warnings: [], blockers: [] }, facts);
}

/** `e` with the errors of the rollback that followed it appended to its message. */
function withRollbackErrors(e: unknown, errors: readonly string[]): unknown {
  if (errors.length && e instanceof Error) e.message += ` (rollback: ${errors.join("; ")})`;
  return e;
}
