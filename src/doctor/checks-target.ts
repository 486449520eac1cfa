/** Checks about the target as a whole: the SSH session the target checks share, and the debug NIC. */
import { isNetdbgError, netdbgError } from "../core/error.js";
import { pickNic } from "../targets/linux/plan.js";
import type { LinuxFacts } from "../targets/linux/types.js";
import type { NicFacts, WindowsFacts } from "../targets/windows/probe.js";
import { parseLinkSpeed } from "./probes.js";
import type { Check, CheckOutcome, DoctorDeps } from "./types.js";
import { errorText, fromError, withFacts } from "./util.js";

export const sshCheck: Check = {
  id: "target.ssh",
  title: "SSH session to the target",
  applies: (d) => d.target !== undefined && d.session !== undefined,
  async run(d) {
    const t = d.target!;
    try {
      await d.session!();
      return { status: "ok", message: `An SSH session to '${t.name}' is open; the target checks share it and only read.` };
    } catch (e) {
      if (isNetdbgError(e)) {
        return {
          status: "fail",
          message: `SSH to '${t.name}' failed: ${e.message} The checks that read the target were skipped.`,
          fix: e.fix,
          code: e.code,
        };
      }
      return fromError(netdbgError("E703", { target: t.name, reason: errorText(e) }));
    }
  },
};

const ids = (n: NicFacts) => (n.vendorId ? `PCI ${n.vendorId}:${n.deviceId}` : n.pnpDeviceId || n.attachment);

/** One Windows NIC's verdict for KDNET (the probe's classification per Microsoft's list, plus teams and switches). */
export function windowsNicVerdict(n: NicFacts, target: string): CheckOutcome {
  if (n.wireless) return fromError(netdbgError("E203", { nic: n.name }));
  if (n.attachment === "usb") return fromError(netdbgError("E204", { nic: n.name }));
  if (n.team) return fromError(netdbgError("E205", { nic: n.name, team: n.team }));
  if (!n.supported)
    return fromError(netdbgError("E202", { nic: n.name, ids: ids(n), reason: n.unsupportedReason ?? "unknown reason" }));
  if (n.vswitch) return fromError(netdbgError("E206", { nic: n.name, vswitch: n.vswitch }), "warn");
  const bps = parseLinkSpeed(n.linkSpeed);
  if (bps !== undefined && bps >= 10e9) {
    return {
      status: "warn",
      message: `'${n.name}' (${n.interfaceDescription}, ${ids(n)}) is on Microsoft's KDNET list, but it is a ${n.linkSpeed} NIC: KDNET drives it with a polled debug driver at debug speed, and several 10 GbE+ parts (Mellanox, Cisco) are supported only in 2PF mode, which keeps the NIC usable by Windows.`,
      fix: `If the first connect fails, run 'kdnet.exe' on '${target}' to see what it says about this NIC, or use a 1 GbE NIC for debugging.`,
    };
  }
  return {
    status: "ok",
    message: `'${n.name}' (${n.interfaceDescription}, ${ids(n)}${n.busparams ? `, busparams ${n.busparams}` : ""}) is a wired NIC KDNET supports on this build.`,
  };
}

/** The NIC KDNET uses or would use: the inventory's, else the one dbgsettings' busparams name. */
export function windowsDebugNic(f: WindowsFacts, wanted?: string): NicFacts | undefined {
  if (wanted) {
    const w = wanted.toLowerCase();
    return f.nics.find((n) => n.name.toLowerCase() === w || n.busparams === wanted || n.interfaceDescription.toLowerCase() === w);
  }
  if (f.dbgsettings.busparams) return f.nics.find((n) => n.busparams === f.dbgsettings.busparams);
  return undefined;
}

function windowsNic(d: DoctorDeps, f: WindowsFacts): CheckOutcome {
  const t = d.target!;
  const wanted = t.transport?.nic;
  const nic = windowsDebugNic(f, wanted);
  if (nic) return windowsNicVerdict(nic, t.name);
  if (wanted) {
    return fromError(
      netdbgError("E208", {
        target: t.name,
        reason: `the inventory names NIC '${wanted}', which the target does not have`,
        candidates: f.nics.map((n) => n.name).join(", "),
      }),
    );
  }
  const wired = f.nics.filter((n) => !n.virtual || n.attachment === "vmbus");
  const good = wired.filter((n) => windowsNicVerdict(n, t.name).status !== "fail");
  if (good.length) {
    const best = good.find((n) => n.connected) ?? good[0]!;
    const v = windowsNicVerdict(best, t.name);
    return {
      ...v,
      message: `No NIC is chosen yet; KDNET can use ${good.map((n) => `'${n.name}'`).join(", ")}. ${v.message}`,
    };
  }
  const reasons = wired.map((n) => `${n.name}: ${windowsNicVerdict(n, t.name).message}`).join(" ");
  return fromError(netdbgError("E208", { target: t.name, reason: reasons || "it has no physical NIC", candidates: "" }));
}

function linuxNic(d: DoctorDeps, f: LinuxFacts): CheckOutcome {
  try {
    const n = pickNic(f, d.target!.transport?.nic);
    return {
      status: "ok",
      message: `'${n.name}' (driver ${n.driver}${n.ipv4 ? `, ${n.ipv4}` : ""}) is a wired NIC netpoll can drive: not wireless, USB, bonded or bridged.`,
    };
  } catch (e) {
    if (isNetdbgError(e)) return fromError(e);
    throw e;
  }
}

export const nicCheck: Check = {
  id: "target.nic",
  title: "Target NIC can carry the debugger",
  needs: "target.ssh",
  applies: (d) =>
    (d.target?.os === "windows" && d.windowsFacts !== undefined) || (d.target?.os === "linux" && d.linuxFacts !== undefined),
  run: (d) =>
    d.target!.os === "windows"
      ? withFacts(d, d.windowsFacts, (f) => windowsNic(d, f))
      : withFacts(d, d.linuxFacts, (f) => linuxNic(d, f)),
};
