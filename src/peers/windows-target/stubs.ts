/**
 * The Windows a script meets inside the real PowerShell engine (engine.ts), built per run from the model.
 *
 * Only what cannot run anywhere but Windows is answered by the model; the script itself — its parameter binding,
 * error propagation, try/catch versus $ErrorActionPreference, pipelines, ConvertTo-Json — runs in PowerShell:
 * - Cmdlets of Windows modules (BitLocker, Hyper-V, NetLbfo, NetAdapter, SecureBoot, CimCmdlets) are advanced
 *   functions with the real cmdlet's parameters that ask the model over the stub socket. A module the model's
 *   profile lacks (state.modules) is simply not defined, so calling its cmdlet fails with PowerShell's own
 *   CommandNotFoundException, as on a Windows without that feature. A cmdlet error is written as the compiled
 *   cmdlet writes it: ThrowTerminatingError (statement-terminating) or WriteError (non-terminating).
 * - bcdedit.exe, shutdown.exe, icacls.exe and kdnet.exe are executables (native-command semantics: $LASTEXITCODE, stderr
 *   records under 2>&1) in a `C:` drive whose files mirror the model's `files` (bcdedit /export writes there).
 * - The registry keys the templates read (HKLM:) come from the model through a Get-ItemProperty proxy; other
 *   paths go to the real cmdlet. Get-ChildItem is the real cmdlet with FullName shown as the Windows path.
 * - Restart-Computer and Stop-Computer are always stubs: the real Linux cmdlets must never run.
 * - $env:SystemRoot, SystemDrive, PROCESSOR_ARCHITECTURE, COMPUTERNAME, USERNAME as Windows sets them.
 * Output passes through the OEM code page of the model (state.oemCodePage), as redirected console output of
 * powershell.exe does under OpenSSH for Windows. Native stub output reaches PowerShell as UTF-8 and PowerShell
 * decodes it as UTF-8 (on Windows: the OEM code page both ways), which yields the same strings for every
 * character the code page has.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { psQuote } from "../../core/quote.js";
import { bcdFailureText } from "./bcd.js";
import type { EngineRequest, PwshEngine, StubAnswer, StubCall } from "./engine.js";
import { type Accepted, ALL_MODULES, type ExecResult, type WindowsModule, type WindowsTargetModel } from "./model.js";

/** A failure a test makes one stub produce (a non-zero bcdedit exit, a cmdlet's terminating error, …). */
export interface StubFault {
  /** The stub: `bcdedit.exe`, `Suspend-BitLocker`, `Get-NetAdapter`, … */
  name: string;
  /**
   * For a native stub: fail only when the first argument is this (e.g. "/set"); for a cmdlet: only when its
   * -ClassName is this (Get-CimInstance Win32_EncryptableVolume); case-insensitively.
   */
  arg?: string;
  /** Let this many matching calls through first. */
  skip?: number;
  /** native: exit code (default 1) and output (default: bcdedit's generic two-line failure). */
  exitCode?: number;
  output?: string;
  /** native bcdedit: print this failure in the model's display language instead of `output`. */
  failure?: "secure-boot" | "access-denied" | "store-not-found";
  /** cmdlet: the error (default: terminating, "injected failure"). */
  message?: string;
  terminating?: boolean;
}

const faults = new WeakMap<WindowsTargetModel, StubFault[]>();
/** The stub faults armed on a model (consumed as they fire). */
export function stubFaults(model: WindowsTargetModel): StubFault[] {
  let f = faults.get(model);
  if (!f) faults.set(model, (f = []));
  return f;
}

function takeFault(model: WindowsTargetModel, name: string, first: string | undefined): StubFault | undefined {
  const list = stubFaults(model);
  const i = list.findIndex(
    (f) => f.name.toLowerCase() === name.toLowerCase() && (f.arg === undefined || f.arg.toLowerCase() === first?.toLowerCase()),
  );
  if (i < 0) return undefined;
  const f = list[i]!;
  if (f.skip) {
    f.skip--;
    return undefined;
  }
  list.splice(i, 1);
  return f;
}

/** One cmdlet stub: name, module, parameter block (PowerShell), and which bound parameters it forwards. */
interface CmdletDef {
  name: string;
  module: WindowsModule | "always";
  params: string;
}

