/**
 * The RSP check run by `netdbg setup <linux-target>` after the dmesg check: one short GDB remote-protocol
 * exchange from this host with the kgdboe just loaded, over UDP (research notes linux-target.md, doctor
 * checklist item 9; gdb-rsp.md §B2–§B6 for kgdb's behaviour):
 *
 *   0x03 (break in, as gdb does)  ->  qSupported, `?` (once: this is the initial attach)  ->  `g`  ->  `D`
 *
 * The kernel must never be left stopped: `D` resumes it (kgdb resumes once its `OK` is acked), and when
 * nothing usable came back (replies dropped by a host firewall, say) the kernel may have stopped on our
 * break-in anyway, so a detach is sent blind (`$D#44`, then lone `+` acks for kgdb's `OK`): harmless to a
 * stub that never stopped. Lives in the journey layer because src/targets may not import the engine (biome.json); the
 * Linux driver takes it as the injected `rspCheck`.
 */
import { isNetdbgError } from "../core/error.js";
import { GdbRemote, RspClient } from "../engine/rsp/index.js";
import type { Endpoint } from "../engine/transport/index.js";
import { UdpTransport } from "../engine/transport/index.js";
import type { RspCheckResult } from "../targets/linux/setup.js";

export interface RspCheckOptions {
  /** How long to wait for the stub to answer at all (ms). Default 5000. */
  timeoutMs?: number;
  /** Bind this host UDP port (the target's inventory `port`, so a firewall rule can name it). */
  localPort?: number;
  trace?: (line: string) => void;
}

const FIRST_RTO_MS = 250;
const MAX_RTO_MS = 1000;

/** Tries of the retransmission ladder (250 ms, ×1.5 each, at most 1 s) that fit in the budget. */
export function triesWithin(budgetMs: number): number {
  let t = 0;
  let rto = FIRST_RTO_MS;
  let n = 0;
  while (t + rto <= budgetMs || n === 0) {
    t += rto;
    n++;
    rto = Math.min(MAX_RTO_MS, Math.ceil(rto * 1.5));
  }
  return Math.max(2, n);
}

function diagnose(t: UdpTransport, consoleTail: string): string {
  const s = t.stats;
  if (s.refused > 0 && s.bytesIn === 0) return "ICMP port unreachable came back: nothing listens on that UDP port";
  if (s.bytesIn === 0) return `nothing came back to ${s.bytesOut} bytes sent in ${s.chunksOut} datagrams`;
  const text = consoleTail.trim();
  return text ? `only text came back (${JSON.stringify(text.slice(-60))}), no RSP packets` : "only damaged packets came back";
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Detach without waiting for replies: `$D#44`, then `+` acks for kgdb's `OK` (kgdboe ignores lone `+` otherwise). */
async function blindDetach(t: UdpTransport): Promise<void> {
  for (let i = 0; i < 2 && !t.closed; i++) {
    t.write(Buffer.from("$D#44", "latin1"));
    for (let k = 0; k < 4 && !t.closed; k++) {
      await pause(25);
      t.write(Buffer.of(0x2b));
    }
  }
}

export async function rspCheckUdp(target: { host: string; port: number }, o: RspCheckOptions = {}): Promise<RspCheckResult> {
  const budget = o.timeoutMs ?? 5000;
  const ep: Endpoint = { kind: "udp", host: target.host, port: target.port, ...(o.localPort ? { localPort: o.localPort } : {}) };
  const transport = await UdpTransport.open(ep);
  const client = new RspClient(transport, {
    timeoutMs: FIRST_RTO_MS,
    minTimeoutMs: FIRST_RTO_MS,
    maxTimeoutMs: MAX_RTO_MS,
    maxTries: triesWithin(budget),
    ...(o.trace ? { trace: o.trace } : {}),
  });
  const remote = new GdbRemote(client);
  const endpoint = transport.label;
  const counts = () => ({ bytesOut: transport.stats.bytesOut, bytesIn: transport.stats.bytesIn });
  let stop: string | undefined;
  try {
    client.interrupt(); // 0x03: what gdb sends to break in; kgdboe also stops on the first packet
    try {
      stop = (await remote.attach()).stop.raw;
    } catch (e) {
      if (!isNetdbgError(e)) throw e;
      const diagnosis = diagnose(transport, client.consoleTail);
      await blindDetach(transport);
      return { outcome: "no-answer", endpoint, seconds: Math.round(budget / 100) / 10, diagnosis, ...counts() };
    }
    let pc: bigint | undefined;
    let regsError: string | undefined;
    try {
      pc = await remote.pc();
    } catch (e) {
      if (!isNetdbgError(e)) throw e;
      regsError = e.message;
    }
    try {
      await remote.detach();
    } catch (e) {
      if (!isNetdbgError(e)) throw e;
      await blindDetach(transport);
      return { outcome: "not-detached", endpoint, detail: e.message, stop, ...counts() };
    }
    if (regsError !== undefined)
      return {
        outcome: "no-answer",
        endpoint,
        seconds: Math.round(budget / 100) / 10,
        diagnosis: `it reported a stop (${stop}) but no registers: ${regsError} It was detached`,
        ...counts(),
      };
    return {
      outcome: "verified" as const,
      endpoint,
      stop,
      signal: Number.parseInt(stop.slice(1, 3), 16),
      arch: remote.arch,
      ...(pc !== undefined ? { pc: `0x${pc.toString(16)}` } : {}),
      ...(client.roundTrip !== undefined ? { roundTripMs: Math.round(client.roundTrip * 10) / 10 } : {}),
      ...counts(),
    };
  } finally {
    await client.close();
  }
}
