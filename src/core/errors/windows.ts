import { defineErrors } from "./types.js";

/** Errors of Windows targets (code range: CODE_RANGES in index.ts); facts from Microsoft's windows-driver-docs (KDNET and bcdedit pages). */
export const windowsErrors = defineErrors({
  E200: {
    title: "PowerShell session is not elevated",
    exit: "environment",
    message: (p: { target: string; user: string }) =>
      `The SSH session on '${p.target}' runs as '${p.user}' without administrator rights, so bcdedit cannot open the boot store.`,
    fix: () =>
      "Log in with an account in the Administrators group (Windows OpenSSH gives administrators an elevated token), or add this user to it, then run setup again. An administrator's public key belongs in C:\\ProgramData\\ssh\\administrators_authorized_keys (readable by Administrators and SYSTEM only), not in the user's .ssh\\authorized_keys: the default sshd_config reads that file for the Administrators group (learn.microsoft.com, 'Key-based authentication in OpenSSH for Windows'). Nothing was changed.",
  },
  E201: {
    title: "Secure Boot is on",
    exit: "check",
    message: (p: { target: string; output?: string }) =>
      `Secure Boot is on on '${p.target}', so Windows refuses 'bcdedit /debug on' (the value is protected by Secure Boot policy).${p.output ? ` bcdedit said: ${p.output}` : ""}`,
    fix: () =>
      "If BitLocker protects the system drive, suspend it first ('Suspend-BitLocker -MountPoint C: -RebootCount 2' in an elevated PowerShell, or 'manage-bde -protectors -disable C: -RebootCount 2' where the BitLocker cmdlets are missing, as on Home with device encryption): with BitLocker bound to PCR 7, turning Secure Boot off alone makes the next boot ask for the recovery key. Then turn Secure Boot off in the firmware settings (Settings > Recovery > Advanced start-up > UEFI Firmware settings; for a Hyper-V VM clear 'Enable Secure Boot') and run setup again. Nothing was changed.",
  },
  E202: {
    title: "NIC not supported by KDNET",
    exit: "check",
    message: (p: { nic: string; ids: string; reason: string }) =>
      `The NIC '${p.nic}' (${p.ids}) cannot be used for KDNET: ${p.reason}.`,
    fix: () =>
      "Pick a wired PCI NIC from Microsoft's supported list with --nic (see 'netdbg doctor'), or add one (a VM can use an emulated Intel e1000/e1000e NIC). Nothing was changed.",
  },
  E203: {
    title: "NIC is wireless",
    exit: "check",
    message: (p: { nic: string }) => `The NIC '${p.nic}' is a wireless adapter; KDNET works only over wired Ethernet.`,
    fix: () => "Choose a wired PCI Ethernet NIC with --nic. Nothing was changed.",
  },
  E204: {
    title: "NIC is USB-attached",
    exit: "check",
    message: (p: { nic: string }) => `The NIC '${p.nic}' is attached over USB; KDNET cannot drive USB NICs.`,
    fix: () => "Choose a PCI Ethernet NIC with --nic (a dock's Ethernet port is usually USB too). Nothing was changed.",
  },
  E205: {
    title: "NIC is a team member",
    exit: "check",
    message: (p: { nic: string; team: string }) =>
      `The NIC '${p.nic}' is a member of the team '${p.team}'; KDNET takes the NIC away from Windows, which breaks the team.`,
    fix: (p: { team: string }) =>
      `Remove the NIC from '${p.team}' (Remove-NetLbfoTeamMember, or rebuild the SET switch without it) or choose another NIC with --nic. Nothing was changed.`,
  },
  E206: {
    title: "NIC is bound to a Hyper-V switch",
    exit: "check",
    message: (p: { nic: string; vswitch: string }) =>
      `The NIC '${p.nic}' carries the external Hyper-V switch '${p.vswitch}'; once KDNET owns the NIC that switch and its VMs lose their network.`,
    fix: (p: { vswitch: string }) =>
      `Choose another NIC with --nic, or pass --force and afterwards rebind '${p.vswitch}' to the 'Microsoft Kernel Debug Network Adapter' (Set-VMSwitch -NetAdapterInterfaceDescription). Nothing was changed.`,
  },
  E207: {
    title: "Debug port outside 49152–65535",
    exit: "usage",
    message: (p: { port: string }) => `The KDNET port ${p.port} is outside 49152–65535, which Windows rejects.`,
    fix: () => "Pass --port with a value from 50000–50039 (recommended) or at least from 49152–65535.",
  },
  E208: {
    title: "No usable NIC",
    exit: "check",
    message: (p: { target: string; reason: string }) => `No NIC on '${p.target}' can be chosen for KDNET: ${p.reason}.`,
    fix: (p: { candidates: string }) =>
      p.candidates
        ? `Name one with --nic (candidates: ${p.candidates}). Nothing was changed.`
        : "Add a supported wired PCI NIC (a VM can use an emulated Intel e1000/e1000e NIC). Nothing was changed.",
  },
  E209: {
    title: "--no-kdnic needs a second NIC",
    exit: "usage",
    message: (p: { nic: string }) =>
      `--no-kdnic would leave Windows without a network: '${p.nic}' is the only connected NIC and KDNIC is what carries its traffic while debugging.`,
    fix: () => "Drop --no-kdnic, or connect a second NIC first. Nothing was changed.",
  },
  E210: {
    title: "bcdedit failed",
    exit: "environment",
    message: (p: { command: string; exitCode: number | string; output: string }) =>
      `'${p.command}' failed (exit ${p.exitCode})${p.output ? `: ${p.output}` : "."}`,
    fix: (p: { fix?: string }) =>
      p.fix ??
      "netdbg undid the changes it had made in this run. Read bcdedit's message above, fix its cause, and run setup again.",
  },
  E211: {
    title: "dbgsettings read back differ from the plan",
    exit: "environment",
    message: (p: { target: string; diffs: string }) =>
      `After setup, the debug settings on '${p.target}' read back different: ${p.diffs}.`,
    fix: () =>
      "Something else changed {dbgsettings} (a policy, kdnet.exe, another tool). Run 'netdbg teardown' then setup again, or compare with 'bcdedit /dbgsettings' on the target.",
  },
  E212: {
    title: "PowerShell script failed on the target",
    exit: "environment",
    message: (p: { script: string; target: string; exitCode: number; detail: string }) =>
      `The netdbg script '${p.script}' failed on '${p.target}' (exit ${p.exitCode})${p.detail ? `: ${p.detail}` : "."}`,
    fix: () =>
      "Check that powershell.exe runs for this SSH user (try 'powershell -NoProfile -Command $PSVersionTable' over ssh), then run netdbg again.",
  },
  E213: {
    title: "PowerShell answer is not JSON",
    exit: "environment",
    message: (p: { script: string; head: string }) =>
      `The netdbg script '${p.script}' did not answer with JSON; it printed: ${p.head}`,
    fix: () =>
      "A profile or logon script may print text: netdbg passes -NoProfile, so check the SSH server's ForceCommand / DefaultShell settings.",
  },
  E214: {
    title: "Unknown NIC name",
    exit: "usage",
    message: (p: { nic: string; target: string }) => `No NIC named '${p.nic}' exists on '${p.target}'.`,
    fix: (p: { candidates: string }) => `Use one of: ${p.candidates || "(none found)"}; a PCI bus.device.function works too.`,
  },
  E215: {
    title: "Host IP unknown",
    exit: "usage",
    message: (p: { target: string }) => `netdbg does not know which host address '${p.target}' should send its KDNET packets to.`,
    fix: (p: { target: string }) =>
      `Pass --host-ip <address of this host as the target sees it>, or set it once with 'netdbg targets edit ${p.target}' (transport.hostIp).`,
  },
  E216: {
    title: "No journal and no export to restore",
    exit: "usage",
    message: (p: { target: string }) => `netdbg has no change journal for '${p.target}', so it does not know what to undo.`,
    fix: (p: { exports: string }) =>
      p.exports
        ? `Restore the boot store exported before setup with 'netdbg teardown --restore-export <file>'; exports found on the target: ${p.exports}.`
        : "Nothing recorded, nothing to undo. If you changed the target by hand, undo it with bcdedit (bcdedit /debug off, bcdedit /delete {guid}).",
  },
  E217: {
    title: "Secure Boot state unknown",
    exit: "check",
    message: (p: { target: string }) => `netdbg could not tell whether Secure Boot is on on '${p.target}'.`,
    fix: () =>
      "Check it in msinfo32 (Secure Boot State). If it is off, run setup again with --force; if it is on, turn it off in the firmware settings first.",
  },
  E218: {
    title: "Debug port unknown",
    exit: "usage",
    message: (p: { target: string }) =>
      `netdbg does not know which host UDP port '${p.target}' should send its KDNET packets to.`,
    fix: (p: { target: string }) =>
      `Pass --port <49152–65535> (50000–50039 recommended, one per target), or set it once with 'netdbg targets edit ${p.target}'.`,
  },
  E219: {
    title: "Target did not come back after the reboot",
    exit: "environment",
    message: (p: { target: string; seconds: number; last: string }) =>
      `'${p.target}' did not answer over SSH within ${p.seconds} s of the reboot${p.last ? ` (last error: ${p.last})` : ""}.`,
    fix: () =>
      "Look at the target's console: a BitLocker recovery screen means the protectors were not suspended; a hang at boot means the debugger is waiting (start it with the windbg line above). Once it is up, 'netdbg teardown' undoes everything.",
  },
  E220: {
    title: "Target pokes with another KDNET key",
    exit: "check",
    message: (p: { target: string; port: number; from: string }) =>
      `After the reboot, KDNET pokes from ${p.from} reach UDP port ${p.port} but do not authenticate with the key stored for '${p.target}': the target and this host use different keys.`,
    fix: (p: { target: string; port: number }) =>
      `Run 'netdbg setup ${p.target}' again to give the target the stored key (or store the key it uses with 'netdbg keys set ${p.target} <key>'). If another machine is configured for port ${p.port}, give each target its own port.`,
  },
  E221: {
    title: "No KDNET poke after the reboot",
    exit: "environment",
    message: (p: { target: string; port: number; seconds: number; entry: string }) =>
      `'${p.target}' is back over SSH in boot entry ${p.entry}, but no KDNET poke reached UDP port ${p.port} on this host within ${p.seconds} s.`,
    fix: (p: { target: string; port: number }) =>
      `Check that the host address in the target's dbgsettings is this host's address as the target sees it, that the host firewall lets UDP port ${p.port} in ('netdbg host firewall open ${p.target}'), and that the NIC KDNET took is on the network to this host ('netdbg doctor ${p.target}'). Then restart the target (shutdown /r /t 0).`,
  },
  E222: {
    title: "WinRM call to the target failed",
    exit: "environment",
    message: (p: { target: string; computer: string; detail: string }) =>
      `Invoke-Command to '${p.computer}' (target '${p.target}') failed: ${p.detail}`,
    fix: (p: { computer: string; fix?: string }) =>
      p.fix ??
      `On the target run 'Enable-PSRemoting -Force' as administrator; on this host make sure '${p.computer}' resolves and is trusted (a domain member, or listed in WSMan:\\localhost\\Client\\TrustedHosts), and that your account is an administrator there. Or use SSH (drop --via winrm).`,
  },
  E223: {
    title: "--via winrm needs PowerShell on this host",
    exit: "environment",
    message: (p: { platform: string; executable: string }) =>
      `--via winrm runs Invoke-Command in a local PowerShell, but this host (${p.platform}) has no '${p.executable}'.`,
    fix: () =>
      "Run netdbg on Windows (powershell.exe is built in), or install PowerShell 7 ('pwsh', with WSMan remoting) here or point NODE_POWERSHELL at it — or drop --via winrm to use SSH, which works from any host.",
  },
  E224: {
    title: "Unknown --via transport",
    exit: "usage",
    message: (p: { via: string }) => `'--via ${p.via}' is not a transport netdbg knows for Windows targets.`,
    fix: () => "Use --via ssh (the default) or --via winrm (netdbg on Windows).",
  },
  E225: {
    title: "NIC on a PCI segment other than 0",
    exit: "check",
    message: (p: { nic: string; segment: number; bdf: string }) =>
      `The NIC '${p.nic}' is on PCI segment ${p.segment} (bus.device.function ${p.bdf}); KDNET's busparams names bus.device.function only, so it cannot select this NIC.`,
    fix: () =>
      "Choose a NIC on PCI segment 0 with --nic (Get-NetAdapterHardwareInfo shows each NIC's Segment), or move the card to a slot on segment 0. Nothing was changed.",
  },
  E227: {
    title: "KDNET would take over the NIC that carries SSH",
    exit: "check",
    message: (p: { target: string; nic: string; address: string; why: string }) =>
      `SSH reaches '${p.target}' at ${p.address} through '${p.nic}', the NIC KDNET would take over, and ${p.why}: after the restart into the debug entry SSH would not come back, so neither teardown nor doctor could reach the target. Nothing was changed.`,
    fix: () =>
      "Reach the target over SSH through another NIC (and pick the NIC for KDNET with --nic), or give this NIC its address by DHCP (a reservation keeps it the same); then run setup again. --force goes on knowingly with a static address: teardown then needs the normal boot, chosen at the console.",
  },
  E226: {
    title: "BitLocker state unknown",
    exit: "check",
    message: (p: { target: string }) =>
      `netdbg cannot tell whether BitLocker protects the system drive of '${p.target}' (neither the BitLocker cmdlets nor the BitLocker WMI provider, Win32_EncryptableVolume, answered), so it cannot suspend it; a boot with changed debug settings would then ask for the recovery key.`,
    fix: () =>
      "Check on the target: 'manage-bde -status C:' or Settings > Privacy & security > Device encryption. If the drive is encrypted, suspend protection yourself ('manage-bde -protectors -disable C: -RebootCount 2') or turn device encryption off, and have the recovery key at hand; then run setup again with --bitlocker-unknown-ok. Nothing was changed.",
  },
  E228: {
    title: "WinRM credential cannot be asked",
    exit: "usage",
    message: (p: { user: string; why: string }) =>
      `--winrm-user ${p.user} needs its password, and ${p.why}. Nothing was changed.`,
    fix: () =>
      "Run the command in a terminal (without --json) to be asked, or save the credential once with 'Get-Credential | Export-Clixml -Path <file>' and pass --winrm-credential <file> (on Windows only you, on this machine, can read the password back).",
  },
  E229: {
    title: "KDNET is set up for 2PF",
    exit: "check",
    message: (p: { target: string; busparams: string; nic: string }) =>
      `On '${p.target}', {dbgsettings} points KDNET at PCI ${p.busparams}, a function of '${p.nic}' that Windows does not list: the secondary physical function kdnet.exe adds for 2PF debugging, which only KDNET uses while Windows keeps the NIC's own function. setup would move KDNET onto '${p.nic}' itself and take that NIC from Windows in the debug boot. Nothing was changed.`,
    fix: () =>
      "Keep the 2PF setup and debug with it (netdbg connect works with its key and port), or remove the added function with kdnet.exe as learn.microsoft.com 'Setting up 2PF kernel-mode debugging using KDNET' describes and run setup again; --force replaces it (teardown restores {dbgsettings} from the export).",
  },
});
