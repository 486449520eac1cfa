/**
 * The parts of the setup / teardown journey both OS kinds share (the OS-specific work stays in
 * src/cli/os/<os>-setup.ts and src/targets/<os>):
 *
 *   - the host firewall step, journaled in the TARGET's change journal as `where: "host"` entries with their
 *     exact undo (argv, never a shell), opened before the target is changed and rolled back when the target
 *     part fails, closed by teardown before the target's own undos run;
 *   - the journal's identity facts (which OS and address the changes were made on) and the teardown check
 *     that refuses when the inventory no longer matches them;
 *   - the hand-off lines (windbg / gdb) and the one `--json` object shape both OSes print.
 */
import { isNetdbgError, netdbgError } from "../core/error.js";
import type { Target } from "../core/inventory.js";
import { classifyAddress, ipVersion } from "../core/ip.js";
import { type Journal, type JournalEntry, type JournalStore, newEntry } from "../core/journal.js";
import { redactSecret } from "../core/redact.js";
import type { ActionOutcome, Where } from "../core/step.js";
import {
  type Exec,
  type FirewallAction,
  type FirewallFacts,
  type FirewallPlan,
  type FirewallRequest,
  HostFirewallStep,
} from "../host/firewall/index.js";
import { routeToAddress } from "../host/route.js";
import { ExecaCommandRunner } from "../io/command-runner.js";
import { SystemNetProbe } from "../io/net-probe.js";
import { NodePowerShellRunner } from "../io/powershell.js";
import type { Context } from "./context.js";

/** The journal step name of host firewall entries. */
export const HOST_FIREWALL_STEP = "host-firewall";

/** One line of the final report, both OSes, host and target alike. */
export interface JourneyAction {
  id: string;
  title: string;
  where: Where;
  outcome: ActionOutcome;
  command: string;
  undo?: string | null;
}

/** How setup reaches this machine's firewall. Tests build one whose commands run inside a network namespace. */
export interface HostFirewallPort {
  /** The request for a target: its IP (a DNS name is resolved), the port, the interface of the route. */
  request(target: Target, port: number): Promise<FirewallRequest>;
  /** The step for a request, and whether this process may change the firewall. */
  step(req: FirewallRequest): { step: HostFirewallStep; elevated: boolean };
}

/** This machine's firewall: execa runner, root = uid 0 (Linux); PowerShell on Windows. */
export function systemHostFirewall(): HostFirewallPort {
  return {
    async request(target, port) {
      let address = target.address;
      if (ipVersion(address) === 0) {
        try {
          address = (await new SystemNetProbe().resolve(address))[0]!;
        } catch (e) {
          throw netdbgError("E100", { name: target.address, reason: (e as Error).message });
        }
      }
      const req: FirewallRequest = { address, port };
      if (process.platform === "linux") {
        try {
          const r = await routeToAddress(
            address,
            { net: new SystemNetProbe(), platform: "linux", runner: new ExecaCommandRunner() },
            port,
          );
          if (r.interface) req.interface = r.interface;
        } catch {
          // no route: firewalld falls back to its default zone
        }
      }
      return req;
    },
    step(req) {
      const elevated = process.getuid ? process.getuid() === 0 : true;
      const ps = process.platform === "win32" ? new NodePowerShellRunner() : undefined;
      return {
        step: new HostFirewallStep(req, {
          platform: process.platform,
          runner: new ExecaCommandRunner(),
          ...(ps ? { ps } : {}),
          elevated,
        }),
        elevated,
      };
    },
  };
}

export interface HostFirewallResult {
  req: FirewallRequest;
  plan: FirewallPlan;
  /** One line per planned action (none when no firewall is in charge). */
  actions: JourneyAction[];
  /** What happened, for humans (the plan's summary, or why nothing was done). */
  summary: string;
  /** Undo what THIS run opened, newest first (a later failure of the target part). Never throws. */
  rollback(): Promise<string[]>;
}

interface OpenOptions {
  target: Target;
  port: number;
  store: JournalStore;
  check: boolean;
  firewall: HostFirewallPort;
  now?: () => Date;
}

const undoPlan = (a: { id: string; title: string; undo?: string }, exec: readonly Exec[]): FirewallPlan => ({
  frontEnds: [],
  summary: "",
  actions: [{ id: a.id, title: a.title, where: "host", command: a.undo ?? "", exec: [...exec], undoExec: [] }],
  warnings: [],
  blockers: [],
});

/**
 * Open inbound UDP `port` from the target through the host firewall in charge, each change journaled first
 * (pending → applied, with the exact undo re-read after apply so nft handles are real). With `check`, only
 * plans. Refuses before any change when a blocker exists or a change is needed without root (E740).
 */
