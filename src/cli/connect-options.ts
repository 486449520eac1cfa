/**
 * The flags of the debugger commands (`connect`, `gdb`), parsed ONCE at the action into typed requests: the
 * session code reads numbers and enums, never `opts.<name>` strings. Kept free of zod and the engines so the
 * eagerly loaded command modules can import it (test/cli/startup.test.ts).
 */
import { netdbgError } from "../core/error.js";
import { ANY_UDP_PORT, parsePort } from "../core/udp-port.js";
import type { Arch } from "../engine/rsp/registers.js";
import type { BreakInMethod } from "./debugger/break-in.js";

/** The longest a debugger command waits for a target (one hour). */
export const MAX_TIMEOUT_SECONDS = 3600;

/** The debugger flags as commander (or a programmatic caller: the demo, the setup hand-off) gives them. */
export interface ConnectFlags {
  exec?: string;
  before?: string;
  port?: string | number;
  timeout?: string | number;
  setupCheck?: boolean;
  endpoint?: string;
  vmlinux?: string;
  arch?: string;
  breakIn?: string;
  acceptNewHostKey?: boolean;
}

/** What every Linux debugger command (connect, gdb, doctor's exchange) needs to open the RSP link. */
export interface LinuxDebugRequest {
  /** `--endpoint`: an RSP endpoint spec, checked when the link is opened (E403). */
  endpoint?: string;
  /** `--port`: the host UDP port to bind towards the target (any UDP port). */
  port?: number;
  /** `--timeout`: seconds; undefined = the command's own default. */
  timeoutS?: number;
  vmlinux?: string;
  arch?: Arch;
}

/** `netdbg connect`: both OSes (Windows reads port, timeoutS, exec, before). */
export interface ConnectRequest extends LinuxDebugRequest {
  exec?: string;
  /** ';'-separated commands run and shown before the prompt (the demo shows the kernel banner and registers). */
  before?: string;
  /** false with --no-setup-check. */
  setupCheck: boolean;
  /** undefined: the inventory's transport.breakIn, else none. */
  breakIn?: BreakInMethod;
  acceptNewHostKey: boolean;
}

/** `netdbg gdb`. */
export interface GdbRequest extends LinuxDebugRequest {
  /** undefined: bridge only where gdb alone cannot reach the target. */
  bridge?: boolean;
  /** `--listen`: a TCP port on 127.0.0.1 (0 = a free one) or a Unix socket path. */
  listen: { port: number } | { socket: string };
}

/** A `--timeout <seconds>` (and the other seconds flags): a decimal number above 0, at most `max` (an hour). */
export function parseTimeoutSeconds(raw: string | number, option = "--timeout", max = MAX_TIMEOUT_SECONDS): number {
  const text = String(raw).trim();
  const n = /^\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
  if (!(n > 0 && n <= max)) {
    throw netdbgError("E003", {
      option,
      value: text,
      reason: `expected a number of seconds above 0, at most ${max}`,
      fix: `Give seconds, e.g. ${option} 15.`,
    });
  }
  return n;
}

export function parseArch(value: string | undefined): Arch | undefined {
  if (value === undefined) return undefined;
  if (value === "x86_64" || value === "arm64") return value;
  throw netdbgError("E003", { option: "--arch", value, reason: "unknown architecture", fix: "Use x86_64 or arm64." });
}

export function parseBreakIn(value: string | undefined): BreakInMethod | undefined {
  if (value === undefined || value === "none" || value === "sysrq-ssh") return value;
  throw netdbgError("E003", {
    option: "--break-in",
    value,
    reason: "unknown method",
    fix: "Use --break-in sysrq-ssh (kgdboc: SysRq-g over SSH) or --break-in none (kgdboe stops the kernel itself).",
  });
}

export function parseLinuxDebugRequest(
  f: Pick<ConnectFlags, "endpoint" | "port" | "timeout" | "vmlinux" | "arch">,
): LinuxDebugRequest {
  const arch = parseArch(f.arch);
  return {
    ...(f.endpoint !== undefined ? { endpoint: f.endpoint } : {}),
    // the one port parser (src/core/udp-port.ts); any UDP port may be bound here, not only the KDNET range
    ...(f.port !== undefined ? { port: parsePort(f.port, "--port", ANY_UDP_PORT) } : {}),
    ...(f.timeout !== undefined ? { timeoutS: parseTimeoutSeconds(f.timeout) } : {}),
    ...(f.vmlinux !== undefined ? { vmlinux: f.vmlinux } : {}),
    ...(arch !== undefined ? { arch } : {}),
  };
}

export function parseConnectRequest(f: ConnectFlags): ConnectRequest {
  const breakIn = parseBreakIn(f.breakIn);
  return {
    ...parseLinuxDebugRequest(f),
    ...(f.exec !== undefined ? { exec: f.exec } : {}),
    ...(f.before !== undefined ? { before: f.before } : {}),
    setupCheck: f.setupCheck !== false,
    ...(breakIn !== undefined ? { breakIn } : {}),
    acceptNewHostKey: Boolean(f.acceptNewHostKey),
  };
}

export function parseGdbRequest(
  f: Pick<ConnectFlags, "endpoint" | "port" | "timeout" | "vmlinux"> & { bridge?: boolean; listen?: string },
): GdbRequest {
  return {
    ...parseLinuxDebugRequest(f),
    ...(f.bridge !== undefined ? { bridge: f.bridge } : {}),
    listen: parseListen(f.listen),
  };
}

/** `--listen <port|unix:path>`: where the gdb bridge listens (default: a free TCP port). */
function parseListen(raw: string | undefined): GdbRequest["listen"] {
  if (raw === undefined) return { port: 0 };
  if (raw.startsWith("unix:")) {
    const socket = raw.slice(5);
    if (socket === "") {
      throw netdbgError("E003", {
        option: "--listen",
        value: raw,
        reason: "no socket path after 'unix:'",
        fix: "Give --listen unix:/path/to/socket (its folder must exist).",
      });
    }
    return { socket };
  }
  const text = raw.trim();
  const port = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw netdbgError("E003", { option: "--listen", value: raw, reason: "not a TCP port", fix: "Give a port 1-65535." });
  }
  return { port };
}
