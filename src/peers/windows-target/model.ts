/**
 * A model of a Windows machine as netdbg sees it over SSH: the most faithful test peer available without
 * Windows. It receives the exact command lines netdbg sends (`powershell.exe … -EncodedCommand <base64>` or
 * `-Command -` with the script on stdin), decodes the UTF-16LE script, and answers like the machine would.
 *
 * Two ways to answer. With a real PowerShell engine (engine.ts, stubs.ts; `execWith`), the exact script runs in
 * pwsh and only what cannot run anywhere but Windows — bcdedit.exe, the BitLocker / Hyper-V / NetAdapter / CIM
 * cmdlets, the registry, restarts — comes from this model's state, through stubs; the profile's `modules` decide
 * which cmdlets exist. Without an engine (`exec`) the model answers from its table:
 * it does NOT interpret arbitrary PowerShell. It recognizes netdbg's own scripts: the first line
 * `# netdbg:script=<name>` names a template of templates/windows/, the line `$netdbgParams = @{…}` carries the
 * parameters as PowerShell literals (parsed here), and the template body must be embedded unmodified — the
 * model checks that against the file, so a script netdbg did not ship is rejected. The model then performs
 * what the template does against its state: a BCD store with bcdedit semantics (bcd.ts), NICs with PCI
 * locations, BitLocker volumes, LBFO teams, Hyper-V switches, Secure Boot, the default shell of the SSH
 * server, the display language. Answers are JSON as the templates print it, with bcdedit text inside shaped
 * exactly like test/fixtures/bcdedit (CRLF line ends).
 *
 * The state is plain JSON so the same model can sit behind an in-process ssh2 server or behind a real sshd
 * (a ForceCommand script loads it from a file, handles one command, writes it back).
 */
import { readFileSync } from "node:fs";
import { kdnetCandidates } from "../../targets/windows/probe.js";
import { SUPPORTED_NICS } from "../../targets/windows/supported-nics.js";
import { type BcdStoreState, bcdedit, bcdWmi, type Locale, serializeStore, WELL_KNOWN, type WmiAnswer } from "./bcd.js";

export interface ModelNic {
  name: string;
  interfaceDescription: string;
  /** PCI\VEN_8086&DEV_10D3&… , USB\VID_…, VMBUS\… */
  pnpDeviceId: string;
  /** NDIS_PHYSICAL_MEDIUM: 14 = 802.3, 9 = Native 802.11. */
  ndisPhysicalMedium: number;
  virtual: boolean;
  status: "Up" | "Disconnected" | "Disabled";
  linkSpeed: string;
  macAddress: string;
  pci?: { segment: number; bus: number; device: number; function: number };
  /** KDNET owns this NIC since the last boot (its Windows driver is not started). */
  kdnetOwned?: boolean;
  /** Its IPv4 address: from DHCP (PrefixOrigin Dhcp, Dhcp Enabled) or static (Manual, Disabled). */
  ip?: { address: string; prefixOrigin: "Dhcp" | "Manual"; dhcp: "Enabled" | "Disabled" };
}

export interface WindowsTargetState {
  user: string;
  elevated: boolean;
  /**
   * "unsupported" = legacy BIOS: Confirm-SecureBootUEFI throws PlatformNotSupportedException.
   * "unknown" = the cmdlet fails otherwise and the registry value is missing: the probe reports null.
   */
  secureBoot: "on" | "off" | "unsupported" | "unknown";
  /** What the registry fallback says; Confirm-SecureBootUEFI is used first unless `confirmCmdletMissing`. */
  confirmCmdletMissing?: boolean;
  locale: Locale;
  /** The OpenSSH DefaultShell: cmd.exe unless the registry says otherwise (research D4). */
  defaultShell: "cmd" | "powershell";
  os: { caption: string; version: string; build: number; arch: string; edition: string };
  systemDrive: string;
  nics: ModelNic[];
  bitlocker: { mountPoint: string; volumeStatus: string; protectionStatus: "On" | "Off"; rebootCount?: number }[];
  teams: { name: string; members: string[] }[];
  vswitches: {
    name: string;
    switchType: "External" | "Internal" | "Private";
    netAdapterInterfaceDescriptions: string[];
    embeddedTeamingEnabled: boolean;
  }[];
  isVm: boolean;
  /** Where kdnet.exe is on the target (absent: not installed). */
  kdnetPath?: string;
  /** What kdnet.exe prints, when a test wants a real captured listing instead of the generated one. */
  kdnetOutput?: string;
  currentId: string;
  store: BcdStoreState;
  files: Record<string, string>;
  /**
   * Folders whose ACL was set (icacls /inheritance:r /grant:r): who may access them, by SID. Absent: inherited
   * (ProgramData's default lets every user read).
   */
  acls?: Record<string, string[]>;
  guidCounter: number;
  /** Restarts so far (the reboot template). */
  boots?: number;
  /**
   * The PowerShell modules this machine has, which decide which cmdlets exist when a real PowerShell engine runs
   * the scripts (stubs.ts): a cmdlet of a missing module fails as on Windows, with CommandNotFoundException.
   * Absent: all of them (the table model's behaviour). Profiles: profiles.ts.
   */
  modules?: WindowsModule[];
  /** The OEM code page of redirected console output (437 en-US; 850 western Europe; 936 zh-CN). Absent: 437. */
  oemCodePage?: number;
  /**
   * The address the SSH session arrived at (the third field of SSH_CONNECTION, which Windows OpenSSH sets in every
   * session): 127.0.0.1 for the built-in peers on loopback; a NIC's address when a test says the session uses it.
   */
  sshServerAddress?: string;
  /**
   * What BitLocker sealed when protection was last enabled or resumed: the validated boot settings (see
   * validatedSettings). Set by the model's constructor when absent.
   */
  bitlockerSealed?: string;
  /**
   * The machine stopped at the BitLocker recovery screen: a restart with protection on booted settings other
   * than the sealed ones. Nothing answers any more (SSH never comes back) until someone types the recovery key.
   */
  recovery?: boolean;
  /** Device encryption (Home editions): the system volume is encrypted though no BitLocker cmdlets exist. */
  deviceEncryption?: boolean;
}

