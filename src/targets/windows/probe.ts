/**
 * Probe (read-only, also for doctor): what the Windows target is, from the JSON of templates/windows/probe.ps1
 * plus netdbg's own parsing of the bcdedit text it carries (locale-free: element names and {GUID} shapes).
 */
import { netdbgError } from "../../core/error.js";
import { type BcdObject, bcdElement, type DbgSettings, parseBcdEnum, parseDbgSettings } from "./bcdedit-parse.js";
import { type KdnetList, parseKdnetList } from "./kdnet-parse.js";
import { asArray, type ScriptRunner } from "./ps.js";
import { SUPPORTED_NICS } from "./supported-nics.js";

/** The suffix netdbg gives the description of the boot entry it copies. */
export const ENTRY_SUFFIX = " [netdbg]";
export const DEFAULT_EXPORT_DIR = "C:\\ProgramData\\netdbg";
export const DEFAULT_KDNET_PATH = "C:\\Program Files (x86)\\Windows Kits\\10\\Debuggers\\x64\\kdnet.exe";

/**
 * Where the probe looks for kdnet.exe when no path is given (templates/windows/probe.ps1, same order): the
 * Windows Kits debuggers for the machine's architecture (x86 and 64-bit Program Files), then C:\KDNET, the folder
 * Microsoft's KDNET setup page copies kdnet.exe and VerifiedNICList.xml to; then PATH.
 */
export function kdnetCandidates(arch: string, systemDrive = "C:"): string[] {
  const a = arch.toUpperCase() === "ARM64" ? "arm64" : arch.toUpperCase() === "X86" ? "x86" : "x64";
  return [
    `C:\\Program Files (x86)\\Windows Kits\\10\\Debuggers\\${a}\\kdnet.exe`,
    `C:\\Program Files\\Windows Kits\\10\\Debuggers\\${a}\\kdnet.exe`,
    `${systemDrive}\\KDNET\\kdnet.exe`,
  ];
}

export interface NicFacts {
  name: string;
  interfaceDescription: string;
  pnpDeviceId: string;
  vendorId?: string;
  deviceId?: string;
  /** From the PnP id: PCI\…, USB\…, VMBUS\… (Hyper-V synthetic NIC), anything else. */
  attachment: "pci" | "usb" | "vmbus" | "other";
  /** NDIS_PHYSICAL_MEDIUM (ntddndis.h order: 1 WirelessLan, 8 WirelessWan, 9 Native802_11, 10 Bluetooth, 14 802_3). */
  medium: number;
  wireless: boolean;
  virtual: boolean;
  connected: boolean;
  status: string;
  linkSpeed: string;
  pci?: { segment: number; bus: number; device: number; function: number };
  /** bus.device.function (decimal), as bcdedit's busparams; absent on a PCI segment other than 0. */
  busparams?: string;
  /** Microsoft's KDNET list says yes for this build (VMBUS: kdnet supports the Hyper-V synthetic NIC in guests). */
  supported: boolean;
  unsupportedReason?: string;
  minBuild?: number;
  team?: string;
  vswitch?: string;
  /**
   * The debug boot: KDNET owns this NIC (Plug and Play problem 53), so Windows has no driver and no interface on it;
   * read from Plug and Play (its name is the device's, as no interface alias exists).
   */
  debuggerOwned?: boolean;
}

