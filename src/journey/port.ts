/**
 * The sequence's port step: the host UDP port the target sends to (KDNET) or netdbg binds (the RSP check,
 * connect), unique across the inventory and free on this host. Every check-and-save is one locked inventory
 * update, so two netdbg processes (or a fleet's targets) can never take the same port.
 */
import { netdbgError } from "../core/error.js";
import type { Inventory, Target } from "../core/inventory.js";
import type { InventoryPort, Logger } from "../core/interfaces.js";
import { udpPortHolder } from "../engine/transport/port-holder.js";
import { allocatePort, claimPort, type PortProbe } from "../host/port-alloc.js";

export interface PortStepDeps {
  inventory: InventoryPort;
  log: Logger;
  /** Whether a UDP port can be bound on this host now. */
  isFree: PortProbe;
}

/**
 * One target: `port` (the flag, already parsed) is checked (no other target holds it, not bound here) and
 * saved; a target without a port gets the first free one of the default range, saved (with `check` only shown);
 * a saved port must be free now (E105: a debugger or a stray netdbg holding it fails every later step).
 */
export async function ensurePort(target: Target, o: { port?: number; check: boolean }, deps: PortStepDeps): Promise<Target> {
  const { check } = o;
  const isFree = deps.isFree;
  if (o.port !== undefined) {
    const wanted = o.port;
    if (wanted === target.port) return target;
    if (check) return { ...target, port: await claimPort(await deps.inventory.load(), wanted, isFree, target.name) };
    // checked and saved in one locked update: two processes cannot both claim it
    const port = await deps.inventory.update(async (inv) => {
      const p = await claimPort(inv, wanted, isFree, target.name);
      const t = inv.targets.find((x) => x.name === target.name);
      if (t) t.port = p;
      return p;
    });
    return { ...target, port };
  }
  if (target.port !== undefined) {
    if (!(await isFree(target.port))) {
      const holder = udpPortHolder(target.port);
      const e = netdbgError("E105", {
        port: target.port,
        address: "0.0.0.0",
        reason: "EADDRINUSE",
        ...(holder ? { holder } : {}),
      });
      if (check) deps.log.warn(e.message);
      else throw e;
    }
    return target;
  }
  if (check) {
    const port = await allocatePort(await deps.inventory.load(), isFree, target.name);
    deps.log.info(`'${target.name}' has no host UDP port: setup would take ${port} (the first free one) and save it.`);
    return { ...target, port };
  }
  // allocated and saved in one locked inventory update, so a port another netdbg process takes meanwhile is seen
  const { port, fresh } = await deps.inventory.update(async (inv) => {
    const held = inv.targets.find((x) => x.name === target.name);
    if (held?.port !== undefined) return { port: held.port, fresh: false };
    const p = await allocatePort(inv, isFree, target.name);
    if (held) held.port = p;
    return { port: p, fresh: true };
  });
  if (fresh) deps.log.info(`Host UDP port ${port} allocated for '${target.name}' and saved in the inventory.`);
  return { ...target, port };
}

/** A fleet: every target's port settled in ONE inventory write (unique across the fleet and the inventory). */
export async function ensurePorts(targets: readonly Target[], o: { check: boolean }, deps: PortStepDeps): Promise<Target[]> {
  const run = async (inv: Inventory) => {
    const out: Target[] = [];
    for (const t of targets) {
      const held = inv.targets.find((x) => x.name === t.name);
      const port = held?.port ?? t.port ?? (await allocatePort(inv, deps.isFree, t.name));
      if (held && held.port === undefined) held.port = port;
      out.push({ ...t, port });
    }
    return out;
  };
  if (o.check) return run(await deps.inventory.load());
  return deps.inventory.update(run);
}
