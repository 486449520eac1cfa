/**
 * The host-firewall step: probe (read-only) → plan (pure) → apply (skipped with --check) → verify (probe
 * again; every planned rule must now be in place) and undo (= plan "close" and apply it). Idempotent: a
 * second open finds the rule and changes nothing. Doctor can reuse `probe` and `plan` read-only.
 */
import { isNetdbgError, netdbgError } from "../../core/error.js";
import type { CommandRunner, PowerShellRunner } from "../../core/interfaces.js";
import type { ActionReport, StepReport } from "../../core/step.js";
import { display, lastLines } from "../exec.js";
import { type LinuxFirewallFacts, planLinuxClose, planLinuxOpen, probeLinuxFirewall } from "./linux.js";
import { checkRequest, type Exec, type FirewallPlan, type FirewallRequest } from "./types.js";
import { planWindowsClose, planWindowsOpen, probeWindowsFirewall, type WindowsFirewallFacts } from "./windows.js";

export * from "./types.js";

export interface FirewallDeps {
  platform: NodeJS.Platform | string;
  runner?: CommandRunner;
  ps?: PowerShellRunner;
  /** Linux: whether this process may change the firewall (root). Windows reads it from the probe. */
  elevated?: boolean;
}

export type FirewallFacts = { os: "linux"; linux: LinuxFirewallFacts } | { os: "windows"; windows: WindowsFirewallFacts };
export type FirewallOp = "open" | "close";

export interface FirewallOutcome {
  plan: FirewallPlan;
  /** Absent with --check. */
  report?: StepReport;
  /** The plan re-made from a fresh probe after apply (its undo lines carry real handles). */
  after?: FirewallPlan;
}

export class HostFirewallStep {
  constructor(
    readonly req: FirewallRequest,
    private readonly deps: FirewallDeps,
  ) {
    checkRequest(req);
  }

  async probe(): Promise<FirewallFacts> {
    const { platform, runner, ps } = this.deps;
    if (platform === "linux" && runner) return { os: "linux", linux: await probeLinuxFirewall(runner, this.req) };
    if (platform === "win32" && ps) return { os: "windows", windows: await probeWindowsFirewall(ps, this.req) };
    throw netdbgError("E125", { what: "Changing the host firewall", platform: String(platform) });
  }

  plan(facts: FirewallFacts, op: FirewallOp): FirewallPlan {
    if (facts.os === "linux") return op === "open" ? planLinuxOpen(facts.linux, this.req) : planLinuxClose(facts.linux, this.req);
    return op === "open" ? planWindowsOpen(facts.windows, this.req) : planWindowsClose(facts.windows, this.req);
  }

  private elevated(facts: FirewallFacts): boolean | undefined {
    return facts.os === "windows" ? facts.windows.elevated : this.deps.elevated;
  }

  private async exec(e: Exec): Promise<void> {
    if (e.kind === "argv") {
      if (!this.deps.runner)
        throw netdbgError("E125", { what: "Running firewall commands", platform: String(this.deps.platform) });
      const [file, ...args] = e.argv;
      const r = await this.deps.runner.run(file!, args);
      if (!(e.okCodes ?? [0]).includes(r.exitCode)) {
        throw netdbgError("E121", { command: display(e.argv), exitCode: r.exitCode, detail: lastLines(r.stderr || r.stdout) });
      }
      return;
    }
    if (!this.deps.ps) throw netdbgError("E125", { what: "Running PowerShell", platform: String(this.deps.platform) });
    const r = await this.deps.ps.invoke(e.script, e.params);
    if (r.exitCode !== 0)
      throw netdbgError("E111", { what: e.what, detail: lastLines(r.stderr || r.stdout) || `exit ${r.exitCode}` });
  }

  /** Run every unsatisfied action in order. Refuses (before any change) when a blocker exists or rights are missing. */
  async apply(plan: FirewallPlan, facts: FirewallFacts): Promise<StepReport> {
    if (plan.blockers.length) throw plan.blockers[0];
    const todo = plan.actions.filter((a) => !a.satisfied);
    if (todo.length && this.elevated(facts) === false) throw netdbgError("E120", { what: todo[0]!.title });
    const actions: ActionReport[] = [];
    for (const a of plan.actions) {
      if (a.satisfied) {
        actions.push({ id: a.id, title: a.title, outcome: "unchanged", command: a.command });
        continue;
      }
      try {
        for (const e of a.exec) await this.exec(e);
        actions.push({ id: a.id, title: a.title, outcome: "changed", command: a.command });
      } catch (err) {
        actions.push({
          id: a.id,
          title: a.title,
          outcome: "failed",
          command: a.command,
          error: isNetdbgError(err) ? err.message : String(err),
        });
        throw err;
      }
    }
    return { changed: actions.some((x) => x.outcome === "changed"), actions };
  }

  /** Probe again: after open every rule is in place; after close none is left. */
  async verify(op: FirewallOp): Promise<FirewallPlan> {
    const facts = await this.probe();
    const again = this.plan(facts, op);
    const left = op === "open" ? again.actions.filter((a) => !a.satisfied) : again.actions;
    if (left.length) {
      throw netdbgError("E123", {
        frontEnd: again.frontEnds.join("+") || "host firewall",
        detail: `${op === "open" ? "still missing" : "still present"}: ${left.map((a) => a.title).join("; ")}`,
      });
    }
    return op === "open" ? again : this.plan(facts, "open");
  }

  /** probe → plan → (apply → verify) unless check. */
  async run(op: FirewallOp, options: { check?: boolean } = {}): Promise<FirewallOutcome> {
    const facts = await this.probe();
    const plan = this.plan(facts, op);
    if (options.check) return { plan };
    const report = await this.apply(plan, facts);
    if (plan.actions.length === 0) return { plan, report };
    const after = await this.verify(op);
    return { plan, report, after };
  }

  /** Remove what netdbg added (teardown). */
  undo(): Promise<FirewallOutcome> {
    return this.run("close");
  }

  /** Read-only status: the open plan says what is in place (satisfied) and what is missing. */
  async status(): Promise<FirewallPlan> {
    return this.plan(await this.probe(), "open");
  }
}
