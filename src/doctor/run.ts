import { checks as allChecks } from "./index.js";
import { type Check, type CheckResult, type DoctorDeps, docPath } from "./types.js";

/** Run every applicable check; a check that throws is reported as a failure, never hides the others. */
export async function runChecks(deps: DoctorDeps, checks: readonly Check[] = allChecks): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const c of checks) {
    if (!c.applies(deps)) {
      results.push({ id: c.id, title: c.title, status: "skip", message: "Does not apply here.", doc: docPath(c.id) });
      continue;
    }
    try {
      results.push({ id: c.id, title: c.title, ...(await c.run(deps)), doc: docPath(c.id) });
    } catch (e) {
      results.push({
        id: c.id,
        title: c.title,
        status: "fail",
        message: `The check itself failed: ${e instanceof Error ? e.message : String(e)}`,
        fix: "This is a bug in netdbg's doctor; please report it with the output of 'netdbg doctor --verbose'.",
        doc: docPath(c.id),
      });
    }
  }
  return results;
}

export function worst(results: readonly CheckResult[]): "ok" | "warn" | "fail" {
  if (results.some((r) => r.status === "fail")) return "fail";
  if (results.some((r) => r.status === "warn")) return "warn";
  return "ok";
}
