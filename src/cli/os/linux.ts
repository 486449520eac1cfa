import type { Target } from "../../core/inventory.js";
import type { Context } from "../context.js";
import { notAvailable } from "../commands/not-available.js";
import { type ConnectOptions, runLinuxConnect } from "../debugger/linux-connect.js";

/**
 * The linux half of setup / teardown / connect. The commands in ../commands dispatch here by target.os.
 * `opts` are the parsed command options (see commands/setup.ts for the flags).
 */
export async function setup(_ctx: Context, _target: Target, _opts: Record<string, unknown>): Promise<void> {
  notAvailable(
    "Setting up a linux target",
    "Set it up by hand for now (docs/), or follow the project's issues; nothing was changed.",
  );
}

export async function teardown(_ctx: Context, _target: Target, _opts: Record<string, unknown>): Promise<void> {
  notAvailable("Tearing down a linux target");
}

export async function connect(ctx: Context, target: Target, opts: Record<string, unknown>): Promise<void> {
  await runLinuxConnect(ctx, target, opts as ConnectOptions);
}
