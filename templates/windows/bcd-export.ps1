# netdbg template: bcd-export — export the whole BCD store to a file (its folder is created first).
# The export holds the debug settings, the KDNET key among them: the folder is restricted to Administrators
# (S-1-5-32-544) and SYSTEM (S-1-5-18) before anything is written, by SID so any display language works
# (learn.microsoft.com icacls: /inheritance:r, /grant:r). If that fails, nothing is exported.
param([string]$Path)
$ErrorActionPreference = 'Continue'  # native stderr under 2>&1 must not become a terminating error (PS 5.1)
$dir = Split-Path -Parent $Path
New-Item -ItemType Directory -Force -Path $dir | Out-Null
$acl = & "$env:SystemRoot\System32\icacls.exe" $dir /inheritance:r /grant:r '*S-1-5-32-544:(OI)(CI)F' '*S-1-5-18:(OI)(CI)F' 2>&1 | Out-String
if ($LASTEXITCODE -ne 0) {
  [pscustomobject]@{ exitCode = $LASTEXITCODE; output = "icacls could not restrict $dir to Administrators and SYSTEM, so the store was not exported: $acl" } | ConvertTo-Json -Compress -Depth 4
  return
}
$output = & "$env:SystemRoot\System32\bcdedit.exe" /export $Path 2>&1 | Out-String
[pscustomobject]@{ exitCode = $LASTEXITCODE; output = $output } | ConvertTo-Json -Compress -Depth 4
