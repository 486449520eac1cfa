# netdbg template: bitlocker — suspend the protectors of one volume for a number of reboots, or resume them.
param([string]$MountPoint, [ValidateSet('suspend', 'resume')][string]$Operation, [int]$RebootCount = 2)
if ($Operation -eq 'suspend') { Suspend-BitLocker -MountPoint $MountPoint -RebootCount $RebootCount | Out-Null }
else { Resume-BitLocker -MountPoint $MountPoint | Out-Null }
$v = Get-BitLockerVolume -MountPoint $MountPoint
[pscustomobject]@{ exitCode = 0; protectionStatus = [string]$v.ProtectionStatus } | ConvertTo-Json -Compress -Depth 4
