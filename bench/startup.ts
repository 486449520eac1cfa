/** `startup`: cold start of `netdbg --help` against `node -e 0`, median of runs (compile cache as users get it). */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { median } from "./_median.js";

export const name = "startup";

function time(args: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: "ignore" });
  if (r.status !== 0) throw new Error(`'node ${args.join(" ")}' exited ${r.status}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

export async function run(runs = 15): Promise<Record<string, unknown>> {
  const bin = fileURLToPath(new URL("../bin/netdbg.js", import.meta.url));
  time([bin, "--help"]); // warm the compile cache and the page cache once
  const netdbg: number[] = [];
  const node: number[] = [];
  for (let i = 0; i < runs; i++) {
    node.push(time(["-e", "0"]));
    netdbg.push(time([bin, "--help"]));
  }
  const a = median(netdbg);
  const b = median(node);
  return { runs, netdbgHelpMs: Number(a.toFixed(1)), nodeBaselineMs: Number(b.toFixed(1)), ratio: Number((a / b).toFixed(2)) };
}
