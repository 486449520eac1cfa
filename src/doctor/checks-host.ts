/** Host-side doctor checks: route, port, key. */
import { isNetdbgError } from "../core/error.js";
import { parseKdnetKey } from "../core/kdnet-key.js";
import type { Check } from "./types.js";

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
