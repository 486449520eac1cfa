/**
 * The host end of a KDNET session for `netdbg connect <windows-target>`: the UDP port bound where the target sends,
 * the source pinned to the address its authenticated pokes come from, and every session event said in words.
 */
import { netdbgError } from "../../core/error.js";
import type { Target } from "../../core/inventory.js";
import { ipVersion } from "../../core/ip.js";
import type { KdnetKey } from "../../core/kdnet-key.js";
import { type HostEvent, KdnetHostSession } from "../../engine/kdnet/session.js";
import type { DatagramTransport } from "../../engine/kdnet/transport.js";
import { openUdp } from "../../engine/kdnet/udp.js";
import { SystemNetProbe } from "../../io/net-probe.js";
import { describeState } from "./kd-commands.js";

export interface OpenedKdnet {
  session: KdnetHostSession;
  /** The address the target's pokes must come from. */
  expected: string;
  /** The first source whose datagrams did not authenticate with the stored key. */
  wrongKeyFrom(): string | undefined;
  /** The first source of authentic pokes other than `expected`. */
  foreignFrom(): string | undefined;
}

export async function openKdnetSession(
  target: Target,
  key: KdnetKey,
  port: number,
  say: (t: string) => void,
): Promise<OpenedKdnet> {
  // Listen only where the target sends: the host IP its dbgsettings name (recorded at setup); a target on
  // loopback (the demo) can only reach this host over loopback. Never every address when one is known.
  const hostIp = target.transport?.hostIp;
  const family = ipVersion(hostIp ?? target.address) === 6 ? 6 : 4;
  const loopback = /^127\./.test(target.address) || target.address === "::1";
  const bindTo = hostIp ?? (loopback ? (family === 6 ? "::1" : "127.0.0.1") : undefined);
  const transport: DatagramTransport = await openUdp({ port, family, ...(bindTo ? { address: bindTo } : {}) });
  // Pin the source: the KDNET address recorded at --reboot, else the target's address (a DNS name resolved now, so
  // that no authentic poke from anywhere else can take the session over).
  const expected = await kdnetSourceAddress(target);
  const session = new KdnetHostSession({ transport, key, targetAddress: expected });
  let wrongKeyFrom: string | undefined;
  let foreignFrom: string | undefined;
  session.on((e) => {
    if (e.kind === "auth-failed") wrongKeyFrom ??= `${e.from.address}:${e.from.port}`;
    if (e.kind === "foreign-poke" && foreignFrom === undefined) {
      foreignFrom = e.from.address;
      say(`ignoring KDNET datagrams from ${e.from.address}: the inventory says ${target.name} pokes from ${expected}`);
    }
    const d = describeEvent(e);
    if (d) say(d);
  });
  return { session, expected, wrongKeyFrom: () => wrongKeyFrom, foreignFrom: () => foreignFrom };
}

function describeEvent(e: HostEvent): string | undefined {
  switch (e.kind) {
    case "poke":
      return e.answered ? `poke from ${e.from.address}:${e.from.port} (KDNET v${e.version}, seq ${e.seq})` : undefined;
    case "auth-failed":
      return `a datagram from ${e.from.address}:${e.from.port} does not authenticate with the stored key (wrong key?)`;
    case "handshake":
      return e.rebooted
        ? `target restarted its debug transport: new handshake with ${e.from.address}:${e.from.port}`
        : `handshake with ${e.from.address}:${e.from.port} done (data key derived)`;
    case "state-change":
      return describeState(e.state);
    case "print":
      return `target: ${e.text.replace(/\n$/, "")}`;
    case "file-io":
      return `target asked for file ${e.path ?? ""}: answered 'no such file'`;
    case "reset":
      return "target reset the KD packet layer";
    default:
      return undefined;
  }
}

/** Where this target's KDNET pokes must come from: transport.kdnetAddress, else its address (a name resolved). */
async function kdnetSourceAddress(target: Target): Promise<string> {
  const pinned = target.transport?.kdnetAddress ?? target.address;
  if (ipVersion(pinned) !== 0) return pinned;
  try {
    return (await new SystemNetProbe().resolve(pinned))[0]!;
  } catch (e) {
    throw netdbgError("E003", {
      option: "address",
      value: pinned,
      reason: `the name does not resolve (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
      fix: `Fix the name in DNS or set the address with 'netdbg targets edit ${target.name} --address <ip>'.`,
    });
  }
}
