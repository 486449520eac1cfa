/**
 * `netdbg <args>` in this process through the real CLI entry (src/cli/main.ts), its output captured: the exit code
 * and what it printed. process.exitCode is as it was afterwards (a failing command must not fail the test run).
 */
import { main } from "../../src/cli/main.js";
import { captureOutput } from "./output.js";

export interface MainResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runMain(args: readonly string[]): Promise<MainResult> {
  const captured = captureOutput();
  const before = process.exitCode;
  process.exitCode = undefined;
  try {
    const code = await main(["node", "netdbg", ...args]);
    return { code, stdout: captured.out.join(""), stderr: captured.err.join("") };
  } finally {
    captured.restore();
    process.exitCode = before;
  }
}
