/** Small helpers the checks share: coded errors as outcomes, SSH-dependent facts, memoization. */
import { isNetdbgError, type NetdbgError } from "../core/error.js";
import type { CheckOutcome, DoctorDeps } from "./types.js";

export function fromError(e: NetdbgError, status: "fail" | "warn" = "fail"): CheckOutcome {
  return { status, message: e.message, fix: e.fix, code: e.code };
}

/** Run `fn` once; later calls share the same promise (so one SSH session and one probe serve every check). */
export function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => {
    p ??= fn();
    return p;
  };
}

export const SSH_SKIP = "skipped: needs target.ssh";

/**
 * Facts read over SSH: when the session itself failed, the check is `skip` (target.ssh carries the one failure);
 * when the session is fine but the probe failed, the probe's coded error is the outcome.
 */
export async function withFacts<F>(
  d: DoctorDeps,
  get: (() => Promise<F>) | undefined,
  use: (facts: F) => CheckOutcome | Promise<CheckOutcome>,
): Promise<CheckOutcome> {
  if (!get) return { status: "skip", message: "No way to read the target here (no SSH settings)." };
  if (d.session) {
    try {
      await d.session();
    } catch {
      return { status: "skip", message: SSH_SKIP, needs: "target.ssh" };
    }
  }
  let facts: F;
  try {
    facts = await get();
  } catch (e) {
    if (isNetdbgError(e)) return fromError(e);
    throw e;
  }
  return use(facts);
}

/** Facts if they can be had without failing (for checks that only use them to explain). */
export async function maybe<F>(d: DoctorDeps, get: (() => Promise<F>) | undefined): Promise<F | undefined> {
  if (!get) return undefined;
  try {
    if (d.session) await d.session();
    return await get();
  } catch {
    return undefined;
  }
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