const CMDLETS: CmdletDef[] = [
  {
    name: "Get-BitLockerVolume",
    module: "BitLocker",
    params: "[Parameter(Position = 0, ValueFromPipeline = $true)][string[]]$MountPoint",
  },
  {
    name: "Suspend-BitLocker",
    module: "BitLocker",
    params: "[Parameter(Mandatory = $true, Position = 0)][string[]]$MountPoint, [int]$RebootCount = 1",
  },
  { name: "Resume-BitLocker", module: "BitLocker", params: "[Parameter(Mandatory = $true, Position = 0)][string[]]$MountPoint" },
  { name: "Confirm-SecureBootUEFI", module: "SecureBoot", params: "" },
  {
    name: "Get-NetAdapter",
    module: "NetAdapter",
    params: "[Parameter(Position = 0)][string[]]$Name = @('*'), [switch]$Physical, [switch]$IncludeHidden",
  },
  { name: "Get-NetAdapterHardwareInfo", module: "NetAdapter", params: "[Parameter(Position = 0)][string[]]$Name = @('*')" },
  { name: "Get-NetLbfoTeam", module: "NetLbfo", params: "[Parameter(Position = 0)][string[]]$Name = @('*')" },
  { name: "Get-VMSwitch", module: "Hyper-V", params: "[Parameter(Position = 0)][string[]]$Name = @('*'), [string]$SwitchType" },
  {
    name: "Get-CimInstance",
    module: "CimCmdlets",
    params: "[Parameter(Mandatory = $true, Position = 0)][string]$ClassName, [string]$Namespace = 'root\\cimv2', [string]$Filter",
  },
  {
    name: "Invoke-CimMethod",
    module: "CimCmdlets",
    params:
      "[Parameter(ValueFromPipeline = $true)]$InputObject, [string]$ClassName, [string]$Namespace = 'root\\cimv2', [Parameter(Mandatory = $true)][string]$MethodName, [System.Collections.IDictionary]$Arguments",
  },
  // PnpDevice and NetTCPIP are on every Windows since 8 / Server 2012
  {
    name: "Get-PnpDevice",
    module: "always",
    params: "[Parameter(Position = 0)][string[]]$InstanceId, [string[]]$Class, [switch]$PresentOnly",
  },
  {
    name: "Get-PnpDeviceProperty",
    module: "always",
    params: "[Parameter(Mandatory = $true)][string[]]$InstanceId, [Parameter(Position = 0)][string[]]$KeyName",
  },
  {
    name: "Get-NetIPAddress",
    module: "always",
    params:
      "[Parameter(Position = 0)][string[]]$IPAddress, [string[]]$InterfaceAlias, [int[]]$InterfaceIndex, [string]$AddressFamily",
  },
  {
    name: "Get-NetIPInterface",
    module: "always",
    params: "[Parameter(Position = 0)][string[]]$InterfaceAlias, [int[]]$InterfaceIndex, [string]$AddressFamily",
  },
  { name: "Restart-Computer", module: "always", params: "[switch]$Force, [int]$Timeout, [string]$Wait" },
  { name: "Stop-Computer", module: "always", params: "[switch]$Force" },
];

/**
 * The stub definitions every runspace gets before its request (the engine runs this while it waits): all
 * cmdlet stubs, the stub-socket call, the registry and Get-ChildItem proxies, 5.1-like error display.
 */
