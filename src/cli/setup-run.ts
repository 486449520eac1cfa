/**
 * `netdbg setup` / `netdbg teardown` of one target, as the CLI sees them: parse the flags once (options.ts), ask
 * what must be asked before progress starts (the WinRM password), run the one sequence (src/journey) with the
 * real adapters (journey-deps.ts), and render its result — listr2 progress, text lines, or one `--json` object —
 * then attach the debugger when asked. Nothing here decides what happens to a target.
 */
import { Listr } from "listr2";
import type { CommandEvent, JourneyAction, LinkRequest, ProgressHooks } from "../core/driver.js";
import { netdbgError } from "../core/error.js";
import type { Target } from "../core/inventory.js";
import { runSetup, type SetupResult, setupJson } from "../journey/setup.js";
import { runTeardown, type TeardownResult, teardownJson } from "../journey/teardown.js";
import { setupHeadline, type LinuxSetupResult } from "../targets/linux/setup.js";
import type { Context } from "./context.js";
import { type CliDeps, journeyDeps } from "./journey-deps.js";
import type { ConnectRequest } from "./connect-options.js";
import { type LinkCommand, parseSetupRequest, type SetupCommand, type TeardownCommand } from "./options.js";
import { askPassword } from "./prompts.js";

/** One progress display for every driver: a listr2 task whose title follows the phase (none when silent). */
function progressOf(ctx: Context, deps: CliDeps) {
  const renderer = deps.renderer ?? ctx.renderer;
  const command = (e: CommandEvent) => ctx.log.debug(`${e.readOnly ? "read" : "run"} [${e.step}] ${e.command}`);
  return async <T>(title: string, run: (hooks: ProgressHooks) => Promise<T>): Promise<T> => {
    if (renderer === "silent") return run({ phase() {}, line() {}, command });
    let result: T | undefined;
    const list = new Listr(
      [
        {
          title,
          task: async (_c, task) => {
            result = await run({
              phase: (t) => {
                task.title = t;
              },
              line: (l) => {
                task.output = l;
              },
              command,
            });
          },
        },
      ],
      { renderer, exitOnError: true, registerSignalListeners: false, rendererOptions: { collapseErrors: false } },
    );
    await list.run();
    return result as T;
  };
}

/**
 * --via winrm on a Windows target: the account for Invoke-Command, set on the request's link. --winrm-credential
 * <file> (a PSCredential from Export-Clixml), or --winrm-user with its password asked on the terminal before any
 * progress display (and added to the secrets every output is scrubbed of); neither: this host's own logon (a domain).
 */
async function askWinrmAccount(ctx: Context, target: Target, request: LinkCommand & LinkRequest, deps: CliDeps): Promise<void> {
  const link = request.windows;
  if (target.os !== "windows" || link.via !== "winrm") return;
  const { winrmCredential: file, winrmUser: user } = request;
  if (file && user) {
    throw netdbgError("E003", {
      option: "--winrm-user",
      value: user,
      reason: "--winrm-credential already names the account",
      fix: "Pass one of them: the credential file holds its user name and password.",
    });
  }
  if (file) link.winrm = { file };
  if (!user) return;
  if (deps.askPassword) {
    link.winrm = { user, password: await deps.askPassword(user) };
    return;
  }
  if (!ctx.isTTY || ctx.opts.json) {
    throw netdbgError("E228", { user, why: ctx.opts.json ? "--json runs never ask" : "there is no terminal to ask on" });
  }
  const password = await askPassword(`WinRM password for ${user}:`, "winrm-credential");
  ctx.secretsSeen.push(password);
  link.winrm = { user, password };
}

/** Run the sequence for one target and return its result, rendering nothing (the fleet renders a table). */
export async function setupResult(ctx: Context, target: Target, request: SetupCommand, deps: CliDeps = {}): Promise<SetupResult> {
  await askWinrmAccount(ctx, target, request, deps);
  return runSetup(target, request, journeyDeps(ctx, deps), {
    progress: progressOf(ctx, deps),
    showSecrets: Boolean(ctx.opts.showSecrets),
  });
}

