/**
 * setup / teardown of a Linux target: probe → plan → apply (journal first, rollback on failure) → verify;
 * teardown replays the journal's undos. All remote effects go through the RemoteSession port.
 */
import { ApplyFailed, applyActions, undoJournal } from "../../core/apply.js";
import { isNetdbgError, NetdbgError, netdbgError } from "../../core/error.js";
import type { Journal, JournalStore } from "../../core/journal.js";
import type { Clock, RemoteSession } from "../../core/interfaces.js";
import { shCommand } from "../../core/quote.js";
import { elevate, SUDO_PROBE } from "../../core/remote.js";
import type { Action, ActionReport } from "../../core/step.js";
import { parseKgdboeDmesg } from "./dmesg.js";
import { moduleLoadError } from "./failures.js";
import { type LinuxPlan, type LinuxSetupConfig, planLinuxSetup } from "./plan.js";
import { probeLinuxTarget } from "./probe.js";
import { LinuxRemote, type TranscriptEntry, tail } from "./remote.js";
import type { KgdboeSource } from "./source.js";
import type { LinuxAction, LinuxFacts } from "./types.js";

export const STEP = "linux";

/**
 * What one RSP exchange with the freshly loaded kgdboe found (the exchange itself lives outside this layer:
 * targets import no engine code, so the CLI injects it as `LinuxSetupDeps.rspCheck`).
 * - verified: the stub answered the break-in, reported a stop and its registers, and confirmed the detach;
 * - no-answer: nothing usable came back within the time limit (the kernel never stopped, or its replies
 *   never reached us);
 * - not-detached: it answered, but the detach was not confirmed (the kernel may still be stopped).
 */
export type RspCheckResult =
  | {
      outcome: "verified";
      endpoint: string;
      stop: string;
      signal: number;
      arch: string;
      pc?: string;
      roundTripMs?: number;
      bytesOut: number;
      bytesIn: number;
    }
  | { outcome: "no-answer"; endpoint: string; seconds: number; diagnosis: string; bytesOut: number; bytesIn: number }
  | { outcome: "not-detached"; endpoint: string; detail: string; stop?: string; bytesOut: number; bytesIn: number };

/** The endpoint to check: the address netdbg reaches the target by and kgdboe's UDP port. */
export type RspCheck = (ep: { host: string; port: number }) => Promise<RspCheckResult>;

/** `verified.rsp` in the setup result: the check's outcome, or why none ran. */
export type RspVerification = RspCheckResult | { outcome: "skipped"; reason: string };

export interface LinuxSetupDeps {
  session: RemoteSession;
  store: JournalStore;
  clock: Clock;
  /** Host-side fallback when the target cannot fetch a git source: clone on the host, return the files. */
  hostFetch?: (url: string) => Promise<KgdboeSource>;
  sudoPassword?: () => Promise<string>;
  onCommand?: (e: TranscriptEntry) => void;
  onPhase?: (phase: "probe" | "plan" | "apply" | "verify", detail?: string) => void;
  onAction?: (a: Action, report?: ActionReport) => void;
  /** The RSP exchange run after the dmesg check (break in, read the stop and registers, detach). */
  rspCheck?: RspCheck;
}

export interface LinuxSetupResult {
  target: string;
  check: boolean;
  changed: boolean;
  kernel: string;
  nic: string;
  udpPort: number;
  forceSingleCore: 0 | 1;
  kallsymsAddress: string;
  source: string;
  commit?: string;
  actions: { id: string; title: string; outcome: string; command: string; undo?: string }[];
  /** Every command sent to the target, in order (read-only probes included). */
  commands: { step: string; command: string; readOnly: boolean }[];
  verified?: {
    loaded: boolean;
    udpTarget?: { host: string; port: number };
    params: Record<string, string>;
    /** The RSP exchange from this host (when it ran): 'verified', or why not (a warning, not a failure). */
    rsp?: RspVerification;
  };
  warnings: string[];
  advice: string[];
}

export interface LinuxSetupInput {
  target: string;
  /** Address netdbg reaches the target by (for the gdb line). */
  address: string;
  hostIp?: string;
  check: boolean;
  config: Omit<LinuxSetupConfig, "ownsLoadedModule">;
  /** false: skip the RSP exchange after the dmesg check (--no-rsp-verify). Default: run it when deps.rspCheck is set. */
  rspVerify?: boolean;
}