/** PowerShell modules whose cmdlets the engine provides as stubs (the Windows module names). */
export type WindowsModule = "BitLocker" | "Hyper-V" | "NetLbfo" | "NetAdapter" | "SecureBoot" | "CimCmdlets";
export const ALL_MODULES: readonly WindowsModule[] = [
  "BitLocker",
  "Hyper-V",
  "NetLbfo",
  "NetAdapter",
  "SecureBoot",
  "CimCmdlets",
];

export interface Injection {
  /** Which call to break: a template name, optionally with the first bcdedit argument (e.g. "/copy"). */
  script: string;
  bcdArg?: string;
  /** before: fail without doing anything; after: do it, then the connection drops before the answer. */
  mode: "before" | "after";
  /** Let this many matching calls through first. */
  skip?: number;
}

export interface Received {
  commandLine: string;
  script: string;
  params: Record<string, unknown>;
}

/** A command accepted for running: the template, its parameters, the decoded script, the injection that applies. */
export interface Accepted {
  name: string;
  params: Record<string, unknown>;
  /** The decoded script (UTF-16LE base64 of -EncodedCommand, or of the stdin line's FromBase64String). */
  script: string;
  inj: Injection | undefined;
  commandLine: string;
  /** `-Command -`: the stdin text as received. */
  stdin?: string;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  /** The connection dropped after the command ran (injected): the caller must not see a result. */
  dropped?: boolean;
  /** The exact bytes of the SSH channel's stdout / stderr when a real engine ran the script (OEM code page). */
  raw?: { stdout: Uint8Array; stderr: Uint8Array };
}

/** What the SSH channel carries for a result: a real engine's exact bytes (OEM code page), else the model's text. */
export function channelBytes(r: ExecResult): { stdout: Uint8Array; stderr: Uint8Array } {
  return r.raw ?? { stdout: Buffer.from(r.stdout), stderr: Buffer.from(r.stderr) };
}

const CURRENT = "{6e3c4a52-1f05-11ef-9c1b-c85b76a1b2c3}";

