/**
 * Machines netdbg meets, as model states. What decides a profile is what decides it on real systems: which
 * PowerShell modules exist (Hyper-V only where the role is installed; BitLocker only where the feature is — not
 * on Home editions, not on Server unless added), the edition, and the display language with its OEM code page.
 * Sources: Windows 11 Home has no Hyper-V and no BitLocker management but "device encryption" (learn.microsoft.com
 * windows/security … device-encryption); Server needs the BitLocker feature installed (Install-WindowsFeature
 * BitLocker) before its cmdlets exist; OEM code pages per locale: 437 en-US, 850 de-DE, 936 zh-CN (Windows code
 * page tables).
 */
import { defaultState, type WindowsModule, type WindowsTargetState } from "./model.js";

export type ProfileName = "home" | "pro" | "server-2022" | "server-core" | "hyperv-host" | "de-DE-cp850" | "zh-CN-cp936";

const CLIENT: WindowsModule[] = ["BitLocker", "NetLbfo", "NetAdapter", "SecureBoot", "CimCmdlets"];
const SERVER_NO_BITLOCKER: WindowsModule[] = ["NetLbfo", "NetAdapter", "SecureBoot", "CimCmdlets"];

export const PROFILES: Readonly<Record<ProfileName, { describe: string; state: () => WindowsTargetState }>> = {
  home: {
    describe: "Windows 11 Home: no Hyper-V module, no BitLocker cmdlets, device encryption on",
    state: () =>
      defaultState({
        os: { caption: "Microsoft Windows 11 Home", version: "10.0.22631", build: 22631, arch: "AMD64", edition: "Core" },
        modules: ["NetLbfo", "NetAdapter", "SecureBoot", "CimCmdlets"],
        deviceEncryption: true,
      }),
  },
  pro: {
    describe: "Windows 11 Pro without Hyper-V (BitLocker on)",
    state: () => defaultState({ modules: CLIENT }),
  },
  "server-2022": {
    describe: "Windows Server 2022 Standard (Desktop Experience) without the BitLocker feature",
    state: () =>
      defaultState({
        user: "SRV2022\\Administrator",
        os: {
          caption: "Microsoft Windows Server 2022 Standard",
          version: "10.0.20348",
          build: 20348,
          arch: "AMD64",
          edition: "ServerStandard",
        },
        modules: SERVER_NO_BITLOCKER,
        bitlocker: [],
      }),
  },
  "server-core": {
    describe: "Windows Server 2022 Datacenter, Server Core installation, without the BitLocker feature",
    state: () =>
      defaultState({
        user: "CORE01\\Administrator",
        os: {
          caption: "Microsoft Windows Server 2022 Datacenter",
          version: "10.0.20348",
          build: 20348,
          arch: "AMD64",
          edition: "ServerDatacenter",
        },
        modules: SERVER_NO_BITLOCKER,
        bitlocker: [],
        defaultShell: "cmd",
      }),
  },
  "hyperv-host": {
    describe: "Windows Server 2022 Hyper-V host: an external vSwitch on the second Intel NIC, BitLocker feature installed",
    state: () => {
      const s = defaultState({
        user: "HV01\\Administrator",
        os: {
          caption: "Microsoft Windows Server 2022 Datacenter",
          version: "10.0.20348",
          build: 20348,
          arch: "AMD64",
          edition: "ServerDatacenter",
        },
        modules: ["BitLocker", "Hyper-V", "NetLbfo", "NetAdapter", "SecureBoot", "CimCmdlets"],
      });
      s.nics.push({
        name: "Ethernet 2",
        interfaceDescription: "Intel(R) Ethernet Controller I210",
        pnpDeviceId: "PCI\\VEN_8086&DEV_1533&SUBSYS_00008086&REV_03\\4&1F2E3D4C&0&00E0",
        ndisPhysicalMedium: 14,
        virtual: false,
        status: "Up",
        linkSpeed: "1 Gbps",
        macAddress: "52-54-00-12-34-57",
        pci: { segment: 0, bus: 2, device: 0, function: 0 },
      });
      s.vswitches.push({
        name: "External",
        switchType: "External",
        netAdapterInterfaceDescriptions: ["Intel(R) Ethernet Controller I210"],
        embeddedTeamingEnabled: false,
      });
      return s;
    },
  },
  "de-DE-cp850": {
    describe: "Windows 11 Pro in German: bcdedit speaks German, redirected output in CP850",
    state: () => defaultState({ locale: "de-DE", oemCodePage: 850, modules: CLIENT }),
  },
  "zh-CN-cp936": {
    describe: "Windows 11 Pro in Simplified Chinese: bcdedit speaks Chinese, redirected output in CP936",
    state: () => defaultState({ locale: "zh-CN", oemCodePage: 936, modules: CLIENT }),
  },
};

export const PROFILE_NAMES = Object.keys(PROFILES) as ProfileName[];