export interface WindowsFacts {
  user: string;
  os: { caption: string; version: string; build: number; arch: string; edition: string };
  systemDrive: string;
  secureBoot: { state: boolean | null; source: string };
  bitlocker: { mountPoint: string; volumeStatus: string; protectionStatus: string }[];
  /** Where the BitLocker state came from; null when nothing could tell (the state is unknown). */
  bitlockerSource: string | null;
  nics: NicFacts[];
  dbgsettings: DbgSettings;
  current?: BcdObject;
  bootmgr?: BcdObject;
  loaders: BcdObject[];
  /** Boot loaders whose description ends with " [netdbg]". */
  netdbgEntries: BcdObject[];
  /** bcdedit failed to read the store (exit code and its text), when it did. */
  bcdError?: { exitCode: number; output: string };
  /** kdnet.exe's listing, and where the probe found it. */
  kdnet?: KdnetList & { path: string };
  exports: string[];
  /**
   * The NIC the SSH session arrived on (SSH_CONNECTION's server address → Get-NetIPAddress → Get-NetIPInterface):
   * `nic` null when that address is on no NIC (loopback, a NAT or proxy in between); absent when the session did
   * not say (an older probe, no SSH_CONNECTION).
   */
  sshSession?: SshSession;
}

export interface SshSession {
  address: string;
  nic: string | null;
  /** Get-NetIPAddress's PrefixOrigin: Dhcp, Manual (static), WellKnown, RouterAdvertisement. */
  prefixOrigin: string | null;
  /** Get-NetIPInterface's Dhcp: Enabled or Disabled. */
  dhcp: string | null;
}

interface RawProbe {
  user: string;
  os: WindowsFacts["os"];
  systemDrive: string;
  secureBoot: { state: boolean | null; source: string };
  bitlocker: WindowsFacts["bitlocker"] | WindowsFacts["bitlocker"][number] | null;
  bitlockerSource?: string | null;
  hyperv: { switches: RawSwitch | RawSwitch[] | null } | null;
  teams: { name: string; members: string | string[] | null } | { name: string; members: string | string[] | null }[] | null;
  nics: RawNic | RawNic[] | null;
  bcd: Record<"dbgsettings" | "current" | "bootmgr" | "loaders", { exitCode: number; output: string }>;
  kdnet: { path: string; exitCode: number; output: string } | null;
  /** Boolean elements read through the BCD WMI provider (null: the provider did not answer). */
  bcdBooleans?: { id: string; type: number; value: boolean } | { id: string; type: number; value: boolean }[] | null;
  exports: string | string[] | null;
  sshSession?: SshSession | null;
  debuggerNics?: RawDebuggerNic | RawDebuggerNic[] | null;
}
interface RawDebuggerNic {
  name: string;
  pnpDeviceId: string;
  bus: number | null;
  device: number | null;
  function: number | null;
}
interface RawSwitch {
  name: string;
  switchType: string;
  embeddedTeamingEnabled: boolean;
  netAdapterInterfaceDescriptions: string | string[] | null;
}
interface RawNic {
  name: string;
  interfaceDescription: string;
  pnpDeviceId: string;
  ndisPhysicalMedium: number;
  virtual: boolean;
  status: string;
  linkSpeed: string;
  segment: number | null;
  bus: number | null;
  device: number | null;
  function: number | null;
}

const WIRELESS_MEDIA = new Set([1, 8, 9, 10, 12, 13]);

export interface WhoAmI {
  user: string;
  elevated: boolean;
}

/** The elevation check that comes first: a non-elevated session is a coded stop (E200). */
export async function checkElevation(run: ScriptRunner, target: string): Promise<WhoAmI> {
  const who = await run.run<WhoAmI>("whoami");
  if (!who.elevated) throw netdbgError("E200", { target, user: who.user });
  return who;
}

