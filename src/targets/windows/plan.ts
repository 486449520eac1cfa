/**
 * Plan (pure): facts + config → ordered Actions, each with the exact command and its exact undo.
 * Refusals (coded errors with the fix) come before any action exists, so they stop before any change.
 *
 * Sequence (Microsoft's 'Set up KDNET network kernel debugging manually' and BCDEdit /dbgsettings pages):
 *   bcd.export       bcdedit /export <dir>\bcd-<stamp>.bak              (kept on the target; no undo)
 *   bcd.copy         bcdedit /copy {current} /d "<desc> [netdbg]"       undo: delete that entry
 *   bcd.displayorder bcdedit /displayorder {entry} /remove               undo: /addlast (before the entry is deleted)
 *   bcd.debug        bcdedit /debug {entry} on                          undo: debug back as it was
 *   bcd.dbgsettings  bcdedit /dbgsettings net hostip:… port:… key:…     undo: {dbgsettings} restored from the export
 *   bcd.busparams    bcdedit /set {dbgsettings} busparams b.d.f         undo: {dbgsettings} restored from the export
 *   bcd.loadoptions  bcdedit /set {entry} loadoptions "… NO_KDNIC"      undo: loadoptions back as they were
 *   bitlocker.suspend  Suspend-BitLocker -RebootCount 2                 undo: Resume-BitLocker, or in the debug
 *                                                                      boot Suspend-BitLocker -RebootCount 1
 *   bcd.bootsequence bcdedit /bootsequence {entry}  (or /default)       undo: bootsequence/default back as it was
 * The one-time boot is armed last, once everything it boots into is in place. The undo of {dbgsettings}
 * restores the object from the export taken in the same run, so the previous key never leaves the target.
 */
import { netdbgError } from "../../core/error.js";
import { DEBUG_PORT_MAX, DEBUG_PORT_MIN } from "../../core/inventory.js";
import { ipVersion, parseIPv6 } from "../../core/ip.js";
import { psQuote } from "../../core/quote.js";
import type { Action } from "../../core/step.js";
import { type BcdObject, bcdElement, bcdValues, parseBcdBoolean } from "./bcdedit-parse.js";
import { ENTRY_SUFFIX, type NicFacts, type WindowsFacts } from "./probe.js";
import type { PsParams, TemplateName } from "./ps.js";

/** Stands for the GUID of the entry `bcd.copy` creates, until it exists. */
export const ENTRY_PLACEHOLDER = "{netdbg-entry}";

export interface WindowsSetupConfig {
  target: string;
  hostIp: string;
  port: number;
  /** The KDNET key (secret). */
  key: string;
  nic?: string;
  noKdnic?: boolean;
  makeDefault?: boolean;
  force?: boolean;
  exportDir: string;
  /** Timestamp for the export file name, e.g. 20261121T060000Z. */
  stamp: string;
  /** Go on although BitLocker's state cannot be read (--bitlocker-unknown-ok): the next boot may ask for the recovery key. */
  bitlockerUnknownOk?: boolean;
  /** BitLocker stays suspended for this many reboots (the debug-enabled boot and one spare). */
  bitlockerReboots?: number;
}

export interface ScriptCall {
  script: TemplateName;
  params: PsParams;
}

export interface ExpectedSettings {
  debugtype: "NET";
  hostip?: string;
  hostipv6?: string;
  port: number;
  key: string;
  busparams?: string;
}

export interface WindowsPlan {
  nic: NicFacts;
  entryDescription: string;
  /** The GUID of an existing netdbg entry being reused; undefined when bcd.copy will create it. */
  entryGuid?: string;
  exportPath: string;
  expected: ExpectedSettings;
  actions: Action[];
  /** How each action runs (parameters may hold the key: never journaled). */
  runs: Map<string, ScriptCall>;
  warnings: string[];
}

const PLAIN = /^[A-Za-z0-9/:._=-]+$/;

/** A bcdedit call as one would type it in PowerShell (braces and spaces quoted), i.e. exactly the argv passed. */
export function displayBcd(args: readonly string[]): string {
  return ["bcdedit.exe", ...args.map((a) => (PLAIN.test(a) ? a : psQuote(a)))].join(" ");
}

