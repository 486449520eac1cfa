/**
 * `netdbg setup` / `netdbg teardown` of one target, as the CLI sees them: parse the flags once (options.ts), ask
 * what must be asked before progress starts (the WinRM password), run the one sequence (src/journey) with the
 * real adapters (journey-deps.ts), and render its result — listr2 progress, text lines, or one `--json` object —
 * then attach the debugger when asked. Nothing here decides what happens to a target.
 */
import { Listr } from "listr2";
import { actionLines, type CommandEvent, type LinkRequest, type ProgressHooks } from "../core/driver.js";
import { netdbgError } from "../core/error.js";
import type { Target } from "../core/inventory.js";
import { runSetup, type SetupResult, setupJson } from "../journey/setup.js";
import { runTeardown, type TeardownResult, teardownJson } from "../journey/teardown.js";
import type { Context } from "./context.js";
import { type CliDeps, journeyDeps } from "./journey-deps.js";
import type { ConnectRequest } from "./connect-options.js";
import type { LinkCommand, SetupCommand, TeardownCommand } from "./options.js";
import { askPassword } from "./prompts.js";

/** One progress display for every driver: a listr2 task whose title follows the phase (none when silent). */
function progressOf(ctx: Context, deps: CliDeps) {
  const renderer = deps.renderer ?? ctx.renderer;
  const command = (e: CommandEvent) => ctx.log.debug(`${e.readOnly ? "read" : "run"} [${e.step}] ${e.command}`);
  return async <T>(title: string, run: (hooks: ProgressHooks) => Promise<T>): Promise<T> => {
    if (renderer === "silent") {
      const show = ctx.progress;
      if (!show) return run({ phase() {}, line() {}, command });
      let now = title;
      show(`❯ ${title}`);
      const hooks: ProgressHooks = { phase: (t) => void (now = t), line: (l) => show(`› ${l}`), command };
      const r = await run(hooks).catch((e: unknown) => {
        show(`✖ ${now}`);
        throw e;
      });
      show(`✔ ${now}`);
      return r;
    }
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
async function askWinrmAccount(ctx: Context, target: Target, request: LinkCommand & LinkRequest): Promise<void> {
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
  if (!ctx.isTTY || ctx.opts.json) {
    throw netdbgError("E228", { user, why: ctx.opts.json ? "--json runs never ask" : "there is no terminal to ask on" });
  }
  const password = await askPassword(`WinRM password for ${user}:`, "winrm-credential");
  ctx.secretsSeen.push(password);
  link.winrm = { user, password };
}

/** Run the sequence for one target and return its result, rendering nothing (the fleet renders a table). */
export async function setupResult(ctx: Context, target: Target, request: SetupCommand, deps: CliDeps = {}): Promise<SetupResult> {
  await askWinrmAccount(ctx, target, request);
  return runSetup(target, request, journeyDeps(ctx, deps), {
    progress: progressOf(ctx, deps),
    showSecrets: Boolean(ctx.opts.showSecrets),
  });
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
  ctx.out(r.hostFirewall.text);
  const host = r.actions.filter((x) => x.where === "host");
  for (const line of [...actionLines(r.check, host, "  (host)"), ...r.text]) ctx.out(line);
  for (const w of r.textWarnings ?? []) ctx.log.warn(w);
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

/** Tear down one target (the caller holds its lock) and render the result. */
export async function teardownTarget(
  ctx: Context,
  target: Target,
  request: TeardownCommand,
  deps: CliDeps = {},
): Promise<TeardownResult> {
  await askWinrmAccount(ctx, target, request);
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