export const STATIC_PRELUDE = [
  "$PSStyle.OutputRendering = 'PlainText'",
  "$ErrorView = 'NormalView'",
  // one JSON line to the engine's stub socket, one JSON line back
  `function global:__NetdbgStub([string]$Name, $Bound) {
  $a = @{}
  foreach ($k in $Bound.Keys) { $v = $Bound[$k]; if ($v -is [System.Management.Automation.SwitchParameter]) { $v = $v.IsPresent }; $a[$k] = $v }
  $req = @{ token = $env:NETDBG_STUB_TOKEN; kind = 'cmdlet'; name = $Name; args = $a } | ConvertTo-Json -Compress -Depth 6
  $sock = [System.Net.Sockets.Socket]::new([System.Net.Sockets.AddressFamily]::Unix, [System.Net.Sockets.SocketType]::Stream, [System.Net.Sockets.ProtocolType]::Unspecified)
  $sock.Connect([System.Net.Sockets.UnixDomainSocketEndPoint]::new($env:NETDBG_STUB_SOCKET))
  $ns = [System.Net.Sockets.NetworkStream]::new($sock, $true)
  $b = [Text.Encoding]::UTF8.GetBytes($req + [char]10)
  $ns.Write($b, 0, $b.Length)
  $text = [IO.StreamReader]::new($ns, [Text.Encoding]::UTF8).ReadToEnd()
  $ns.Dispose()
  return ($text | ConvertFrom-Json)
}`,
  `function global:__NetdbgEmit($Cmdlet, $Answer) {
  if ($Answer.error) {
    $type = if ($Answer.error.type) { $Answer.error.type } else { 'System.InvalidOperationException' }
    $ex = New-Object -TypeName $type -ArgumentList ([string]$Answer.error.message)
    $cat = if ($Answer.error.category) { $Answer.error.category } else { 'NotSpecified' }
    $id = if ($Answer.error.id) { $Answer.error.id } else { 'NetdbgStub' }
    $rec = [System.Management.Automation.ErrorRecord]::new($ex, $id, $cat, $null)
    if ($Answer.error.terminating) { $Cmdlet.ThrowTerminatingError($rec) } else { $Cmdlet.WriteError($rec) }
  }
  foreach ($v in @($Answer.value)) { if ($null -ne $v) { $Cmdlet.WriteObject($v) } }
}`,
  ...CMDLETS.map(
    (c) =>
      `function global:${c.name} {\n  [CmdletBinding()] param(${c.params})\n  process { __NetdbgEmit $PSCmdlet (__NetdbgStub '${c.name}' $PSBoundParameters) }\n}`,
  ),
  `function global:Get-ItemProperty {
  [CmdletBinding()] param([Parameter(Position = 0)][string[]]$Path, [Parameter(Position = 1)][string[]]$Name, [string[]]$LiteralPath)
  $p = @(@($Path) + @($LiteralPath) | Where-Object { $_ })
  if ($p.Count -and $p[0] -match '^(HKLM:|HKCU:|Registry::)') { __NetdbgEmit $PSCmdlet (__NetdbgStub 'Get-ItemProperty' $PSBoundParameters); return }
  Microsoft.PowerShell.Management\\Get-ItemProperty @PSBoundParameters
}`,
  `function global:Get-ChildItem {
  $root = (Get-PSDrive -Name C).Root.TrimEnd('/')
  Microsoft.PowerShell.Management\\Get-ChildItem @args | ForEach-Object {
    if ($_ -is [System.IO.FileSystemInfo] -and $_.FullName.StartsWith($root)) {
      $w = 'C:' + $_.FullName.Substring($root.Length).Replace('/', '\\')
      $_ | Add-Member -Force -NotePropertyName FullName -NotePropertyValue $w -PassThru
    } else { $_ }
  }
}`,
  "",
].join("\n");

/** The lines that give a fresh runspace a C: drive rooted at `root` (a folder of this machine) and `location` on it. */
export function drivePrelude(root: string, location: string): string[] {
  return [
    `$null = New-PSDrive -Name C -PSProvider FileSystem -Root ${psQuote(root)} -Scope Global`,
    `Set-Location -LiteralPath ${psQuote(location)}`,
  ];
}

/** The per-request part: this model's C: drive and profile folder; the cmdlets of modules it lacks removed. */
function prelude(model: WindowsTargetModel, root: string): string {
  const mods = new Set<string>(model.state.modules ?? ALL_MODULES);
  const user = model.state.user.replace(/^.*\\/, "");
  const absent = CMDLETS.filter((c) => c.module !== "always" && !mods.has(c.module)).map((c) => c.name);
  return [
    ...drivePrelude(root, `C:\\Users\\${user}`),
    ...absent.map((n) => `Remove-Item -LiteralPath ${psQuote(`function:\\${n}`)}`),
  ].join("\n");
}

const roots = new WeakMap<WindowsTargetModel, string>();
let rootCounter = 0;

/** Windows path (C:\a\b) → the mirror's path; undefined for other drives. */
function diskPath(root: string, win: string): string | undefined {
  const m = /^C:\\(.*)$/i.exec(win);
  if (!m) return undefined;
  return join(root, ...m[1]!.split("\\").filter((x) => x !== ""));
}

/** Infrastructure the engine puts in the drive (stub executables, the profile folder): never copied into the model. */
const INFRA = /^(Windows\\System32\\(bcdedit|shutdown|icacls)\.exe|Windows\\System32\\|Users\\.*)$/i;

/** Write the model's files into the drive mirror. */
function materialize(model: WindowsTargetModel, root: string): void {
  for (const [k, v] of Object.entries(model.state.files)) {
    const p = diskPath(root, k);
    if (!p) continue;
    if (k.endsWith("\\")) mkdirSync(p, { recursive: true });
    else {
      mkdirSync(join(p, ".."), { recursive: true });
      if (!existsSync(p) || readFileSync(p, "utf8") !== v) writeFileSync(p, v);
    }
  }
}

