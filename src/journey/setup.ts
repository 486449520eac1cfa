/**
 * `netdbg setup <target>`, written once for every OS: the sequence
 *
 *   port → driver.prepare → host IP → key → journal facts → host firewall → driver.setup (link, probe, plan,
 *   apply, verify, --reboot) → the result
 *
 * A failure after the host firewall was opened closes it again, so nothing is left half-applied; the driver's
 * own apply rolls back its own changes (core/apply.ts). The result is data: src/cli renders it as text,
 * progress or the one `--json` object, and attaches the debugger when asked.
 */
import type { DriverDeps, DriverSetupResult, OsDriver, Progress, SetupRequest } from "../core/driver.js";
import { netdbgError } from "../core/error.js";
import type { Target } from "../core/inventory.js";
import { generateKdnetKey, parseKdnetKey } from "../core/kdnet-key.js";
import type { SecretStore } from "../core/interfaces.js";
import { redactSecret } from "../core/redact.js";
import type { FirewallRequest } from "../host/firewall/index.js";
import type { PortProbe } from "../host/port-alloc.js";
import { recordJourneyFacts } from "./facts.js";
import { type HostFirewallPort, openHostFirewall } from "./host-firewall.js";
import { ensurePort } from "./port.js";

/** Everything the sequence reaches the world through (src/cli/journey-deps.ts builds the real ones): what every
 * driver gets, and the sequence's own. */
export interface JourneyDeps extends DriverDeps {
  secrets: SecretStore;
  /** Secrets seen in this run: every output is scrubbed of them. */
  secretsSeen: string[];
  firewall: HostFirewallPort;
  isPortFree: PortProbe;
  drivers: Record<Target["os"], OsDriver>;
  /** The host address on the route to the target (drivers that need one, when no flag or inventory says). */
  discoverHostIp?: (target: Target, port: number) => Promise<string | undefined>;
  now?: () => Date;
}

/** How the caller shows progress: `progress` wraps a driver's work (a listr2 task in the CLI); default: no display. */
export interface JourneyUi {
  progress?: Progress;
  /** Print the key and every secret in full (`--show-secrets`). */
  showSecrets?: boolean;
}

/** The one result of a setup, both OSes: the driver's, with what the sequence settled (`setupJson`: `--json`). */
export interface SetupResult extends DriverSetupResult {
  target: Target;
  os: Target["os"];
  check: boolean;
  hostIp: string | null;
  port: number;
  /** The key as it may be shown (redacted unless showSecrets); null for OSes without one. */
  key: string | null;
  keyNote?: string;
  /** Host firewall lines first, then the target's. */
  hostFirewall: { frontEnds: string[]; summary: string; request: FirewallRequest | null; text: string };
  handoff: DriverSetupResult["handoff"] & { connect: boolean };
}

/** The `--json` object of a setup: the common fields, then the OS's own. */
export function setupJson(r: SetupResult): Record<string, unknown> {
  return {
    target: r.target.name,
    os: r.os,
    check: r.check,
    changed: r.changed,
    hostIp: r.hostIp,
    port: r.port,
    key: r.key,
    actions: r.actions,
    hostFirewall: { frontEnds: r.hostFirewall.frontEnds, summary: r.hostFirewall.summary, request: r.hostFirewall.request },
    handoff: r.handoff,
    ...r.details,
    warnings: r.warnings,
    ...(r.advice ? { advice: r.advice } : {}),
  };
}

/** No display: the driver's work runs as is. */
export const noDisplay: Progress = (_title, run) => run({ phase() {}, line() {} });

/** Every string in `value` with each secret replaced by its redacted form. */
function scrubDeep<T>(value: T, secrets: readonly string[]): T {
  const live = secrets.filter((s) => s.length >= 4);
  if (live.length === 0) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return live.reduce((s, k) => s.split(k).join(redactSecret(k)), v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}

/** The KDNET key: the stored one, or a new one generated and stored (with `check`: only said). */
async function keyStep(target: Target, check: boolean, deps: JourneyDeps): Promise<{ key: string; note?: string }> {
  const stored = await deps.secrets.get(target.name);
  if (stored !== undefined) return { key: parseKdnetKey(stored).text };
  if (check)
    return {
      key: "<new key, generated and stored at setup>",
      note: `No KDNET key is stored for '${target.name}': setup generates one and stores it in ${deps.secrets.kind}.`,
    };
  const key = generateKdnetKey().text;
  await deps.secrets.set(target.name, key);
  return { key, note: `Generated a new KDNET key for '${target.name}' and stored it in ${deps.secrets.kind}.` };
}

export async function runSetup(
  target0: Target,
  request: SetupRequest,
  deps: JourneyDeps,
  ui: JourneyUi = {},
): Promise<SetupResult> {
  const check = request.check;
  const driver = deps.drivers[target0.os];
  const target = await ensurePort(
    target0,
    { ...(request.port !== undefined ? { port: request.port } : {}), check },
    { inventory: deps.inventory, log: deps.log, isFree: deps.isPortFree },
  );
  const port = target.port!;
  const prepared = await driver.prepare(target, request);

  // the host address: the flag, the inventory, or (a driver that needs one) the local end of the route; a driver
  // that does not lets its target find it (Linux: the SSH session's client address, which survives NAT)
  let hostIp = request.hostIp ?? target.transport?.hostIp;
  if (!hostIp && driver.needsHostIp) {
    hostIp = await deps.discoverHostIp?.(target, port);
    if (!hostIp) throw netdbgError("E215", { target: target.name });
  }

  const { key, note: keyNote } = driver.usesKey ? await keyStep(target, check, deps) : {};
  if (key !== undefined) deps.secretsSeen.push(key);

  const now = deps.now ?? (() => new Date());
  if (!check) await recordJourneyFacts(deps.store, target, { port, ...(hostIp ? { hostIp } : {}) });
  // the host firewall opens first (host-only, journaled): a later failure on the target closes it again
  const fw = request.hostFirewall ? await openHostFirewall({ ...deps, target, port, check }) : undefined;
  let out: DriverSetupResult;
  try {
    out = await driver.setup(
      { target, request, port, ...(hostIp ? { hostIp } : {}), ...(key ? { key } : {}), now: now(), prepared },
      deps,
      ui.progress ?? noDisplay,
    );
  } catch (e) {
    for (const m of (await fw?.rollback()) ?? []) deps.log.error(m);
    if (fw?.actions.some((a) => a.outcome === "changed"))
      deps.log.warn(`The host firewall rule opened for '${target.name}' was closed again (the target part failed).`);
    throw e;
  }

  const why = request.hostFirewallReason ?? "--no-host-firewall";
  const result: SetupResult = {
    ...out,
    target,
    os: target.os,
    check,
    changed: out.changed || Boolean(fw?.actions.some((a) => a.outcome === "changed")),
    hostIp: hostIp ?? null,
    port,
    key: key ?? null,
    ...(keyNote ? { keyNote } : {}),
    actions: [...(fw?.actions ?? []), ...out.actions],
    hostFirewall: fw
      ? { frontEnds: fw.frontEnds, summary: fw.summary, request: fw.req, text: fw.summary }
      : { frontEnds: [], summary: `left alone (${why})`, request: null, text: `Host firewall: left alone (${why}).` },
    handoff: { ...out.handoff, connect: false },
  };
  return ui.showSecrets || key === undefined ? result : scrubDeep(result, [key]);
}