/** A typical Windows 11 workstation with one supported Intel NIC (e1000e, 8086:10D3) and Wi-Fi. */
export function defaultState(over: Partial<WindowsTargetState> = {}): WindowsTargetState {
  const bm = WELL_KNOWN["{bootmgr}"]!;
  const state: WindowsTargetState = {
    user: "WIN11-LAB\\admin",
    elevated: true,
    secureBoot: "off",
    locale: "en-US",
    defaultShell: "cmd",
    os: { caption: "Microsoft Windows 11 Pro", version: "10.0.22631", build: 22631, arch: "AMD64", edition: "Professional" },
    systemDrive: "C:",
    nics: [
      {
        name: "Ethernet",
        interfaceDescription: "Intel(R) 82574L Gigabit Network Connection",
        pnpDeviceId: "PCI\\VEN_8086&DEV_10D3&SUBSYS_00008086&REV_00\\3&267A616A&0&18",
        ndisPhysicalMedium: 14,
        virtual: false,
        status: "Up",
        linkSpeed: "1 Gbps",
        macAddress: "52-54-00-12-34-56",
        pci: { segment: 0, bus: 0, device: 3, function: 0 },
        ip: { address: "192.0.2.50", prefixOrigin: "Dhcp", dhcp: "Enabled" },
      },
      {
        name: "Wi-Fi",
        interfaceDescription: "Intel(R) Wi-Fi 6 AX201 160MHz",
        pnpDeviceId: "PCI\\VEN_8086&DEV_A0F0&SUBSYS_00748086&REV_20\\3&11583659&0&A3",
        ndisPhysicalMedium: 9,
        virtual: false,
        status: "Up",
        linkSpeed: "866.7 Mbps",
        macAddress: "8C-8D-28-00-00-01",
        pci: { segment: 0, bus: 0, device: 20, function: 3 },
      },
    ],
    bitlocker: [{ mountPoint: "C:", volumeStatus: "FullyEncrypted", protectionStatus: "On" }],
    teams: [],
    vswitches: [],
    isVm: false,
    currentId: CURRENT,
    store: {
      objects: [
        {
          id: bm,
          kind: "bootmgr",
          elements: {
            device: ["partition=\\Device\\HarddiskVolume1"],
            path: ["\\EFI\\Microsoft\\Boot\\bootmgfw.efi"],
            description: ["Windows Boot Manager"],
            locale: ["en-US"],
            inherit: [WELL_KNOWN["{globalsettings}"]!],
            default: [CURRENT],
            resumeobject: ["{6e3c4a51-1f05-11ef-9c1b-c85b76a1b2c3}"],
            displayorder: [CURRENT],
            toolsdisplayorder: [WELL_KNOWN["{memdiag}"]!],
            timeout: ["30"],
          },
        },
        {
          id: CURRENT,
          kind: "osloader",
          elements: {
            device: ["partition=C:"],
            path: ["\\Windows\\system32\\winload.efi"],
            description: ["Windows 11"],
            locale: ["en-US"],
            inherit: [WELL_KNOWN["{bootloadersettings}"]!],
            recoverysequence: ["{6e3c4a54-1f05-11ef-9c1b-c85b76a1b2c3}"],
            displaymessageoverride: ["Recovery"],
            recoveryenabled: true,
            isolatedcontext: true,
            allowedinmemorysettings: ["0x15000075"],
            osdevice: ["partition=C:"],
            systemroot: ["\\Windows"],
            resumeobject: ["{6e3c4a51-1f05-11ef-9c1b-c85b76a1b2c3}"],
            nx: ["OptIn"],
            bootmenupolicy: ["Standard"],
          },
        },
        {
          id: WELL_KNOWN["{dbgsettings}"]!,
          kind: "dbgsettings",
          elements: { debugtype: ["Serial"], debugport: ["1"], baudrate: ["115200"] },
        },
        { id: WELL_KNOWN["{globalsettings}"]!, kind: "settings", elements: { locale: ["en-US"] } },
        { id: WELL_KNOWN["{bootloadersettings}"]!, kind: "settings", elements: { inherit: [WELL_KNOWN["{globalsettings}"]!] } },
        {
          id: WELL_KNOWN["{memdiag}"]!,
          kind: "memdiag",
          elements: {
            device: ["partition=\\Device\\HarddiskVolume1"],
            path: ["\\EFI\\Microsoft\\Boot\\memtest.efi"],
            description: ["Windows Memory Diagnostic"],
          },
        },
        {
          id: "{6e3c4a54-1f05-11ef-9c1b-c85b76a1b2c3}",
          kind: "osloader",
          elements: { description: ["Windows Recovery Environment"] },
        },
        {
          id: "{6e3c4a51-1f05-11ef-9c1b-c85b76a1b2c3}",
          kind: "resume",
          elements: { description: ["Windows Resume Application"] },
        },
      ],
    },
    files: { "C:\\Windows\\": "" },
    guidCounter: 0,
    ...over,
  };
  return state;
}

/** Parse the `$netdbgParams = @{ … }` literal netdbg's wrapper writes (quote.ts psQuote / psArray forms). */
export function parseParamsLiteral(text: string): Record<string, unknown> {
  // The literal may span lines (a single-quoted string can hold a newline), so it is tokenized from its start
  // up to the closing " }" that follows the last entry, not matched line by line.
  const head = "\n$netdbgParams = @{ ";
  const at = text.indexOf(head);
  if (at < 0) throw new Error("no $netdbgParams line");
  const s = text.slice(at + head.length);
  const out: Record<string, unknown> = {};
  let i = 0;
  const QUOTES = "'\u2018\u2019\u201A\u201B";
  const str = (): string => {
    if (!QUOTES.includes(s[i]!)) throw new Error(`expected a quote at ${i}`);
    i++;
    let v = "";
    for (;;) {
      const c = s[i];
      if (c === undefined) throw new Error("unterminated string");
      if (QUOTES.includes(c)) {
        if (s[i + 1] !== undefined && QUOTES.includes(s[i + 1]!)) {
          v += c;
          i += 2;
          continue;
        }
        i++;
        return v;
      }
      v += c;
      i++;
    }
  };
  const value = (): unknown => {
    if (s.startsWith("$true", i)) {
      i += 5;
      return true;
    }
    if (s.startsWith("$false", i)) {
      i += 6;
      return false;
    }
    if (s.startsWith("@(", i)) {
      i += 2;
      const arr: string[] = [];
      while (s[i] !== ")") {
        arr.push(str());
        if (s[i] === ",") i++;
      }
      i++;
      return arr;
    }
    const n = /^-?\d+/.exec(s.slice(i));
    if (n) {
      i += n[0].length;
      return Number(n[0]);
    }
    return str();
  };
  if (s.startsWith(" }\n")) return out; // no parameters
  while (!s.startsWith("}\n", i)) {
    const k = /^([A-Za-z][A-Za-z0-9]*) = /.exec(s.slice(i));
    if (!k) throw new Error(`bad parameter at ${i}: ${s.slice(i, i + 20)}`);
    i += k[0].length;
    out[k[1]!] = value();
    if (s.startsWith("; ", i)) i += 2;
    else if (s.startsWith(" }\n", i)) i += 1;
    else throw new Error(`bad separator at ${i}`);
  }
  return out;
}

