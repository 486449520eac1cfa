/**
 * The one way tests run netdbg as a separate process: the built CLI (bin/netdbg.js → dist, as a user runs it) or
 * the source (node --import tsx test/helpers/cli-entry.ts), with its own state dir, no TTY, real sockets. Tests
 * that must watch or signal the child take `spawnCli`'s process; the rest await `runCli` / `runCliSource`.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The built CLI's entry, as `npx netdbg` runs it. */
export const BIN = fileURLToPath(new URL("../../bin/netdbg.js", import.meta.url));
/** The source entry (tsx). */
export const SRC_ENTRY = fileURLToPath(new URL("./cli-entry.ts", import.meta.url));

export interface CliResult {
  stdout: string;
  stderr: string;
  /** The exit code; null when a signal ended the child (runCliSource only: runCli reports 1). */
  code: number | null;
}

export interface CliOptions {
  /** NETDBG_HOME (runCli: "" when not given, so the user's own state is never read). */
  home?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  timeoutMs?: number;
}

/** Start `netdbg <args>` from `from` ("dist": the built CLI, "src": the source). */
export function spawnCli(args: readonly string[], from: "dist" | "src", o: CliOptions = {}): ChildProcessWithoutNullStreams {
  const argv = from === "dist" ? [BIN, ...args] : ["--import", "tsx", SRC_ENTRY, ...args];
  const home = o.home ?? (from === "dist" ? "" : undefined);
  return spawn(process.execPath, argv, {
    env: { ...process.env, ...(home !== undefined ? { NETDBG_HOME: home } : {}), NO_COLOR: "1", ...o.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
}

function collect(child: ChildProcessWithoutNullStreams, o: CliOptions): Promise<CliResult> {
  return new Promise((resolve) => {
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), o.timeoutMs ?? 60_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(o.input ?? "");
  });
}

/** Run the built CLI as a user would. */
export async function runCli(args: string[], o: CliOptions = {}): Promise<CliResult & { code: number }> {
  const r = await collect(spawnCli(args, "dist", o), o);
  return { ...r, code: r.code ?? 1 };
}

/** Run the CLI from source (no build needed; real stdin/stdout, real sockets). */
export function runCliSource(args: string[], o: CliOptions = {}): Promise<CliResult> {
  return collect(spawnCli(args, "src", o), o);
}

export function tempHome(prefix = "netdbg-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A NETDBG_HOME with an inventory holding the given targets. */
export function stateDirWith(targets: Record<string, unknown>[], prefix = "rsp-cli-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const yaml = `version: 1\ntargets:\n${targets.map((t) => `  - ${JSON.stringify(t)}`).join("\n")}\n`;
  writeFileSync(join(dir, "targets.yaml"), yaml);
  return dir;
}
