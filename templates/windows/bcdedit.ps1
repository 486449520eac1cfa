# netdbg template: bcdedit — run bcdedit.exe with an argument vector and report its exit code and output.
# The arguments arrive as a parameter array, so braces ({current}) and spaces need no quoting.
# bcdedit's output is localized: the caller parses it by element names, {GUID} shapes and the exit code.
param([string[]]$BcdArgs)
$ErrorActionPreference = 'Continue'  # native stderr under 2>&1 must not become a terminating error (PS 5.1)
$output = & "$env:SystemRoot\System32\bcdedit.exe" @BcdArgs 2>&1 | Out-String
[pscustomobject]@{ exitCode = $LASTEXITCODE; output = $output } | ConvertTo-Json -Compress -Depth 4
