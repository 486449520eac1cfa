import { netdbgError } from "../core/error.js";
import type { CommandResult, CommandRunner, RunOptions } from "../core/interfaces.js";

/**
 * execa, loaded on first use: it is some 120 ES modules (~130 ms of a 2-core machine's start-up), and most commands
 * (the demo, connect, a Windows setup over SSH) never run a program on this host.
 */
export async function loadExeca(): Promise<typeof import("execa").execa> {
  return (await import("execa")).execa;
}

/**
 * The real CommandRunner: execa with an argument vector, never a shell. A non-zero exit is a result, not a
 * throw (callers decide what an exit code means); a missing program is NETDBG-E018.
 */
export class ExecaCommandRunner implements CommandRunner {
  constructor(private readonly defaults: { env?: Record<string, string> } = {}) {}

  async run(file: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    const env = { ...this.defaults.env, ...options.env };
    const execa = await loadExeca();
    const r = await execa(file, [...args], {
      shell: false,
      reject: false,
      stripFinalNewline: false,
      ...(options.input === undefined ? { stdin: "ignore" as const } : { input: options.input }),
      ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
      ...(Object.keys(env).length ? { env } : {}),
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    });
    const code = (r as { code?: string }).code;
    if (r.failed && code === "ENOENT") throw netdbgError("E018", { tool: file });
    if (r.timedOut) {
      throw netdbgError("E017", {
        command: [file, ...args].join(" "),
        exitCode: "timeout",
        stderrTail: String(r.stderr).slice(-300),
      });
    }
    if (r.exitCode === undefined) {
      // killed by a signal or failed to spawn for another reason
      throw netdbgError("E017", {
        command: [file, ...args].join(" "),
        exitCode: r.signal ?? code ?? "unknown",
        stderrTail: String(r.stderr ?? r.message).slice(-300),
      });
    }
    return { stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode };
  }
}

/** Run a program on this terminal (stdin, stdout and stderr inherited, as `netdbg lab ssh` does); its exit code. */
export async function runOnTerminal(file: string, args: readonly string[]): Promise<number> {
  const execa = await loadExeca();
  const r = await execa(file, args, { stdio: "inherit", reject: false });
  return r.exitCode ?? 255;
}
