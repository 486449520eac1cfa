import { Listr, type ListrTask, ProcessOutput } from "listr2";
import type { Target } from "../../core/inventory.js";
import { netdbgError } from "../../core/error.js";
import { checks as allChecks } from "../../doctor/index.js";
import { runChecks, worst } from "../../doctor/run.js";
import type { Check, CheckResult } from "../../doctor/types.js";
import type { Context } from "../context.js";
import { buildDoctorDeps, type DoctorRequest } from "../doctor-deps.js";
import { table, terminalWidth } from "../output.js";
import { secretStore } from "../secrets.js";

const MARK: Record<CheckResult["status"], string> = { ok: "ok", warn: "WARN", fail: "FAIL", skip: "skip" };

interface Report {
  target: string;
  checks: CheckResult[];
}

/** A skip the user should see: the check applies but could not run (e.g. "skipped: needs target.ssh"). */
const shownSkip = (r: CheckResult) => r.status === "skip" && r.message !== "Does not apply here.";

/** The doctor's table rows for one target: every verdict, skips that name what they need; the rest under --verbose. */
export function doctorRows(checks: readonly CheckResult[], verbose: boolean): string[][] {
  return checks
    .filter((x) => x.status !== "skip" || shownSkip(x) || verbose)
    .map((x) => [
      MARK[x.status],
      x.id,
      x.message,
      x.fix ? `${x.fix}${x.code ? ` [${x.code}]` : ""}${x.doc ? ` (see ${x.doc})` : ""}` : "",
    ]);
}

/** One target's progress: a line per check that applies, settled as its result comes in (they run at the same time). */
function targetTask(t: Target, shown: readonly Check[], result: (id: string) => Promise<CheckResult>): ListrTask {
  return {
    title: `${t.name} (${t.os}, ${t.address})`,
    task: (_ctx, task) =>
      task.newListr(
        shown.map(
          (ch): ListrTask => ({
            title: ch.title,
            task: async (_x, sub) => {
              const r = await result(ch.id);
              if (r.status === "skip") sub.skip(`${ch.title}: ${r.message}`);
              else sub.title = `${ch.title}: ${MARK[r.status]}`;
            },
          }),
        ),
        { concurrent: true, exitOnError: false },
      ),
  };
}

/** `netdbg doctor [target]`: every check of every target at once, a progress line each, then the verdict table. */
export async function runDoctor(c: Context, name: string | undefined, opts: DoctorRequest): Promise<void> {
  const inv = await c.inventory.load();
  const targets = name ? [await c.inventory.get(name)] : inv.targets;
  if (targets.length === 0) throw netdbgError("E715", {});
  const store = await secretStore(c);
  const runs = targets.map((t) => {
    const built = buildDoctorDeps(c, t, store, opts);
    const settled = new Map<string, { promise: Promise<CheckResult>; resolve: (r: CheckResult) => void }>();
    for (const ch of allChecks) {
      let resolve: (r: CheckResult) => void = () => {};
      const promise = new Promise<CheckResult>((r) => {
        resolve = r;
      });
      settled.set(ch.id, { promise, resolve });
    }
    const shown = allChecks.filter((ch) => ch.applies(built.deps));
    // without a terminal, one plain line per finished check (stderr: stdout carries the verdict table)
    const line = (r: CheckResult) => {
      if (c.renderer === "simple" && (r.status !== "skip" || shownSkip(r)))
        c.log.info(`doctor ${t.name}: ${r.id} ${r.status === "skip" ? r.message : MARK[r.status]}`);
    };
    const done = runChecks(built.deps, allChecks, {
      done: (r) => {
        settled.get(r.id)?.resolve(r);
        line(r);
      },
    })
      .finally(() => built.close())
      .then((checks): Report => {
        for (const r of checks) if (r.status !== "skip") c.log.debug(`${t.name}: ${r.id} ${r.status}`);
        return { target: t.name, checks };
      });
    // progress lines never wait forever: a failed run settles every line
    done
      .catch(() => {})
      .finally(() => {
        for (const ch of allChecks)
          settled.get(ch.id)!.resolve({ id: ch.id, title: ch.title, status: "skip", message: "not run" });
      });
    return { t, shown, done, result: (id: string) => settled.get(id)!.promise };
  });
  if (c.renderer === "default") {
    await new Listr(
      runs.map((r) => targetTask(r.t, r.shown, r.result)),
      {
        concurrent: true,
        exitOnError: false,
        renderer: c.renderer,
        collectErrors: false,
        // progress goes to stderr: stdout carries the verdict table
        rendererOptions: { collapseSubtasks: false, collapseSkips: false },
        processOutput: new ProcessOutput(process.stderr, process.stderr),
      } as ConstructorParameters<typeof Listr>[1],
    ).run();
  }
  const reports = await Promise.all(runs.map((r) => r.done));
  const verdict = worst(reports.flatMap((r) => r.checks));
  if (c.opts.json) c.json({ verdict, reports });
  else {
    const width = c.opts.verbose ? undefined : terminalWidth();
    for (const r of reports) {
      c.out(`${r.target}:`);
      c.out(table(["", "check", "verdict", "fix"], doctorRows(r.checks, Boolean(c.opts.verbose)), c.color, width));
    }
    c.out(`verdict: ${verdict}`);
  }
  if (verdict === "fail") process.exitCode = 1;
}
