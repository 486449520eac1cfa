# netdbg template: bitlocker — suspend the protectors of one volume for some reboots, resume them, or undo netdbg's
# suspension. BitLocker checks the boot configuration at start-up against its state when protection was last
# enabled, resumed or recovered (learn.microsoft.com/windows/security/operating-system-security/data-protection/
# bitlocker/bcd-settings-and-bitlocker). So 'undo' resumes only in a boot netdbg did not make: in the debug entry
# (told by the description netdbg wrote, '… [netdbg]') resuming would seal the debug boot's settings and the next
# normal boot would ask for the recovery key; there it suspends for one restart (protection comes back by itself
# after the next boot, sealed to that boot).
param([string]$MountPoint, [ValidateSet('suspend', 'resume', 'undo')][string]$Operation, [int]$RebootCount = 2)
$done = $Operation
if ($Operation -eq 'undo') {
  $cur = & "$env:SystemRoot\System32\bcdedit.exe" /enum '{current}' /v 2>&1 | Out-String
  if ($cur -match '(?m)^description\s+.*\[netdbg\]\s*$') { $done = 'suspend'; $RebootCount = 1 } else { $done = 'resume' }
}
if (Get-Command Suspend-BitLocker -ErrorAction SilentlyContinue) {
  if ($done -eq 'suspend') { Suspend-BitLocker -MountPoint $MountPoint -RebootCount $RebootCount | Out-Null }
  else { Resume-BitLocker -MountPoint $MountPoint | Out-Null }
  $status = [string](Get-BitLockerVolume -MountPoint $MountPoint).ProtectionStatus
} else {
  # No cmdlets (Home with device encryption): Win32_EncryptableVolume, DisableCount = restarts
  # (learn.microsoft.com/windows/win32/secprov/disablekeyprotectors-win32-encryptablevolume, enablekeyprotectors-…)
  $vol = Get-CimInstance -Namespace 'root\cimv2\Security\MicrosoftVolumeEncryption' -ClassName Win32_EncryptableVolume |
    Where-Object { $_.DriveLetter -eq $MountPoint } | Select-Object -First 1
  if (-not $vol) { throw "Win32_EncryptableVolume: no volume $MountPoint" }
  $m, $a = if ($done -eq 'suspend') { 'DisableKeyProtectors', @{ DisableCount = [uint32]$RebootCount } } else { 'EnableKeyProtectors', @{} }
  $r = Invoke-CimMethod -InputObject $vol -MethodName $m -Arguments $a
  if ($r.ReturnValue -ne 0) { throw ('Win32_EncryptableVolume.{0} failed: 0x{1:X8}' -f $m, [uint32]$r.ReturnValue) }
  $p = [int](Invoke-CimMethod -InputObject $vol -MethodName GetProtectionStatus).ProtectionStatus
  $status = if ($p -eq 1) { 'On' } elseif ($p -eq 0) { 'Off' } else { 'Unknown' }
}
[pscustomobject]@{ exitCode = 0; done = $done; protectionStatus = $status } | ConvertTo-Json -Compress -Depth 4
