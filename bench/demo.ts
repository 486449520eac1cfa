/**
 * `demo`: wall time of `netdbg demo --json` (no TTY) as a user runs it — process start, both built-in targets,
 * setup over real SSH, the Windows restart and first KDNET poke, connect over KDNET and over the GDB remote
 * protocol on UDP, teardown — median of a few runs, and the demo's own figure (from its start to teardown done).
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export const name = "demo";

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export async function run(runs = 3): Promise<Record<string, unknown>> {
  const bin = fileURLToPath(new URL("../bin/netdbg.js", import.meta.url));
  const wall: number[] = [];
  const inner: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [bin, "--json", "demo"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    wall.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.status !== 0) throw new Error(`'netdbg --json demo' exited ${r.status}: ${r.stdout || r.stderr}`);
    inner.push((JSON.parse(r.stdout) as { demo: { elapsedMs: number } }).demo.elapsedMs);
  }
  return {
    runs,
    wallMedianMs: Math.round(median(wall)),
    wallMaxMs: Math.round(Math.max(...wall)),
    demoElapsedMedianMs: Math.round(median(inner)),
  };
}