/** {@link setupResult} from raw flags: only for bench/fleet.ts (outside the CLI), which should move to setupResult. */
export async function setupResultOf(
  ctx: Context,
  target: Target,
  flags: Record<string, unknown>,
  deps: CliDeps = {},
): Promise<SetupResult> {
  return setupResult(ctx, target, parseSetupRequest(flags), deps);
}

/** Set up one target (the port step included; the caller holds the target's lock), render, hand off. */
export async function setupTarget(ctx: Context, target: Target, request: SetupCommand, deps: CliDeps = {}): Promise<SetupResult> {
  const r = await setupResult(ctx, target, request, deps);
  if (r.keyNote) ctx.log.info(r.keyNote);
  for (const w of r.warnings) ctx.log.warn(w);
  if (ctx.opts.json) {
    ctx.json(setupJson(r));
    return r;
  }
  // attach only with a terminal to type at (a script or CI gets the lines), and (Windows) only when the target
  // is known to be in the debug entry
  const attach = !r.check && request.connect && ctx.isTTY && r.attachable;
  if (r.os === "windows") renderWindows(ctx, r);
  else renderLinux(ctx, r);
  for (const a of r.advice ?? []) ctx.out(`advice: ${a}`);
  if (r.check) return r;
  const name = r.target.name;
  if (attach) {
    ctx.out(`Attaching: netdbg connect ${name}`);
    const connect: ConnectRequest = {
      ...(r.os === "windows" ? { port: r.port } : {}),
      setupCheck: true,
      acceptNewHostKey: false,
    };
    if (deps.connect) await deps.connect(ctx, r.target, connect);
    else if (r.os === "windows") await (await import("./debugger/windows-connect.js")).attachWindows(ctx, r.target, connect);
    else await (await import("./debugger/linux-connect.js")).attachLinux(ctx, r.target, connect);
    return r;
  }
  ctx.out(`Then attach:  netdbg connect ${name}`);
  if (r.os === "linux") ctx.out(`     or gdb:  ${r.handoff.gdb}`);
  else {
    ctx.out(`   or WinDbg:  ${r.handoff.windbg}`);
    if (!ctx.opts.showSecrets)
      ctx.out(
        `The key is shown redacted: 'netdbg keys show ${name} --show-secrets' (or setup --show-secrets) prints it in full.`,
      );
  }
  return r;
}

const word = (check: boolean, outcome: string) => (check ? (outcome === "unchanged" ? "already done" : "would run") : outcome);

/** The action lines of a report (with --check: each change's undo under it). */
function renderActions(ctx: Context, r: SetupResult, actions: readonly JourneyAction[], suffix = ""): void {
  for (const a of actions) {
    ctx.out(`${word(r.check, a.outcome)}: ${a.command}${suffix}`);
    if (r.check && a.undo && a.outcome !== "unchanged") ctx.out(`    undo: ${a.undo}`);
  }
}

function renderHost(ctx: Context, r: SetupResult): void {
  ctx.out(r.hostFirewall.text);
  const host = r.actions.filter((x) => x.where === "host");
  renderActions(ctx, r, host, "  (host)");
}

interface WindowsDetails {
  entry: string | null;
  reboot: {
    bootedEntry: string | null;
    debug: boolean | null;
    poke: { version: number; from: string } | null;
    ssh: boolean;
    sshError?: string;
  } | null;
}

function renderWindows(ctx: Context, r: SetupResult): void {
  renderHost(ctx, r);
  const targetActions = r.actions.filter((x) => x.where !== "host");
  renderActions(ctx, r, targetActions);
  if (r.check) {
    ctx.out("Nothing was changed (--check).");
    return;
  }
  ctx.out("");
  const d = r.details as unknown as WindowsDetails;
  const name = r.target.name;
  const rb = d.reboot;
  if (rb?.poke) {
    ctx.out(
      `'${name}' restarted into the debug entry: its KDNET pokes (protocol version ${rb.poke.version}) reach this host on UDP port ${r.port} from ${rb.poke.from} and authenticate with the stored key.`,
    );
    if (!rb.ssh) ctx.log.warn(`SSH to '${name}' did not come back after the reboot: ${rb.sshError ?? "no answer"}`);
  } else if (rb) {
    if (rb.bootedEntry === d.entry && rb.debug !== false)
      ctx.out(`'${name}' restarted into the debug entry ${d.entry}; KDNET now sends to ${r.hostIp} port ${r.port}.`);
    else
      ctx.log.warn(
        `'${name}' restarted into ${rb.bootedEntry ?? "an unknown entry"}, not the debug entry ${d.entry}: check its boot menu, then 'netdbg setup ${name} --reboot' again.`,
      );
  } else
    ctx.out(
      targetActions.some((a) => a.id === "bcd.default")
        ? `'${name}' must boot the debug entry before a debugger can attach: restart it (shutdown /r /t 0, or setup --reboot); it boots the debug entry from now on.`
        : `'${name}' must boot the debug entry before a debugger can attach: restart it (shutdown /r /t 0, or setup --reboot); it boots the debug entry once, the next restart returns to the normal entry.`,
    );
}

