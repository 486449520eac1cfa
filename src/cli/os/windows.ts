import type { Target } from "../../core/inventory.js";
import type { Context } from "../context.js";
import { connectWindows } from "./windows-connect.js";
import type { TargetTeardownResult } from "../journey.js";
import { type WindowsCliDeps, windowsSetup, windowsTeardownResult } from "./windows-setup.js";

/**
 * The windows half of setup / teardown / connect. The commands in ../commands dispatch here by target.os.
 * `opts` are the parsed command options (see commands/setup.ts for the flags).
 */
export async function setup(ctx: Context, target: Target, opts: Record<string, unknown>): Promise<void> {
  await windowsSetup(ctx, target, opts);
}

/** The target's half of a teardown, as data (prints text lines only, never --json). */
export async function teardown(
  ctx: Context,
  target: Target,
  opts: Record<string, unknown>,
  deps: WindowsCliDeps = {},
): Promise<TargetTeardownResult> {
  return windowsTeardownResult(ctx, target, opts, deps);
}

export async function connect(ctx: Context, target: Target, opts: Record<string, unknown>): Promise<void> {
  await connectWindows(ctx, target, opts);
}
