/**
 * Apply, verify and teardown for Windows targets: the plan's actions run through core's journal-first
 * applyActions (rollback on failure) and undoJournal (teardown), over a ScriptRunner (ps.ts).
 */
import { ApplyFailed, applyActions, undoJournal } from "../../core/apply.js";
import { isNetdbgError, NetdbgError, netdbgError } from "../../core/error.js";
import type { Journal, JournalEntry, JournalStore } from "../../core/journal.js";
import type { Clock } from "../../core/interfaces.js";
import { redactText } from "../../core/redact.js";
import type { Action, StepReport } from "../../core/step.js";
import {
  bcdElement,
  bcdValues,
  classifyBcdeditFailure,
  type DbgSettings,
  parseBcdBoolean,
  parseBcdEnum,
  parseCopyResult,
  parseDbgSettings,
} from "./bcdedit-parse.js";
import { displayCall, ENTRY_PLACEHOLDER, type ScriptCall, type WindowsPlan } from "./plan.js";
import type { ScriptRunner } from "./ps.js";

export const SETUP_STEP = "windows.setup";

interface BcdAnswer {
  exitCode: number;
  output: string;
}

/** A JournalStore that never writes the given secrets: commands, undos and errors are redacted first. */
export function redactingStore(inner: JournalStore, secrets: readonly string[]): JournalStore {
  const scrub = (s: string) => redactText(s, secrets);
  return {
    load: (t) => inner.load(t),
    remove: (t) => inner.remove(t),
    locate: (t) => inner.locate(t),
    save: (j) =>
      inner.save({
        ...j,
        entries: j.entries.map((e) => {
          const c: JournalEntry = { ...e, command: scrub(e.command) };
          if (e.undo !== undefined) c.undo = scrub(e.undo);
          if (e.error !== undefined) c.error = scrub(e.error);
          return c;
        }),
      }),
  };
}

function substitute<T>(v: T, guid: string): T {
  if (typeof v === "string") return v.split(ENTRY_PLACEHOLDER).join(guid) as T;
  if (Array.isArray(v)) return v.map((x) => substitute(x, guid)) as T;
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substitute(x, guid)])) as T;
  return v;
}

/** Run one template call that answers {exitCode, output}; a non-zero bcdedit exit becomes a coded error. */
async function runChecked(run: ScriptRunner, call: ScriptCall, display: string, target: string): Promise<BcdAnswer> {
  const r = await run.run<BcdAnswer>(call.script, call.params);
  if (r.exitCode !== 0) {
    const command = call.params.BcdArgs as readonly string[] | undefined;
    const f = classifyBcdeditFailure(r.output, r.exitCode, command ? { command } : {});
    if (f.kind === "secure-boot") throw netdbgError("E201", { target, output: f.message });
    const p: { command: string; exitCode: number; output: string; fix?: string } = {
      command: display,
      exitCode: r.exitCode,
      output: f.message,
    };
    if (f.fix) p.fix = `${f.fix} netdbg undid the changes it had made in this run.`;
    throw netdbgError("E210", p);
  }
  return r;
}

/**
 * Run an undo so that running it twice is harmless: a `/deletevalue` whose element (or whole object) is
 * already gone is skipped. Presence is checked on `bcdedit /enum <id> /v` by element NAME (locale-free),
 * never by matching bcdedit's localized "Element not found." text.
 */
async function runUndo(run: ScriptRunner, undo: ScriptCall, display: string, target: string): Promise<void> {
  if (undo.script === "bitlocker") {
    await run.run(undo.script, undo.params);
    return;
  }
  const args = undo.params.BcdArgs as readonly string[] | undefined;
  if (undo.script === "bcdedit" && args?.[0] === "/deletevalue" && args.length === 3) {
    const r = await run.run<BcdAnswer>("bcdedit", { BcdArgs: ["/enum", args[1]!, "/v"] });
    const obj = r.exitCode === 0 ? parseBcdEnum(r.output)[0] : undefined;
    if (!obj?.elements.some((e) => e.name === args[2]!.toLowerCase())) return;
  }
  await runChecked(run, undo, display, target);
}

