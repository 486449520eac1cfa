/**
 * The whole Windows setup path: elevation → probe → plan → apply (journal-first, rollback) → verify.
 * `--check` stops after plan (apply reports every action "skipped" and nothing runs on the target).
 */
import type { JournalStore } from "../../core/journal.js";
import type { Clock } from "../../core/interfaces.js";
import type { Action, StepReport } from "../../core/step.js";
import { planWindowsSetup, type WindowsPlan, type WindowsSetupConfig } from "./plan.js";
import { checkElevation, probeWindows, type WindowsFacts } from "./probe.js";
import type { ScriptRunner } from "./ps.js";
import { applyWindowsPlan, type Verified, verifyWindowsSetup } from "./run.js";

export interface SetupWindowsOptions {
  run: ScriptRunner;
  store: JournalStore;
  clock: Clock;
  config: WindowsSetupConfig;
  check?: boolean;
  kdnetPath?: string;
  /** Called after planning (before anything changes): the UI prints the plan here. */
  onPlan?: (plan: WindowsPlan, facts: WindowsFacts) => void;
  onStart?: (a: Action) => void;
  onDone?: (a: Action, outcome: string) => void;
}

export interface SetupWindowsResult {
  facts: WindowsFacts;
  plan: WindowsPlan;
  report: StepReport;
  verified?: Verified;
}

export async function setupWindows(o: SetupWindowsOptions): Promise<SetupWindowsResult> {
  const cfg = o.config;
  await checkElevation(o.run, cfg.target);
  const facts = await probeWindows(o.run, { exportDir: cfg.exportDir, ...(o.kdnetPath ? { kdnetPath: o.kdnetPath } : {}) });
  const plan = planWindowsSetup(facts, cfg);
  o.onPlan?.(plan, facts);
  const journal = await o.store.load(cfg.target);
  const report = await applyWindowsPlan(plan, {
    target: cfg.target,
    run: o.run,
    journal,
    store: o.store,
    clock: o.clock,
    secrets: [cfg.key],
    ...(o.check ? { check: true } : {}),
    ...(o.onStart ? { onStart: o.onStart } : {}),
    ...(o.onDone ? { onDone: o.onDone } : {}),
  });
  const result: SetupWindowsResult = { facts, plan, report };
  if (!o.check) {
    result.verified = await verifyWindowsSetup(plan, o.run, cfg.target, {
      ...(cfg.noKdnic ? { noKdnic: true } : {}),
      ...(cfg.makeDefault ? { makeDefault: true } : {}),
    });
  }
  return result;
}
