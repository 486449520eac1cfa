# netdbg template: bcd-delete-entry — delete the boot entry netdbg copied. When its GUID is not known (the
# connection dropped while 'bcdedit /copy' ran), delete every boot loader whose description is exactly
# $Description and whose identifier is not one of $Known (the identifiers that existed before the copy).
# Identifiers are found by their {GUID} shape and the description by its element name (both locale-free).
param([string]$Guid = '', [string]$Description = '', [string[]]$Known = @())
$ErrorActionPreference = 'Continue'  # native stderr under 2>&1 must not become a terminating error (PS 5.1)
$bcd = "$env:SystemRoot\System32\bcdedit.exe"
$targets = @()
if ($Guid) { $targets = @($Guid) } else {
  $text = & $bcd /enum osloader /v 2>&1 | Out-String
  foreach ($block in ($text -split '(\r?\n){2,}')) {
    $id = [regex]::Match($block, '\{[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}').Value
    $desc = [regex]::Match($block, '(?m)^description\s+(.*?)\s*$').Groups[1].Value
    if ($id -and $desc -eq $Description -and -not ($Known -contains $id.ToLower())) { $targets += $id }
  }
}
$code = 0; $out = ''
foreach ($t in $targets) {
  $present = & $bcd /enum $t 2>&1 | Out-String
  if ($LASTEXITCODE -ne 0) { continue }  # already gone: deleting is idempotent
  $out += & $bcd /delete $t /f 2>&1 | Out-String
  if ($LASTEXITCODE -ne 0) { $code = $LASTEXITCODE }
}
[pscustomobject]@{ exitCode = $code; output = $out; deleted = @($targets) } | ConvertTo-Json -Compress -Depth 4