/** The Linux fields of a setup's result the text report reads. */
type LinuxDetails = Pick<
  LinuxSetupResult,
  "kernel" | "nic" | "udpPort" | "forceSingleCore" | "source" | "commit" | "commands" | "verified"
>;

function renderLinux(ctx: Context, r: SetupResult): void {
  renderHost(ctx, r);
  const d = r.details as unknown as LinuxDetails;
  const name = r.target.name;
  const actions = r.actions.filter((x) => x.where !== "host");
  if (r.check) {
    ctx.out(`Read-only probe commands sent to ${name} (they change nothing):`);
    for (const c of d.commands) ctx.out(`  # ${c.step}\n  ${c.command.split("\n").join("\n  ")}`);
    ctx.out("");
    ctx.out(`Plan for ${name} (kernel ${d.kernel}, NIC ${d.nic}, UDP ${d.udpPort}) — nothing below was run:`);
    for (const a of actions) {
      ctx.out(`  [${a.outcome === "unchanged" ? "unchanged" : "would run"}] ${a.title}`);
      ctx.out(`    ${a.command.split("\n").join("\n    ")}`);
      if (a.undo) ctx.out(`    undo: ${a.undo}`);
    }
    return;
  }
  const changed = actions.some((a) => a.outcome === "changed");
  for (const line of setupHeadline(name, { actions, changed, ...(d.verified ? { verified: d.verified } : {}) })) ctx.out(line);
  ctx.out(`  kernel ${d.kernel}, NIC ${d.nic}, UDP port ${d.udpPort}, force_single_core=${d.forceSingleCore}`);
  if (d.verified?.udpTarget)
    ctx.out(`  kgdboe says: target remote udp:${d.verified.udpTarget.host}:${d.verified.udpTarget.port}`);
  const rsp = d.verified?.rsp;
  if (rsp?.outcome === "verified")
    ctx.out(
      `  verified by RSP: ${rsp.endpoint} answered the break-in (stop ${rsp.stop}${rsp.pc ? `, pc ${rsp.pc}` : ""}${rsp.roundTripMs !== undefined ? `, round trip ${rsp.roundTripMs} ms` : ""}) and detached; the kernel runs on`,
    );
  else if (rsp?.outcome === "skipped") ctx.out(`  RSP check skipped (${rsp.reason})`);
  // no-answer / not-detached: a coded warning in the warnings (logged with the others)
  if (d.commit) ctx.out(`  kgdboe source ${d.source} (commit ${d.commit})`);
}

/** Tear down one target (the caller holds its lock) and render the result. */
export async function teardownTarget(
  ctx: Context,
  target: Target,
  request: TeardownCommand,
  deps: CliDeps = {},
): Promise<TeardownResult> {
  await askWinrmAccount(ctx, target, request, deps);
  const r = await runTeardown(target, request, journeyDeps(ctx, deps), { progress: progressOf(ctx, deps) });
  for (const n of r.host.notes) ctx.log.warn(n);
  if (ctx.opts.json) {
    ctx.json(teardownJson(r, target));
    return r;
  }
  if (r.nothing !== undefined) {
    ctx.out(r.nothing);
    return r;
  }
  for (const line of r.target.text ?? []) ctx.out(line);
  if (r.host.actions.length && request.check) ctx.out("Host firewall undo — nothing below was run:");
  for (const a of r.host.actions) ctx.out(`${request.check ? "would run" : a.outcome}: ${a.command}  (host)`);
  return r;
}
