# netdbg template: bitlocker — suspend the protectors of one volume for a number of reboots, resume them, or undo
# netdbg's suspension. BitLocker checks the boot configuration at start-up against its state when protection was
# last enabled, resumed or recovered (learn.microsoft.com/windows/security/operating-system-security/data-protection/
# bitlocker/bcd-settings-and-bitlocker). So 'undo' resumes only in the boot netdbg did not make: running in the
# netdbg debug entry, resuming would seal the debug boot's settings and the next normal boot would ask for the
# recovery key; there it suspends for one more restart instead (Suspend-BitLocker -RebootCount 1: protection comes
# back by itself after the next boot, sealed to that boot). The running entry is told by its description, which
# netdbg wrote ('… [netdbg]'); the element name 'description' is not localized.
param([string]$MountPoint, [ValidateSet('suspend', 'resume', 'undo')][string]$Operation, [int]$RebootCount = 2)
$done = $Operation
if ($Operation -eq 'undo') {
  $cur = & "$env:SystemRoot\System32\bcdedit.exe" /enum '{current}' /v 2>&1 | Out-String
  if ($cur -match '(?m)^description\s+.*\[netdbg\]\s*$') { $done = 'suspend'; $RebootCount = 1 } else { $done = 'resume' }
}
if ($done -eq 'suspend') { Suspend-BitLocker -MountPoint $MountPoint -RebootCount $RebootCount | Out-Null }
else { Resume-BitLocker -MountPoint $MountPoint | Out-Null }
$v = Get-BitLockerVolume -MountPoint $MountPoint
[pscustomobject]@{ exitCode = 0; done = $done; protectionStatus = [string]$v.ProtectionStatus } | ConvertTo-Json -Compress -Depth 4
