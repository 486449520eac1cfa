/** The path to the target: routers on the way (KDNET's TTL 16) and the round trip (what it means for speed). */
import { isNetdbgError, netdbgError } from "../core/error.js";
import type { HostRoute } from "../host/route.js";
import { formatRate, impliedThroughput } from "./probes.js";
import type { Check, CheckOutcome, HopEstimate } from "./types.js";
import { errorText, fromError } from "./util.js";

/** KDNET sends with TTL 16: a datagram survives at most 15 routers. */
export const KDNET_TTL = 16;

export const hopsCheck: Check = {
  id: "route.hops",
  title: "Routers between host and target",
  applies: (d) => d.target !== undefined && d.route !== undefined,
  async run(d) {
    let r: HostRoute;
    try {
      r = await d.route!();
    } catch (e) {
      if (isNetdbgError(e)) return { status: "skip", message: `No route to the target (see host.route: ${e.code}).` };
      throw e;
    }
    if (!r.gateway) {
      return {
        status: "ok",
        message: `The target is on this host's link${r.interface ? ` (${r.interface})` : ""}: no router in between, so KDNET's TTL of ${KDNET_TTL} is plenty.`,
      };
    }
    const est: HopEstimate = d.hops
      ? await d.hops().catch((e: unknown) => ({ note: errorText(e) }))
      : { note: "no way to measure here" };
    if (est.hops === undefined) {
      return {
        status: "warn",
        message: `The target is routed through ${r.gateway}; the number of routers could not be measured (${est.note ?? "no reply"}). KDNET datagrams carry TTL ${KDNET_TTL}.`,
        fix: "Routed debugging works when every router passes UDP both ways and the path has at most 15 routers; a host on the target's own network avoids the question.",
      };
    }
    if (est.hops >= KDNET_TTL) return fromError(netdbgError("E702", { hops: est.hops, address: r.address }));
    return {
      status: "warn",
      message: `The target is routed through ${r.gateway}, about ${est.hops} router(s) away (reply TTL ${est.ttl ?? "?"}); KDNET's TTL ${KDNET_TTL} allows 15.`,
      fix: "Routed debugging works when every router passes UDP both ways; keep the host on the target's network where possible (fewer drops, lower round trip).",
    };
  },
};

/** Above this the stop-and-wait protocols feel slow (dumps at well under 100 KiB/s). */
export const SLOW_RTT_MS = 20;

export const rttCheck: Check = {
  id: "route.rtt",
  title: "Round-trip time and the throughput it implies",
  // its TCP handshakes to the SSH port must not compete with the one real login (MaxStartups)
  after: ["target.ssh"],
  applies: (d) => d.target !== undefined && d.rtt !== undefined,
  async run(d): Promise<CheckOutcome> {
    const os = d.target!.os;
    let s: Awaited<ReturnType<NonNullable<typeof d.rtt>>>;
    try {
      s = await d.rtt!();
    } catch (e) {
      if (isNetdbgError(e)) return { ...fromError(e, "warn"), message: `The round trip could not be measured: ${e.message}` };
      return { status: "warn", message: `The round trip could not be measured: ${errorText(e)}` };
    }
    if (s.ms.length === 0) return { status: "warn", message: `No round trip could be measured (${s.via}).` };
    const best = Math.min(...s.ms);
    const rate = formatRate(impliedThroughput(os, best));
    const ms = best < 1 ? best.toFixed(2) : best.toFixed(1);
    const what =
      os === "windows" ? "KD memory reads (1096 bytes per round trip)" : "kgdb memory reads (496 bytes per round trip)";
    if (best > SLOW_RTT_MS) {
      const e = netdbgError("E712", { ms, rate });
      return { ...fromError(e, "warn"), message: `${e.message} (${s.via}, best of ${s.ms.length})` };
    }
    return {
      status: "ok",
      message: `Round trip ${ms} ms (${s.via}, best of ${s.ms.length}): ${what} at about ${rate}.`,
    };
  },
};