function ownsLoaded(j: Journal): boolean {
  const e = j.entries.findLast((x) => x.step === STEP && x.id === "module.load");
  return e !== undefined && (e.status === "applied" || e.status === "pending" || e.status === "failed");
}

/** Apply one planned action through the remote. */
export async function execute(
  remote: LinuxRemote,
  a: LinuxAction,
  facts: LinuxFacts,
): Promise<Record<string, unknown> | undefined> {
  const x = a.exec;
  const step = a.title;
  if (x.kind === "upload") {
    await remote.run(step, x.before, { readOnly: false });
    // the root session (core/remote.ts withSudo) stages non-root uploads through a temp file + install -m
    for (const f of x.files) await remote.upload(step, f.content, f.remotePath, f.mode);
    await remote.run(step, x.after, { readOnly: false });
    return undefined;
  }
  if (x.classify === "load") {
    const before = await remote.run("count kernel log lines", "dmesg | wc -l", { readOnly: true, allowFail: true });
    const from = Number.parseInt(before.stdout.trim(), 10) || 0;
    const r = await remote.run(step, x.script, {
      readOnly: false,
      allowFail: true,
      ...(x.timeoutMs ? { timeoutMs: x.timeoutMs } : {}),
    });
    if (r.exitCode !== 0) {
      const log = await remote.run("read the kernel log", `dmesg | tail -n +${from + 1}`, { readOnly: true, allowFail: true });
      throw moduleLoadError(`${r.stderr}\n${log.stdout}`);
    }
    return undefined;
  }
  const r = await remote.run(step, x.script, {
    readOnly: false,
    allowFail: true,
    ...(x.timeoutMs ? { timeoutMs: x.timeoutMs } : {}),
  });
  if (r.exitCode !== 0) {
    const out = `${r.stdout}\n${r.stderr}`;
    if (x.classify === "kgdboc")
      throw netdbgError("E309", {
        driver: "kgdboc",
        value: facts.kgdboc,
        reason: `clearing it did not take ('${a.command}' exited ${r.exitCode}${r.stderr.trim() ? `: ${tail(r.stderr, 2, 200)}` : ""})`,
      });
    if (x.classify === "deps") {
      const missing = missingPackage(out);
      if (missing) {
        const headers = /linux-(?:[a-z]+-)?headers|kernel-[\w-]*devel/.test(missing);
        throw netdbgError("E317", {
          what: headers ? `headers for the running kernel ${facts.kernel.release} (${missing})` : missing,
          command: a.command,
          headers,
          release: facts.kernel.release,
        });
      }
    }
    if (x.classify === "build") {
      if (moduleLoadError(out).code === "NETDBG-E300")
        throw netdbgError("E300", { release: facts.kernel.release, source: "the kgdboe build (#error)" });
      throw netdbgError("E352", { release: facts.kernel.release, tail: tail(errorLines(out) || out, 8, 900) });
    }
    throw netdbgError("E350", { step, command: a.command, exitCode: r.exitCode, stderrTail: tail(r.stderr || r.stdout) });
  }
  return undefined;
}

/**
 * The package a package manager said it has no candidate for: apt ("Unable to locate package X", "Package 'X' has
 * no installation candidate"), dnf ("No match for argument: X", "Unable to find a match: X"), zypper ("No provider
 * of 'X' found"), pacman ("target not found: X").
 */
export function missingPackage(out: string): string | undefined {
  const m =
    /Unable to locate package (\S+)/.exec(out) ??
    /Package '([^']+)' has no installation candidate/.exec(out) ??
    /No match for argument: ([^\r\n]+)/.exec(out) ??
    /Unable to find a match: ([^\r\n]+)/.exec(out) ??
    /No provider of '([^']+)' found/.exec(out) ??
    /target not found: (\S+)/.exec(out);
  return m?.[1]?.trim();
}

function errorLines(out: string): string {
  return out
    .split(/\r?\n/)
    .filter((l) => /error|Error \d|undefined!/.test(l))
    .join("\n");
}

/** Unwrap the coded cause of an apply failure (ApplyFailed wraps the thrown error). */
function codedCause(err: unknown): NetdbgError | undefined {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if (isNetdbgError(e)) return e;
  }
  return undefined;
}