const templateCache = new Map<string, string>();
function templateBody(name: string): string {
  let t = templateCache.get(name);
  if (t === undefined) {
    t = readFileSync(new URL(`../../../templates/windows/${name}.ps1`, import.meta.url), "utf8")
      .replace(/\r\n/g, "\n")
      .trimEnd();
    templateCache.set(name, t);
  }
  return t;
}

const json = (v: unknown) => `${JSON.stringify(v)}\r\n`;

export class WindowsTargetModel {
  readonly received: Received[] = [];
  injections: Injection[] = [];
  /**
   * Called at the end of each restart; `debugging` = the booted entry debugs over NET, so a real machine's KDNET
   * would now poke the host from {dbgsettings} (src/peers/windows.ts starts the KDNET target peer here).
   */
  onBoot: ((boot: { debugging: boolean; entry: string }) => void) | undefined;

  constructor(public state: WindowsTargetState = defaultState()) {
    state.bitlockerSealed ??= this.validatedSettings(state.currentId);
  }

  /**
   * The boot settings BitLocker validates for a boot of `entryId` (learn.microsoft.com/windows/security/
   * operating-system-security/data-protection/bitlocker/bcd-settings-and-bitlocker: the default profile covers the
   * loader's debug, bootdebug, testsigning, nointegritychecks, loadoptions and the debugger settings) plus the
   * Secure Boot state (PCR 7). Object identifiers are not part of it: a copy with equal settings boots unnoticed.
   */
  validatedSettings(entryId: string): string {
    const s = this.state;
    const e = s.store.objects.find((o) => o.id === entryId)?.elements ?? {};
    const debug = e.debug === true || e.bootdebug === true;
    const dbg = debug ? s.store.objects.find((o) => o.id === WELL_KNOWN["{dbgsettings}"])?.elements : undefined;
    const pick = (k: string) => (e[k] === undefined ? null : e[k]);
    return JSON.stringify({
      debug: pick("debug"),
      bootdebug: pick("bootdebug"),
      testsigning: pick("testsigning"),
      nointegritychecks: pick("nointegritychecks"),
      loadoptions: pick("loadoptions"),
      dbgsettings: dbg ?? null,
      secureBoot: s.secureBoot,
    });
  }

  /**
   * Whether the BitLocker WMI provider (Win32_EncryptableVolume) answers: wherever the BitLocker module is, and on
   * Home editions with device encryption, which have the provider but not the cmdlets.
   */
  volumeEncryptionWmi(): boolean {
    const s = this.state;
    return s.modules === undefined || s.modules.includes("BitLocker") || s.deviceEncryption === true;
  }

  /** Suspend-BitLocker: protection off for `count` restarts (0: until resumed). */
  suspendBitLocker(v: WindowsTargetState["bitlocker"][number], count: number): void {
    v.protectionStatus = "Off";
    v.rebootCount = count;
  }

  /** Resume-BitLocker: protection on, sealed to the boot that runs now. */
  resumeBitLocker(v: WindowsTargetState["bitlocker"][number]): void {
    v.protectionStatus = "On";
    delete v.rebootCount;
    this.state.bitlockerSealed = this.validatedSettings(this.state.currentId);
  }

  /** The canonical bytes of the BCD store (for byte-for-byte comparisons). */
  storeBytes(): string {
    return serializeStore(this.state.store);
  }

  bcd(argv: readonly string[]) {
    const s = this.state;
    return bcdedit(s.store, this.bcdCtx(), argv);
  }

  /** One BCD WMI provider method (root\\wmi BcdStore / BcdObject) against the store or an exported file. */
  bcdWmi(cls: string, method: string, self: Record<string, unknown> | undefined, args: Record<string, unknown>): WmiAnswer {
    return bcdWmi(this.state.store, this.bcdCtx(), cls, method, self, args);
  }

  private bcdCtx() {
    const s = this.state;
    return {
      locale: s.locale,
      elevated: s.elevated,
      secureBoot: s.secureBoot === "on",
      currentId: s.currentId,
      files: s.files,
      newGuid: () => {
        s.guidCounter++;
        const n = s.guidCounter.toString(16).padStart(12, "0");
        return `{5a1e0000-0000-4000-8000-${n}}`;
      },
    };
  }

  /** Handle one SSH exec request exactly as sent, answering from the model's table (no PowerShell). */
  exec(commandLine: string, input?: string): ExecResult {
    const a = this.accept(commandLine, input);
    if ("early" in a) return a.early;
    let res: ExecResult;
    try {
      res = { stdout: this.run(a.name, a.params), stderr: "", exitCode: 0 };
    } catch (e) {
      res = { stdout: "", stderr: `${(e as Error).message}\r\n`, exitCode: 1 };
    }
    if (a.inj?.mode === "after") return { ...res, dropped: true };
    return res;
  }

