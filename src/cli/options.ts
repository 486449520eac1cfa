import type { SetupRequest, TeardownRequest } from "../core/driver.js";
import { netdbgError } from "../core/error.js";
import type { Target } from "../core/inventory.js";
import { ANY_UDP_PORT, parsePort } from "../core/udp-port.js";

/** KDNET's default host port, used when neither --port nor the inventory says otherwise. */
export const DEFAULT_KDNET_PORT = 50000;

/** The host UDP port a Windows debugger command listens on: --port, else the target's, else 50000. */
export function kdnetPortOption(raw: unknown, target: Target): number {
  return raw !== undefined ? parsePort(String(raw), "--port", ANY_UDP_PORT) : (target.port ?? DEFAULT_KDNET_PORT);
}

/** What the CLI does around the sequence of `setup` and `teardown`: the WinRM account to ask for, the lock's wait. */
export interface LinkCommand {
  /** --winrm-credential <file> / --winrm-user <user> (its password asked before the run). */
  winrmCredential?: string;
  winrmUser?: string;
  /** --wait <seconds>, as given: the lock parses it (parseWait). */
  wait?: string;
}

/** `netdbg setup`: the sequence's request, plus the hand-off and the fleet's width. */
export interface SetupCommand extends SetupRequest, LinkCommand {
  /** false with --no-connect. */
  connect: boolean;
  /** --concurrency, as given: only a fleet reads it. */
  concurrency?: string;
}

export interface TeardownCommand extends TeardownRequest, LinkCommand {}

/** `{ [key]: value }` for a flag given as a non-empty string, else nothing (the optional field stays absent). */
const given = <K extends string>(key: K, v: unknown): Partial<Record<K, string>> =>
  typeof v === "string" && v !== "" ? ({ [key]: v } as Record<K, string>) : {};

function parseLinkCommand(opts: Record<string, unknown>): LinkCommand {
  return {
    ...given("winrmCredential", opts.winrmCredential),
    ...given("winrmUser", opts.winrmUser),
    ...(opts.wait !== undefined && opts.wait !== false ? { wait: String(opts.wait) } : {}),
  };
}

/**
 * The flags of `setup` and `teardown`, parsed ONCE at the action into the typed requests the sequence takes
 * (src/core/driver.ts): every later layer reads fields, never `opts.<name>`.
 */
export function parseSetupRequest(opts: Record<string, unknown>): SetupCommand {
  const port = opts.port === undefined || opts.port === null || opts.port === "" ? undefined : parsePort(String(opts.port));
  return {
    ...parseLinkCommand(opts),
    connect: opts.connect === true,
    ...(opts.concurrency !== undefined ? { concurrency: String(opts.concurrency) } : {}),
    check: Boolean(opts.check),
    ...(port !== undefined ? { port } : {}),
    ...given("hostIp", opts.hostIp),
    ...given("nic", opts.nic),
    acceptNewHostKey: Boolean(opts.acceptNewHostKey),
    force: Boolean(opts.force),
    hostFirewall: opts.hostFirewall !== false,
    ...given("hostFirewallReason", opts.hostFirewallReason),
    windows: {
      kdnic: opts.kdnic !== false,
      makeDefault: Boolean(opts.makeDefault),
      reboot: Boolean(opts.reboot),
      bitlockerUnknownOk: Boolean(opts.bitlockerUnknownOk),
      via: parseVia(opts.via),
    },
    linux: {
      ...given("kgdboeSource", opts.kgdboeSource),
      installDeps: Boolean(opts.installDeps),
      persist: Boolean(opts.persist),
      applyCmdline: Boolean(opts.applyCmdline),
      forceSingleCore: parseForceSingleCore(opts.forceSingleCore),
      rspVerify: opts.rspVerify !== false,
    },
  };
}

export function parseTeardownRequest(opts: Record<string, unknown>): TeardownCommand {
  return {
    ...parseLinkCommand(opts),
    check: Boolean(opts.check),
    acceptNewHostKey: Boolean(opts.acceptNewHostKey),
    ...(typeof opts.restoreExport === "string" ? { restoreExport: opts.restoreExport } : {}),
    windows: { via: parseVia(opts.via) },
  };
}

function parseVia(v: unknown): "ssh" | "winrm" {
  const via = String(v ?? "ssh");
  if (via === "ssh" || via === "winrm") return via;
  throw netdbgError("E224", { via });
}

function parseForceSingleCore(v: unknown): 0 | 1 {
  if (v === undefined) return 1;
  if (v === "0" || v === 0) return 0;
  if (v === "1" || v === 1) return 1;
  throw netdbgError("E313", {
    option: "--force-single-core",
    value: String(v),
    reason: "it must be 0 or 1",
    fix: "Pass --force-single-core 1 (default, safer) or 0.",
  });
}
