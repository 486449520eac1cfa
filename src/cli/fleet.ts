/**
 * Fleets: run one per-target operation over several targets in parallel (bounded), each with its own captured
 * output, and report one summary. One failing target never stops the others.
 */
import { Listr } from "listr2";
import { isNetdbgError } from "../core/error.js";
import type { Target } from "../core/inventory.js";
import { captureContext, type Context } from "./context.js";

export interface FleetOutcome {
  target: string;
  os: string;
  ok: boolean;
  exitCode: number;
  code?: string;
  message: string;
  fix?: string;
  /** What the per-target operation returned (else the last JSON object it printed). */
  result?: unknown;
}

export async function runFleet(
  ctx: Context,
  targets: readonly Target[],
  op: (child: Context, target: Target) => Promise<unknown>,
  opts: { concurrency: number; title: string },
): Promise<FleetOutcome[]> {
  const outcomes: FleetOutcome[] = [];
  const tasks = new Listr(
    targets.map((t) => ({
      title: `${opts.title} ${t.name} (${t.os}, ${t.address})`,
      task: async () => {
        const sink = { out: [] as string[], json: [] as unknown[], log: [] as string[] };
        const child = captureContext(ctx, sink);
        const base = { target: t.name, os: t.os };
        try {
          const value = await op(child, t);
          const result = value !== undefined ? value : sink.json.at(-1);
          outcomes.push({
            ...base,
            ok: true,
            exitCode: 0,
            message: sink.out.at(-1) ?? "done",
            ...(result !== undefined ? { result } : {}),
          });
        } catch (e) {
          const coded = isNetdbgError(e);
          outcomes.push({
            ...base,
            ok: false,
            exitCode: coded ? e.exitCode : 70,
            message: e instanceof Error ? e.message : String(e),
            ...(coded ? { code: e.code, fix: e.fix } : {}),
          });
          throw e; // marks the listr task failed; exitOnError:false keeps the others going
        }
      },
    })),
    {
      concurrent: Math.max(1, opts.concurrency),
      exitOnError: false,
      registerSignalListeners: false,
      renderer: ctx.renderer,
      collectErrors: false,
    },
  );
  await tasks.run().catch(() => {});
  const order = new Map(targets.map((t, i) => [t.name, i]));
  return outcomes.sort((a, b) => order.get(a.target)! - order.get(b.target)!);
}

/** The process exit code of a fleet: 0 when all succeeded, else the most severe failure's code. */
export function fleetExitCode(outcomes: readonly FleetOutcome[]): number {
  const failed = outcomes.filter((o) => !o.ok).map((o) => o.exitCode);
  if (failed.length === 0) return 0;
  if (failed.includes(70)) return 70;
  return Math.max(...failed);
}