export interface ApplyContext {
  target: string;
  run: ScriptRunner;
  journal: Journal;
  store: JournalStore;
  clock: Clock;
  check?: boolean;
  /** Secrets to keep out of the journal and of error messages (the KDNET key). */
  secrets: readonly string[];
  onStart?: (a: Action) => void;
  onDone?: (a: Action, outcome: string) => void;
}

/** Apply a plan: journal-first, rollback in reverse on any failure, then (not in check mode) verify. */
export async function applyWindowsPlan(plan: WindowsPlan, c: ApplyContext): Promise<StepReport> {
  const store = redactingStore(c.store, c.secrets);
  const scrub = (s: string) => redactText(s, c.secrets);
  if (!c.check) {
    c.journal.facts.exports = [...new Set([...((c.journal.facts.exports as string[] | undefined) ?? []), plan.exportPath])];
    c.journal.facts.nic = plan.nic.name;
  }
  const resolveEntry = (guid: string) => {
    for (const a of plan.actions) {
      a.command = substitute(a.command, guid);
      if (a.undo !== undefined) a.undo = substitute(a.undo, guid);
      if (a.undoData !== undefined) a.undoData = substitute(a.undoData, guid);
    }
    for (const [id, call] of plan.runs) plan.runs.set(id, substitute(call, guid));
    plan.entryGuid = guid;
    c.journal.facts.entry = guid;
  };
  try {
    return await applyActions({
      step: SETUP_STEP,
      actions: plan.actions,
      journal: c.journal,
      store,
      clock: c.clock,
      ...(c.check ? { check: true } : {}),
      hooks: {
        execute: async (a) => {
          const call = plan.runs.get(a.id)!;
          if (call.script === "bitlocker") {
            await c.run.run(call.script, call.params);
            return undefined;
          }
          const r = await runChecked(c.run, call, scrub(a.command), c.target);
          if (a.id === "bcd.copy") {
            const guid = parseCopyResult(r.output);
            if (!guid) {
              throw netdbgError("E210", {
                command: a.command,
                exitCode: 0,
                output: `no {GUID} in bcdedit's answer: ${r.output.trim()}`,
              });
            }
            const undo = { script: "bcd-delete-entry", params: { ...(a.undoData!.undo as ScriptCall).params, Guid: guid } };
            resolveEntry(guid);
            const entry = c.journal.entries.at(-1)!;
            entry.undo = displayCall(undo as ScriptCall);
            return { undo, guid };
          }
          return undefined;
        },
        undo: async (a) => {
          const undo = a.undoData?.undo as ScriptCall | undefined;
          if (undo) await runUndo(c.run, undo, scrub(a.undo ?? displayCall(undo)), c.target);
        },
        ...(c.onStart ? { onStart: c.onStart } : {}),
        ...(c.onDone ? { onDone: (a: Action, r: { outcome: string }) => c.onDone!(a, r.outcome) } : {}),
      },
    });
  } catch (e) {
    if (e instanceof ApplyFailed) {
      const cause = e.cause;
      if (e.rollbackErrors.length) {
        throw netdbgError(
          "E210",
          {
            command: scrub(e.failed.command),
            exitCode: isNetdbgError(cause) ? "see above" : "?",
            output: scrub(e.failed.error ?? ""),
            fix: `Rolling back also failed (${scrub(e.rollbackErrors.join("; "))}). Run 'netdbg teardown ${c.target}' to finish undoing; it resumes from the journal.`,
          },
          { cause },
        );
      }
      if (cause instanceof NetdbgError) throw cause;
      throw netdbgError(
        "E210",
        {
          command: scrub(e.failed.command),
          exitCode: "?",
          output: scrub(e.failed.error ?? ""),
          fix: "The connection to the target failed mid-way; netdbg undid the changes it had made in this run. Run setup again when the target is reachable.",
        },
        { cause },
      );
    }
    throw e;
  }
}

export interface Verified {
  dbgsettings: DbgSettings;
  entryDebug: boolean | undefined;
  bootsequence: string[];
  defaultEntry: string | undefined;
  loadoptions: string | undefined;
}