  /**
   * The part of handling a command that is the same whichever engine runs the script: the default shell's view
   * of the command line, powershell.exe's arguments, the script decoded, checked to be a shipped netdbg
   * template embedded unmodified, recorded, and the test's injected failures applied.
   */
  accept(commandLine: string, input?: string): { early: ExecResult } | Accepted {
    // The SSH server hands the line to its default shell. netdbg's lines must be inert in both cmd.exe and
    // PowerShell: only the executable, switches and base64 (no quotes, %, ^, &, |, <, >, $, braces, …).
    if (!/^[A-Za-z0-9.+/=\- ]+$/.test(commandLine)) {
      return {
        early:
          this.state.defaultShell === "cmd"
            ? { stdout: "", stderr: "The syntax of the command is incorrect.\r\n", exitCode: 1 }
            : { stdout: "", stderr: "ParserError: unexpected token in the command line\r\n", exitCode: 1 },
      };
    }
    const m =
      /^powershell\.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass (?:-EncodedCommand ([A-Za-z0-9+/=]+)|-Command -)$/.exec(
        commandLine,
      );
    if (!m)
      return {
        early: {
          stdout: "",
          stderr: `'${commandLine.split(" ")[0]}' is not recognized as an internal or external command.\r\n`,
          exitCode: 1,
        },
      };
    let b64 = m[1];
    if (b64 === undefined) {
      const s = /FromBase64String\('([A-Za-z0-9+/=]+)'\)/.exec(input ?? "");
      if (!s) return { early: { stdout: "", stderr: "", exitCode: 0 } }; // empty stdin: PowerShell does nothing
      b64 = s[1]!;
    }
    const script = Buffer.from(b64, "base64").toString("utf16le");
    const name = /^# netdbg:script=([a-z-]+)\n/.exec(script)?.[1];
    if (!name) return { early: { stdout: "", stderr: "model: not a netdbg script (no marker)\r\n", exitCode: 1 } };
    let body: string;
    try {
      body = templateBody(name);
    } catch {
      return { early: { stdout: "", stderr: `model: unknown netdbg script '${name}'\r\n`, exitCode: 1 } };
    }
    if (!script.includes(`\n& {\n${body}\n} @netdbgParams`)) {
      return {
        early: { stdout: "", stderr: `model: script '${name}' does not embed the shipped template unmodified\r\n`, exitCode: 1 },
      };
    }
    if (!script.includes("$ProgressPreference = 'SilentlyContinue'")) {
      // without it PowerShell writes progress records as CLIXML on stderr (research D4)
      return { early: { stdout: "", stderr: "model: $ProgressPreference is not SilentlyContinue\r\n", exitCode: 1 } };
    }
    const params = parseParamsLiteral(script);
    this.received.push({ commandLine, script: name, params });

    let inj = this.injections.find(
      (j) => j.script === name && (j.bcdArg === undefined || (params.BcdArgs as string[] | undefined)?.[0] === j.bcdArg),
    );
    if (inj?.skip) {
      inj.skip--;
      inj = undefined;
    } else if (inj) this.injections = this.injections.filter((j) => j !== inj);
    if (inj?.mode === "before") {
      return { early: { stdout: "", stderr: "model: injected failure before the change\r\n", exitCode: 1 } };
    }
    return { name, params, script, inj, commandLine, ...(m[1] === undefined ? { stdin: input ?? "" } : {}) };
  }

  private run(name: string, p: Record<string, unknown>): string {
    const s = this.state;
    switch (name) {
      case "whoami":
        return json({ user: s.user, elevated: s.elevated });
      case "bcdedit":
        return json(this.bcd(p.BcdArgs as string[]));
      case "bcd-export": {
        const path = String(p.Path);
        const dir = path.replace(/\\[^\\]*$/, "");
        s.files[`${dir}\\`] = "";
        // the template restricts the folder with icacls before exporting (see icacls())
        const acl = this.icacls([dir, "/inheritance:r", "/grant:r", "*S-1-5-32-544:(OI)(CI)F", "*S-1-5-18:(OI)(CI)F"]);
        if (acl.exitCode !== 0) return json({ exitCode: acl.exitCode, output: acl.output });
        return json(this.bcd(["/export", path]));
      }
      case "bcd-delete-entry":
        return json(this.deleteEntry(String(p.Guid ?? ""), String(p.Description ?? ""), (p.Known as string[]) ?? []));
      case "bcd-restore-object":
        return json(this.restoreObject(String(p.ExportPath), String(p.Id)));
      case "bcd-booleans":
        return json(this.objectBooleans(String(p.Id ?? "")));
      case "bitlocker": {
        const v = s.bitlocker.find((b) => b.mountPoint === p.MountPoint);
        if (!v) throw new Error(`Get-BitLockerVolume : BitLocker volume ${String(p.MountPoint)} was not found.`);
        if (!s.elevated) throw new Error("Suspend-BitLocker : Access is denied.");
        let done = String(p.Operation);
        if (done === "undo") {
          const cur = s.store.objects.find((o) => o.id === s.currentId)?.elements.description;
          done = Array.isArray(cur) && String(cur[0]).endsWith(" [netdbg]") ? "suspend" : "resume";
          if (done === "suspend") p.RebootCount = 1;
        }
        if (done === "suspend") this.suspendBitLocker(v, Number(p.RebootCount ?? 1));
        else this.resumeBitLocker(v);
        return json({ exitCode: 0, done, protectionStatus: v.protectionStatus });
      }
      case "probe":
        return json(this.probe(String(p.ExportDir), String(p.KdnetPath ?? "")));
      case "reboot":
        if (!s.elevated) throw new Error("Access is denied.(5)");
        this.reboot();
        return json({ exitCode: 0 });
      default:
        throw new Error(`model: no behaviour for '${name}'`);
    }
  }

