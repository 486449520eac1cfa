/**
 * The Linux driver behind the one setup / teardown sequence (src/journey): over SSH, probe → plan → apply
 * (upload, build, load kgdboe) → verify (the kernel log, then the RSP exchange from this host), and the
 * journal's undo (setup.ts). It returns data; src/cli renders it.
 */
import type {
  CommandEvent,
  DriverDeps,
  DriverSetupInput,
  DriverSetupResult,
  JourneyAction,
  LinkRequest,
  OsDriver,
  Progress,
  ProgressHooks,
  SetupRequest,
  TargetTeardownResult,
  TeardownRequest,
} from "../../core/driver.js";
import { isNetdbgError, netdbgError } from "../../core/error.js";
import type { Target } from "../../core/inventory.js";
import { DEFAULT_UDP_PORT } from "./paths.js";
import type { LinuxTemplates } from "./plan.js";
import {
  type LinuxSetupDeps,
  type LinuxSetupResult,
  type RspCheckResult,
  setupHeadline,
  setupLinuxTarget,
  teardownLinuxTarget,
} from "./setup.js";
import type { KgdboeSource } from "./source.js";

/** The ports only Linux needs, given by the composition root. */
export interface LinuxDriverPorts {
  /** --kgdboe-source (a directory, tarball, git URL or 'bundled'; default upstream's git URL). */
  resolveSource(spec: string | undefined): Promise<KgdboeSource>;
  /** Clone a git source on this host when the target cannot. */
  hostFetch?: (url: string) => Promise<KgdboeSource>;
  /** --persist: the systemd unit, env file and loader. */
  templates(): LinuxTemplates;
  /** The RSP exchange after loading, bound to the target's host port `localPort` (the firewall rule names it). */
  rspCheck?: (ep: { host: string; port: number }, localPort: number) => Promise<RspCheckResult>;
}

const PHASES: Record<string, (t: string) => string> = {
  probe: (t) => `Probe ${t}`,
  plan: (t) => `Plan ${t}`,
  apply: (t) => `Apply changes to ${t}`,
  verify: (t) => `Verify kgdboe on ${t}`,
};

/** A Windows-only flag given for a Linux target (E313). */
const windowsOnly = (flag: string, value = "set") =>
  netdbgError("E313", { option: flag, value, reason: "it applies to Windows targets only", fix: `Drop ${flag}.` });

const hooksOf = (progress: ProgressHooks, target: string) => ({
  onPhase: (p: string) => progress.phase(PHASES[p]!(target)),
  onAction: (a: { title: string }, rep?: { outcome: string }) => {
    // the Windows driver's word order: "<action>…" while it runs, "<action>: <outcome>" after, "undo <action>"
    const title = a.title.replace(/^undo: /, "undo ");
    progress.line(rep ? `${title}: ${rep.outcome === "skipped" ? "would run" : rep.outcome}` : `${title}…`);
  },
  onCommand: (e: CommandEvent) => progress.command?.(e),
});

/**
 * One SSH session for a setup or teardown: the sudo password asked before the display starts (a question inside
 * it would be invisible), then `run` inside the display with the session, the journal and the progress hooks.
 */
async function overSsh<T>(
  target: Target,
  o: LinkRequest,
  deps: DriverDeps,
  progress: Progress,
  title: string,
  run: (base: Omit<LinuxSetupDeps, "hostFetch" | "rspCheck">) => Promise<T>,
): Promise<T> {
  const session = await deps.openSession(target, { acceptNewHostKey: o.acceptNewHostKey, check: o.check });
  try {
    const sudoPassword = await deps.sudoPassword?.(session);
    return await progress(title, async (hooks) => {
      const r = await run({
        session,
        store: deps.store,
        clock: deps.clock,
        ...(sudoPassword ? { sudoPassword } : {}),
        ...hooksOf(hooks, target.name),
      });
      hooks.phase(`${title}: done`);
      return r;
    });
  } finally {
    await session.close();
  }
}

