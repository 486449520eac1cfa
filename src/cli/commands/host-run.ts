import { ipVersion } from "../../core/ip.js";
import type { Target } from "../../core/inventory.js";
import { isNetdbgError } from "../../core/error.js";
import { netdbgError } from "../../core/error.js";
import { parsePort } from "../../core/udp-port.js";
import { type FirewallPlan, type FirewallRequest, HostFirewallStep } from "../../host/firewall/index.js";
import { probeIpsec } from "../../host/ipsec.js";
import { candidatesFor, type HostRoute, type HostRouteReport, hostRoute, routeInterface } from "../../host/route.js";
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

/** The flags of `host firewall …` and `host ipsec`, as commander gives them. */
export interface FirewallCliOptions {
  check?: boolean;
  port?: string;
}

/** Those flags parsed (once, before anything is resolved or probed): --port by the one port parser. */
interface FirewallFlags {
  check: boolean;
  port?: number;
}

function parseFirewallFlags(f: FirewallCliOptions): FirewallFlags {
  return { check: Boolean(f.check), ...(f.port !== undefined ? { port: parsePort(f.port, "--port") } : {}) };
}

/** The firewall request for a target name / address: address (DNS resolved), port, route interface. */
async function firewallRequest(c: Context, query: string, opts: FirewallFlags): Promise<FirewallRequest> {
  const { address, target } = await resolveQuery(c, query);
  const net = new SystemNetProbe();
  const addrs = await candidatesFor(address, net);
  const ip = addrs.find((a) => ipVersion(a) === 4) ?? addrs[0]!;
  const port = opts.port ?? target?.port;
  if (port === undefined) throw netdbgError("E124", { target: query });
  const iface =
    process.platform === "linux"
      ? await routeInterface(ip, { net, platform: "linux", runner: new ExecaCommandRunner() }, port)
      : undefined;
  return { address: ip, port, ...(iface ? { interface: iface } : {}) };
}

function planJson(plan: FirewallPlan) {
  return {
    frontEnds: plan.frontEnds,
    summary: plan.summary,
    actions: plan.actions.map((a) => ({
      id: a.id,
      title: a.title,
      command: a.command,
      undo: a.undo,
      satisfied: Boolean(a.satisfied),
    })),
    warnings: plan.warnings,
    blockers: plan.blockers.map((b) => b.toJSON()),
  };
}

function printPlan(c: Context, plan: FirewallPlan, mode: "check" | "status"): void {
  c.out(plan.summary);
  for (const a of plan.actions) {
    if (a.satisfied) c.out(`  in place: ${a.title}\n    ${a.command}`);
    else c.out(`  ${mode === "check" ? "would run" : "missing"}: ${a.title}\n    ${a.command}`);
    if (a.undo) c.out(`    undo: ${a.undo}`);
  }
  for (const w of plan.warnings) c.log.warn(w);
  for (const b of plan.blockers) c.log.warn(`${b.message} ${b.fix} [${b.code}]`);
}

export async function firewallCommand(
  c: Context,
  op: "open" | "close" | "status",
  query: string,
  flags: FirewallCliOptions,
): Promise<void> {
  const opts = parseFirewallFlags(flags);
  const req = await firewallRequest(c, query, opts);
  const ps = process.platform === "win32" ? new NodePowerShellRunner() : undefined;
  try {
    const step = new HostFirewallStep(req, {
      platform: process.platform,
      runner: new ExecaCommandRunner(),
      ...(ps ? { ps } : {}),
      ...(process.getuid ? { elevated: process.getuid() === 0 } : {}),
    });
    if (op === "status") {
      const plan = await step.status();
      const missing = plan.actions.some((a) => !a.satisfied) || plan.blockers.length > 0;
      if (c.opts.json) c.json({ op, request: req, plan: planJson(plan), open: !missing });
      else printPlan(c, plan, "status");
      if (missing) process.exitCode = 1;
      return;
    }
    const out = await step.run(op, { check: opts.check });
    if (c.opts.json) {
      c.json({
        op,
        check: opts.check,
        request: req,
        plan: planJson(out.plan),
        ...(out.report ? { report: out.report } : {}),
        ...(out.after ? { after: planJson(out.after) } : {}),
      });
      return;
    }
    if (opts.check) {
      printPlan(c, out.plan, "check");
      return;
    }
    c.out(out.plan.summary);
    for (const a of out.report?.actions ?? []) c.out(`  ${a.outcome}: ${a.title}\n    ${a.command}`);
    for (const a of out.after?.actions ?? []) if (a.undo && op === "open") c.out(`  undo later with: ${a.undo}`);
    for (const w of out.plan.warnings) c.log.warn(w);
  } finally {
    await ps?.dispose();
  }
}

/** `netdbg host [target]`: the route to each target (or the one named). */
export async function hostCommand(c: Context, query: string | undefined): Promise<void> {
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
}

/** `netdbg host ipsec <target>`. */
export async function ipsecCommand(c: Context, query: string, flags: FirewallCliOptions): Promise<void> {
  const req = await firewallRequest(c, query, parseFirewallFlags(flags));
  const net = new SystemNetProbe();
  const local = await net.localAddressFor(req.address, req.port);
  const ps = process.platform === "win32" ? new NodePowerShellRunner() : undefined;
  try {
    const q = { target: req.address, local, port: req.port };
    const report = await probeIpsec({ platform: process.platform, runner: new ExecaCommandRunner(), ...(ps ? { ps } : {}) }, q);
    if (report.findings.length) process.exitCode = 1;
    if (c.opts.json) {
      c.json({ query: q, ...report });
      return;
    }
    if (!report.readable) c.out(`IPsec policies could not be read. ${report.notes.join(" ")}`);
    else if (report.findings.length === 0)
      c.out(`No IPsec policy requires protection for UDP ${req.port} between ${req.address} and ${local}.`);
    else {
      c.out(`IPsec policies that drop plain UDP ${req.port} between ${req.address} and ${local}:`);
      for (const f of report.findings) c.out(`  ${f.direction}: ${f.rule} (${f.detail})${f.certain ? "" : " [may apply]"}`);
      c.out("Exemption to add:");
      for (const e of report.exemption) c.out(`  ${e}`);
      for (const n of report.notes) c.out(`note: ${n}`);
    }
  } finally {
    await ps?.dispose();
  }
}