/** Folders and files the script made in the drive become the model's (New-Item of the export folder). */
function collect(model: WindowsTargetModel, root: string, engine: PwshEngine): void {
  const files = model.state.files;
  const walk = (dir: string, win: string) => {
    for (const e of readdirSync(dir)) {
      const p = join(dir, e);
      const w = `${win}${e}`;
      const rel = w.slice(3);
      const st = statSync(p);
      if (st.isDirectory()) {
        if (!INFRA.test(`${rel}\\`) && !(`${w}\\` in files)) files[`${w}\\`] = "";
        walk(p, `${w}\\`);
      } else if (!INFRA.test(rel) && !engine.isNativeStub(p) && !(w in files)) {
        files[w] = readFileSync(p, "utf8");
      }
    }
  };
  walk(root, "C:\\");
}

function rootOf(model: WindowsTargetModel, engine: PwshEngine): string {
  let r = roots.get(model);
  if (!r) {
    r = join(engine.dir, "targets", String(++rootCounter), "C");
    roots.set(model, r);
  }
  const user = model.state.user.replace(/^.*\\/, "");
  mkdirSync(join(r, "Windows", "System32"), { recursive: true });
  mkdirSync(join(r, "Users", user), { recursive: true });
  for (const exe of ["bcdedit.exe", "shutdown.exe", "icacls.exe"]) {
    const p = join(r, "Windows", "System32", exe);
    if (!existsSync(p)) engine.writeNativeStub(p);
  }
  const k = model.state.kdnetPath ? diskPath(r, model.state.kdnetPath) : undefined;
  if (k && !existsSync(k)) {
    mkdirSync(join(k, ".."), { recursive: true });
    engine.writeNativeStub(k);
  }
  return r;
}

const BCD_FAIL = "An error has occurred setting the element data.\r\nThe request is not supported.\r\n";

