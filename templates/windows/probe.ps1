# netdbg template: probe — read-only facts for KDNET setup: OS, Secure Boot, BitLocker, Hyper-V switches,
# LBFO teams, NICs with their PCI location, the BCD objects netdbg cares about, kdnet.exe's opinion, and the
# store exports netdbg left earlier. Every section is best effort: a missing cmdlet yields null, not an error.
param([string]$ExportDir, [string]$KdnetPath = '')
$ErrorActionPreference = 'SilentlyContinue'
$bcd = "$env:SystemRoot\System32\bcdedit.exe"
function Run-Bcd([string[]]$BcdArgs) {
  $o = & $bcd @BcdArgs 2>&1 | Out-String
  [pscustomobject]@{ exitCode = $LASTEXITCODE; output = $o }
}
$id = [Security.Principal.WindowsIdentity]::GetCurrent()
$os = Get-CimInstance Win32_OperatingSystem
$sb = [pscustomobject]@{ state = $null; source = 'none' }
try { $sb.state = [bool](Confirm-SecureBootUEFI -ErrorAction Stop); $sb.source = 'Confirm-SecureBootUEFI' } catch {
  if ($_.Exception -is [System.PlatformNotSupportedException]) { $sb.state = $false; $sb.source = 'legacy-bios' }
  else {
    $r = Get-ItemProperty 'HKLM:\SYSTEM\CurrentControlSet\Control\SecureBoot\State' -Name UEFISecureBootEnabled -ErrorAction SilentlyContinue
    if ($null -ne $r) { $sb.state = ($r.UEFISecureBootEnabled -eq 1); $sb.source = 'registry' }
  }
}
# BitLocker's state, from the BitLocker module where it exists; else from the BitLocker WMI provider, which Home
# editions with device encryption have although they lack the cmdlets: Win32_EncryptableVolume in
# root\cimv2\Security\MicrosoftVolumeEncryption, properties DriveLetter and ProtectionStatus (0 off, 1 on, 2 unknown),
# and the conversion state from its GetConversionStatus method (0..5 = FullyDecrypted, FullyEncrypted,
# EncryptionInProgress, DecryptionInProgress, EncryptionPaused, DecryptionPaused: VolumeStatus's names)
# (learn.microsoft.com/windows/win32/secprov/win32-encryptablevolume, .../getprotectionstatus-win32-encryptablevolume,
# .../getconversionstatus-win32-encryptablevolume). Only when neither answers is bitlockerSource null (setup: E226).
$bitlockerSource = $null
$bitlocker = @()
if (Get-Command Get-BitLockerVolume -ErrorAction SilentlyContinue) {
  # a module that is there but fails (a stopped service, a provider error) tells nothing: the provider is asked next
  try {
    $bitlocker = @(Get-BitLockerVolume -ErrorAction Stop | ForEach-Object {
      [pscustomobject]@{ mountPoint = $_.MountPoint; volumeStatus = [string]$_.VolumeStatus; protectionStatus = [string]$_.ProtectionStatus }
    })
    $bitlockerSource = 'Get-BitLockerVolume'
  } catch { $bitlocker = @() }
}
if ($null -eq $bitlockerSource) {
  try {
    $ev = @(Get-CimInstance -Namespace 'root\cimv2\Security\MicrosoftVolumeEncryption' -ClassName Win32_EncryptableVolume -ErrorAction Stop)
    $conv = @('FullyDecrypted', 'FullyEncrypted', 'EncryptionInProgress', 'DecryptionInProgress', 'EncryptionPaused', 'DecryptionPaused')
    $bitlocker = @($ev | Where-Object { $_.DriveLetter } | ForEach-Object {
      $c = Invoke-CimMethod -InputObject $_ -MethodName GetConversionStatus -ErrorAction SilentlyContinue
      $n = if ($c -and $c.ReturnValue -eq 0) { [int]$c.ConversionStatus } elseif ($null -ne $_.ConversionStatus) { [int]$_.ConversionStatus } else { -1 }
      $p = [int]$_.ProtectionStatus
      [pscustomobject]@{ mountPoint = [string]$_.DriveLetter
        volumeStatus = if ($n -ge 0 -and $n -lt $conv.Count) { $conv[$n] } else { 'Unknown' }
        protectionStatus = if ($p -eq 1) { 'On' } elseif ($p -eq 0) { 'Off' } else { 'Unknown' } }
    })
    $bitlockerSource = 'Win32_EncryptableVolume'
  } catch { $bitlockerSource = $null; $bitlocker = @() }
}
$switches = @(Get-VMSwitch | ForEach-Object {
  [pscustomobject]@{ name = $_.Name; switchType = [string]$_.SwitchType; embeddedTeamingEnabled = [bool]$_.EmbeddedTeamingEnabled;
    netAdapterInterfaceDescriptions = @($_.NetAdapterInterfaceDescriptions) + @($_.NetAdapterInterfaceDescription) | Where-Object { $_ } | Select-Object -Unique }
})
$teams = @(Get-NetLbfoTeam | ForEach-Object { [pscustomobject]@{ name = $_.Name; members = @($_.Members) } })
$hw = @{}
Get-NetAdapterHardwareInfo | ForEach-Object { $hw[$_.Name] = $_ }
$nics = @(Get-NetAdapter | ForEach-Object {
  $h = $hw[$_.Name]
  [pscustomobject]@{ name = $_.Name; interfaceDescription = $_.InterfaceDescription; pnpDeviceId = $_.PnPDeviceID;
    ndisPhysicalMedium = [int]$_.NdisPhysicalMedium; virtual = [bool]$_.Virtual; hardwareInterface = [bool]$_.HardwareInterface;
    status = [string]$_.Status; linkSpeed = [string]$_.LinkSpeed; macAddress = $_.MacAddress;
    segment = if ($h) { [int]$h.Segment } else { $null }; bus = if ($h) { [int]$h.Bus } else { $null };
    device = if ($h) { [int]$h.Device } else { $null }; 'function' = if ($h) { [int]$h.Function } else { $null } }
})
# In the debug boot the NIC KDNET owns has no Windows driver (Plug and Play problem 53, CM_PROB_USED_BY_DEBUGGER), so
# Get-NetAdapter does not list it: read it from Plug and Play, with its PCI location (bus number; address = device
# in the high word, function in the low word), which are numbers in every display language.
$debuggerNics = @(Get-PnpDevice -Class Net | Where-Object { $_.ConfigManagerErrorCode -eq 53 } | ForEach-Object {
  $busNo = (Get-PnpDeviceProperty -InstanceId $_.InstanceId -KeyName 'DEVPKEY_Device_BusNumber').Data
  $addr = (Get-PnpDeviceProperty -InstanceId $_.InstanceId -KeyName 'DEVPKEY_Device_Address').Data
  [pscustomobject]@{ name = $_.FriendlyName; pnpDeviceId = $_.InstanceId;
    bus = if ($null -ne $busNo) { [int]$busNo } else { $null };
    device = if ($null -ne $addr) { [int]($addr -shr 16) } else { $null };
    'function' = if ($null -ne $addr) { [int]($addr -band 0xFFFF) } else { $null } }
})
# The NIC this SSH session arrived on (SSH_CONNECTION: client address, client port, server address, server port).
# When KDNET takes that NIC over, SSH in the debug boot depends on the KDNET adapter's own address (DHCP).
$sshSession = $null
$conn = @("$env:SSH_CONNECTION" -split ' ')
if ($conn.Count -ge 3 -and $conn[2]) {
  $sshSession = [pscustomobject]@{ address = $conn[2]; nic = $null; prefixOrigin = $null; dhcp = $null }
  $ipa = @(Get-NetIPAddress -IPAddress $conn[2])[0]
  if ($ipa) {
    $sshSession.nic = [string]$ipa.InterfaceAlias
    $sshSession.prefixOrigin = [string]$ipa.PrefixOrigin
    $ipi = @(Get-NetIPInterface -InterfaceIndex $ipa.InterfaceIndex -AddressFamily $ipa.AddressFamily)[0]
    if ($ipi) { $sshSession.dhcp = [string]$ipi.Dhcp }
  }
}
# kdnet.exe: the path given, else where it usually is: the Windows Kits debuggers for this machine's architecture,
# the C:\KDNET folder Microsoft's KDNET setup page copies it to, or PATH
$kdnetExe = $null
if ($KdnetPath) { if (Test-Path -LiteralPath $KdnetPath) { $kdnetExe = $KdnetPath } }
else {
  $arch = 'x64'
  if ($env:PROCESSOR_ARCHITECTURE -eq 'ARM64') { $arch = 'arm64' } elseif ($env:PROCESSOR_ARCHITECTURE -eq 'x86') { $arch = 'x86' }
  $cands = @("${env:ProgramFiles(x86)}\Windows Kits\10\Debuggers\$arch\kdnet.exe", "$env:ProgramFiles\Windows Kits\10\Debuggers\$arch\kdnet.exe", "$env:SystemDrive\KDNET\kdnet.exe")
  $kdnetExe = @($cands | Where-Object { Test-Path -LiteralPath $_ })[0]
  if (-not $kdnetExe) { $kdnetExe = @(Get-Command kdnet.exe -CommandType Application | ForEach-Object { $_.Source })[0] }
}
$kdnet = $null
if ($kdnetExe) {
  $ko = & $kdnetExe 2>&1 | Out-String
  $kdnet = [pscustomobject]@{ path = $kdnetExe; exitCode = $LASTEXITCODE; output = $ko }
}
# boolean BCD elements (debug, dhcp, ...) by type id through the BCD WMI provider: bcdedit prints them in the display
# language ('Yes', 'Ja', 'Tak', ...), which no table covers. Boot loaders (object type 0x10200003) and {dbgsettings}.
# https://learn.microsoft.com/previous-versions/windows/desktop/bcd/enumerateobjects-bcdstore
# https://learn.microsoft.com/previous-versions/windows/desktop/bcd/enumerateelements-bcdobject
$bcdBooleans = $null
try {
  $sys = (Invoke-CimMethod -Namespace 'root\wmi' -ClassName BcdStore -MethodName OpenStore -Arguments @{ File = '' } -ErrorAction Stop).Store
  $objs = @((Invoke-CimMethod -InputObject $sys -MethodName EnumerateObjects -Arguments @{ Type = [uint32]0x10200003 } -ErrorAction Stop).Objects)
  $objs += (Invoke-CimMethod -InputObject $sys -MethodName OpenObject -Arguments @{ Id = '{4636856e-540f-4170-a130-a84776f4c654}' } -ErrorAction Stop).Object
  $bcdBooleans = @(foreach ($o in $objs) {
    if ($null -eq $o) { continue }
    foreach ($e in @((Invoke-CimMethod -InputObject $o -MethodName EnumerateElements -ErrorAction Stop).Elements)) {
      if ($null -ne $e -and ((([uint32]$e.Type) -shr 24) -band 0xF) -eq 6) { [pscustomobject]@{ id = [string]$o.Id; type = [uint32]$e.Type; value = [bool]$e.Boolean } }
    }
  })
} catch { $bcdBooleans = $null }
$exports = @(Get-ChildItem -LiteralPath $ExportDir -Filter 'bcd-*.bak' | Sort-Object Name | ForEach-Object { $_.FullName })
[pscustomobject]@{
  user = $id.Name
  os = [pscustomobject]@{ caption = $os.Caption; version = $os.Version; build = [int]$os.BuildNumber; arch = $env:PROCESSOR_ARCHITECTURE; edition = (Get-ItemProperty 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion').EditionID }
  systemDrive = $env:SystemDrive
  secureBoot = $sb
  bitlocker = $bitlocker
  bitlockerSource = $bitlockerSource
  hyperv = [pscustomobject]@{ switches = $switches }
  teams = $teams
  nics = $nics
  debuggerNics = $debuggerNics
  sshSession = $sshSession
  bcd = [pscustomobject]@{ dbgsettings = (Run-Bcd @('/dbgsettings')); current = (Run-Bcd @('/enum', '{current}', '/v'));
    bootmgr = (Run-Bcd @('/enum', '{bootmgr}', '/v')); loaders = (Run-Bcd @('/enum', 'osloader', '/v')) }
  bcdBooleans = $bcdBooleans
  kdnet = $kdnet
  exports = $exports
} | ConvertTo-Json -Compress -Depth 6