async function resolveSource(remote: LinuxRemote, input: LinuxSetupInput, deps: LinuxSetupDeps): Promise<KgdboeSource> {
  const s = input.config.source;
  if (s.kind !== "git") return s;
  const ls = await remote.run(
    "probe: can the target fetch the kgdboe source",
    `command -v git >/dev/null && ${shCommand(["git", "ls-remote", "--exit-code", "--", s.url, "HEAD"])}`,
    {
      readOnly: true,
      root: false,
      allowFail: true,
      timeoutMs: 60_000,
    },
  );
  if (ls.exitCode === 0) return s;
  const targetReason = tail(ls.stderr, 2, 200) || "git is not installed on the target";
  if (!deps.hostFetch) throw netdbgError("E310", { source: s.url, reason: `the target: ${targetReason}` });
  try {
    return await deps.hostFetch(s.url);
  } catch (e) {
    const hostReason = isNetdbgError(e) ? e.message : e instanceof Error ? e.message : String(e);
    throw netdbgError(
      "E310",
      { source: s.url, reason: `the target: ${targetReason}; this host: ${tail(hostReason, 2, 200)}` },
      { cause: e },
    );
  }
}

export async function setupLinuxTarget(input: LinuxSetupInput, deps: LinuxSetupDeps): Promise<LinuxSetupResult> {
  const remote = new LinuxRemote(deps.session, input.check, deps.onCommand);
  const journal = await deps.store.load(input.target);
  deps.onPhase?.("probe");
  const sudo = await becomeRoot(remote, deps.sudoPassword);
  const facts = await probeLinuxTarget(remote, {
    sudo,
    ...(input.hostIp ? { hostIp: input.hostIp } : {}),
    ...(input.config.applyCmdline ? { boot: true } : {}),
  });
  deps.onPhase?.("plan");
  const cfg0: LinuxSetupConfig = { ...input.config, ownsLoadedModule: ownsLoaded(journal) };
  // stops that need no source come first (stock kernel → no-KGDB, before any network fetch)
  planLinuxSetup(facts, {
    ...cfg0,
    // a git source is fetched below; files and tarballs are already here (the bundled module is recognised)
    source:
      input.config.source.kind === "git"
        ? { kind: "files", label: "(pre-flight)", files: [{ path: "Makefile", content: "" }] }
        : input.config.source,
  });
  const source = await resolveSource(remote, input, deps);
  const plan: LinuxPlan = planLinuxSetup(facts, { ...cfg0, source });
  const result: LinuxSetupResult = {
    target: input.target,
    check: input.check,
    changed: false,
    kernel: facts.kernel.release,
    nic: plan.nic.name,
    udpPort: plan.udpPort,
    forceSingleCore: plan.forceSingleCore,
    kallsymsAddress: plan.kallsymsAddress,
    source: plan.sourceId,
    actions: [],
    commands: remote.transcript,
    warnings: plan.warnings,
    advice: plan.advice,
  };
  const commit = source.kind !== "git" ? source.commit : undefined;
  if (commit) result.commit = commit;
  else if (facts.state.commit && facts.state.sourceId === plan.sourceId) result.commit = facts.state.commit;

  deps.onPhase?.("apply");
  journal.facts = {
    ...journal.facts,
    kernel: facts.kernel.release,
    nic: plan.nic.name,
    udpPort: plan.udpPort,
    source: plan.sourceId,
    cpusOnlineBefore: facts.cpusOnline,
  };
  const byId = new Map(plan.actions.map((a) => [a.id, a]));
  let report: Awaited<ReturnType<typeof applyActions>>;
  try {
    report = await applyActions({
      step: STEP,
      actions: plan.actions,
      journal,
      store: deps.store,
      clock: deps.clock,
      check: input.check,
      hooks: {
        execute: (a) => execute(remote, byId.get(a.id)!, facts),
        undo: async (a) => {
          if (a.undo) await remote.run(`undo: ${a.title}`, a.undo, { readOnly: false });
        },
        onStart: (a) => deps.onAction?.(a),
        onDone: (a, r) => deps.onAction?.(a, r),
      },
    });
  } catch (err) {
    const coded = codedCause(err);
    const rollback = err instanceof ApplyFailed ? err.rollbackErrors : [];
    if (coded && rollback.length)
      throw new NetdbgError(
        coded.code,
        coded.message,
        `${coded.fix} Undoing this run's changes also failed (${rollback.join("; ")}): run 'netdbg teardown ${input.target}' once the target is reachable.`,
        coded.exitClass,
        { cause: err },
      );
    if (coded) throw coded;
    throw err;
  }
  result.changed = report.changed;
  result.actions = report.actions.map((r) => {
    const a = byId.get(r.id)!;
    return { id: r.id, title: r.title, outcome: r.outcome, command: r.command, ...(a.undo ? { undo: a.undo } : {}) };
  });
  if (input.check) return result;

  // ---- verify: sysfs parameters and the kernel log's success line
  deps.onPhase?.("verify");
  const st = await remote.run(
    "verify: module parameters",
    "cat /sys/module/kgdboe/parameters/device_name /sys/module/kgdboe/parameters/udp_port",
    {
      readOnly: true,
      allowFail: true,
    },
  );
  const [dev, port] = st.stdout.split(/\r?\n/).map((s) => s.trim());
  const log = await remote.run("verify: kernel log", "dmesg | grep -E 'kgdboe|KGDB|kgdb|target remote udp:' | tail -n 200", {
    readOnly: true,
    allowFail: true,
  });
  const d = parseKgdboeDmesg(log.stdout);
  const params = { device_name: dev ?? "", udp_port: port ?? "" };
  result.verified = { loaded: st.exitCode === 0 && d.loaded, params, ...(d.udpTarget ? { udpTarget: d.udpTarget } : {}) };
  if (st.exitCode !== 0) throw netdbgError("E353", { detail: "/sys/module/kgdboe does not exist after loading" });
  if (dev !== plan.nic.name || port !== String(plan.udpPort))
    throw netdbgError("E353", {
      detail: `it runs with device_name=${dev} udp_port=${port}, not ${plan.nic.name}/${plan.udpPort}`,
    });
  if (!d.loaded)
    throw netdbgError("E353", {
      detail: d.failures.length ? `the log shows '${d.failures.at(-1)!.line}'` : "no 'kgdboe: Successfully initialized' line",
    });
  // upstream kgdboe binds the NIC's first IPv4 address whatever local_ip says: say so when netdbg reaches the
  // target by another of its own addresses. An address that is not the target's (NAT, a port forward, the
  // lab's namespace) reaches whatever the target listens on: nothing to say then.
  const own = facts.nics.flatMap((n) => n.ipv4All ?? (n.ipv4 ? [n.ipv4] : []));
  if (d.udpTarget && own.includes(input.address) && d.udpTarget.host !== input.address)
    result.warnings.push(
      `kgdboe listens on ${d.udpTarget.host}:${d.udpTarget.port} (the first IPv4 address of ${plan.nic.name}), not on ${input.address}, the address netdbg reaches the target by: point the debugger at udp:${d.udpTarget.host}:${d.udpTarget.port}, or make ${input.address} the first address on ${plan.nic.name}.`,
    );
  result.verified.rsp = await verifyByRsp(input, deps, plan.udpPort, result.warnings);
  return result;
}

