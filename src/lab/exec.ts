import { netdbgError } from "../core/error.js";
import type { CommandResult } from "../core/interfaces.js";
import type { LabDeps } from "./ports.js";

export interface StepRun {
  /** Human name of the step, for errors ("kernel: configure"). */
  step: string;
  /** Append the program's output to this file instead of capturing it (long builds). */
  log?: string;
  /** Run under `nice -n 10` (big builds on a shared machine). */
  nice?: boolean;
  timeoutMs?: number;
  env?: Record<string, string>;
  cwd?: string;
  input?: string;
}

const tail = (s: string, n = 6) => s.trim().split("\n").slice(-n).join(" | ");

/**
 * Run one program of a lab step and throw NETDBG-E602 when it fails. With `log`, output goes to the file
 * through `sh -c 'exec "$@" >>"$NETDBG_LOG" 2>&1'`: the program and its arguments stay an argument vector
 * (positional parameters), nothing is spliced into the shell text.
 */
export async function mustRun(deps: LabDeps, file: string, args: readonly string[], o: StepRun): Promise<CommandResult> {
  const argv = o.nice ? ["nice", "-n", "10", file, ...args] : [file, ...args];
  const env = { ...(o.env ?? {}), ...(o.log ? { NETDBG_LOG: o.log } : {}) };
  const opts = {
    env,
    ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
    ...(o.cwd !== undefined ? { cwd: o.cwd } : {}),
    ...(o.input !== undefined ? { input: o.input } : {}),
  };
  deps.log.debug(`lab: ${argv.join(" ")}`);
  const r = o.log
    ? await deps.runner.run("sh", ["-c", 'exec "$@" >>"$NETDBG_LOG" 2>&1', "sh", ...argv], opts)
    : await deps.runner.run(argv[0]!, argv.slice(1), opts);
  if (r.exitCode !== 0) {
    let detail = `exited with code ${r.exitCode}`;
    if (o.log) {
      const text = await deps.fs.readText(o.log).catch(() => "");
      if (text) detail += `: ${tail(text)}`;
    } else if (r.stderr.trim() || r.stdout.trim()) detail += `: ${tail(r.stderr.trim() || r.stdout)}`;
    throw netdbgError("E602", { step: o.step, command: argv.join(" "), detail, log: o.log ?? "the output above" });
  }
  return r;
}
