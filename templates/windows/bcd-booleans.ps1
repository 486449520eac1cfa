# netdbg template: bcd-booleans — the boolean elements of one BCD object of the system store, by element type id,
# read through the BCD WMI provider (root\wmi): bcdedit prints booleans in the display language ('Yes', 'Ja',
# 'Tak', 'Có', ...) and that language cannot be chosen, so no text is read here (read-only).
#   https://learn.microsoft.com/previous-versions/windows/desktop/bcd/openstore-bcdstore
#   https://learn.microsoft.com/previous-versions/windows/desktop/bcd/enumerateelements-bcdobject
#   https://learn.microsoft.com/previous-versions/windows/desktop/bcd/bcdelementtype (format = bits 24-27; 6 boolean)
# Answers { id, booleans: [{ type, value }] }, or { id, booleans: null, error } when the provider does not answer.
param([string]$Id)
$ErrorActionPreference = 'Stop'
$booleans = $null; $err = $null
try {
  $sys = (Invoke-CimMethod -Namespace 'root\wmi' -ClassName BcdStore -MethodName OpenStore -Arguments @{ File = '' }).Store
  $obj = (Invoke-CimMethod -InputObject $sys -MethodName OpenObject -Arguments @{ Id = $Id }).Object
  if ($null -eq $obj) { throw "BCD WMI OpenObject '$Id' found no object" }
  $booleans = @(foreach ($e in @((Invoke-CimMethod -InputObject $obj -MethodName EnumerateElements).Elements)) {
    if ($null -ne $e -and ((([uint32]$e.Type) -shr 24) -band 0xF) -eq 6) { [pscustomobject]@{ type = [uint32]$e.Type; value = [bool]$e.Boolean } }
  })
} catch { $booleans = $null; $err = [string]$_.Exception.Message }
[pscustomobject]@{ id = $Id; booleans = $booleans; error = $err } | ConvertTo-Json -Compress -Depth 4