export function classifyNic(n: RawNic, build: number): NicFacts {
  const pnp = n.pnpDeviceId ?? "";
  const attachment = /^PCI\\/i.test(pnp) ? "pci" : /^USB\\/i.test(pnp) ? "usb" : /^VMBUS\\/i.test(pnp) ? "vmbus" : "other";
  const ids = /VEN_([0-9A-F]{4})&DEV_([0-9A-F]{4})/i.exec(pnp);
  const f: NicFacts = {
    name: n.name,
    interfaceDescription: n.interfaceDescription,
    pnpDeviceId: pnp,
    attachment,
    medium: n.ndisPhysicalMedium,
    wireless: WIRELESS_MEDIA.has(n.ndisPhysicalMedium),
    virtual: Boolean(n.virtual),
    connected: n.status === "Up",
    status: n.status,
    linkSpeed: n.linkSpeed,
    supported: false,
  };
  if (ids) {
    f.vendorId = ids[1]!.toUpperCase();
    f.deviceId = ids[2]!.toUpperCase();
  }
  if (n.bus !== null && n.device !== null && n.function !== null && attachment === "pci") {
    const segment = n.segment ?? 0;
    f.pci = { segment, bus: n.bus, device: n.device, function: n.function };
    // b.d.f only: a NIC on another PCI segment is refused by the plan (E225), never given a made-up segment.b.d.f
    if (segment === 0) f.busparams = `${n.bus}.${n.device}.${n.function}`;
  }
  if (f.wireless) f.unsupportedReason = "it is a wireless adapter";
  else if (attachment === "usb") f.unsupportedReason = "it is attached over USB";
  else if (attachment === "vmbus") f.supported = true;
  else if (attachment !== "pci") f.unsupportedReason = "it is not a PCI device (a virtual or software adapter)";
  else if (!f.vendorId || !f.deviceId) f.unsupportedReason = "its PCI vendor and device ids are unknown";
  else {
    const min = SUPPORTED_NICS.get(`${f.vendorId}:${f.deviceId}`);
    if (min === undefined) f.unsupportedReason = `PCI ${f.vendorId}:${f.deviceId} is not on Microsoft's KDNET list`;
    else if (build < min) {
      f.minBuild = min;
      f.unsupportedReason = `Microsoft supports PCI ${f.vendorId}:${f.deviceId} from Windows build ${min}; this is build ${build}`;
    } else {
      f.minBuild = min;
      f.supported = true;
    }
  }
  return f;
}

export interface ProbeOptions {
  exportDir?: string;
  kdnetPath?: string;
}

/** Run the probe script and turn its answer into facts. */
export async function probeWindows(run: ScriptRunner, o: ProbeOptions = {}): Promise<WindowsFacts> {
  const raw = await run.run<RawProbe>("probe", {
    ExportDir: o.exportDir ?? DEFAULT_EXPORT_DIR,
    // empty: the probe looks where kdnet.exe usually is (kdnetCandidates)
    KdnetPath: o.kdnetPath ?? "",
  });
  return factsFromProbe(raw);
}

