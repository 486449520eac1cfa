# netdbg template: bcd-export — export the whole BCD store to a file (its folder is created first).
param([string]$Path)
New-Item -ItemType Directory -Force -Path (Split-Path -Parent $Path) | Out-Null
$output = & "$env:SystemRoot\System32\bcdedit.exe" /export $Path 2>&1 | Out-String
[pscustomobject]@{ exitCode = $LASTEXITCODE; output = $output } | ConvertTo-Json -Compress -Depth 4
