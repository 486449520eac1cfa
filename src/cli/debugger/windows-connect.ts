import { createInterface } from "node:readline";
import { netdbgError } from "../../core/error.js";
import type { Target } from "../../core/inventory.js";
import { parseKdnetKey } from "../../core/kdnet-key.js";
import { KdClient } from "../../engine/kdnet/api.js";
import type { ConnectRequest } from "../connect-options.js";
import { DEFAULT_KDNET_PORT } from "../options.js";
import type { Context } from "../context.js";

import { COMMAND_NAMES, describeState, WindowsDebugger } from "./kd-commands.js";

import { openKdnetSession } from "./windows-session.js";

/** How long a Windows attach waits for the first poke when the caller sets no timeout (the setup hand-off). */
const DEFAULT_WAIT_SECONDS = 60;

/** `netdbg connect <windows-target>`: KDNET handshake, then --exec commands or the KD prompt. */
export async function attachWindows(
  ctx: Context,
  target: Target,
  opts: Pick<ConnectRequest, "port" | "timeoutS" | "exec" | "before">,
): Promise<void> {
  const stored = await ctx.secrets.get(target.name);
  if (stored === undefined) throw netdbgError("E009", { name: target.name });
  ctx.secretsSeen.push(stored);
  const key = parseKdnetKey(stored);
  const port = opts.port ?? target.port ?? DEFAULT_KDNET_PORT;
  const timeoutS = opts.timeoutS ?? DEFAULT_WAIT_SECONDS;
  const exec = opts.exec;
  const json = Boolean(ctx.opts.json);
  const say = (t: string) => {
    if (!json) process.stderr.write(`${t}\n`);
  };
  const { session, expected, wrongKeyFrom, foreignFrom } = await openKdnetSession(target, key, port, say);
  const kd = new KdClient(session, { stateTimeoutMs: Math.max(timeoutS, 10) * 1000 });
  const dbg = new WindowsDebugger(kd, say);
  const results: {
    command: string;
    ok: boolean;
    data?: unknown;
    error?: { code: string; message: string; fix: string };
  }[] = [];
  let resumed = false;
  try {
    say(`listening on UDP port ${port} for ${target.name} (${target.address}) …`);
    try {
      await session.waitForHandshake(timeoutS * 1000);
    } catch (e) {
      if (wrongKeyFrom()) throw netdbgError("E503", { from: wrongKeyFrom()!, port, target: target.name });
      if (foreignFrom()) throw netdbgError("E512", { name: target.name, expected, seen: foreignFrom()!, port });
      throw e;
    }
    const stop = await kd.breakIn();
    const v = await dbg.exec("version");
    say(v.text);
    const handshake = { from: session.peer, protocolVersion: session.version, stop: describeState(stop), version: v.data };
    if (exec !== undefined) {
      for (const line of exec
        .split(";")
        .map((s) => s.trim())
        .filter(Boolean)) {
        try {
          const r = await dbg.exec(line);
          results.push({ command: line, ok: true, data: r.data ?? r.text });
          if (!json) ctx.out(`kd> ${line}\n${r.text}`);
        } catch (e) {
          const err = e as { code?: string; message?: string; fix?: string };
          if (!err.code?.startsWith("NETDBG-")) throw e;
          results.push({ command: line, ok: false, error: { code: err.code, message: err.message ?? "", fix: err.fix ?? "" } });
          if (!json) process.stderr.write(`${err.message} ${err.fix} [${err.code}]\n`);
          process.exitCode = 1;
        }
      }
    } else {
      // commands shown before the prompt (the demo shows the registers), output as if typed
      for (const line of (opts.before ?? "").split(";").map((x) => x.trim())) {
        if (line) ctx.out(`kd> ${line}\n${(await dbg.exec(line)).text}`);
      }
      await repl(dbg, ctx, say);
    }
    resumed = await dbg.leave();
    if (resumed) say("breakpoints removed; the target runs on");
    if (json && exec !== undefined) {
      ctx.json({ target: target.name, port, handshake, results, resumed, stats: session.stats });
    }
  } finally {
    await session.close();
  }
}

async function repl(dbg: WindowsDebugger, ctx: Context, say: (t: string) => void): Promise<void> {
  const rl = createInterface({
    input: process.stdin,
    output: process.stdout,
    prompt: "kd> ",
    terminal: ctx.isTTY,
    historySize: 1000,
    completer: (l: string) => {
      const hits = COMMAND_NAMES.filter((n) => n.startsWith(l.trim()));
      return [hits.length ? hits : COMMAND_NAMES, l.trim()];
    },
  });
  rl.on("SIGINT", () => {
    if (!dbg.kd.session.stopped) {
      say("breaking in …");
      dbg.kd.breakIn().catch(() => {});
    } else rl.close();
  });
  rl.prompt();
  let busy: Promise<void> = Promise.resolve();
  for await (const line of rl) {
    const l = line.trim();
    if (l === "q" || l === "quit" || l === "exit") break;
    if (l === "break" && !dbg.kd.session.stopped) {
      // Do not queue behind a running 'g': send the break-in now.
      dbg.kd.breakIn().catch(() => {});
      continue;
    }
    busy = busy.then(async () => {
      try {
        const r = await dbg.exec(l);
        if (r.text) ctx.out(r.text);
      } catch (e) {
        const err = e as { code?: string; message?: string; fix?: string };
        if (err.code?.startsWith("NETDBG-")) process.stderr.write(`${err.message} ${err.fix} [${err.code}]\n`);
        else ctx.log.error(`internal error (please report): ${(e as Error)?.stack ?? String(e)}`);
      }
      rl.prompt();
    });
  }
  rl.close();
  // A piped stdin would keep the process alive after 'q'.
  if (!process.stdin.isTTY) process.stdin.destroy();
  // 'q' while the target runs: do not wait for it to stop (closing the session cancels the wait).
  if (dbg.kd.session.stopped) await busy;
}
