import { spawnSync } from "node:child_process";

/** Run `netdbg <args>` from the sources (tsx) inside a network namespace; returns exit code and output. */
export function netdbgInNetns(ns: string, args: readonly string[]): { status: number; stdout: string; stderr: string } {
  const script = `import("./src/cli/main.ts").then(async (m) => { process.exitCode = await m.main(${JSON.stringify(["node", "netdbg", ...args])}); })`;
  const r = spawnSync("ip", ["netns", "exec", ns, process.execPath, "--import", "tsx", "-e", script], {
    encoding: "utf8",
    env: { ...process.env, NETDBG_HOME: "/nonexistent-nd-host" },
  });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
