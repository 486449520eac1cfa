import { checks as allChecks } from "./index.js";
import { type Check, type CheckResult, type DoctorDeps, docPath } from "./types.js";

/** What a caller hears while the checks run (the CLI's progress lines). */
export interface CheckHooks {
  /** The check starts now (its `after` checks are done). */
  start?(check: Check): void;
  done?(result: CheckResult): void;
}

function crashed(c: Check, e: unknown): CheckResult {
  return {
    id: c.id,
    title: c.title,
    status: "fail",
    message: `The check itself failed: ${e instanceof Error ? e.message : String(e)}`,
    fix: "This is a bug in netdbg's doctor; please report it with this output and 'netdbg --version'.",
    doc: docPath(c.id),
  };
}

/**
 * Run every applicable check. Independent checks run at the same time (they share one memoized SSH session and
 * one probe of the target); a check waits only for the checks it names in `after` (a shared port, the SSH login)
 * and is skipped, saying so, when the check it `needs` failed. A check that throws is reported as a failure and
 * never hides the others. Results come back in the list's order.
 */
export async function runChecks(
  deps: DoctorDeps,
  checks: readonly Check[] = allChecks,
  hooks: CheckHooks = {},
): Promise<CheckResult[]> {
  const running = new Map<string, Promise<CheckResult>>();
  const byId = new Map(checks.map((c) => [c.id, c]));
  const resultOf = (id: string): Promise<CheckResult> | undefined => {
    const c = byId.get(id);
    return c ? start(c) : undefined;
  };
  function start(c: Check): Promise<CheckResult> {
    let p = running.get(c.id);
    if (p) return p;
    p = (async (): Promise<CheckResult> => {
      if (!c.applies(deps))
        return { id: c.id, title: c.title, status: "skip", message: "Does not apply here.", doc: docPath(c.id) };
      const waitFor = [...(c.after ?? []), ...(c.needs ? [c.needs] : [])];
      const before = await Promise.all(waitFor.map((id) => resultOf(id)));
      if (c.needs) {
        const needed = before.at(-1);
        if (needed && needed.status === "fail") {
          return {
            id: c.id,
            title: c.title,
            status: "skip",
            message: `skipped: needs ${c.needs}`,
            needs: c.needs,
            doc: docPath(c.id),
          };
        }
      }
      hooks.start?.(c);
      try {
        return { id: c.id, title: c.title, ...(await c.run(deps)), doc: docPath(c.id) };
      } catch (e) {
        return crashed(c, e);
      }
    })().then((r) => {
      hooks.done?.(r);
      return r;
    });
    running.set(c.id, p);
    return p;
  }
  return Promise.all(checks.map(start));
}

export function worst(results: readonly CheckResult[]): "ok" | "warn" | "fail" {
  if (results.some((r) => r.status === "fail")) return "fail";
  if (results.some((r) => r.status === "warn")) return "warn";
  return "ok";
}