export async function openHostFirewall(o: OpenOptions): Promise<HostFirewallResult> {
  const now = o.now ?? (() => new Date());
  const req = await o.firewall.request(o.target, o.port);
  const nothing = async () => [] as string[];
  if (classifyAddress(req.address) === "loopback") {
    // the target is this machine (the demo, tests): its datagrams arrive on lo, which host firewalls accept
    const plan: FirewallPlan = { frontEnds: [], summary: "", actions: [], warnings: [], blockers: [] };
    return {
      req,
      plan,
      actions: [],
      summary: `Host firewall: not involved (the target ${req.address} is on this machine's loopback).`,
      rollback: nothing,
    };
  }
  const { step, elevated } = o.firewall.step(req);
  const facts = await step.probe();
  const plan = step.plan(facts, "open");
  const line = (a: FirewallAction, outcome: ActionOutcome): JourneyAction => ({
    id: a.id,
    title: a.title,
    where: "host",
    outcome,
    command: a.command,
    undo: a.undo ?? null,
  });
  const actions = plan.actions.map((a) => line(a, a.satisfied ? "unchanged" : "skipped"));
  if (plan.actions.length === 0 && plan.blockers.length === 0) {
    return { req, plan, actions, summary: `Host firewall: ${plan.summary}`, rollback: nothing };
  }
  if (o.check) return { req, plan, actions, summary: `Host firewall: ${plan.summary}`, rollback: nothing };
  if (
    !elevated &&
    plan.actions.length === 0 &&
    plan.frontEnds.length === 0 &&
    plan.blockers.every((b) => b.code === "NETDBG-E120")
  ) {
    // without root the rules cannot even be read: say so and go on (a firewall that drops the traffic shows up
    // as a debugger that never connects, which 'netdbg doctor' names)
    return {
      req,
      plan,
      actions,
      summary: `Host firewall: ${plan.summary} If it drops the debug traffic, open it as root: 'sudo netdbg host firewall open ${o.target.name}' (or run setup with sudo).`,
      rollback: nothing,
    };
  }
  if (plan.blockers.length) throw plan.blockers[0];
  const todo = plan.actions.filter((a) => !a.satisfied);
  if (todo.length === 0)
    return { req, plan, actions, summary: `Host firewall: already open (${plan.frontEnds.join(", ")}).`, rollback: nothing };
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
  const opened: { action: FirewallAction; entry: JournalEntry }[] = [];
  const rollback = async (): Promise<string[]> => {
    const errors: string[] = [];
    for (const { action, entry } of [...opened].reverse()) {
      if (entry.status === "undone") continue;
      try {
        const exec = (entry.undoData?.exec as Exec[] | undefined) ?? action.undoExec;
        if (exec.length) await step.apply(undoPlan({ ...action, undo: entry.undo ?? "" }, exec), facts);
        else await closeByName(step);
        entry.status = "undone";
        entry.finishedAt = now().toISOString();
      } catch (e) {
        errors.push(`undo of '${action.title}' failed: ${(e as Error).message}`);
      }
    }
    await o.store.save(journal);
    return errors;
  };
  try {
    for (const a of todo) {
      const entry = newEntry(HOST_FIREWALL_STEP, a, now());
      entry.undoData = { request: { ...req }, exec: a.undoExec };
      journal.entries.push(entry);
      await o.store.save(journal);
      opened.push({ action: a, entry });
      try {
        await step.apply({ ...plan, actions: [a] }, facts);
      } catch (e) {
        entry.status = "failed";
        entry.error = (e as Error).message;
        entry.finishedAt = now().toISOString();
        await o.store.save(journal);
        throw e;
      }
      entry.status = "applied";
      entry.finishedAt = now().toISOString();
      await o.store.save(journal);
      actions[plan.actions.indexOf(a)]!.outcome = "changed";
    }
    // read back: every rule in place; the fresh plan's undo carries the real handles
    const after = await step.verify("open");
    for (const { action, entry } of opened) {
      const again = after.actions.find((x) => x.id === action.id);
      if (again?.undo) entry.undo = again.undo;
      if (again?.undoExec.length) entry.undoData = { ...entry.undoData, exec: again.undoExec };
      actions[plan.actions.indexOf(action)]!.undo = entry.undo ?? null;
    }
    await o.store.save(journal);
  } catch (e) {
    const errors = await rollback();
    if (errors.length && e instanceof Error) e.message += ` (rollback: ${errors.join("; ")})`;
    throw e;
  }
  return { req, plan, actions, summary: `Host firewall: ${plan.summary}`, rollback };
}

/** Fallback when an entry has no exact undo (an interrupted apply): remove every rule named for this port/address. */
async function closeByName(step: HostFirewallStep): Promise<void> {
  await step.run("close");
}

/** The host entries of a journal that may still be in effect, newest first. */
export function hostEntries(journal: Journal): JournalEntry[] {
  return journal.entries.filter((e) => isHost(e) && e.status !== "undone").reverse();
}

/**
 * Teardown's host half: undo the journal's host firewall entries newest first, with their exact undo. An entry
 * whose rule is already gone (someone removed it) is marked undone with a note. With `check`, only lists.
 */