/** A template call as a readable command: the bcdedit passthrough shows bcdedit itself. */
export function displayCall(c: ScriptCall): string {
  if (c.script === "bcdedit") return displayBcd(c.params.BcdArgs as readonly string[]);
  const ps = Object.entries(c.params).map(([k, v]) => {
    const lit = Array.isArray(v)
      ? `@(${v.map((x: string) => psQuote(x)).join(",")})`
      : typeof v === "string"
        ? psQuote(v)
        : String(v);
    return `-${k} ${lit}`;
  });
  return [`templates/windows/${c.script}.ps1`, ...ps].join(" ");
}

const bcd = (...args: string[]): ScriptCall => ({ script: "bcdedit", params: { BcdArgs: args } });

export function selectNic(facts: WindowsFacts, cfg: Pick<WindowsSetupConfig, "nic" | "target">): NicFacts {
  const names = facts.nics.map((n) => n.name).join(", ");
  if (cfg.nic) {
    const want = cfg.nic.toLowerCase();
    const hit =
      facts.nics.find((n) => n.name.toLowerCase() === want) ??
      facts.nics.find((n) => n.interfaceDescription.toLowerCase() === want) ??
      facts.nics.find((n) => n.busparams === cfg.nic) ??
      // the debug boot: the NIC named by its interface alias has none now (KDNET owns it, so Windows has no
      // interface on it); the NIC {dbgsettings} points KDNET at is that one
      (facts.nics.some((n) => n.name.toLowerCase() === want)
        ? undefined
        : facts.nics.find((n) => n.debuggerOwned && n.busparams !== undefined && n.busparams === facts.dbgsettings.busparams));
    if (!hit) throw netdbgError("E214", { nic: cfg.nic, target: cfg.target, candidates: names });
    return hit;
  }
  const usable = facts.nics.filter(
    (n) => n.supported && !n.virtual && !n.team && (n.attachment === "pci" || n.attachment === "vmbus"),
  );
  const up = usable.filter((n) => n.connected);
  const pool = up.length ? up : usable;
  const free = pool.filter((n) => !n.vswitch);
  const pick = free.length ? free : pool;
  if (pick.length === 1) return pick[0]!;
  if (pick.length === 0) {
    const why = facts.nics.length
      ? facts.nics.map((n) => `${n.name}: ${n.unsupportedReason ?? (n.team ? `member of ${n.team}` : "virtual")}`).join("; ")
      : "no network adapters were found";
    throw netdbgError("E208", { target: cfg.target, reason: why, candidates: "" });
  }
  throw netdbgError("E208", {
    target: cfg.target,
    reason: "several NICs qualify",
    candidates: pick.map((n) => `${n.name}${n.busparams ? ` (${n.busparams})` : ""}`).join(", "),
  });
}

/**
 * An existing 2PF configuration: {dbgsettings} busparams names a PCI function no NIC Windows knows has (not even the
 * one KDNET owns in the debug boot) on the bus and device of a NIC it does. kdnet.exe adds that secondary physical
 * function for 2PF debugging; KDNET runs on it while the inbox driver keeps the NIC's own function, and
 * Get-NetAdapter does not show it (learn.microsoft.com/windows-hardware/drivers/debugger/
 * setting-up-kernel-mode-debugging-using-2pf; .../network/debugger-2pf-kdnet-support).
 */
export function twoPfConfiguration(facts: WindowsFacts): { busparams: string; nic: NicFacts } | undefined {
  const bp = facts.dbgsettings.busparams;
  const m = bp ? /^(\d+)\.(\d+)\.(\d+)$/.exec(bp) : null;
  if (!bp || !m || facts.nics.some((n) => n.busparams === bp)) return undefined;
  const [bus, device, fn] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const nic = facts.nics.find(
    (n) => n.pci && n.pci.segment === 0 && n.pci.bus === bus && n.pci.device === device && n.pci.function !== fn,
  );
  return nic ? { busparams: bp, nic } : undefined;
}