export function factsFromProbe(raw: RawProbe): WindowsFacts {
  const build = Number(raw.os?.build ?? 0);
  const teams = asArray(raw.teams).map((t) => ({ name: t.name, members: asArray(t.members) }));
  const switches = asArray(raw.hyperv?.switches).map((s) => ({ ...s, adapters: asArray(s.netAdapterInterfaceDescriptions) }));
  const nics = asArray(raw.nics).map((n) => {
    const f = classifyNic(n, build);
    const team = teams.find((t) => t.members.some((m) => m.toLowerCase() === n.name.toLowerCase()));
    if (team) f.team = team.name;
    const sw = switches.find((s) => s.switchType === "External" && s.adapters.includes(n.interfaceDescription));
    if (sw) {
      f.vswitch = sw.name;
      if (sw.embeddedTeamingEnabled && sw.adapters.length > 1 && !f.team) f.team = `${sw.name} (Switch Embedded Teaming)`;
    }
    return f;
  });
  // the debug boot: the NIC KDNET owns is missing from Get-NetAdapter; it comes from Plug and Play instead
  for (const d of asArray(raw.debuggerNics)) {
    if (nics.some((n) => n.pnpDeviceId.toLowerCase() === d.pnpDeviceId.toLowerCase())) continue;
    const f = classifyNic(
      {
        name: d.name,
        interfaceDescription: d.name,
        pnpDeviceId: d.pnpDeviceId,
        ndisPhysicalMedium: 14, // KDNET drives wired Ethernet only
        virtual: false,
        status: "Up", // it carries KDNET
        linkSpeed: "",
        segment: 0,
        bus: d.bus,
        device: d.device,
        function: d.function,
      },
      build,
    );
    f.debuggerOwned = true;
    nics.push(f);
  }
  const facts: WindowsFacts = {
    user: raw.user,
    os: raw.os,
    systemDrive: raw.systemDrive || "C:",
    secureBoot: raw.secureBoot ?? { state: null, source: "none" },
    bitlocker: asArray(raw.bitlocker),
    // an older probe (no field) read Get-BitLockerVolume: keep what it said
    // Windows Server without the BitLocker feature cannot encrypt a volume at all (device encryption is a client
    // feature), so there the missing cmdlets do say "not encrypted"
    bitlockerSource:
      raw.bitlockerSource === undefined
        ? "Get-BitLockerVolume"
        : raw.bitlockerSource === null && /Server/i.test(raw.os?.caption ?? "")
          ? "no BitLocker feature (Windows Server)"
          : raw.bitlockerSource,
    nics,
    dbgsettings: parseDbgSettings(raw.bcd.dbgsettings.output),
    loaders: [],
    netdbgEntries: [],
    exports: asArray(raw.exports),
    ...(raw.sshSession ? { sshSession: raw.sshSession } : {}),
  };
  for (const k of ["dbgsettings", "current", "bootmgr", "loaders"] as const) {
    const r = raw.bcd[k];
    if (r.exitCode !== 0 && !facts.bcdError) facts.bcdError = { exitCode: r.exitCode, output: r.output };
  }
  const current = parseBcdEnum(raw.bcd.current.output)[0];
  if (current) facts.current = current;
  const bootmgr = parseBcdEnum(raw.bcd.bootmgr.output)[0];
  if (bootmgr) facts.bootmgr = bootmgr;
  facts.loaders = parseBcdEnum(raw.bcd.loaders.output).filter((o) => o.guid !== undefined);
  applyWmiBooleans(facts, asArray(raw.bcdBooleans));
  facts.netdbgEntries = facts.loaders.filter((o) => (bcdElement(o, "description") ?? "").endsWith(ENTRY_SUFFIX));
  if (raw.kdnet && raw.kdnet.exitCode === 0) facts.kdnet = { ...parseKdnetList(raw.kdnet.output), path: raw.kdnet.path };
  return facts;
}

/**
 * Boolean element type ids netdbg reads (learn.microsoft.com previous-versions/windows/desktop/bcd:
 * BcdOSLoaderElementTypes KernelDebuggerEnabled 0x260000A0; BcdLibraryElementTypes DebuggerEnabled 0x16000010,
 * DebuggerNetDhcp 0x1600001C).
 */
const WMI_BOOLEANS: Readonly<Record<number, string>> = { 637534368: "debug", 369098768: "bootdebug", 369098780: "dhcp" };
const DBGSETTINGS_GUID = "{4636856e-540f-4170-a130-a84776f4c654}";

/**
 * The typed booleans from the BCD WMI provider replace what bcdedit displayed, which is in the machine's display
 * language: the facts then hold `Yes`/`No` whatever that language, and an element the text showed in a language
 * no table knows is still read right.
 */
function applyWmiBooleans(facts: WindowsFacts, booleans: { id: string; type: number; value: boolean }[]): void {
  for (const b of booleans) {
    const name = WMI_BOOLEANS[b.type];
    if (!name) continue;
    const id = b.id.toLowerCase();
    const shown = b.value ? "Yes" : "No";
    if (id === DBGSETTINGS_GUID) {
      if (name === "dhcp") facts.dbgsettings.dhcp = b.value;
      facts.dbgsettings.elements[name] = shown;
      continue;
    }
    for (const o of [facts.current, ...facts.loaders]) {
      if (o?.guid !== id) continue;
      const e = o.elements.find((x) => x.name === name);
      if (e) {
        e.value = shown;
        e.values = [shown];
      } else o.elements.push({ name, value: shown, values: [shown] });
    }
  }
}
