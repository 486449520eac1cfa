/**
 * Several netdbg processes at once: N `netdbg targets add` processes started together against one state
 * directory (the built CLI, bin/netdbg.js). Reported: how many targets, distinct ports and keys were left
 * (all must equal N: the inventory lock), how many processes failed, the wall time, and the machine load.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const name = "concurrency";

const N = 32;
const NETDBG = fileURLToPath(new URL("../bin/netdbg.js", import.meta.url));

function add(home: string, i: number): Promise<number> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [NETDBG, "targets", "add", `t${i}`, "--os", "windows", "--address", `192.0.2.${i + 1}`],
      { env: { ...process.env, NETDBG_HOME: home } },
      (err) => resolve(err ? Number((err as { code?: number }).code ?? 1) : 0),
    );
  });
}

export async function run(): Promise<Record<string, unknown>> {
  const home = mkdtempSync(join(tmpdir(), "nd-bench-conc-"));
  try {
    const load = loadavg()[0];
    const t0 = performance.now();
    const codes = await Promise.all(Array.from({ length: N }, (_, i) => add(home, i)));
    const seconds = (performance.now() - t0) / 1000;
    const list = await new Promise<string>((resolve) =>
      execFile(
        process.execPath,
        [NETDBG, "--json", "targets", "list"],
        { env: { ...process.env, NETDBG_HOME: home } },
        (_e, out) => resolve(out),
      ),
    );
    const targets = (JSON.parse(list) as { targets: { port: number }[] }).targets;
    return {
      processes: N,
      failed: codes.filter((c) => c !== 0).length,
      targets: targets.length,
      distinctPorts: new Set(targets.map((t) => t.port)).size,
      keys: readdirSync(join(home, "keys")).length,
      seconds: Number(seconds.toFixed(2)),
      load: Number(load?.toFixed(2)),
    };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
