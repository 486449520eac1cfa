import { writeFile } from "node:fs/promises";
import readline from "node:readline";
import { isNetdbgError } from "../../core/error.js";
import type { Target } from "../../core/inventory.js";
import type { RemoteSession } from "../../core/interfaces.js";
import { formatEndpoint } from "../../engine/transport/index.js";
import type { Context } from "../context.js";
import { type CommandResult, COMMANDS, LinuxDebugger } from "./linux-commands.js";
import { type BreakIn, breakInMethod, sysrqBreakIn } from "./break-in.js";
import { openRemote } from "./linux-session.js";
import type { ConnectRequest } from "../connect-options.js";

export interface LinuxConnectDeps {
  /** SSH to the target for --break-in sysrq-ssh (default: ssh2 with the inventory and ~/.ssh/config). */
  openSession?: (target: Target) => Promise<RemoteSession>;
}

function progressBar(ctx: Context): ((done: number, total: number, rate: number) => void) | undefined {
  if (ctx.opts.json || !process.stderr.isTTY) return undefined;
  let last = 0;
  return (done, total, rate) => {
    const now = performance.now();
    if (done < total && now - last < 100) return;
    last = now;
    const width = 30;
    const filled = Math.round((done / total) * width);
    process.stderr.write(
      `\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${((done / total) * 100).toFixed(0).padStart(3)}% ${done}/${total} bytes ${(rate / 1024).toFixed(1)} KiB/s${done >= total ? "\n" : ""}`,
    );
  };
}

/** `netdbg connect <linux-target>`: attach over kgdboe (or --endpoint), then --exec commands or a REPL. */
export async function attachLinux(
  ctx: Context,
  target: Target,
  opts: ConnectRequest,
  deps: LinuxConnectDeps = {},
): Promise<void> {
  let breaker: BreakIn | undefined;
  if (breakInMethod(target, opts.breakIn) === "sysrq-ssh") {
    const open =
      deps.openSession ??
      (async (t: Target) => {
        const { connectSsh } = await import("../../io/ssh.js");
        return connectSsh({ target: t, acceptNewHostKey: opts.acceptNewHostKey, logger: ctx.log });
      });
    breaker = await sysrqBreakIn(ctx, target, await open(target));
  }
  try {
    await attachAndRun(ctx, target, opts);
  } finally {
    await breaker?.finish();
  }
}

async function attachAndRun(ctx: Context, target: Target, opts: ConnectRequest): Promise<void> {
  const { endpoint, client, remote, symbols } = await openRemote(target, opts, {
    onConsole: (text) => ctx.log.debug(`target: ${text.trimEnd()}`),
    ...(ctx.opts.verbose ? { trace: (l: string) => ctx.log.debug(l) } : {}),
  });
  const results: { command: string; data?: unknown; error?: unknown }[] = [];
  const progress = progressBar(ctx);
  const dbg = new LinuxDebugger(remote, symbols, {
    ...(progress ? { progress } : {}),
    writeFile: (file, data) => writeFile(file, data),
  });
  const ep = formatEndpoint(endpoint);
  try {
    const info = await remote.attach();
    const pc = await remote.pc().catch(() => undefined);
    ctx.out(
      `attached to ${target.name} (${ep}, ${info.arch}, ${info.maxMemory}-byte memory packets): stopped, signal ${info.stop.signal}${pc !== undefined ? ` at ${dbg.fmt(pc)}` : ""}`,
    );
    const show = (r: CommandResult) => {
      results.push({ command: r.command, data: r.data ?? r.text });
      if (r.text) ctx.out(r.text);
    };
    if (opts.exec !== undefined) {
      for (const cmd of opts.exec
        .split(";")
        .map((s) => s.trim())
        .filter(Boolean)) {
        const r = await dbg.run(cmd);
        show(r);
        if (r.end) break;
      }
    } else {
      for (const cmd of (opts.before ?? "").split(";").map((x) => x.trim())) {
        if (!cmd) continue;
        ctx.out(`(netdbg) ${cmd}`);
        show(await dbg.run(cmd));
      }
      await repl(ctx, dbg, show);
    }
    if (!dbg.done) {
      await remote.detach();
      dbg.done = true;
      ctx.out("detached: the target runs on");
    }
    if (ctx.opts.json) {
      ctx.json({
        target: target.name,
        endpoint: ep,
        arch: info.arch,
        stop: info.stop.raw,
        results,
        stats: { ...client.stats, roundTripMs: client.roundTrip, transport: client.transport.stats },
      });
    }
  } catch (e) {
    // never leave a kernel stopped because of an error on our side: try to detach, then report
    if (!dbg.done && !client.transport.closed && isNetdbgError(e) && e.code !== "NETDBG-E400" && e.code !== "NETDBG-E406") {
      await remote.detach().catch(() => undefined);
    }
    throw e;
  } finally {
    await client.close();
  }
}

async function repl(ctx: Context, dbg: LinuxDebugger, show: (r: CommandResult) => void): Promise<void> {
  const names = COMMANDS;
  const rl = readline.createInterface({
    input: process.stdin,
    output: process.stdout,
    terminal: ctx.isTTY,
    historySize: 1000,
    prompt: "(netdbg) ",
    completer: (line: string) => {
      const words = line.split(/\s+/);
      const last = words[words.length - 1] ?? "";
      if (words.length <= 1) return [names.filter((n) => n.startsWith(last)), last];
      const syms = dbg.symbols ? symbolCompletions(dbg, last) : [];
      return [syms, last];
    },
  });
  rl.on("SIGINT", () => {
    if (dbg.remote.client.running) {
      dbg.remote.interrupt();
      ctx.out("^C: breaking in…");
    } else ctx.out("(type 'quit' to detach and exit)");
  });
  if (ctx.isTTY) ctx.out("type 'help' for commands");
  rl.prompt();
  try {
    for await (const line of rl) {
      try {
        const r = await dbg.run(line);
        show(r);
        if (r.end) break;
      } catch (e) {
        if (!isNetdbgError(e)) throw e;
        ctx.log.error(e.format());
        if (e.code === "NETDBG-E400" || e.code === "NETDBG-E406") throw e;
      }
      rl.prompt();
    }
  } finally {
    rl.close();
  }
}

function symbolCompletions(dbg: LinuxDebugger, prefix: string): string[] {
  if (prefix.length < 2 || !dbg.symbols) return [];
  const out: string[] = [];
  for (const name of dbg.symbols.names()) {
    if (name.startsWith(prefix)) {
      out.push(name);
      if (out.length >= 50) break;
    }
  }
  return out;
}
