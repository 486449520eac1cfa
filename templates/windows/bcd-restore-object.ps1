# netdbg template: bcd-restore-object — make one object of the live BCD store ({dbgsettings}, {bootmgr}, …)
# equal to the same object in a store exported by 'bcdedit /export' before setup. Used as the undo of changes
# whose old values include a secret (the previous KDNET key): the old values never leave the target.
# Element lines are read by name (element names are not localized) from 'bcdedit [/store <file>] /enum <id> /v';
# the heading (the line above the dashes) and the identifier line (first element; its label is localized) are
# skipped; indented lines continue a multi-value element. Booleans display localized, so they are mapped back.
param([string]$ExportPath, [string]$Id)
$ErrorActionPreference = 'Continue'  # native stderr under 2>&1 must not become a terminating error (PS 5.1)
$bcd = "$env:SystemRoot\System32\bcdedit.exe"
$bool = @{ 'Yes' = 'on'; 'No' = 'off'; 'Ja' = 'on'; 'Nein' = 'off'; 'Oui' = 'on'; 'Non' = 'off'; "$([char]0x662F)" = 'on'; "$([char]0x5426)" = 'off' }
function Read-Elements([string[]]$StoreArgs) {
  $text = & $bcd @StoreArgs /enum $Id /v 2>&1 | Out-String
  if ($LASTEXITCODE -ne 0) { throw "bcdedit /enum $Id failed: $text" }
  $lines = $text -split '\r?\n'
  $map = [ordered]@{}
  $first = $true
  $last = $null
  for ($i = 0; $i -lt $lines.Count; $i++) {
    $line = $lines[$i]
    if ($line -eq '' -or $line -match '^-+$') { continue }
    if ($i + 1 -lt $lines.Count -and $lines[$i + 1] -match '^-+$') { continue }
    if ($line -match '^\s+(\S.*?)\s*$') { if ($last) { $map[$last] = @($map[$last]) + @($Matches[1]) }; continue }
    if ($line -match '^(\S+)\s+(\S.*?)\s*$') {
      if ($first) { $first = $false; continue }
      $last = $Matches[1]
      $map[$last] = @($Matches[2])
    }
  }
  return $map
}
$saved = Read-Elements @('/store', $ExportPath)
$live = Read-Elements @()
$out = ''; $code = 0
foreach ($name in @($live.Keys)) {
  if (-not $saved.Contains($name)) {
    $out += & $bcd /deletevalue $Id $name 2>&1 | Out-String
    if ($LASTEXITCODE) { $code = $LASTEXITCODE }
  }
}
foreach ($name in @($saved.Keys)) {
  if ((@($live[$name]) -join "`n") -ne (@($saved[$name]) -join "`n")) {
    $values = @($saved[$name] | ForEach-Object { if ($bool.ContainsKey($_)) { $bool[$_] } else { $_ } })
    $out += & $bcd /set $Id $name @values 2>&1 | Out-String
    if ($LASTEXITCODE) { $code = $LASTEXITCODE }
  }
}
[pscustomobject]@{ exitCode = $code; output = $out } | ConvertTo-Json -Compress -Depth 4
