import { isNetdbgError, netdbgError } from "../../core/error.js";
import { ipVersion } from "../../core/ip.js";
import type { Target } from "../../core/inventory.js";
import { readElfSymbols, type SymbolTable } from "../../engine/elf.js";
import { GdbRemote, RspClient, type RspClientOptions } from "../../engine/rsp/index.js";
import { type Endpoint, formatEndpoint, openTransport, parseEndpoint } from "../../engine/transport/index.js";
import { SystemNetProbe } from "../../io/net-probe.js";
import type { LinuxDebugRequest } from "../connect-options.js";

/** kgdboe's default UDP port on the target (sysprogs/kgdboe kgdboe_main.c: udp_port defaults to 31337). */
export const KGDBOE_DEFAULT_PORT = 31337;

/**
 * Where the kgdboe stub of a target listens: `--endpoint` when given, else the inventory's transport.endpoint
 * (kgdb behind something other than kgdboe, e.g. kgdboc on a serial line wired to UDP), else its address and
 * transport.targetPort (default 31337) over UDP; the host side binds the target's `port` (or `--port`)
 * when set, so a firewall rule can name it.
 */
export function resolveEndpoint(target: Target, opts: LinuxDebugRequest): Endpoint {
  const spec = opts.endpoint ?? target.transport?.endpoint;
  if (spec) {
    const ep = parseEndpoint(spec);
    if (!ep) throw netdbgError("E403", { value: spec });
    return ep;
  }
  if (!target.address) throw netdbgError("E410", { target: target.name });
  const ep: Endpoint = { kind: "udp", host: target.address, port: target.transport?.targetPort ?? KGDBOE_DEFAULT_PORT };
  const local = opts.port ?? target.port;
  if (local !== undefined) ep.localPort = local;
  return ep;
}

/**
 * How many transmissions fit in `ms` on the RSP client's UDP retransmission ladder (engine/rsp/client.ts: first
 * timeout 300 ms, each next one 1.5 times longer, at most 4 s), so that a target that never answers is given up
 * on within about `ms` (at least 3 tries).
 */
export function triesWithin(ms: number): number {
  let tries = 0;
  let spent = 0;
  let rto = 300;
  while (spent + rto <= ms) {
    spent += rto;
    tries++;
    rto = Math.min(4000, Math.ceil(rto * 1.5));
  }
  return Math.max(3, tries);
}

export function clientOptions(opts: LinuxDebugRequest, extra: RspClientOptions = {}): RspClientOptions {
  const out: RspClientOptions = { ...extra };
  if (opts.timeoutS !== undefined) out.maxTries = triesWithin(opts.timeoutS * 1000);
  return out;
}

export interface OpenedRemote {
  endpoint: Endpoint;
  client: RspClient;
  remote: GdbRemote;
  symbols: SymbolTable | undefined;
}

/**
 * The endpoint with its host as an address: a name is resolved the way ssh would (an ssh_config alias's
 * HostName, then DNS), so the inventory address that works for SSH works for the debugger too.
 */
export async function reachable(endpoint: Endpoint): Promise<Endpoint> {
  const host = endpoint.host.replace(/^\[|\]$/g, "");
  if (ipVersion(host.split("%")[0] ?? host) !== 0) return endpoint;
  try {
    return { ...endpoint, host: (await new SystemNetProbe().resolve(host))[0]! };
  } catch (e) {
    throw netdbgError("E100", { name: host, reason: (e as Error).message }, { cause: e });
  }
}

export async function openRemote(target: Target, opts: LinuxDebugRequest, extra: RspClientOptions = {}): Promise<OpenedRemote> {
  const endpoint = resolveEndpoint(target, opts);
  const vmlinux = opts.vmlinux ?? target.transport?.vmlinux;
  const symbols = vmlinux ? await readElfSymbols(vmlinux) : undefined;
  const arch = opts.arch ?? symbols?.arch;
  const options = clientOptions(opts, extra);
  const to = await reachable(endpoint);
  let transport: Awaited<ReturnType<typeof openTransport>>;
  try {
    transport = await openTransport(to);
  } catch (e) {
    if (isNetdbgError(e)) throw e; // a taken host port (E105) says more than "could not open"
    throw netdbgError("E401", { endpoint: formatEndpoint(endpoint), reason: (e as Error).message }, { cause: e });
  }
  const client = new RspClient(transport, options);
  const remote = new GdbRemote(client, arch ? { arch } : {});
  return { endpoint, client, remote, symbols };
}
