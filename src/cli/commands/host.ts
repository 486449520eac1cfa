import type { Command } from "commander";
import { ipVersion } from "../../core/ip.js";
import type { Target } from "../../core/inventory.js";
import { isNetdbgError } from "../../core/error.js";
import { type HostRoute, type HostRouteReport, hostRoute } from "../../host/route.js";
import { ExecaCommandRunner } from "../../io/command-runner.js";
import { SystemNetProbe } from "../../io/net-probe.js";
import { NodePowerShellRunner } from "../../io/powershell.js";
import type { Context } from "../context.js";

/** A target name from the inventory, or an address / DNS name as typed. */
export async function resolveQuery(ctx: Context, query: string): Promise<{ address: string; target?: Target }> {
  if (ipVersion(query.split("%")[0] ?? query) !== 0) return { address: query };
  try {
    const target = await ctx.inventory.get(query);
    return { address: target.address, target };
  } catch (e) {
    if (isNetdbgError(e) && e.code === "NETDBG-E005") return { address: query };
    throw e;
  }
}

function describe(r: HostRoute): string {
  const parts = [`local ${r.localAddress}`];
  if (r.interface) parts.push(`dev ${r.interface}`);
  if (r.gateway) parts.push(`via ${r.gateway}`);
  if (r.mtu !== undefined) parts.push(`mtu ${r.mtu}`);
  parts.push(r.medium + (r.linkKind && r.linkKind !== r.medium ? ` (${r.linkKind})` : ""));
  parts.push(r.wired === true ? "wired" : r.wired === false ? "not wired" : "wired: unknown");
  return `${r.address}: ${parts.join(", ")}`;
}

export async function runHostRoute(ctx: Context, query: string): Promise<HostRouteReport> {
  const { address, target } = await resolveQuery(ctx, query);
  const ps = process.platform === "win32" ? new NodePowerShellRunner() : undefined;
  try {
    const report = await hostRoute(
      address,
      { net: new SystemNetProbe(), platform: process.platform, runner: new ExecaCommandRunner(), ...(ps ? { ps } : {}) },
      target?.port ?? 50000,
    );
    return target ? { ...report, query: `${target.name} (${address})` } : report;
  } finally {
    await ps?.dispose();
  }
}

export function register(program: Command, ctx: () => Context): void {
  const host = program
    .command("host")
    .description("show the local address, interface and route this machine uses to reach a target")
    .argument("[target]", "a target name, IP address or DNS name (default: every target in the inventory)")
    .action(async (query: string | undefined) => {
      const c = ctx();
      const queries = query ? [query] : (await c.inventory.load()).targets.map((t) => t.name);
      if (queries.length === 0) {
        c.log.info("No targets in the inventory; showing the route to 127.0.0.1. Pass a target, IP address or DNS name.");
        queries.push("127.0.0.1");
      }
      const reports: HostRouteReport[] = [];
      for (const q of queries) reports.push(await runHostRoute(c, q));
      if (c.opts.json) {
        c.json(query ? reports[0] : { reports });
        return;
      }
      for (const rep of reports) {
        c.out(rep.candidates.length > 1 ? `${rep.query}: ${rep.candidates.length} candidates` : rep.query);
        for (const r of rep.candidates) {
          c.out(`  ${describe(r)}`);
          for (const w of r.warnings) c.out(`  warning (${w.kind}): ${w.message}`);
        }
      }
    });
  registerFirewall(host, ctx);
}

function registerFirewall(_host: Command, _ctx: () => Context): void {}
