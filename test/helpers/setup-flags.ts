/**
 * setup / teardown of one target as their commands run them: the flags parsed once (src/cli/options.ts), then
 * the typed request handed to setup-run (the same path the action, the wizard, the fleet and the demo take).
 */
import type { Target } from "../../src/core/inventory.js";
import type { Context } from "../../src/cli/context.js";
import type { CliDeps } from "../../src/cli/journey-deps.js";
import { parseSetupRequest, parseTeardownRequest } from "../../src/cli/options.js";
import { setupTarget, teardownTarget } from "../../src/cli/setup-run.js";

export const setupFromFlags = async (ctx: Context, target: Target, flags: Record<string, unknown>, deps?: CliDeps) =>
  setupTarget(ctx, target, parseSetupRequest(flags), deps);

export const teardownFromFlags = async (ctx: Context, target: Target, flags: Record<string, unknown>, deps?: CliDeps) =>
  teardownTarget(ctx, target, parseTeardownRequest(flags), deps);