export async function closeHostFirewall(o: {
  target: string;
  store: JournalStore;
  check: boolean;
  firewall: HostFirewallPort;
  now?: () => Date;
}): Promise<{ actions: JourneyAction[]; notes: string[] }> {
  const now = o.now ?? (() => new Date());
  const journal = await o.store.load(o.target);
  const entries = hostEntries(journal);
  const actions: JourneyAction[] = [];
  const notes: string[] = [];
  for (const e of entries) {
    const line = (outcome: ActionOutcome): JourneyAction => ({
      id: e.id,
      title: `undo: ${e.title}`,
      where: "host",
      outcome,
      command: e.undo ?? "(remove the rules named for this port)",
    });
    if (o.check) {
      actions.push(line("skipped"));
      continue;
    }
    const req = e.undoData?.request as FirewallRequest | undefined;
    if (!req) throw netdbgError("E015", { file: o.store.locate(o.target), problem: `host entry '${e.key}' has no request` });
    const { step, elevated } = o.firewall.step(req);
    let facts: FirewallFacts;
    try {
      facts = await step.probe();
      const close = step.plan(facts, "close");
      if (close.actions.length === 0 && close.blockers.length === 0) {
        notes.push(`The host firewall rule '${e.title}' was already gone; nothing to remove.`);
        e.status = "undone";
        e.finishedAt = now().toISOString();
        await o.store.save(journal);
        actions.push(line("unchanged"));
        continue;
      }
      if (close.blockers.length) throw close.blockers[0];
      if (!elevated) throw netdbgError("E120", { what: e.undo ?? e.title });
      const exec = (e.undoData?.exec as Exec[] | undefined) ?? [];
      if (exec.length) await step.apply(undoPlan({ id: e.id, title: e.title, undo: e.undo ?? "" }, exec), facts);
      else await closeByName(step);
    } catch (err) {
      const detail = isNetdbgError(err) ? `${err.message} ${err.fix}` : (err as Error).message;
      throw netdbgError(
        "E742",
        { title: e.title, detail, undo: e.undo ?? "the rule commented netdbg-udp-<port>" },
        { cause: err },
      );
    }
    e.status = "undone";
    e.finishedAt = now().toISOString();
    await o.store.save(journal);
    actions.push(line("changed"));
  }
  if (!o.check && entries.length && journal.entries.every((x) => x.status === "undone")) await o.store.remove(o.target);
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
  const prev = j.facts.journey as JourneyFacts | undefined;
  if (
    prev &&
    prev.address === target.address &&
    prev.os === target.os &&
    prev.port === facts.port &&
    prev.hostIp === facts.hostIp
  )
    return;
  j.facts.journey = { os: target.os, address: target.address, ...facts } satisfies JourneyFacts;
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

/** The exact debugger command lines (the key redacted unless `showSecrets`). */
export function handoffLines(
  os: "windows" | "linux",
  o: { port: number; key?: string; address: string; targetPort?: number; showSecrets: boolean },
): { windbg?: string; gdb?: string } {
  if (os === "windows") {
    const key = o.key === undefined ? "<key>" : o.showSecrets ? o.key : redactSecret(o.key);
    return { windbg: `windbg -k net:port=${o.port},key=${key}` };
  }
  return { gdb: `gdb vmlinux -ex 'target remote udp:${o.address}:${o.targetPort ?? 31337}'` };
}

/** The hint printed under a redacted key. */
export function showKeyHint(target: string): string {
  return `The key is shown redacted: 'netdbg keys show ${target} --show-secrets' (or setup --show-secrets) prints it in full.`;
}

/** The one final `--json` object of a setup, both OSes (extra OS-specific fields follow these). */
export interface JourneyJson {
  target: string;
  os: "windows" | "linux";
  check: boolean;
  changed: boolean;
  hostIp: string | null;
  port: number | null;
  key: string | null;
  actions: JourneyAction[];
  hostFirewall: { frontEnds: string[]; summary: string; request: FirewallRequest | null };
  handoff: { windbg?: string; gdb?: string; connect: boolean };
}

/**
 * What an OS teardown returns (teardown adds the host firewall lines and prints one object with --json):
 * `actions` are the target's lines, newest journal entry first.
 */
export interface TargetTeardownResult {
  target: string;
  os?: "windows" | "linux";
  check: boolean;
  changed: boolean;
  actions: readonly object[];
  /** Linux: every command sent to the target. */
  commands?: readonly { step: string; command: string; readOnly: boolean }[];
}

/** The host firewall lines, in the same form as the target's. */
export function printHostActions(ctx: Context, actions: readonly JourneyAction[], check: boolean): void {
  for (const a of actions) {
    ctx.out(`${check ? (a.outcome === "unchanged" ? "already done" : "would run") : a.outcome}: ${a.command}  (host)`);
    if (check && a.undo && a.outcome !== "unchanged") ctx.out(`    undo: ${a.undo}`);
  }
}
