# netdbg template: reboot — restart Windows after a short delay, so this SSH command can answer first.
# With the one-time bootsequence armed by setup, the next boot is the netdbg debug entry.
param([int]$DelaySeconds = 5)
$ErrorActionPreference = 'Continue'  # native stderr under 2>&1 must not become a terminating error (PS 5.1)
& "$env:SystemRoot\System32\shutdown.exe" /r /t $DelaySeconds /c 'netdbg: restarting into the kernel-debug boot entry' /d p:4:1
[pscustomobject]@{ exitCode = $LASTEXITCODE } | ConvertTo-Json -Compress -Depth 4
