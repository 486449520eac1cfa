import { execa } from "execa";
import { netdbgError } from "../core/error.js";
import type { CommandResult, CommandRunner, RunOptions } from "../core/ports.js";

/**
 * The real CommandRunner: execa with an argument vector, never a shell. A non-zero exit is a result, not a
 * throw (callers decide what an exit code means); a missing program is NETDBG-E018.
 */
export class ExecaCommandRunner implements CommandRunner {
  constructor(private readonly defaults: { env?: Record<string, string> } = {}) {}

  async run(file: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    const env = { ...this.defaults.env, ...options.env };
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

/** `ip netns exec`'s own failure messages (iproute2 lib/namespace.c, ip/ipnetns.c); it then exits 255. */
const NETNS_EXEC_FAILURE =
  /^(Cannot open network namespace|setting the network namespace|unshare failed|"mount --make-rslave \/" failed|mount of \/sys failed|umount of \/sys failed|Bind \S+ -> \S+ failed|exec of ".*" failed)/m;

/**
 * Runs every command inside a Linux network namespace (`ip netns exec <ns> …`): lab and tests use it.
 * A failure of `ip netns exec` itself (not of the command) is retried twice, then reported as NETDBG-E017,
 * so it is never mistaken for the command's own exit code.
 */
export class NetnsCommandRunner implements CommandRunner {
  constructor(
    private readonly netns: string,
    private readonly inner: CommandRunner = new ExecaCommandRunner(),
  ) {}

  async run(file: string, args: readonly string[], options?: RunOptions): Promise<CommandResult> {
    const argv = ["netns", "exec", this.netns, file, ...args];
    let r: CommandResult | undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      r = await this.inner.run("ip", argv, options);
      if (!(r.exitCode === 255 && NETNS_EXEC_FAILURE.test(r.stderr))) return r;
      await new Promise((res) => setTimeout(res, 100));
    }
    throw netdbgError("E017", {
      command: ["ip", ...argv].join(" "),
      exitCode: 255,
      stderrTail: (r?.stderr ?? "").trim().slice(-300),
    });
  }
}

/** Run a program on this terminal (stdin, stdout and stderr inherited, as `netdbg lab ssh` does); its exit code. */
export async function runOnTerminal(file: string, args: readonly string[]): Promise<number> {
  const r = await execa(file, args, { stdio: "inherit", reject: false });
  return r.exitCode ?? 255;
}
