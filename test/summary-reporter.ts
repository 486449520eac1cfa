import { existsSync, readdirSync, readFileSync } from "node:fs";
import type { Reporter, TestModule } from "vitest/node";

/**
 * "pwsh executed N of M templates": which of templates/windows/*.ps1 the real PowerShell engine ran during this
 * run (the log is written by src/peers/windows-target/engine.ts, set up by test/global-setup.ts).
 */
function pwshLine(): string | undefined {
  const log = process.env.NETDBG_PWSH_TEMPLATE_LOG;
  if (!log || !existsSync(log)) return undefined;
  const all = readdirSync(new URL("../templates/windows/", import.meta.url))
    .filter((f) => f.endsWith(".ps1"))
    .map((f) => f.replace(/\.ps1$/, ""))
    .sort();
  const ran = new Set(readFileSync(log, "utf8").split("\n").filter(Boolean));
  const done = all.filter((n) => ran.has(n));
  const never = all.filter((n) => !ran.has(n));
  return `pwsh executed ${done.length} of ${all.length} templates${never.length ? ` (never run: ${never.join(", ")})` : ""}`;
}

/**
 * Prints the plain closing line CI reads: `N passed, N failed` (", N skipped" when any were skipped).
 * Skipped tests are never counted as passed.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const m of testModules) {
      for (const t of m.children.allTests()) {
        const state = t.result().state;
        if (state === "passed") passed++;
        else if (state === "failed") failed++;
        else skipped++;
      }
      // A module that failed outside any test (syntax error, throwing import, failing beforeAll) is a failure
      // even though its tests only show as skipped.
      const anyTestFailed = [...m.children.allTests()].some((t) => t.result().state === "failed");
      if (m.state() === "failed" && !anyTestFailed) failed++;
    }
    failed += unhandledErrors.length;
    const pwsh = pwshLine();
    if (pwsh) process.stdout.write(`\n${pwsh}`);
    process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}\n`);
  }
}
