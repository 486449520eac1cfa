import { execa } from "execa";
import type { CommandResult, CommandRunner, RunOptions } from "../core/ports.js";

/**
 * The real CommandRunner: execa with an argument vector, never a shell. A program that cannot be started
 * (ENOENT) comes back as exit code 127 with the reason on stderr, like a shell would report it.
 */
export class ExecaCommandRunner implements CommandRunner {
  async run(file: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    const r = await execa(file, [...args], {
      reject: false,
      stripFinalNewline: false,
      ...(options.input !== undefined ? { input: options.input } : { stdin: "ignore" as const }),
      ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {}),
      ...(options.env !== undefined ? { env: options.env } : {}),
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    });
    const stdout = typeof r.stdout === "string" ? r.stdout : "";
    const stderr = typeof r.stderr === "string" ? r.stderr : "";
    if (r.exitCode === undefined) {
      const reason = r.timedOut ? `timed out after ${options.timeoutMs} ms` : (r.originalMessage ?? r.shortMessage ?? "failed");
      return {
        stdout,
        stderr: stderr || `${file}: ${reason}\n`,
        exitCode: r.failed && (r as { code?: string }).code === "ENOENT" ? 127 : 255,
      };
    }
    return { stdout, stderr, exitCode: r.exitCode };
  }
}
