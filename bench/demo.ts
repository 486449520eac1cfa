/**
 * `demo`: wall time of `netdbg demo --json` (no TTY) as a user runs it — process start, both built-in targets,
 * setup over real SSH, the Windows restart and first KDNET poke, connect over KDNET and over the GDB remote
 * protocol on UDP, teardown — median of a few runs, and the demo's own figure (from its start to teardown done).
 * Twice when pwsh is installed: the Windows scripts in real PowerShell (the default), and in the model's table
 * ($NETDBG_PWSH naming no file).
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { median } from "./_median.js";

export const name = "demo";

/**
 * CPU time (user + system, ms) of this process's finished children and theirs (Linux: /proc/self/stat cutime and
 * cstime), so a run's CPU covers the demo and its pwsh processes; undefined elsewhere.
 */
function childCpuMs(): number | undefined {
  try {
    const f = readFileSync("/proc/self/stat", "utf8").split(") ")[1]!.split(" ");
    return ((Number(f[13]) + Number(f[14])) * 1000) / 100; // clock ticks: 100 per second on Linux
  } catch {
    return undefined;
  }
}

function measure(runs: number, env: NodeJS.ProcessEnv): { wall: number[]; inner: number[]; cpu: number[]; engine: string } {
  const bin = fileURLToPath(new URL("../bin/netdbg.js", import.meta.url));
  const wall: number[] = [];
  const inner: number[] = [];
  const cpu: number[] = [];
  let engine = "";
  for (let i = 0; i < runs; i++) {
    const c0 = childCpuMs();
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [bin, "--json", "demo"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env });
    wall.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const c1 = childCpuMs();
    if (c0 !== undefined && c1 !== undefined) cpu.push(c1 - c0);
    if (r.status !== 0) throw new Error(`'netdbg --json demo' exited ${r.status}: ${r.stdout || r.stderr}`);
    const j = JSON.parse(r.stdout) as {
      demo: { elapsedMs: number };
      windows: { scripts?: { engine: string; version?: string } };
    };
    inner.push(j.demo.elapsedMs);
    engine = [j.windows.scripts?.engine, j.windows.scripts?.version].filter(Boolean).join(" ");
  }
  return { wall, inner, cpu, engine };
}

export async function run(runs = 3): Promise<Record<string, unknown>> {
  const a = measure(runs, process.env);
  const out: Record<string, unknown> = {
    runs,
    windowsScripts: a.engine,
    seconds: Number((median(a.wall) / 1000).toFixed(2)),
    wallMedianMs: Math.round(median(a.wall)),
    wallMaxMs: Math.round(Math.max(...a.wall)),
    demoElapsedMedianMs: Math.round(median(a.inner)),
    // CPU of the demo and its pwsh: on a busy 2-core machine the wall time follows it
    ...(a.cpu.length ? { cpuMedianMs: Math.round(median(a.cpu)) } : {}),
  };
  if (a.engine.startsWith("pwsh")) {
    const t = measure(runs, { ...process.env, NETDBG_PWSH: "/nonexistent/pwsh" });
    out.tableDemoElapsedMedianMs = Math.round(median(t.inner));
    if (t.cpu.length) out.tableCpuMedianMs = Math.round(median(t.cpu));
  }
  return out;
}