/**
 * The last verification: a real RSP exchange from this host (the GDB remote protocol,
 * https://sourceware.org/gdb/current/onlinedocs/gdb.html/Remote-Protocol.html). Its
 * failure is a warning with a code, not a setup failure: the module is loaded and the log says it is ready,
 * and what blocks the exchange (a host firewall, a NAT) may not be the target's business.
 */
async function verifyByRsp(
  input: LinuxSetupInput,
  deps: LinuxSetupDeps,
  udpPort: number,
  warnings: string[],
): Promise<RspVerification> {
  if (input.rspVerify === false) return { outcome: "skipped", reason: "--no-rsp-verify" };
  if (!deps.rspCheck) return { outcome: "skipped", reason: "no RSP client in this build of setup" };
  if (!input.address) return { outcome: "skipped", reason: "the target has no address to send UDP to" };
  deps.onPhase?.("verify", "RSP exchange");
  const r = await deps.rspCheck({ host: input.address, port: udpPort });
  if (r.outcome === "no-answer")
    warnings.push(
      netdbgError("E358", { endpoint: r.endpoint, seconds: r.seconds, diagnosis: r.diagnosis, target: input.target }).format(),
    );
  else if (r.outcome === "not-detached")
    warnings.push(netdbgError("E359", { endpoint: r.endpoint, detail: r.detail, target: input.target }).format());
  return r;
}