function checkNic(n: NicFacts, force: boolean, warnings: string[]): void {
  const ids = n.vendorId ? `PCI ${n.vendorId}:${n.deviceId}` : n.pnpDeviceId;
  if (n.wireless) throw netdbgError("E203", { nic: n.name });
  if (n.attachment === "usb") throw netdbgError("E204", { nic: n.name });
  if (!n.supported) throw netdbgError("E202", { nic: n.name, ids, reason: n.unsupportedReason ?? "unknown" });
  if (n.team) throw netdbgError("E205", { nic: n.name, team: n.team });
  // busparams is b.d.f in decimal (learn.microsoft.com/windows-hardware/drivers/debugger/setting-up-a-network-debugging-connection-automatically);
  // there is no documented way to name another PCI segment, so netdbg does not invent one
  if (n.pci && n.pci.segment !== 0)
    throw netdbgError("E225", { nic: n.name, segment: n.pci.segment, bdf: `${n.pci.bus}.${n.pci.device}.${n.pci.function}` });
  if (n.vswitch) {
    if (!force) throw netdbgError("E206", { nic: n.name, vswitch: n.vswitch });
    warnings.push(
      `--force: the Hyper-V switch '${n.vswitch}' loses its network when KDNET takes '${n.name}'; rebind it to the 'Microsoft Kernel Debug Network Adapter' after the reboot.`,
    );
  }
  if (!n.connected) warnings.push(`'${n.name}' reports no link (${n.status}); KDNET needs the cable plugged in.`);
}

/**
 * The NIC that carries this SSH session, when KDNET takes it over. In the debug boot its Windows driver does not
 * load: Windows reaches the network through the KDNET adapter (KDNIC), whose address comes from DHCP (falling back
 * to 169.254.x.x), so a static address, VLAN and firewall profile do not carry over (learn.microsoft.com,
 * "Set up KDNET network kernel debugging automatically"; the KDNET NIC and KDNIC). A static address means SSH
 * does not come back at it (refused unless --force); with --no-kdnic Windows has no network on that NIC at all
 * (refused); with DHCP the address may change (a warning).
 */
function checkSshNic(
  facts: WindowsFacts,
  nic: NicFacts,
  cfg: Pick<WindowsSetupConfig, "target" | "force" | "noKdnic">,
  warnings: string[],
): void {
  const ssh = facts.sshSession;
  if (!ssh?.nic || ssh.nic.toLowerCase() !== nic.name.toLowerCase()) return;
  const isStatic = ssh.prefixOrigin === "Manual" || ssh.dhcp === "Disabled";
  if (cfg.noKdnic)
    throw netdbgError("E227", {
      target: cfg.target,
      nic: nic.name,
      address: ssh.address,
      why: "with --no-kdnic Windows has no network on that NIC at all in the debug boot",
    });
  if (isStatic) {
    if (!cfg.force)
      throw netdbgError("E227", {
        target: cfg.target,
        nic: nic.name,
        address: ssh.address,
        why: "its address is static, and in the debug boot Windows reaches the network through the KDNET adapter (KDNIC), which takes an address from DHCP (or 169.254.x.x) instead",
      });
    warnings.push(
      `--force: SSH reaches '${cfg.target}' at the static address ${ssh.address} of '${nic.name}', which KDNET takes over: in the debug boot SSH will not answer there (KDNIC takes a DHCP address); teardown then needs the normal boot (choose it at the console or in the firmware's boot menu).`,
    );
    return;
  }
  warnings.push(
    `SSH reaches '${cfg.target}' through '${nic.name}' (${ssh.address}, DHCP), the NIC KDNET takes over: in the debug boot Windows uses the KDNET adapter (KDNIC) instead, whose DHCP address may differ; netdbg follows the KDNET pokes' source, but SSH (doctor, teardown) may need the new address.`,
  );
}

/** kdnet.exe's own listing, when the target has it, as a second opinion on the NIC (never a stop). */
function secondOpinion(facts: WindowsFacts, nic: NicFacts, warnings: string[]): void {
  const k = facts.kdnet;
  if (!k || nic.attachment !== "pci" || !nic.busparams) return;
  if (!k.nics.some((n) => n.busparams === nic.busparams)) {
    warnings.push(
      `kdnet.exe on the target does not list '${nic.name}' (busparams ${nic.busparams}) among the NICs it supports${
        k.nics.length ? `; it lists ${k.nics.map((n) => `${n.name} (${n.busparams})`).join(", ")}` : ""
      }. Microsoft's table says it is supported; if the debugger never connects, try a NIC kdnet.exe lists.`,
    );
  }
  const running = k.nics.find((n) => n.kdnetRunning && n.busparams !== nic.busparams);
  if (running)
    warnings.push(
      `kdnet.exe reports KDNET running on '${running.name}' (${running.busparams}); setup moves it to '${nic.name}'.`,
    );
}

