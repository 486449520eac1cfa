/** The journey's port step: --port checked and saved, a free port allocated and saved, --check saves nothing. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { setupFleet } from "../../src/cli/commands/setup.js";
import { parseSetupRequest } from "../../src/cli/options.js";
import { createContext } from "../../src/cli/context.js";
import { isNetdbgError } from "../../src/core/error.js";
import type { Target } from "../../src/core/inventory.js";
import type { Context } from "../../src/cli/context.js";
import { ensurePort as portStep, ensurePorts as portsStep } from "../../src/journey/port.js";

const ensurePort = (
  ctx: Context,
  target: Target,
  o: { check?: boolean; port?: string },
  isFree: (p: number) => Promise<boolean>,
) =>
  portStep(
    target,
    { check: Boolean(o.check), ...(o.port ? { port: Number(o.port) } : {}) },
    { inventory: ctx.inventory, log: ctx.log, isFree },
  );
const ensurePorts = (ctx: Context, targets: Target[], o: { check?: boolean }, isFree: (p: number) => Promise<boolean>) =>
  portsStep(targets, { check: Boolean(o.check) }, { inventory: ctx.inventory, log: ctx.log, isFree });

async function ctxWith(targets: Target[]) {
  const ctx = createContext({ stateDir: mkdtempSync(join(tmpdir(), "nd-port-")), json: true });
  await ctx.inventory.update((inv) => {
    inv.targets.push(...targets);
  });
  return ctx;
}

const t = (name: string, port?: number): Target => ({ name, os: "windows", address: "192.0.2.9", ...(port ? { port } : {}) });

describe("the port step", () => {
  it("allocates the first free port no target holds and saves it; --check only says which", async () => {
    const ctx = await ctxWith([t("a", 50000), t("b")]);
    const bound = new Set([50001]);
    const isFree = async (p: number) => !bound.has(p);
    const planned = await ensurePort(ctx, t("b"), { check: true }, isFree);
    expect(planned.port).toBe(50002);
    expect((await ctx.inventory.get("b")).port).toBeUndefined();
    const done = await ensurePort(ctx, t("b"), {}, isFree);
    expect(done.port).toBe(50002);
    expect((await ctx.inventory.get("b")).port).toBe(50002);
  });

  it("a saved port another process holds stops setup before any change (E105, exit 3); --check warns", async () => {
    const ctx = await ctxWith([t("a", 50007)]);
    const err = await ensurePort(ctx, t("a", 50007), {}, async () => false).catch((e: unknown) => e);
    expect(isNetdbgError(err) && err.code).toBe("NETDBG-E105");
    expect(isNetdbgError(err) && err.exitCode).toBe(3);
    expect((err as Error).message).toContain("UDP port 50007");
    const planned = await ensurePort(ctx, t("a", 50007), { check: true }, async () => false);
    expect(planned.port).toBe(50007);
  });

  it("--port is checked (another target's port is refused) and saved", async () => {
    const ctx = await ctxWith([t("a", 50000), t("b", 50010)]);
    const err = await ensurePort(ctx, t("b", 50010), { port: "50000" }, async () => true).catch((e: unknown) => e);
    expect(isNetdbgError(err) && err.code).toBe("NETDBG-E003");
    expect((err as Error).message).toContain("target 'a' already uses it");
    const moved = await ensurePort(ctx, t("b", 50010), { port: "50020" }, async () => true);
    expect(moved.port).toBe(50020);
    expect((await ctx.inventory.get("b")).port).toBe(50020);
  });

  it("a fleet's ports are unique, settled in one write; --port for a fleet is E743", async () => {
    const ctx = await ctxWith([t("a"), t("b", 50001), t("c"), t("d")]);
    const inv = await ctx.inventory.load();
    const ready = await ensurePorts(ctx, inv.targets, {}, async () => true);
    expect(ready.map((x) => x.port)).toEqual([50000, 50001, 50002, 50003]);
    expect((await ctx.inventory.load()).targets.map((x) => x.port)).toEqual([50000, 50001, 50002, 50003]);
    const err = await setupFleet(ctx, inv.targets, parseSetupRequest({ port: "50100" })).catch((e: unknown) => e);
    expect(isNetdbgError(err) && err.code).toBe("NETDBG-E743");
  });
});