/** Read back {dbgsettings}, the entry and {bootmgr}; compare every field of the plan (key case-insensitively). */
export async function verifyWindowsSetup(
  plan: WindowsPlan,
  run: ScriptRunner,
  target: string,
  opts: { noKdnic?: boolean; makeDefault?: boolean } = {},
): Promise<Verified> {
  const dbgText = await runChecked(
    run,
    { script: "bcdedit", params: { BcdArgs: ["/dbgsettings"] } },
    "bcdedit /dbgsettings",
    target,
  );
  const d = parseDbgSettings(dbgText.output);
  const guid = plan.entryGuid;
  const entryText = guid
    ? await runChecked(run, { script: "bcdedit", params: { BcdArgs: ["/enum", guid, "/v"] } }, `bcdedit /enum ${guid} /v`, target)
    : undefined;
  const bmText = await runChecked(
    run,
    { script: "bcdedit", params: { BcdArgs: ["/enum", "{bootmgr}", "/v"] } },
    "bcdedit /enum {bootmgr} /v",
    target,
  );
  const entry = entryText ? parseBcdEnum(entryText.output)[0] : undefined;
  const bm = parseBcdEnum(bmText.output)[0];
  const v: Verified = {
    dbgsettings: d,
    entryDebug: entry ? parseBcdBoolean(bcdElement(entry, "debug") ?? "") : undefined,
    bootsequence: bm ? bcdValues(bm, "bootsequence") : [],
    defaultEntry: bm ? bcdElement(bm, "default") : undefined,
    loadoptions: entry ? bcdElement(entry, "loadoptions") : undefined,
  };
  const e = plan.expected;
  const diffs: string[] = [];
  const cmp = (name: string, got: unknown, want: unknown) => {
    if (got !== want)
      diffs.push(
        `${name} is ${got === undefined ? "missing" : String(got)}, expected ${want === undefined ? "none" : String(want)}`,
      );
  };
  cmp("debugtype", d.debugtype?.toUpperCase(), e.debugtype);
  cmp("hostip", d.hostip, e.hostip);
  cmp("hostipv6", d.hostipv6, e.hostipv6);
  cmp("port", d.port, e.port);
  if ((d.key ?? "").toLowerCase() !== e.key.toLowerCase()) diffs.push("key differs from the stored key");
  if (e.busparams !== undefined) cmp("busparams", d.busparams, e.busparams);
  if (!entry) diffs.push("the debug entry is missing");
  else if (v.entryDebug === false) diffs.push("debug is off on the debug entry");
  if (guid && opts.makeDefault) cmp("default entry", v.defaultEntry, guid);
  if (guid && !opts.makeDefault && !(v.bootsequence.length === 1 && v.bootsequence[0] === guid)) {
    diffs.push(`bootsequence is ${v.bootsequence.join(" ") || "empty"}, expected ${guid}`);
  }
  if (opts.noKdnic && !(v.loadoptions ?? "").split(/\s+/).some((t) => t.toUpperCase() === "NO_KDNIC"))
    diffs.push("loadoptions lack NO_KDNIC");
  if (diffs.length) throw netdbgError("E211", { target, diffs: diffs.join("; ") });
  return v;
}

export interface TeardownContext {
  target: string;
  run: ScriptRunner;
  journal: Journal;
  store: JournalStore;
  clock: Clock;
  check?: boolean;
  onDone?: (e: JournalEntry, outcome: string, error?: string) => void;
}

/** Replay the journal's undos newest first; the journal is removed once everything is undone. */
export async function teardownWindows(c: TeardownContext): Promise<StepReport> {
  const report = await undoJournal({
    journal: c.journal,
    store: c.store,
    clock: c.clock,
    ...(c.check ? { check: true } : {}),
    ...(c.onDone ? { onDone: c.onDone } : {}),
    undo: async (e) => {
      const undo = e.undoData?.undo as ScriptCall | undefined;
      if (undo) await runUndo(c.run, undo, e.undo ?? displayCall(undo), c.target);
    },
  });
  if (!c.check && c.journal.entries.every((e) => e.status === "undone")) await c.store.remove(c.target);
  return report;
}

/** Restore a store exported before setup (teardown without a journal): `bcdedit /import <file>`. */
export function restoreExportCall(file: string): ScriptCall {
  return { script: "bcdedit", params: { BcdArgs: ["/import", file] } };
}

export async function restoreExport(run: ScriptRunner, file: string, target: string): Promise<void> {
  const call = restoreExportCall(file);
  await runChecked(run, call, displayCall(call), target);
}
