import type { Target } from "../../core/inventory.js";
import type { Context } from "../context.js";
import { type ConnectOptions, runLinuxConnect } from "../debugger/linux-connect.js";
import type { TargetTeardownResult } from "../journey.js";
import { type LinuxCliDeps, linuxSetup, linuxTeardownResult } from "./linux-setup.js";

/**
 * The linux half of setup / teardown / connect. The commands in ../commands dispatch here by target.os.
 * `opts` are the parsed command options (see commands/setup.ts for the flags).
 */
export async function setup(ctx: Context, target: Target, opts: Record<string, unknown>): Promise<void> {
  await linuxSetup(ctx, target, opts);
}

/** The target's half of a teardown, as data (prints text lines only, never --json). */
export async function teardown(
  ctx: Context,
  target: Target,
  opts: Record<string, unknown>,
  deps: LinuxCliDeps = {},
): Promise<TargetTeardownResult> {
  return linuxTeardownResult(ctx, target, opts, deps);
}

export async function connect(ctx: Context, target: Target, opts: Record<string, unknown>): Promise<void> {
  await runLinuxConnect(ctx, target, opts as ConnectOptions);
}
