/**
 * Doctor: read-only checks, each ending in a verdict with a fix. A check never changes anything on the host or
 * the target; the facts it needs come in through `DoctorDeps` (real adapters are built by the CLI), so every
 * check is a function over facts that tests can feed from fixtures.
 */
import type { Target } from "../core/inventory.js";
import type { PokeSource } from "../engine/kdnet/listen.js";
import type { FirewallPlan } from "../host/firewall/index.js";
import type { IpsecQuery, IpsecReport } from "../host/ipsec.js";
import type { HostRoute } from "../host/route.js";
import type { LinuxFacts } from "../targets/linux/types.js";
import type { WindowsFacts } from "../targets/windows/probe.js";

export type CheckStatus = "ok" | "warn" | "fail" | "skip";

export interface CheckResult {
  id: string;
  title: string;
  status: CheckStatus;
  message: string;
  fix?: string;
  /** The NETDBG-E code whose docs page explains this failure. */
  code?: string;
  /** The check's page (docs/doctor/<id>.md): what it checks and how to fix each verdict. */
  doc?: string;
  /** Skipped because this earlier check failed (e.g. "target.ssh"). */
  needs?: string;
}

/** What happened to a UDP datagram sent from the target (over SSH) to the host while doctor listened. */
export interface DatagramProbe {
  /** The command ran on the target and sent it; false when the target had no way to send (detail says why). */
  sent: boolean;
  received: boolean;
  /** The source address the datagram arrived from. */
  from?: string;
  /** How it was sent: "bash /dev/udp", "python3", "PowerShell UdpClient". */
  via?: string;
  detail?: string;
}

/** Router count between host and target, estimated from the TTL left in the target's replies. */
export interface HopEstimate {
  hops?: number;
  /** The TTL the reply arrived with, when measured. */
  ttl?: number;
  /** Why no number could be measured. */
  note?: string;
}

/** Round-trip samples to the target (ms) and how they were taken. */
export interface RttSamples {
  ms: number[];
  via: string;
}

/** An RSP exchange with the target's kgdboe: break in, `?`, registers, detach (the kernel runs on). */
export interface KgdboeAnswer {
  endpoint: string;
  stop: string;
  arch: string;
  pc?: string;
  roundTripMs?: number;
}

/** Pokes seen per listened port. */
export interface PokeWatch {
  port: number;
  /** The port could not be bound (busy): nothing was listened to there. */
  busy?: boolean;
  sources: PokeSource[];
}

export interface DoctorDeps {
  target?: Target;
  /** The route to the target (host/route.ts), or the error that prevented finding one. */
  route?: () => Promise<HostRoute>;
  /** Whether the target's debug port can be bound on this host right now. */
  portFree?: (port: number) => Promise<boolean>;
  /** The target's stored KDNET key text, if any. */
  storedKey?: () => Promise<string | undefined>;
  /** The host address the target must send to (inventory transport.hostIp, else the route's local address). */
  hostAddress?: () => Promise<string>;
  /** Open the ONE SSH session to the target (memoized by the caller); rejects with why it cannot. */
  session?: () => Promise<void>;
  linuxFacts?: () => Promise<LinuxFacts>;
  windowsFacts?: () => Promise<WindowsFacts>;
  /** Send a marked datagram from the target over SSH to host:port while listening on the port here. */
  datagramFromTarget?: (to: { address: string; port: number }) => Promise<DatagramProbe>;
  /** The static host firewall probe (host/firewall `status`): is a rule for the target in place? */
  firewallStatus?: () => Promise<FirewallPlan>;
  /** IPsec policies of this host that would apply to the target's debug traffic (host/ipsec.ts). */
  ipsec?: () => Promise<{ report: IpsecReport; query: IpsecQuery }>;
  hops?: () => Promise<HopEstimate>;
  rtt?: () => Promise<RttSamples>;
  /** Attach to kgdboe over UDP, read `?` and registers, then detach (never leaves the kernel stopped). */
  kgdboe?: () => Promise<KgdboeAnswer>;
  /** Listen passively on these host ports for `ms` and report the KDNET pokes seen (checked with the stored key). */
  listenPokes?: (ports: number[], ms: number) => Promise<PokeWatch[]>;
  /** How long kdnet.pokes listens (default: 6 s when the target was set up, pokes come every ~3 s; else 1.5 s). */
  pokeListenMs?: number;
  /** Whether this host's change journal records a setup of the target (nothing recorded: short waits). */
  setUp?: () => Promise<boolean>;
}

export type CheckOutcome = Omit<CheckResult, "id" | "title" | "doc">;

export interface Check {
  id: string;
  title: string;
  /** Whether the check means anything for this target (e.g. Windows-only checks). */
  applies(deps: DoctorDeps): boolean;
  /** Checks that must finish first because they share something with this one (a host port, the SSH login). */
  after?: readonly string[];
  /** The check this one cannot run without: when it failed, this one is skipped ("skipped: needs <id>"). */
  needs?: string;
  run(deps: DoctorDeps): Promise<CheckOutcome>;
}

/** The docs page of a check, relative to the package root. */
export function docPath(id: string): string {
  return `docs/doctor/${id}.md`;
}
