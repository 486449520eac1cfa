import type { Command } from "commander";
import { runChecks, worst } from "../../doctor/run.js";
import type { CheckResult, DoctorDeps } from "../../doctor/types.js";
import { isUdpPortFree } from "../../io/port-probe.js";
import type { Context } from "../context.js";
import { table } from "../output.js";
import { secretStore } from "../secrets.js";
import { runHostRoute } from "./host.js";

const MARK: Record<CheckResult["status"], string> = { ok: "ok", warn: "WARN", fail: "FAIL", skip: "skip" };

export function register(program: Command, ctx: () => Context): void {
  program
    .command("doctor")
    .description("read-only checks with a verdict and a fix each; exit 1 when any check fails")
    .argument("[target]", "a target name (default: every target in the inventory)")
    .action(async (name: string | undefined) => {
      const c = ctx();
      const inv = await c.inventory.load();
      const targets = name ? [await c.inventory.get(name)] : inv.targets;
      const store = await secretStore(c);
      const reports: { target: string | null; checks: CheckResult[] }[] = [];
      if (targets.length === 0) reports.push({ target: null, checks: await runChecks({ portFree: isUdpPortFree }) });
      for (const t of targets) {
        const deps: DoctorDeps = {
          target: t,
          route: async () => {
            const rep = await runHostRoute(c, t.address);
            return rep.candidates[0]!;
          },
          portFree: isUdpPortFree,
          storedKey: () => store.get(t.name),
        };
        const results = await runChecks(deps);
        results
          .filter((r) => r.status !== "skip")
          .forEach((r) => {
            c.log.debug(`${t.name}: ${r.id} ${r.status}`);
          });
        reports.push({ target: t.name, checks: results });
      }
      const verdict = worst(reports.flatMap((r) => r.checks));
      if (c.opts.json) c.json({ verdict, reports });
      else {
        for (const r of reports) {
          if (r.target) c.out(`${r.target}:`);
          const shown = r.checks.filter((x) => x.status !== "skip" || c.opts.verbose);
          c.out(
            table(
              ["", "check", "verdict", "fix"],
              shown.map((x) => [MARK[x.status], x.id, x.message, x.fix ? `${x.fix}${x.code ? ` [${x.code}]` : ""}` : ""]),
              c.color,
            ),
          );
        }
        c.out(`verdict: ${verdict}`);
      }
      if (verdict === "fail") process.exitCode = 1;
    });
}
