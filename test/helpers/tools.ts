import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import net from "node:net";

/** Fail (never skip) when a tool the test needs is missing, naming the Debian package that provides it. */
export function requireTool(bin: string, debianPackage: string): string {
  try {
    return execFileSync("sh", ["-c", 'command -v "$1"', "sh", bin], { encoding: "utf8" }).trim();
  } catch {
    throw new Error(`'${bin}' is not installed: apt-get install ${debianPackage} (it is listed in .ci/apt-packages.txt)`);
  }
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freeTcpPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Wait until a child's stderr/stdout shows `pattern` (or fail after `ms`). */
export function waitForOutput(child: ChildProcess, pattern: RegExp, ms = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern} in: ${seen}`)), ms);
    const on = (d: Buffer) => {
      seen += d.toString();
      if (pattern.test(seen)) {
        clearTimeout(timer);
        resolve(seen);
      }
    };
    child.stdout?.on("data", on);
    child.stderr?.on("data", on);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`process exited (${code}) before ${pattern}: ${seen}`));
    });
  });
}

/**
 * The test C program: fills a 1 MiB array with xorshift32 bytes (seed 0x1234567), calls ready(), exits.
 * alarm(120): it never outlives a test run, even when a debugger detaches and lets it go.
 */
export const TEST_PROGRAM = `
#include <unistd.h>
char banner[64] = "netdbg gdbserver test banner";
unsigned char big[1 << 20];
volatile unsigned long counter;
void ready(void) { counter++; }
int main(void) {
  alarm(120);
  unsigned int x = 0x1234567;
  for (unsigned int i = 0; i < sizeof big; i++) { x ^= x << 13; x ^= x >> 17; x ^= x << 5; big[i] = x & 0xff; }
  ready();
  return 0;
}
`;

export interface GdbServer {
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** gdbserver (without --once: it accepts a new connection after one closes) on 127.0.0.1. */
export async function startGdbServer(program: string): Promise<GdbServer> {
  const port = await freeTcpPort();
  const child = spawn("gdbserver", [`127.0.0.1:${port}`, program], { stdio: ["ignore", "pipe", "pipe"] });
  await waitForOutput(child, /Listening on port/);
  return {
    port,
    child,
    stop: async () => {
      if (child.exitCode !== null) return;
      const done = new Promise<void>((r) => child.once("exit", () => r()));
      child.kill("SIGKILL");
      await done;
    },
  };
}

/** Run real gdb in batch mode; returns stdout. */
export function gdbBatch(args: string[], timeoutMs = 60_000): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve) => {
    const child = spawn("gdb", ["-nx", "-q", "-batch", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code });
    });
  });
}

/** Parse gdb `info registers` lines: `rax            0x1c                28`. */
export function parseInfoRegisters(text: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const line of text.split("\n")) {
    const m = /^(\w+)\s+(0x[0-9a-f]+)\s/.exec(line);
    if (m) out.set(m[1]!, BigInt(m[2]!));
  }
  return out;
}

/**
 * Wait until `cond()` holds, polling, or give up after `ms` (the caller then asserts the condition itself, so a
 * timeout shows as the assertion that failed). For effects that travel over lossy links, where retransmission
 * makes the delay variable.
 */
export async function eventually(cond: () => boolean, ms = 10_000, everyMs = 20): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await new Promise((res) => setTimeout(res, everyMs));
}