  /**
   * icacls as netdbg uses it: `<dir> /inheritance:r /grant:r <*SID:(perms)>…` replaces the folder's ACL with the
   * grants given (learn.microsoft.com icacls). Anything else is refused as icacls refuses a bad parameter.
   */
  icacls(argv: string[]): { exitCode: number; output: string } {
    const [given, ...rest] = argv;
    // Windows takes either separator (PowerShell on Linux, running the templates here, splits paths with '/')
    const dir = given?.replace(/\//g, "\\").replace(/\\$/, "");
    const flags = rest.map((x) => x.toLowerCase());
    if (!dir || !(`${dir}\\` in this.state.files)) {
      return {
        exitCode: 2,
        output: `${dir ?? ""}: The system cannot find the file specified.\r\nSuccessfully processed 0 files; Failed processing 1 files\r\n`,
      };
    }
    if (!this.state.elevated)
      return {
        exitCode: 5,
        output: `${dir}: Access is denied.\r\nSuccessfully processed 0 files; Failed processing 1 files\r\n`,
      };
    if (!flags.includes("/inheritance:r") || !flags.includes("/grant:r")) {
      return { exitCode: 87, output: "Invalid parameter.\r\n" };
    }
    const grants = rest.filter((x) => x.startsWith("*")).map((x) => x.slice(1).replace(/:.*$/, ""));
    this.state.acls = { ...this.state.acls, [dir]: grants };
    return { exitCode: 0, output: `processed file: ${dir}\r\nSuccessfully processed 1 files; Failed processing 0 files\r\n` };
  }

  /**
   * What a restart does to the state: boot manager takes the one-time bootsequence (and removes it) or the
   * default; BitLocker counts the reboot down; if the booted entry debugs over NET on a NIC, KDNET takes that NIC
   * (its driver is not started, so Get-NetAdapter no longer lists it and Plug and Play shows it with problem 53,
   * CM_PROB_USED_BY_DEBUGGER) and the "Microsoft Kernel Debug Network Adapter" (KDNIC) carries Windows' traffic
   * instead. The SSH server comes back after it (the caller decides how long it stays unreachable).
   */
  reboot(): void {
    const s = this.state;
    const bm = s.store.objects.find((o) => o.id === WELL_KNOWN["{bootmgr}"]);
    const seq = bm?.elements.bootsequence;
    const def = bm?.elements.default;
    const next = Array.isArray(seq) && seq[0] ? seq[0] : Array.isArray(def) ? def[0] : undefined;
    if (bm) delete bm.elements.bootsequence;
    if (next && s.store.objects.some((o) => o.id === next)) s.currentId = next;
    s.boots = (s.boots ?? 0) + 1;
    const booted = this.validatedSettings(s.currentId);
    let resealed = false;
    for (const v of s.bitlocker) {
      if (v.volumeStatus === "FullyDecrypted") continue;
      if (
        v.protectionStatus === "On" &&
        v.mountPoint.toUpperCase() === s.systemDrive.toUpperCase() &&
        booted !== s.bitlockerSealed
      ) {
        // BitLocker validates the boot against what it sealed: changed settings with protection on = recovery
        s.recovery = true;
        return;
      }
      if (v.protectionStatus === "Off" && v.rebootCount !== undefined && v.rebootCount > 0) {
        v.rebootCount--;
        if (v.rebootCount === 0) {
          v.protectionStatus = "On";
          delete v.rebootCount;
          resealed = true;
        }
      }
    }
    if (resealed) s.bitlockerSealed = booted;
    const entry = s.store.objects.find((o) => o.id === s.currentId);
    const dbg = s.store.objects.find((o) => o.id === WELL_KNOWN["{dbgsettings}"])?.elements;
    const busparams = Array.isArray(dbg?.busparams) ? dbg.busparams[0] : undefined;
    const debugging = entry?.elements.debug === true && Array.isArray(dbg?.debugtype) && dbg.debugtype[0] === "NET";
    s.nics = s.nics.filter((n) => n.interfaceDescription !== "Microsoft Kernel Debug Network Adapter");
    for (const n of s.nics) {
      if (n.kdnetOwned) {
        n.status = "Up";
        delete n.kdnetOwned;
      }
    }
    const taken = debugging
      ? s.nics.find((n) => n.pci && `${n.pci.bus}.${n.pci.device}.${n.pci.function}` === busparams)
      : undefined;
    if (taken) {
      taken.status = "Disabled";
      taken.kdnetOwned = true;
      s.nics.push({
        name: `${taken.name} 2`,
        interfaceDescription: "Microsoft Kernel Debug Network Adapter",
        pnpDeviceId: "ROOT\\KDNIC\\0000",
        ndisPhysicalMedium: 14,
        virtual: true,
        status: "Up",
        linkSpeed: taken.linkSpeed,
        macAddress: taken.macAddress,
      });
    }
    this.onBoot?.({ debugging, entry: s.currentId });
  }

  private deleteEntry(guid: string, description: string, known: string[]) {
    const ids = guid
      ? [guid]
      : this.state.store.objects
          .filter(
            (o) =>
              o.kind === "osloader" &&
              (o.elements.description as string[] | undefined)?.[0] === description &&
              !known.includes(o.id),
          )
          .map((o) => o.id);
    let out = "";
    let code = 0;
    for (const id of ids) {
      if (this.bcd(["/enum", id]).exitCode !== 0) continue;
      const r = this.bcd(["/delete", id, "/f"]);
      out += r.output;
      if (r.exitCode) code = r.exitCode;
    }
    return { exitCode: code, output: out, deleted: ids };
  }

  /**
   * What the template does through the BCD WMI provider: open the export and the system store, enumerate the
   * object's typed elements in both, delete what the export lacks, set what differs from the export's value.
   */
  private restoreObject(exportPath: string, id: string) {
    const guid = WELL_KNOWN[id.toLowerCase()] ?? id.toLowerCase();
    const wmi = (cls: string, m: string, self: Record<string, unknown> | undefined, args: Record<string, unknown> = {}) => {
      const r = this.bcdWmi(cls, m, self, args);
      if (r.error !== undefined) throw new Error(`${cls}.${m}: ${r.error}`);
      return r.value ?? {};
    };
    const elements = (file: string) => {
      const store = wmi("BcdStore", "OpenStore", undefined, { File: file }).Store as Record<string, unknown>;
      const obj = wmi("BcdStore", "OpenObject", store, { Id: guid }).Object as Record<string, unknown>;
      const els = wmi("BcdObject", "EnumerateElements", obj).Elements as Record<string, unknown>[];
      return { obj, els: new Map(els.map((e) => [Number(e.Type), e])) };
    };
    const saved = elements(exportPath);
    const live = elements("");
    const typedValue = (e: Record<string, unknown> | undefined) =>
      e === undefined ? undefined : JSON.stringify(Object.entries(e).filter(([k]) => !["StoreFilePath", "ObjectId"].includes(k)));
    for (const type of live.els.keys()) if (!saved.els.has(type)) wmi("BcdObject", "DeleteElement", live.obj, { Type: type });
    for (const [type, e] of saved.els) {
      if (typedValue(live.els.get(type)) === typedValue(e)) continue;
      const setter = SETTERS[(type >>> 24) & 0xf];
      if (!setter) throw new Error(`element 0x${type.toString(16)} is a device element: not restored`);
      wmi("BcdObject", setter[0], live.obj, { Type: type, [setter[1]]: e[setter[1]] });
    }
    return { exitCode: 0, output: "" };
  }

  /** What probe.ps1 reads through the BCD WMI provider: the boolean elements of the boot loaders and {dbgsettings}. */
  private bcdBooleans(): { id: string; type: number; value: boolean }[] | null {
    const get = (cls: string, m: string, self: Record<string, unknown> | undefined, args: Record<string, unknown> = {}) =>
      this.bcdWmi(cls, m, self, args).value;
    const store = get("BcdStore", "OpenStore", undefined, { File: "" })?.Store as Record<string, unknown> | undefined;
    if (!store) return null;
    const objs = [
      ...((get("BcdStore", "EnumerateObjects", store, { Type: 0x10200003 })?.Objects ?? []) as Record<string, unknown>[]),
      get("BcdStore", "OpenObject", store, { Id: WELL_KNOWN["{dbgsettings}"] })?.Object as Record<string, unknown>,
    ].filter((o) => o !== undefined);
    return objs.flatMap((o) =>
      ((get("BcdObject", "EnumerateElements", o)?.Elements ?? []) as Record<string, unknown>[])
        .filter((e) => ((Number(e.Type) >>> 24) & 0xf) === 6)
        .map((e) => ({ id: String(o.Id), type: Number(e.Type), value: e.Boolean === true })),
    );
  }

  /** What bcd-booleans.ps1 reads through the BCD WMI provider: one object's boolean elements by type id. */
  private objectBooleans(id: string): { id: string; booleans: { type: number; value: boolean }[] | null; error: string | null } {
    const get = (cls: string, m: string, self: Record<string, unknown> | undefined, args: Record<string, unknown> = {}) => {
      const r = this.bcdWmi(cls, m, self, args);
      if (r.error !== undefined) throw new Error(r.error);
      return r.value ?? {};
    };
    try {
      const store = get("BcdStore", "OpenStore", undefined, { File: "" }).Store as Record<string, unknown>;
      const obj = get("BcdStore", "OpenObject", store, { Id: id }).Object as Record<string, unknown>;
      const booleans = ((get("BcdObject", "EnumerateElements", obj).Elements ?? []) as Record<string, unknown>[])
        .filter((e) => ((Number(e.Type) >>> 24) & 0xf) === 6)
        .map((e) => ({ type: Number(e.Type), value: e.Boolean === true }));
      return { id, booleans, error: null };
    } catch (e) {
      return { id, booleans: null, error: e instanceof Error ? e.message : String(e) };
    }
  }

  private probe(exportDir: string, kdnetPath: string) {
    const s = this.state;
    const sb =
      s.secureBoot === "unsupported"
        ? { state: false, source: "legacy-bios" }
        : s.secureBoot === "unknown"
          ? { state: null, source: "none" }
          : s.confirmCmdletMissing
            ? { state: s.secureBoot === "on", source: "registry" }
            : { state: s.secureBoot === "on", source: "Confirm-SecureBootUEFI" };
    const nics = s.nics
      .filter((n) => !n.kdnetOwned)
      .map((n) => ({
        name: n.name,
        interfaceDescription: n.interfaceDescription,
        pnpDeviceId: n.pnpDeviceId,
        ndisPhysicalMedium: n.ndisPhysicalMedium,
        virtual: n.virtual,
        hardwareInterface: !n.virtual,
        status: n.status,
        linkSpeed: n.linkSpeed,
        macAddress: n.macAddress,
        segment: n.pci?.segment ?? null,
        bus: n.pci?.bus ?? null,
        device: n.pci?.device ?? null,
        function: n.pci?.function ?? null,
      }));
    // ConvertTo-Json writes a one-element array property as an array, but an empty @() as [] — keep both shapes.
    let kdnet: unknown = null;
    const found = kdnetPath
      ? s.kdnetPath === kdnetPath
        ? kdnetPath
        : undefined
      : kdnetCandidates(s.os.arch, s.systemDrive).find((c) => c.toLowerCase() === s.kdnetPath?.toLowerCase());
    if (found) kdnet = { path: found, exitCode: 0, output: s.kdnetOutput ?? this.kdnetListing() };
    const dir = exportDir.replace(/\\$/, "");
    const hasBitLocker = s.modules === undefined || s.modules.includes("BitLocker");
    const wmi = !hasBitLocker && this.volumeEncryptionWmi() && s.elevated;
    return {
      user: s.user,
      os: s.os,
      systemDrive: s.systemDrive,
      secureBoot: sb,
      bitlocker:
        hasBitLocker || wmi
          ? s.bitlocker.map(({ mountPoint, volumeStatus, protectionStatus }) => ({ mountPoint, volumeStatus, protectionStatus }))
          : [],
      bitlockerSource: hasBitLocker ? "Get-BitLockerVolume" : wmi ? "Win32_EncryptableVolume" : null,
      hyperv: { switches: s.vswitches },
      teams: s.teams,
      nics,
      debuggerNics: s.nics
        .filter((n) => n.kdnetOwned)
        .map((n) => ({
          name: n.interfaceDescription,
          pnpDeviceId: n.pnpDeviceId,
          bus: n.pci?.bus ?? null,
          device: n.pci?.device ?? null,
          function: n.pci?.function ?? null,
        })),
      sshSession: this.sshSession(),
      bcd: {
        dbgsettings: this.bcd(["/dbgsettings"]),
        current: this.bcd(["/enum", "{current}", "/v"]),
        bootmgr: this.bcd(["/enum", "{bootmgr}", "/v"]),
        loaders: this.bcd(["/enum", "osloader", "/v"]),
      },
      bcdBooleans: this.bcdBooleans(),
      kdnet,
      exports: Object.keys(s.files)
        .filter((f) => f.startsWith(`${dir}\\bcd-`) && f.endsWith(".bak"))
        .sort(),
    };
  }

  /** What the probe reports of the NIC the SSH session arrived on (templates/windows/probe.ps1, sshSession). */
  sshSession(): { address: string; nic: string | null; prefixOrigin: string | null; dhcp: string | null } {
    const address = this.state.sshServerAddress ?? "127.0.0.1";
    const nic = this.state.nics.find((n) => !n.kdnetOwned && n.ip?.address === address);
    return { address, nic: nic?.name ?? null, prefixOrigin: nic?.ip?.prefixOrigin ?? null, dhcp: nic?.ip?.dhcp ?? null };
  }

  /** kdnet.exe's listing for this machine, in the layout of test/fixtures/kdnet-exe/docs-list-*.txt. */
  kdnetListing(): string {
    const ls: string[] = [""];
    const ok = this.state.nics.filter((n) => {
      const m = /^PCI\\VEN_([0-9A-F]{4})&DEV_([0-9A-F]{4})/i.exec(n.pnpDeviceId);
      return m && n.pci && SUPPORTED_NICS.has(`${m[1]!.toUpperCase()}:${m[2]!.toUpperCase()}`);
    });
    if (ok.length) {
      ls.push("Network debugging is supported on the following NICs:");
      for (const n of ok) {
        ls.push(
          `busparams=${n.pci!.bus}.${n.pci!.device}.${n.pci!.function}, ${n.interfaceDescription}, ${n.status === "Up" ? "Plugged in." : "Not plugged in."}`,
        );
      }
    } else {
      ls.push("Network debugging is not supported on any of the NICs in this machine.");
      ls.push("KDNET supports NICs from Intel, Broadcom, Realtek, Atheros, Emulex, Mellanox");
      ls.push("and Cisco.");
    }
    if (this.state.isVm) ls.push("", "This Microsoft hypervisor supports using KDNET in guest VMs.");
    return ls.map((l) => `${l}\r\n`).join("");
  }
}

/** The BcdObject setter and its value parameter for each element format (learn.microsoft.com .../bcd/bcdobject). */
const SETTERS: Readonly<Record<number, readonly [string, string]>> = {
  2: ["SetStringElement", "String"],
  3: ["SetObjectElement", "Id"],
  4: ["SetObjectListElement", "Ids"],
  5: ["SetIntegerElement", "Integer"],
  6: ["SetBooleanElement", "Boolean"],
  7: ["SetIntegerListElement", "Integers"],
};
