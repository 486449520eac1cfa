/**
 * Doctor: read-only checks, each ending in a verdict with a fix. A check never changes anything on the host or
 * the target; the facts it needs come in through `DoctorDeps` (real adapters are built by the CLI).
 */
import type { Target } from "../core/inventory.js";
import type { HostRoute } from "../host/route.js";

export type CheckStatus = "ok" | "warn" | "fail" | "skip";

export interface CheckResult {
  id: string;
  title: string;
  status: CheckStatus;
  message: string;
  fix?: string;
  /** The NETDBG-E code whose docs page explains this failure. */
  code?: string;
}

export interface DoctorDeps {
  target?: Target;
  /** The route to the target (host/route.ts), or the error that prevented finding one. */
  route?: () => Promise<HostRoute>;
  /** Whether the target's debug port can be bound on this host right now. */
  portFree?: (port: number) => Promise<boolean>;
  /** The target's stored KDNET key text, if any. */
  storedKey?: () => Promise<string | undefined>;
}

export interface Check {
  id: string;
  title: string;
  /** Whether the check means anything for this target (e.g. Windows-only checks). */
  applies(deps: DoctorDeps): boolean;
  run(deps: DoctorDeps): Promise<Omit<CheckResult, "id" | "title">>;
}