/** The text report of a Linux setup: with --check the probe commands and the plan, else what runs now. */
function setupReport(name: string, d: LinuxSetupResult, actions: JourneyAction[]): string[] {
  if (d.check)
    return [
      `Read-only probe commands sent to ${name} (they change nothing):`,
      ...d.commands.map((c) => `  # ${c.step}\n  ${c.command.split("\n").join("\n  ")}`),
      "",
      `Plan for ${name} (kernel ${d.kernel}, NIC ${d.nic}, UDP ${d.udpPort}) — nothing below was run:`,
      ...actions.flatMap((a) => [
        `  [${a.outcome === "unchanged" ? "unchanged" : "would run"}] ${a.title}`,
        `    ${a.command.split("\n").join("\n    ")}`,
        ...(a.undo ? [`    undo: ${a.undo}`] : []),
      ]),
    ];
  const changed = actions.some((a) => a.outcome === "changed");
  const text = setupHeadline(name, { actions, changed, ...(d.verified ? { verified: d.verified } : {}) });
  text.push(`  kernel ${d.kernel}, NIC ${d.nic}, UDP port ${d.udpPort}, force_single_core=${d.forceSingleCore}`);
  if (d.verified?.udpTarget)
    text.push(`  kgdboe says: target remote udp:${d.verified.udpTarget.host}:${d.verified.udpTarget.port}`);
  const rsp = d.verified?.rsp;
  if (rsp?.outcome === "verified")
    text.push(
      `  verified by RSP: ${rsp.endpoint} answered the break-in (stop ${rsp.stop}${rsp.pc ? `, pc ${rsp.pc}` : ""}${rsp.roundTripMs !== undefined ? `, round trip ${rsp.roundTripMs} ms` : ""}) and detached; the kernel runs on`,
    );
  else if (rsp?.outcome === "skipped") text.push(`  RSP check skipped (${rsp.reason})`);
  // no-answer / not-detached: a coded warning in the warnings (logged with the others)
  if (d.commit) text.push(`  kgdboe source ${d.source} (commit ${d.commit})`);
  return text;
}

