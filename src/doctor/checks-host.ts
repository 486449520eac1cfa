/** Host-side doctor checks: route, port, key, firewall (a real datagram from the target), IPsec. */
import { isNetdbgError, netdbgError } from "../core/error.js";
import { parseKdnetKey } from "../core/kdnet-key.js";
import { ipsecError } from "../host/ipsec.js";
import type { Check, DoctorDeps } from "./types.js";
import { errorText, fromError } from "./util.js";

export const routeCheck: Check = {
  id: "host.route",
  title: "Route from this host to the target",
  applies: (d) => d.target !== undefined && d.route !== undefined,
  async run(d) {
    try {
      const r = await d.route!();
      const where = `${r.localAddress}${r.interface ? ` on ${r.interface}` : ""}${r.gateway ? ` via ${r.gateway}` : " (same link)"}`;
      if (r.warnings.length) {
        return {
          status: "warn",
          message: `The target is reached from ${where}, but: ${r.warnings.map((w) => w.message).join(" ")}`,
          fix: "Debug over a wired Ethernet link on the same network as the target where possible.",
        };
      }
      return { status: "ok", message: `The target is reached from ${where}${r.mtu ? `, MTU ${r.mtu}` : ""}.` };
    } catch (e) {
      if (isNetdbgError(e)) return { status: "fail", message: e.message, fix: e.fix, code: e.code };
      throw e;
    }
  },
};

export const portCheck: Check = {
  id: "host.port",
  title: "Host debug port",
  applies: (d) => d.target !== undefined && d.portFree !== undefined,
  async run(d) {
    const port = d.target!.port;
    if (port === undefined) {
      return {
        status: "fail",
        message: "The target has no debug port in the inventory.",
        fix: `Set one with 'netdbg targets edit ${d.target!.name} --port <49152-65535>'.`,
        code: "NETDBG-E003",
      };
    }
    if (await d.portFree!(port)) return { status: "ok", message: `UDP port ${port} is free on this host.` };
    return {
      status: "warn",
      message: `UDP port ${port} is bound by a local process (a running debugger — WinDbg, gdb or 'netdbg connect' — or something else).`,
      fix: `If no debugger of yours is attached, find the process with 'ss -ulpn sport = :${port}' and stop it.`,
    };
  },
};

export const keyCheck: Check = {
  id: "host.key",
  title: "KDNET key stored",
  applies: (d) => d.target?.os === "windows" && d.storedKey !== undefined,
  async run(d) {
    const name = d.target!.name;
    const key = await d.storedKey!();
    if (!key)
      return {
        status: "fail",
        message: `No KDNET key is stored for '${name}'.`,
        fix: `Run 'netdbg keys generate ${name}'.`,
        code: "NETDBG-E009",
      };
    try {
      parseKdnetKey(key);
      return { status: "ok", message: "A well-formed KDNET key is stored." };
    } catch (e) {
      if (isNetdbgError(e))
        return { status: "fail", message: `The stored key is malformed: ${e.message}`, fix: e.fix, code: e.code };
      throw e;
    }
  },
};

export const firewallCheck: Check = {
  id: "host.firewall",
  title: "Host firewall lets the target's UDP in",
  // it listens on the debug port host.port probes, and sends its datagram over the SSH session
  after: ["host.port", "target.ssh"],
  applies: (d) => d.target !== undefined && (d.datagramFromTarget !== undefined || d.firewallStatus !== undefined),
  async run(d) {
    const t = d.target!;
    const port = t.port;
    if (port === undefined) return { status: "skip", message: "The target has no debug port yet (see host.port)." };
    let why = "the target has no SSH access configured";
    if (d.datagramFromTarget && d.session) {
      let sshOk = true;
      try {
        await d.session();
      } catch {
        sshOk = false;
        why = "SSH to the target is not possible (see target.ssh)";
      }
      if (sshOk) {
        const free = d.portFree ? await d.portFree(port).catch(() => false) : true;
        if (!free) why = `UDP port ${port} is busy on this host, so doctor cannot listen on it`;
        else {
          let host: string | undefined;
          try {
            host = d.hostAddress ? await d.hostAddress() : undefined;
          } catch (e) {
            why = `the host address the target should use is unknown (${errorText(e)})`;
          }
          if (host) {
            const r = await d.datagramFromTarget({ address: host, port });
            if (r.sent && r.received) {
              return {
                status: "ok",
                message: `A UDP datagram sent from the target${r.via ? ` (${r.via}, over SSH)` : ""} to ${host} port ${port} arrived${r.from ? ` from ${r.from}` : ""}: the host firewall lets the debug traffic in.`,
              };
            }
            if (r.sent) return fromError(netdbgError("E700", { target: t.name, from: t.address, host, port }));
            why = `the target could not send a datagram (${r.detail ?? "unknown reason"})`;
          }
        }
      }
    }
    if (!d.firewallStatus) {
      return {
        status: "warn",
        message: `Not tested: ${why}, and this host's firewall cannot be read here.`,
        fix: `Make sure inbound UDP ${port} from ${t.address} is allowed ('netdbg host firewall open ${t.name}').`,
      };
    }
    let plan: Awaited<ReturnType<NonNullable<DoctorDeps["firewallStatus"]>>>;
    try {
      plan = await d.firewallStatus();
    } catch (e) {
      if (!isNetdbgError(e)) throw e;
      return { ...fromError(e, "warn"), message: `Not tested live (${why}), and the static probe failed: ${e.message}` };
    }
    const prefix = `Static probe only (no datagram test: ${why}):`;
    if (plan.blockers.length) {
      const b = plan.blockers[0]!;
      return { status: "fail", message: `${prefix} ${b.message}`, fix: b.fix, code: b.code };
    }
    if (plan.frontEnds.length === 0)
      return { status: "ok", message: `${prefix} no active host firewall would drop UDP ${port}.` };
    if (plan.actions.every((a) => a.satisfied)) return { status: "ok", message: `${prefix} ${plan.summary}` };
    const e = netdbgError("E701", { port, frontEnds: plan.frontEnds.join(", "), address: t.address, target: t.name });
    return { ...fromError(e), message: `${prefix} ${e.message}` };
  },
};

export const ipsecCheck: Check = {
  id: "host.ipsec",
  title: "IPsec policies that would drop the debug traffic",
  applies: (d) => d.target !== undefined && d.target.port !== undefined && d.ipsec !== undefined,
  async run(d) {
    let r: Awaited<ReturnType<NonNullable<DoctorDeps["ipsec"]>>>;
    try {
      r = await d.ipsec!();
    } catch (e) {
      if (isNetdbgError(e)) return fromError(e, "warn");
      throw e;
    }
    const { report, query } = r;
    if (!report.readable) {
      return {
        status: "warn",
        message: `This host's IPsec policies could not be read (${report.notes.join(" ") || report.source}).`,
        fix: "Run doctor again as root (Linux 'ip xfrm policy' needs it) or as administrator to have them checked.",
      };
    }
    const e = ipsecError(report, query);
    if (e) return fromError(e);
    return {
      status: "ok",
      message: `No IPsec policy (${report.source}) requires protection for UDP ${query.port} between ${query.target} and ${query.local}.`,
    };
  },
};
