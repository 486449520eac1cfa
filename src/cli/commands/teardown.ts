import type { Command } from "commander";
import type { Target } from "../../core/inventory.js";
import type { JournalStore } from "../../core/journal.js";
import type { Context } from "../context.js";
import type { HostFirewallPort, TargetTeardownResult } from "../journey.js";
import { osModule } from "./lazy.js";

export interface TeardownDeps {
  firewall?: HostFirewallPort;
  store?: JournalStore;
  /** The OS half, given the journal's target view (default: src/cli/os/<os>.ts); it returns its result as data. */
  os?: (ctx: Context, target: Target, opts: Record<string, unknown>, store: JournalStore) => Promise<TargetTeardownResult>;
}

const defaultOs = async (c: Context, t: Target, o: Record<string, unknown>, store: JournalStore) =>
  (await osModule(t.os)).teardown(c, t, o, { journalStore: () => store });

/**
 * Teardown of one target, the journal replayed newest first: refuse when it was written for another OS or
 * address (E741); the OS undoes the target's entries (it sees only those: targetView); then the host
 * firewall entries, which setup made first, are closed with their exact undo. `--json` prints one object.
 */
export async function teardownTarget(
  ctx: Context,
  target: Target,
  opts: Record<string, unknown>,
  deps: TeardownDeps = {},
): Promise<void> {
  const check = Boolean(opts.check);
  const { checkJournalMatches, closeHostFirewall, systemHostFirewall, targetView } = await import("../journey.js");
  const store = deps.store ?? new (await import("../../io/journal-store.js")).FileJournalStore(ctx.paths.journals);
  if (check && !opts.restoreExport && (await store.load(target.name)).entries.length === 0) {
    // nothing recorded: say so without opening SSH (a plan of nothing needs no target)
    const note = `Nothing is recorded for '${target.name}' (no change journal at ${store.locate(target.name)}): netdbg made no change there to undo.`;
    if (ctx.opts.json) ctx.json({ target: target.name, os: target.os, check, changed: false, actions: [], notes: [note] });
    else ctx.out(note);
    return;
  }
  await checkJournalMatches(store, target);
  const osResult = await (deps.os ?? defaultOs)(ctx, target, opts, targetView(store));
  const host = await closeHostFirewall({ target: target.name, store, check, firewall: deps.firewall ?? systemHostFirewall() });
  for (const n of host.notes) ctx.log.warn(n);
  if (ctx.opts.json) {
    const targetActions = osResult.actions.map((a) => ({ where: "target", ...a }));
    ctx.json({
      ...osResult,
      changed: osResult.changed || host.actions.some((a) => a.outcome === "changed"),
      actions: [...targetActions, ...host.actions],
      notes: host.notes,
    });
    return;
  }
  if (host.actions.length && check) ctx.out("Host firewall undo — nothing below was run:");
  for (const a of host.actions) ctx.out(`${check ? "would run" : a.outcome}: ${a.command}  (host)`);
}

/** `netdbg teardown <target>`: undo every recorded change, host firewall included. */
export function register(program: Command, ctx: () => Context): void {
  program
    .command("teardown")
    .description("undo every change netdbg made to a target and this host's firewall, from the target's change journal")
    .argument("<target>", "inventory target name")
    .option("--check", "print the undo plan, change nothing")
    .option("--accept-new-host-key", "trust an SSH host key seen for the first time")
    .option("--restore-export <file>", "Windows: restore the BCD store exported before setup (when the journal is lost)")
    .option("--via <transport>", "Windows: reach the target over ssh (default) or winrm (Invoke-Command; netdbg on Windows)")
    .option(
      "--winrm-credential <file>",
      "Windows, --via winrm: log on with the PSCredential saved by 'Get-Credential | Export-Clixml <file>' (needed outside a domain)",
    )
    .option("--winrm-user <user>", "Windows, --via winrm: log on as this account; its password is asked on the terminal")
    .option(
      "--wait <seconds>",
      "when another netdbg is setting up or tearing down this target, wait this long for it (default: stop at once, E016)",
    )
    .action(async (name: string, opts: Record<string, unknown>) => {
      const c = ctx();
      const target = await c.inventory.get(name);
      const { withTargetLock } = await import("../target-lock.js");
      await withTargetLock(c, name, "teardown", opts, () => teardownTarget(c, target, opts));
    });
}
