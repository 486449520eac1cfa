/**
 * Parser of kdnet.exe's listing (run without arguments). Layout checked against test/fixtures/kdnet-exe/
 * docs-list-*.txt and Microsoft's 'Set up KDNET network kernel debugging automatically': a NIC line is
 * `busparams=<b.d.f>, <adapter name>, <status>` (status e.g. `Plugged in.`, `KDNET is running on this NIC.`,
 * `Primary function, multiple physical functions are enabled.`, `… Secondary function.`); a USB controller
 * line is `busparams=<b.d.f | index>, <controller name>` (no status); the section a line belongs to follows
 * the preceding heading. kdnet.exe prints English only (no .mui seen); still, when no heading is recognized a
 * line with a status is taken as a NIC and one without as a USB controller.
 */
import { isEcho, lines } from "./text.js";

export interface KdnetNic {
  busparams: string;
  name: string;
  /** The status text as printed (trailing period and run-on text kept out). */
  status: string;
  pluggedIn: boolean;
  kdnetRunning: boolean;
  primaryFunction: boolean;
  secondaryFunction: boolean;
}

export interface KdnetUsbController {
  busparams: string;
  name: string;
  isDefault: boolean;
}

export interface KdnetList {
  nics: KdnetNic[];
  usbControllers: KdnetUsbController[];
  /** "Network debugging is not supported on any of the NICs in this machine." was printed. */
  noSupportedNic: boolean;
  /** "This Microsoft hypervisor supports using KDNET in guest VMs." was printed. */
  hypervisorGuestSupport: boolean;
}

const STATUS_START = /,\s+(Plugged in|Not plugged in|KDNET is running|Primary function|Secondary function)/i;

export function parseKdnetList(text: string): KdnetList {
  const out: KdnetList = { nics: [], usbControllers: [], noSupportedNic: false, hypervisorGuestSupport: false };
  let section: "nic" | "usb" | undefined;
  for (const raw of lines(text)) {
    const l = raw.trim();
    if (l === "" || isEcho(l, "kdnet")) continue;
    if (/supported on the following NICs/i.test(l)) {
      section = "nic";
      continue;
    }
    if (/supported on the following USB controllers/i.test(l)) {
      section = "usb";
      continue;
    }
    if (/not supported on any of the NICs/i.test(l)) {
      out.noSupportedNic = true;
      section = undefined;
      continue;
    }
    if (/hypervisor supports using KDNET in guest/i.test(l)) {
      out.hypervisorGuestSupport = true;
      continue;
    }
    const m = /^busparams=([0-9.]+),\s*(.*)$/i.exec(l);
    if (!m) continue;
    const busparams = m[1]!;
    const rest = m[2]!;
    const st = STATUS_START.exec(rest);
    const isNic = section === "nic" || (section === undefined && st !== null);
    if (isNic) {
      const name = st ? rest.slice(0, st.index).trim() : rest.trim();
      // the status is one sentence: it ends at its first period; text glued after it ("kdnet.exe") is dropped
      let status = st ? rest.slice(st.index + 1).trim() : "";
      const dot = status.indexOf(".");
      if (dot >= 0) status = status.slice(0, dot);
      out.nics.push({
        busparams,
        name,
        status,
        pluggedIn: /(^|,\s*)Plugged in/i.test(status),
        kdnetRunning: /KDNET is running/i.test(status),
        primaryFunction: /Primary function/i.test(status),
        secondaryFunction: /Secondary function/i.test(status),
      });
    } else {
      const isDefault = /\(Default\)\s*$/i.test(rest);
      out.usbControllers.push({ busparams, name: rest.replace(/\s*\(Default\)\s*$/i, "").trim(), isDefault });
    }
  }
  return out;
}