/** What a stub call does to / reads from the model. */
function answer(model: WindowsTargetModel, root: string, engine: PwshEngine, call: StubCall): StubAnswer {
  const s = model.state;
  const a = (call.args ?? {}) as Record<string, unknown>;
  const list = (v: unknown): string[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);
  const like = (names: string[], n: string) =>
    names.length === 0 ||
    names.some((p) => new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`, "i").test(n));
  if (call.kind === "native") {
    const argv = list(call.args);
    const fault = takeFault(model, call.name, argv[0]);
    if (fault) {
      const text = fault.failure ? bcdFailureText(s.locale, fault.failure) : (fault.output ?? BCD_FAIL);
      return { stdout: text, exitCode: fault.exitCode ?? 1 };
    }
    switch (call.name) {
      case "bcdedit.exe": {
        collect(model, root, engine);
        const r = model.bcd(argv);
        materialize(model, root);
        return { stdout: r.output, exitCode: r.exitCode };
      }
      case "icacls.exe": {
        collect(model, root, engine);
        const r = model.icacls(argv);
        return { stdout: r.output, exitCode: r.exitCode };
      }
      case "shutdown.exe": {
        const flags = argv.map((x) => x.toLowerCase());
        if (!s.elevated) return { stderr: "Access is denied.(5)\r\n", exitCode: 5 };
        if (flags.includes("/r")) model.reboot();
        return { exitCode: 0 };
      }
      default:
        if (s.kdnetPath && call.name === s.kdnetPath.replace(/^.*\\/, "").toLowerCase()) {
          return { stdout: s.kdnetOutput ?? model.kdnetListing(), exitCode: 0 };
        }
        return { stderr: `'${call.name}' is not recognized\r\n`, exitCode: 9009 };
    }
  }
  const fault = takeFault(model, call.name, typeof a.ClassName === "string" ? a.ClassName : undefined);
  if (fault)
    return { error: { message: fault.message ?? `${call.name}: injected failure`, terminating: fault.terminating ?? true } };
  const denied = (what: string): StubAnswer => ({
    error: {
      message: `${what}: Access is denied.`,
      type: "System.UnauthorizedAccessException",
      terminating: true,
      category: "PermissionDenied",
    },
  });
  const volume = (v: (typeof s.bitlocker)[number]) => ({
    MountPoint: v.mountPoint,
    VolumeStatus: v.volumeStatus,
    ProtectionStatus: v.protectionStatus,
    ...(v.rebootCount !== undefined ? { RebootCount: v.rebootCount } : {}),
  });
  const findVolumes = (): { found: (typeof s.bitlocker)[number][]; missing: string[] } => {
    const mps = list(a.MountPoint);
    if (!mps.length) return { found: s.bitlocker, missing: [] };
    const found = s.bitlocker.filter((v) => mps.some((m) => m.toUpperCase().replace(/\\$/, "") === v.mountPoint.toUpperCase()));
    return {
      found,
      missing: mps.filter((m) => !found.some((v) => v.mountPoint.toUpperCase() === m.toUpperCase().replace(/\\$/, ""))),
    };
  };
  switch (call.name) {
    case "Get-BitLockerVolume": {
      if (!s.elevated) return denied("Get-BitLockerVolume");
      const { found, missing } = findVolumes();
      return {
        value: found.map(volume),
        ...(missing.length
          ? {
              error: { message: `BitLocker volume ${missing[0]} was not found.`, category: "ObjectNotFound", terminating: false },
            }
          : {}),
      };
    }
    case "Suspend-BitLocker":
    case "Resume-BitLocker": {
      if (!s.elevated) return denied(call.name);
      const { found, missing } = findVolumes();
      if (missing.length)
        return {
          error: { message: `BitLocker volume ${missing[0]} was not found.`, category: "ObjectNotFound", terminating: true },
        };
      for (const v of found) {
        if (call.name === "Suspend-BitLocker") model.suspendBitLocker(v, Number(a.RebootCount ?? 1));
        else model.resumeBitLocker(v);
      }
      return { value: found.map(volume) };
    }
    case "Confirm-SecureBootUEFI":
      if (s.secureBoot === "unsupported")
        return {
          error: {
            message: "Cmdlet not supported on this platform.",
            type: "System.PlatformNotSupportedException",
            terminating: true,
          },
        };
      if (s.secureBoot === "unknown") return denied("Confirm-SecureBootUEFI");
      return { value: s.secureBoot === "on" };
    case "Get-NetAdapter":
      // a NIC KDNET owns has no Windows driver in the debug boot, so no NDIS interface: Get-NetAdapter does not list it
      return {
        value: s.nics
          .filter((n) => !n.kdnetOwned && like(list(a.Name), n.name) && (!a.Physical || !n.virtual))
          .map((n) => ({
            Name: n.name,
            InterfaceDescription: n.interfaceDescription,
            PnPDeviceID: n.pnpDeviceId,
            NdisPhysicalMedium: n.ndisPhysicalMedium,
            Virtual: n.virtual,
            HardwareInterface: !n.virtual,
            Status: n.status,
            LinkSpeed: n.linkSpeed,
            MacAddress: n.macAddress,
          })),
      };
    case "Get-NetIPAddress": {
      // a NIC KDNET owns has no Windows driver, so no address either (KDNIC gets its own)
      const found = s.nics
        .map((n, i) => ({ n, index: i + 2 }))
        .filter(({ n }) => n.ip && !n.kdnetOwned)
        .filter(({ n }) => !a.IPAddress || list(a.IPAddress).includes(n.ip!.address))
        .filter(({ n }) => !a.InterfaceAlias || like(list(a.InterfaceAlias), n.name));
      if (a.IPAddress && !found.length)
        return {
          error: {
            message:
              "No matching MSFT_NetIPAddress objects found by CIM query for instances of the ROOT/StandardCimv2/MSFT_NetIPAddress class on the  CIM server",
            category: "ObjectNotFound",
          },
        };
      return {
        value: found.map(({ n, index }) => ({
          IPAddress: n.ip!.address,
          InterfaceAlias: n.name,
          InterfaceIndex: index,
          AddressFamily: "IPv4",
          PrefixOrigin: n.ip!.prefixOrigin,
          PrefixLength: 24,
        })),
      };
    }
    case "Get-NetIPInterface":
      return {
        value: s.nics
          .map((n, i) => ({ n, index: i + 2 }))
          .filter(({ n }) => n.ip && !n.kdnetOwned)
          .filter(({ index }) => !a.InterfaceIndex || list(a.InterfaceIndex).map(Number).includes(index))
          .map(({ n, index }) => ({ InterfaceAlias: n.name, InterfaceIndex: index, AddressFamily: "IPv4", Dhcp: n.ip!.dhcp })),
      };
    case "Get-NetAdapterHardwareInfo":
      return {
        value: s.nics
          .filter((n) => n.pci && !n.kdnetOwned && like(list(a.Name), n.name))
          .map((n) => ({
            Name: n.name,
            InterfaceDescription: n.interfaceDescription,
            Segment: n.pci!.segment,
            Bus: n.pci!.bus,
            Device: n.pci!.device,
            Function: n.pci!.function,
          })),
      };
    case "Get-PnpDevice":
      // Win32_PnPEntity: a NIC reserved for the kernel debugger has problem 53 (CM_PROB_USED_BY_DEBUGGER)
      return {
        value: s.nics
          .filter((n) => !a.InstanceId || list(a.InstanceId).includes(n.pnpDeviceId))
          .filter(() => !a.Class || list(a.Class).some((c) => c.toLowerCase() === "net"))
          .map((n) => ({
            InstanceId: n.pnpDeviceId,
            FriendlyName: n.interfaceDescription,
            Class: "Net",
            Present: true,
            Status: n.kdnetOwned ? "Error" : "OK",
            ConfigManagerErrorCode: n.kdnetOwned ? 53 : 0,
            Problem: n.kdnetOwned ? "CM_PROB_USED_BY_DEBUGGER" : "CM_PROB_NONE",
          })),
      };
    case "Get-PnpDeviceProperty": {
      // DEVPKEY_Device_BusNumber (UInt32) and DEVPKEY_Device_Address (PCI: device << 16 | function)
      const n = s.nics.find((x) => list(a.InstanceId).includes(x.pnpDeviceId));
      return {
        value: list(a.KeyName).map((k) => ({
          InstanceId: n?.pnpDeviceId ?? "",
          KeyName: k,
          Data: !n?.pci
            ? null
            : k === "DEVPKEY_Device_BusNumber"
              ? n.pci.bus
              : k === "DEVPKEY_Device_Address"
                ? n.pci.device * 65536 + n.pci.function
                : null,
        })),
      };
    }
    case "Get-NetLbfoTeam":
      return { value: s.teams.filter((t) => like(list(a.Name), t.name)).map((t) => ({ Name: t.name, Members: t.members })) };
    case "Get-VMSwitch":
      if (!s.elevated) return denied("Get-VMSwitch");
      return {
        value: s.vswitches
          .filter(
            (w) =>
              like(list(a.Name), w.name) && (!a.SwitchType || String(a.SwitchType).toLowerCase() === w.switchType.toLowerCase()),
          )
          .map((w) => ({
            Name: w.name,
            SwitchType: w.switchType,
            EmbeddedTeamingEnabled: w.embeddedTeamingEnabled,
            NetAdapterInterfaceDescription: w.netAdapterInterfaceDescriptions[0] ?? null,
            NetAdapterInterfaceDescriptions: w.netAdapterInterfaceDescriptions,
          })),
      };
    case "Get-CimInstance":
      return cim(model, String(a.ClassName ?? ""), String(a.Namespace ?? "root\\cimv2"));
    case "Invoke-CimMethod":
      return cimMethod(model, a);
    case "Get-ItemProperty":
      return registry(model, [...list(a.Path), ...list(a.LiteralPath)][0] ?? "", list(a.Name));
    case "Restart-Computer":
      if (!s.elevated) return denied("Restart-Computer");
      model.reboot();
      return {};
    default:
      return { error: { message: `the model has no behaviour for ${call.name}`, terminating: true } };
  }
}

/**
 * Invoke-CimMethod: the BCD WMI provider (root\\wmi BcdStore / BcdObject) of the model's store. A static call
 * names -ClassName/-Namespace; an instance call passes the object an earlier call returned (-InputObject): a
 * store carries FilePath, an object Id and StoreFilePath (learn.microsoft.com .../bcd/bcdstore, .../bcd/bcdobject).
 * A provider failure is the non-terminating CimException Invoke-CimMethod writes.
 */
function cimMethod(model: WindowsTargetModel, a: Record<string, unknown>): StubAnswer {
  const input = a.InputObject as Record<string, unknown> | undefined;
  if (input && "PersistentVolumeID" in input) return volumeMethod(model, input, String(a.MethodName ?? ""), a.Arguments);
  const ns = String(a.Namespace ?? "root\\cimv2").toLowerCase();
  const cls = input ? ("FilePath" in input ? "BcdStore" : "BcdObject") : String(a.ClassName ?? "");
  if (!input && (ns !== "root\\wmi" || !/^bcdstore$/i.test(cls))) {
    return {
      error: {
        message: `Invalid class: ${ns}:${cls}`,
        type: "System.InvalidOperationException",
        category: "MetadataError",
        id: "HRESULT 0x80041010,Microsoft.Management.Infrastructure.CimCmdlets.InvokeCimMethodCommand",
      },
    };
  }
  const args = (a.Arguments ?? {}) as Record<string, unknown>;
  const r = model.bcdWmi(cls, String(a.MethodName ?? ""), input, args);
  if (r.error !== undefined)
    return {
      error: {
        message: r.error,
        type: "System.InvalidOperationException",
        category: "InvalidOperation",
        id: "HRESULT 0x80041001,Microsoft.Management.Infrastructure.CimCmdlets.InvokeCimMethodCommand",
      },
    };
  return { value: r.value };
}

const ENCRYPTION_NS = "root\\cimv2\\security\\microsoftvolumeencryption";

/**
 * A Win32_EncryptableVolume instance as the class documents it: DeviceID, PersistentVolumeID, DriveLetter,
 * ProtectionStatus (0 off, 1 on, 2 unknown) (learn.microsoft.com/windows/win32/secprov/win32-encryptablevolume).
 * The conversion state is not a documented property: GetConversionStatus tells it.
 */
function encryptableVolume(v: WindowsTargetModel["state"]["bitlocker"][number], i: number) {
  const guid = `{b0a3c7e${i}-1f05-11ef-9c1b-c85b76a1b2c3}`;
  return {
    DeviceID: `\\\\?\\Volume${guid}\\`,
    PersistentVolumeID: guid,
    DriveLetter: v.mountPoint,
    ProtectionStatus: v.protectionStatus === "On" ? 1 : 0,
  };
}

const CONVERSION = [
  "FullyDecrypted",
  "FullyEncrypted",
  "EncryptionInProgress",
  "DecryptionInProgress",
  "EncryptionPaused",
  "DecryptionPaused",
];

/**
 * The methods of Win32_EncryptableVolume netdbg calls, on the instance Get-CimInstance returned: GetProtectionStatus,
 * GetConversionStatus, DisableKeyProtectors (DisableCount restarts; absent or 0: until EnableKeyProtectors) and
 * EnableKeyProtectors, each answering ReturnValue 0 on success (learn.microsoft.com/windows/win32/secprov/
 * disablekeyprotectors-win32-encryptablevolume, .../enablekeyprotectors-win32-encryptablevolume).
 */
function volumeMethod(model: WindowsTargetModel, input: Record<string, unknown>, method: string, args: unknown): StubAnswer {
  const s = model.state;
  const v = s.bitlocker.find((b) => b.mountPoint.toUpperCase() === String(input.DriveLetter ?? "").toUpperCase());
  if (!v) return { error: { message: "Not found ", category: "ObjectNotFound", id: "HRESULT 0x80041002", terminating: false } };
  if (!s.elevated) return { error: { message: "Access denied ", category: "PermissionDenied", terminating: false } };
  const a = (args ?? {}) as Record<string, unknown>;
  switch (method.toLowerCase()) {
    case "getprotectionstatus":
      return { value: { ReturnValue: 0, ProtectionStatus: v.protectionStatus === "On" ? 1 : 0 } };
    case "getconversionstatus":
      return { value: { ReturnValue: 0, ConversionStatus: Math.max(0, CONVERSION.indexOf(v.volumeStatus)) } };
    case "disablekeyprotectors":
      model.suspendBitLocker(v, Number(a.DisableCount ?? 0));
      return { value: { ReturnValue: 0 } };
    case "enablekeyprotectors":
      model.resumeBitLocker(v);
      return { value: { ReturnValue: 0 } };
    default:
      return {
        error: { message: "Method not found ", category: "MetadataError", id: "HRESULT 0x8004102f", terminating: false },
      };
  }
}

function cim(model: WindowsTargetModel, cls: string, ns: string): StubAnswer {
  const s = model.state;
  const c = cls.toLowerCase();
  const n = ns.toLowerCase().replace(/\//g, "\\");
  if (n === "root\\cimv2" && c === "win32_operatingsystem")
    return {
      value: {
        Caption: s.os.caption,
        Version: s.os.version,
        BuildNumber: String(s.os.build),
        OSArchitecture: s.os.arch === "AMD64" ? "64-bit" : s.os.arch,
        SystemDrive: s.systemDrive,
      },
    };
  if (n === "root\\cimv2" && c === "win32_computersystem")
    return {
      value: { Name: s.user.replace(/\\.*$/, ""), HypervisorPresent: s.isVm, Model: s.isVm ? "Virtual Machine" : "Workstation" },
    };
  if (n === ENCRYPTION_NS) {
    // the BitLocker WMI provider: on client editions (device encryption included), on Server only with the feature
    if (!model.volumeEncryptionWmi())
      return {
        error: { message: "Invalid namespace ", terminating: false, category: "MetadataError", id: "HRESULT 0x8004100e" },
      };
    if (c !== "win32_encryptablevolume")
      return { error: { message: "Invalid class ", terminating: false, category: "MetadataError", id: "HRESULT 0x80041010" } };
    if (!s.elevated) return { error: { message: "Access denied ", terminating: false, category: "PermissionDenied" } };
    return { value: s.bitlocker.map(encryptableVolume) };
  }
  return { error: { message: "Invalid class", terminating: false, category: "MetadataError", id: "HRESULT 0x80041010" } };
}

function registry(model: WindowsTargetModel, path: string, names: string[]): StubAnswer {
  const s = model.state;
  const key = path.replace(/^Registry::HKEY_LOCAL_MACHINE\\?/i, "HKLM:\\").toLowerCase();
  let value: Record<string, unknown> | undefined;
  if (key === "hklm:\\software\\microsoft\\windows nt\\currentversion")
    value = { EditionID: s.os.edition, ProductName: s.os.caption.replace(/^Microsoft /, ""), CurrentBuild: String(s.os.build) };
  else if (
    key === "hklm:\\system\\currentcontrolset\\control\\secureboot\\state" &&
    (s.secureBoot === "on" || s.secureBoot === "off")
  )
    value = { UEFISecureBootEnabled: s.secureBoot === "on" ? 1 : 0 };
  if (value === undefined)
    return {
      error: {
        message: `Cannot find path '${path}' because it does not exist.`,
        type: "System.Management.Automation.ItemNotFoundException",
        category: "ObjectNotFound",
        id: "PathNotFound,Microsoft.PowerShell.Commands.GetItemPropertyCommand",
        terminating: false,
      },
    };
  if (names.length) {
    const missing = names.find((n) => !Object.keys(value!).some((k) => k.toLowerCase() === n.toLowerCase()));
    if (missing)
      return {
        error: {
          message: `Property ${missing} does not exist at path ${path}.`,
          type: "System.Management.Automation.PSArgumentException",
          category: "InvalidArgument",
          terminating: false,
        },
      };
  }
  return { value };
}

/**
 * Run an accepted command (model.accept) in the engine: the exact script netdbg sent, as -EncodedCommand or
 * as the `-Command -` lines of its stdin, against this model's Windows.
 */
export async function runInEngine(model: WindowsTargetModel, engine: PwshEngine, a: Accepted): Promise<ExecResult> {
  const root = rootOf(model, engine);
  materialize(model, root);
  const s = model.state;
  const req: EngineRequest = {
    mode: a.stdin !== undefined ? "stdin" : "encoded",
    prelude: prelude(model, root),
    env: {
      SystemRoot: "C:\\Windows",
      SYSTEMROOT: "C:\\Windows",
      windir: "C:\\Windows",
      SystemDrive: s.systemDrive,
      SYSTEMDRIVE: s.systemDrive,
      PROCESSOR_ARCHITECTURE: s.os.arch,
      ProgramFiles: "C:\\Program Files",
      "ProgramFiles(x86)": "C:\\Program Files (x86)",
      COMPUTERNAME: s.user.replace(/\\.*$/, ""),
      USERNAME: s.user.replace(/^.*\\/, ""),
      NETDBG_WIN_USER: s.user,
      NETDBG_WIN_ELEVATED: s.elevated ? "1" : "0",
      // Windows OpenSSH sets it in every session: client address and port, server address and port
      SSH_CONNECTION: `192.0.2.10 50022 ${s.sshServerAddress ?? "127.0.0.1"} 22`,
    },
    codePage: s.oemCodePage ?? 437,
    handler: (call) => answer(model, root, engine, call),
  };
  if (a.stdin !== undefined) req.lines = a.stdin.split(/\r?\n/).filter((l) => l.trim() !== "");
  else req.script = a.script;
  const r = await engine.run(req);
  collect(model, root, engine);
  const res: ExecResult = {
    // the text a UTF-8 reader (netdbg's SSH client) makes of the bytes; `raw` is what the channel carries
    stdout: r.stdout.toString("utf8"),
    stderr: r.stderr.toString("utf8"),
    exitCode: r.exitCode,
    raw: { stdout: r.stdout, stderr: r.stderr },
  };
  if (a.inj?.mode === "after") return { ...res, dropped: true };
  return res;
}

/** The model's command through the engine when one is given, else through its table. */
export async function execWith(
  model: WindowsTargetModel,
  engine: PwshEngine | undefined,
  commandLine: string,
  input?: string,
): Promise<ExecResult> {
  if (!engine) return model.exec(commandLine, input);
  const a = model.accept(commandLine, input);
  if ("early" in a) return a.early;
  return runInEngine(model, engine, a);
}