/** The same IPv6 address however written (bcdedit prints what was typed: case, zeros and '::' vary). */
export function sameIPv6(a: string | undefined, b: string): boolean {
  const x = a === undefined ? undefined : parseIPv6(a);
  const y = parseIPv6(b);
  return x !== undefined && y !== undefined && x.every((g, i) => g === y[i]);
}

function sameKey(a: string | undefined, b: string): boolean {
  return a !== undefined && a.toLowerCase() === b.toLowerCase();
}

export function planWindowsSetup(facts: WindowsFacts, cfg: WindowsSetupConfig): WindowsPlan {
  if (!Number.isInteger(cfg.port) || cfg.port < DEBUG_PORT_MIN || cfg.port > DEBUG_PORT_MAX) {
    throw netdbgError("E207", { port: String(cfg.port) });
  }
  const v = ipVersion(cfg.hostIp);
  if (v === 0) {
    throw netdbgError("E003", {
      option: "--host-ip",
      value: cfg.hostIp,
      reason: "KDNET needs a literal IPv4 or IPv6 address",
      fix: "Pass the host's address as the target reaches it, e.g. --host-ip 192.0.2.10.",
    });
  }
  if (facts.secureBoot.state === true) throw netdbgError("E201", { target: cfg.target });
  const warnings: string[] = [];
  if (facts.secureBoot.state === null) {
    if (!cfg.force) throw netdbgError("E217", { target: cfg.target });
    warnings.push("--force: Secure Boot state unknown; if it is on, bcdedit will refuse and netdbg will roll back.");
  }
  if (facts.bitlockerSource === null) {
    if (!cfg.bitlockerUnknownOk) throw netdbgError("E226", { target: cfg.target });
    warnings.push(
      "--bitlocker-unknown-ok: BitLocker's state is unknown and it was not suspended; if the system drive is encrypted (device encryption), the debug boot asks for the recovery key.",
    );
  }
  if (facts.bcdError) {
    throw netdbgError("E210", {
      command: "bcdedit /enum",
      exitCode: facts.bcdError.exitCode,
      output: facts.bcdError.output.trim(),
    });
  }
  const current = facts.current;
  if (!current?.guid) {
    throw netdbgError("E210", {
      command: "bcdedit /enum {current} /v",
      exitCode: 0,
      output: "no {current} boot entry was listed",
    });
  }

  const nic = selectNic(facts, cfg);
  const twoPf = twoPfConfiguration(facts);
  if (twoPf) {
    if (!cfg.force) throw netdbgError("E229", { target: cfg.target, busparams: twoPf.busparams, nic: twoPf.nic.name });
    warnings.push(
      `--force: KDNET's 2PF function at PCI ${twoPf.busparams} (beside '${twoPf.nic.name}') is replaced; teardown restores {dbgsettings} from the export.`,
    );
  }
  checkNic(nic, Boolean(cfg.force), warnings);
  secondOpinion(facts, nic, warnings);
  checkSshNic(facts, nic, cfg, warnings);
  if (cfg.noKdnic) {
    const other = facts.nics.some((n) => n !== nic && n.connected && !n.virtual);
    if (!other) throw netdbgError("E209", { nic: nic.name });
  }

  const baseDescription = (bcdElement(current, "description") ?? "Windows").replace(/ \[netdbg\]$/, "");
  const entryDescription = `${baseDescription}${ENTRY_SUFFIX}`;
  const existing = facts.netdbgEntries.find((e) => bcdElement(e, "description") === entryDescription);
  if (facts.netdbgEntries.length > 1) {
    warnings.push(`Several boot entries end with '${ENTRY_SUFFIX}'; netdbg uses ${existing?.guid ?? "a new one"}.`);
  }
  const entry = existing?.guid ?? ENTRY_PLACEHOLDER;
  const exportPath = `${cfg.exportDir.replace(/\\+$/, "")}\\bcd-${cfg.stamp}.bak`;

  const expected: ExpectedSettings = { debugtype: "NET", port: cfg.port, key: cfg.key };
  if (v === 4) expected.hostip = cfg.hostIp;
  // the target's own spelling when it is the same address (the verifier reads bcdedit's text back)
  else expected.hostipv6 = sameIPv6(facts.dbgsettings.hostipv6, cfg.hostIp) ? facts.dbgsettings.hostipv6! : cfg.hostIp;
  if (nic.attachment === "pci" && nic.busparams) expected.busparams = nic.busparams;

  const actions: Action[] = [];
  const runs = new Map<string, ScriptCall>();
  const add = (a: Omit<Action, "command" | "undo" | "undoData">, run: ScriptCall, undo?: ScriptCall) => {
    const action: Action = { ...a, command: displayCall(run) };
    if (undo) {
      action.undo = displayCall(undo);
      action.undoData = { undo };
    }
    actions.push(action);
    runs.set(a.id, run);
  };

  // 1. export (satisfied when nothing else changes: a rerun that changes nothing exports nothing)
  add(
    { id: "bcd.export", title: "Export the whole BCD store", where: "target" },
    { script: "bcd-export", params: { Path: exportPath } },
  );

  // 3. the debug entry
  const known = facts.loaders.map((o) => o.guid!).filter(Boolean);
  add(
    { id: "bcd.copy", title: `Copy the boot entry as '${entryDescription}'`, where: "target", satisfied: existing !== undefined },
    bcd("/copy", "{current}", "/d", entryDescription),
    { script: "bcd-delete-entry", params: { Guid: existing?.guid ?? "", Description: entryDescription, Known: known } },
  );
  // 'bcdedit /copy' adds the copy to the boot menu's displayorder, so every normal start would wait at the menu
  // until teardown; the one-time bootsequence does not need it there (learn.microsoft.com bcdedit /displayorder)
  const shown = facts.bootmgr ? bcdValues(facts.bootmgr, "displayorder") : [];
  add(
    {
      id: "bcd.displayorder",
      title: "Keep the debug entry out of the boot menu",
      where: "target",
      satisfied: existing !== undefined && !shown.includes(existing.guid!),
    },
    bcd("/displayorder", entry, "/remove"),
    bcd("/displayorder", entry, "/addlast"),
  );
  const debugNow = existing ? bcdElement(existing, "debug") : undefined;
  add(
    {
      id: "bcd.debug",
      title: "Turn kernel debugging on for the debug entry",
      where: "target",
      satisfied: debugNow !== undefined && parseBcdBoolean(debugNow) === true,
    },
    bcd("/debug", entry, "on"),
    debugNow === undefined ? bcd("/deletevalue", entry, "debug") : bcd("/debug", entry, parseBcdBoolean(debugNow) ? "on" : "off"),
  );

  // 4. dbgsettings (+ busparams)
  const d = facts.dbgsettings;
  const restoreDbg: ScriptCall = { script: "bcd-restore-object", params: { ExportPath: exportPath, Id: "{dbgsettings}" } };
  const dbgOk =
    (d.debugtype ?? "").toUpperCase() === "NET" &&
    d.port === cfg.port &&
    sameKey(d.key, cfg.key) &&
    d.dhcp !== false &&
    (v === 4 ? d.hostip === cfg.hostIp && d.hostipv6 === undefined : sameIPv6(d.hostipv6, cfg.hostIp) && d.hostip === undefined);
  add(
    { id: "bcd.dbgsettings", title: `Send KDNET to ${cfg.hostIp} port ${cfg.port}`, where: "target", satisfied: dbgOk },
    bcd("/dbgsettings", "net", `${v === 4 ? "hostip" : "hostipv6"}:${cfg.hostIp}`, `port:${cfg.port}`, `key:${cfg.key}`),
    restoreDbg,
  );
  if (expected.busparams) {
    add(
      {
        id: "bcd.busparams",
        title: `Pin KDNET to '${nic.name}' at PCI ${expected.busparams}`,
        where: "target",
        satisfied: d.busparams === expected.busparams,
      },
      bcd("/set", "{dbgsettings}", "busparams", expected.busparams),
      restoreDbg,
    );
  } else if (nic.attachment === "vmbus") {
    // KDNET on a synthetic NIC needs a hypervisor that supports debugging its guests; kdnet.exe says so itself
    // ("This Microsoft hypervisor supports using KDNET in guest VMs.") when it runs in such a guest
    const k = facts.kdnet;
    warnings.push(
      `'${nic.name}' is a Hyper-V synthetic NIC: no busparams (KDNET finds it through VMBus). ${
        k === undefined
          ? "KDNET works on it only where the hypervisor supports debugging guests (Hyper-V does; KVM only with its Hyper-V enlightenments): kdnet.exe on the target says whether this one does."
          : k.hypervisorGuestSupport
            ? `kdnet.exe (${k.path}) confirms that this hypervisor supports KDNET in guest VMs.`
            : `kdnet.exe (${k.path}) does not say that this hypervisor supports KDNET in guest VMs, so the debugger will likely never connect: on KVM turn on the Hyper-V enlightenments, or give the guest an emulated Intel NIC instead.`
      }`,
    );
  }

  // 5. NO_KDNIC (merged with the entry's own loadoptions)
  const srcForOptions: BcdObject = existing ?? current;
  const oldOptions = bcdElement(srcForOptions, "loadoptions");
  if (cfg.noKdnic) {
    const tokens = (oldOptions ?? "").split(/\s+/).filter(Boolean);
    const has = tokens.some((t) => t.toUpperCase() === "NO_KDNIC");
    const merged = has ? tokens.join(" ") : [...tokens, "NO_KDNIC"].join(" ");
    add(
      {
        id: "bcd.loadoptions",
        title: "Add NO_KDNIC to the debug entry's loadoptions",
        where: "target",
        satisfied: existing !== undefined && has,
      },
      bcd("/set", entry, "loadoptions", merged),
      oldOptions === undefined || existing === undefined
        ? bcd("/deletevalue", entry, "loadoptions")
        : bcd("/set", entry, "loadoptions", oldOptions),
    );
  }

  // 6. BitLocker, suspended after the BCD changes (it validates at the next start-up, so that is in time) and before
  // the boot is armed; teardown undoes in reverse order, so it suspends again before it changes the BCD, while the
  // debug entry it runs from still exists (templates/windows/bitlocker.ps1 tells the debug boot by that entry).
  const vol = facts.bitlocker.find((b) => b.mountPoint.toUpperCase() === facts.systemDrive.toUpperCase());
  if (vol && vol.volumeStatus !== "FullyDecrypted") {
    const reboots = cfg.bitlockerReboots ?? 2;
    add(
      {
        id: "bitlocker.suspend",
        title: `Suspend BitLocker on ${vol.mountPoint} for ${reboots} reboots`,
        where: "target",
        satisfied: vol.protectionStatus !== "On",
      },
      { script: "bitlocker", params: { MountPoint: vol.mountPoint, Operation: "suspend", RebootCount: reboots } },
      // undo: resume in the boot setup ran in (a rollback), but suspend for one restart when run from the debug
      // boot (teardown): resuming there would seal the debug boot and the next normal boot would ask for the
      // recovery key (templates/windows/bitlocker.ps1)
      { script: "bitlocker", params: { MountPoint: vol.mountPoint, Operation: "undo" } },
    );
  }

  // 7. boot into it: once (default) or always (--make-default)
  const bm = facts.bootmgr;
  if (cfg.makeDefault) {
    const oldDefault = bm ? bcdElement(bm, "default") : undefined;
    add(
      {
        id: "bcd.default",
        title: "Make the debug entry the default",
        where: "target",
        satisfied: existing !== undefined && oldDefault === existing.guid,
      },
      bcd("/default", entry),
      oldDefault ? bcd("/default", oldDefault) : bcd("/deletevalue", "{bootmgr}", "default"),
    );
  } else {
    const oldSeq = bm ? bcdValues(bm, "bootsequence") : [];
    add(
      {
        id: "bcd.bootsequence",
        title: "Boot the debug entry once at the next restart",
        where: "target",
        satisfied: existing !== undefined && oldSeq.length === 1 && oldSeq[0] === existing.guid,
      },
      bcd("/bootsequence", entry),
      oldSeq.length ? bcd("/bootsequence", ...oldSeq) : bcd("/deletevalue", "{bootmgr}", "bootsequence"),
    );
  }

  const allSatisfied = actions.slice(1).every((a) => a.satisfied);
  actions[0]!.satisfied = allSatisfied;

  const plan: WindowsPlan = { nic, entryDescription, exportPath, expected, actions, runs, warnings };
  if (existing?.guid) plan.entryGuid = existing.guid;
  return plan;
}
