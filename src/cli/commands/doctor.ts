import type { Command } from "commander";
import { netdbgError } from "../../core/error.js";
import { runChecks, worst } from "../../doctor/run.js";
import type { CheckResult } from "../../doctor/types.js";
import { isUdpPortFree } from "../../io/port-probe.js";
import type { Context } from "../context.js";
import { buildDoctorDeps, type DoctorCliOptions } from "../doctor-deps.js";
import { table } from "../output.js";
import { secretStore } from "../secrets.js";

const MARK: Record<CheckResult["status"], string> = { ok: "ok", warn: "WARN", fail: "FAIL", skip: "skip" };

function checkListenSeconds(v: string | undefined): void {
  if (v === undefined) return;
  const n = Number(v);
  if (!(n > 0 && n <= 120)) {
    throw netdbgError("E003", {
      option: "--listen-seconds",
      value: v,
      reason: "not a number of seconds from 0 to 120",
      fix: "Pass e.g. --listen-seconds 6 (KDNET targets poke every ~3 s).",
    });
  }
}

export function register(program: Command, ctx: () => Context): void {
  program
    .command("doctor")
    .description("read-only checks with a verdict and a fix each; exit 1 when any check fails")
    .argument("[target]", "a target name (default: every target in the inventory)")
    .option("--no-ssh", "do not open SSH to the target (target checks are skipped; the firewall check is static)")
    .option("--listen-seconds <s>", "how long to listen for a Windows target's KDNET pokes (default 6)")
    .option("--accept-new-host-key", "trust an SSH host key seen for the first time")
    .action(async (name: string | undefined, opts: DoctorCliOptions) => {
      const c = ctx();
      checkListenSeconds(opts.listenSeconds);
      const inv = await c.inventory.load();
      const targets = name ? [await c.inventory.get(name)] : inv.targets;
      const store = await secretStore(c);
      const reports: { target: string | null; checks: CheckResult[] }[] = [];
      if (targets.length === 0) reports.push({ target: null, checks: await runChecks({ portFree: isUdpPortFree }) });
      for (const t of targets) {
        const built = buildDoctorDeps(c, t, store, opts);
        let results: CheckResult[];
        try {
          results = await runChecks(built.deps);
        } finally {
          await built.close();
        }
        for (const r of results) if (r.status !== "skip") c.log.debug(`${t.name}: ${r.id} ${r.status}`);
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
              shown.map((x) => [
                MARK[x.status],
                x.id,
                x.message,
                x.fix ? `${x.fix}${x.code ? ` [${x.code}]` : ""}${x.doc ? ` (see ${x.doc})` : ""}` : "",
              ]),
              c.color,
            ),
          );
        }
        c.out(`verdict: ${verdict}`);
      }
      if (verdict === "fail") process.exitCode = 1;
    });
}