export function linuxDriver(ports: LinuxDriverPorts): OsDriver {
  return {
    os: "linux",
    usesKey: false,
    needsHostIp: false,

    async prepare(target: Target, request: SetupRequest): Promise<KgdboeSource> {
      const w = request.windows;
      const flag = w.kdnic === false ? "--no-kdnic" : w.makeDefault ? "--make-default" : w.reboot ? "--reboot" : undefined;
      if (flag) throw windowsOnly(flag);
      return ports.resolveSource(request.linux.kgdboeSource ?? target.transport?.kgdboeSource);
    },

    async setup(input: DriverSetupInput, deps: DriverDeps, progress: Progress): Promise<DriverSetupResult> {
      const { target, request, port, hostIp } = input;
      const l = request.linux;
      const nic = request.nic ?? target.transport?.nic;
      const rspCheck = ports.rspCheck;
      const result = await overSsh(target, request, deps, progress, `Set up ${target.name}`, (base) =>
        setupLinuxTarget(
          {
            target: target.name,
            address: target.address,
            check: request.check,
            ...(hostIp ? { hostIp } : {}),
            ...(l.rspVerify === false ? { rspVerify: false } : {}),
            config: {
              ...(nic ? { nic } : {}),
              udpPort: target.transport?.targetPort ?? DEFAULT_UDP_PORT,
              forceSingleCore: l.forceSingleCore,
              installDeps: l.installDeps,
              persist: l.persist,
              applyCmdline: l.applyCmdline,
              source: input.prepared as KgdboeSource,
              ...(l.persist ? { templates: ports.templates() } : {}),
            },
          },
          {
            ...base,
            ...(ports.hostFetch ? { hostFetch: ports.hostFetch } : {}),
            // the RSP check binds the target's host port, so the host firewall rule opened for it admits the replies
            ...(rspCheck ? { rspCheck: (ep) => rspCheck(ep, port) } : {}),
          },
        ),
      );
      const { actions, changed, target: _t, check: _c, warnings, advice, ...rest } = result;
      const gdb = `target remote udp:${target.address}:${result.udpPort}`;
      const journeyActions = actions.map(
        (a): JourneyAction => ({ ...a, where: "target", outcome: a.outcome as JourneyAction["outcome"] }),
      );
      return {
        changed,
        actions: journeyActions,
        text: setupReport(target.name, result, journeyActions),
        handoff: { gdb: `gdb vmlinux -ex '${gdb}'` },
        attachable: !request.check,
        warnings,
        advice,
        details: { ...rest, gdb: request.check ? undefined : gdb },
      };
    },

    async teardown(
      target: Target,
      request: TeardownRequest,
      deps: DriverDeps,
      progress: Progress,
    ): Promise<TargetTeardownResult> {
      if (request.restoreExport !== undefined) throw windowsOnly("--restore-export", request.restoreExport);
      const run = () =>
        overSsh(target, request, deps, progress, `Tear down ${target.name}`, (base) =>
          teardownLinuxTarget({ target: target.name, check: request.check }, base),
        );
      let resumed: string | undefined;
      let result: Awaited<ReturnType<typeof run>>;
      try {
        result = await run();
      } catch (err) {
        resumed = await resumeIfStopped(target, request, deps, ports, err);
        result = await run();
      }
      const text = request.check
        ? [
            `Undo plan for ${target.name}, newest first — nothing below was run:`,
            ...result.actions.map((a) => `  [would run] ${a.title}\n    ${a.command}`),
          ]
        : [
            result.actions.length
              ? `${target.name}: ${result.actions.length} recorded change${result.actions.length === 1 ? "" : "s"} undone; the journal is removed.`
              : `${target.name}: nothing to undo (no recorded changes).`,
          ];
      if (resumed) text.unshift(resumed);
      return { ...result, ...(resumed ? { resumed } : {}), text };
    },
  };
}

/** SSH failures a kernel stopped in the debugger causes: nothing answers, not even ARP (never a refusal). */
function silentTarget(err: unknown): boolean {
  if (!isNetdbgError(err)) return false;
  if (err.code === "NETDBG-E803") return true;
  const errno = (err.cause as { code?: unknown } | undefined)?.code;
  return err.code === "NETDBG-E801" && (errno === "EHOSTUNREACH" || errno === "ETIMEDOUT");
}

/**
 * Teardown's SSH got no answer at all. A kernel stopped in the debugger answers nothing but its debugger: when the
 * journal records kgdboe loaded, ask kgdboe. The RSP check breaks in (a no-op on a stopped kernel; kgdboe would
 * stop a running one on the first packet anyway) and detaches, so the kernel runs afterwards either way. Returns
 * the note to report when kgdboe answered (teardown then connects again); otherwise rethrows `err`. Never with
 * --check, which changes nothing: not even a stopped kernel's state.
 */
async function resumeIfStopped(
  target: Target,
  request: TeardownRequest,
  deps: DriverDeps,
  ports: LinuxDriverPorts,
  err: unknown,
): Promise<string> {
  if (request.check || !ports.rspCheck || !silentTarget(err)) throw err;
  const journal = await deps.store.load(target.name);
  if (!journal.entries.some((e) => e.id === "module.load" && e.status !== "undone")) throw err;
  const port = target.transport?.targetPort ?? DEFAULT_UDP_PORT;
  const r = await ports.rspCheck({ host: target.address, port }, target.port ?? 0);
  if (r.outcome !== "verified") throw err;
  return `${target.name}: SSH got no answer, but kgdboe at ${r.endpoint} did (stop ${r.stop}): the kernel was stopped in the debugger. netdbg detached it (the kernel runs on) and connected again.`;
}
