# netdbg template: bcd-export — export the whole BCD store to a file (its folder is created first).
param([string]$Path)
$ErrorActionPreference = 'Continue'  # native stderr under 2>&1 must not become a terminating error (PS 5.1)
New-Item -ItemType Directory -Force -Path (Split-Path -Parent $Path) | Out-Null
$output = & "$env:SystemRoot\System32\bcdedit.exe" /export $Path 2>&1 | Out-String
[pscustomobject]@{ exitCode = $LASTEXITCODE; output = $output } | ConvertTo-Json -Compress -Depth 4