export interface LinuxTeardownResult {
  target: string;
  check: boolean;
  changed: boolean;
  actions: { id: string; title: string; outcome: string; command: string; error?: string }[];
  commands: { step: string; command: string; readOnly: boolean }[];
}

export async function teardownLinuxTarget(
  input: { target: string; check: boolean },
  deps: Omit<LinuxSetupDeps, "hostFetch">,
): Promise<LinuxTeardownResult> {
  const remote = new LinuxRemote(deps.session, input.check, deps.onCommand);
  const journal = await deps.store.load(input.target);
  await becomeRoot(remote, deps.sudoPassword);
  let report: Awaited<ReturnType<typeof undoJournal>>;
  try {
    report = await undoJournal({
      journal,
      store: deps.store,
      clock: deps.clock,
      check: input.check,
      undo: async (e) => {
        const r = await remote.run(`undo: ${e.title}`, e.undo!, { readOnly: false, allowFail: true });
        if (r.exitCode !== 0) {
          if (e.id === "module.load" && /in use|busy/i.test(r.stderr)) throw netdbgError("E354", {});
          throw netdbgError("E350", {
            step: `undo: ${e.title}`,
            command: e.undo!,
            exitCode: r.exitCode,
            stderrTail: tail(r.stderr || r.stdout),
          });
        }
      },
      onDone: (e, outcome) =>
        deps.onAction?.(
          { id: e.id, title: `undo: ${e.title}`, where: e.where, command: e.undo ?? "" },
          {
            id: e.id,
            title: e.title,
            outcome: outcome === "changed" ? "changed" : outcome,
            command: e.undo ?? "",
          },
        ),
    });
  } catch (err) {
    for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) if (isNetdbgError(e) && e.code === "NETDBG-E354") throw e;
    throw err;
  }
  if (!input.check && journal.entries.every((e) => e.status === "undone")) await deps.store.remove(input.target);
  return {
    target: input.target,
    check: input.check,
    changed: report.changed,
    actions: report.actions,
    commands: remote.transcript,
  };
}

/** Become root the shared way (core/remote.ts: root as is, `sudo -n`, or a password asked once). */
async function becomeRoot(remote: LinuxRemote, sudoPassword?: () => Promise<string>): Promise<LinuxFacts["sudo"]> {
  remote.note("probe: sudo", SUDO_PROBE, true);
  const e = await elevate(remote.session, sudoPassword ? { askPassword: () => sudoPassword() } : {});
  remote.rootSession = e.session;
  return e.mode;
}

/**
 * The first line setup prints. "loaded and verified" only when the RSP exchange confirmed a break-in and a
 * detach; without an answer the kernel may be stopped in the debugger right now, so say so and how to get back.
 */
export function setupHeadline(
  target: string,
  r: { actions: readonly { outcome: string }[]; changed: boolean } & Pick<LinuxSetupResult, "verified">,
): string[] {
  const changed = r.actions.filter((a) => a.outcome === "changed").length;
  const what = r.changed
    ? `(${changed} change${changed === 1 ? "" : "s"}; undo with 'netdbg teardown ${target}')`
    : "(unchanged)";
  const rsp = r.verified?.rsp;
  if (rsp?.outcome === "verified") return [`${target}: kgdboe loaded and verified ${what}.`];
  if (rsp?.outcome === "skipped")
    return [`${target}: kgdboe loaded; the kernel log says it is ready, not checked over RSP (${rsp.reason}) ${what}.`];
  if (rsp?.outcome === "no-answer" || rsp?.outcome === "not-detached")
    return [
      `${target}: kgdboe loaded but NOT verified: ${rsp.outcome === "no-answer" ? `no RSP answer from ${rsp.endpoint} within ${rsp.seconds} s` : `${rsp.endpoint} did not confirm the detach`} ${what}.`,
      `  The target may now be stopped in the debugger (SSH and the network stay dead while it is). Get it back: 'netdbg connect ${target}' then 'continue' (or 'detach') in gdb; if nothing answers, reset the machine — kgdboe is not loaded again at boot unless you used --persist.`,
    ];
  return [`${target}: kgdboe loaded ${what}.`];
}
