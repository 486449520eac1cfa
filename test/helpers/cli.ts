import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const BIN = new URL("../../bin/netdbg.js", import.meta.url).pathname;

export interface CliResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Run the built CLI (bin/netdbg.js → dist) as a user would, with its own state dir and no TTY. */
export function runCli(
  args: string[],
  opts: { home?: string; env?: Record<string, string>; input?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, NETDBG_HOME: opts.home ?? "", NO_COLOR: "1", ...opts.env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ stdout, stderr, code });
      },
    );
    child.stdin?.end(opts.input ?? "");
  });
}

export function tempHome(prefix = "netdbg-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
