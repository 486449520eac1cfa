import { spawnSync } from "node:child_process";
import type { NetnsPair } from "./netns.js";

/** Run `netdbg <args>` from the sources (tsx) inside the pair's host namespace; returns exit code and output. */
export function netdbgInNetns(pair: NetnsPair, args: readonly string[]): { status: number; stdout: string; stderr: string } {
  const script = `import("./src/cli/main.ts").then(async (m) => { process.exitCode = await m.main(${JSON.stringify(["node", "netdbg", ...args])}); })`;
  const [file, ...rest] = pair.hostArgv(process.execPath, "--import", "tsx", "-e", script);
  const r = spawnSync(file!, rest, { encoding: "utf8", env: { ...process.env, NETDBG_HOME: "/nonexistent-nd-host" } });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
