# netdbg template: bcd-restore-object — make one object of the live BCD store ({dbgsettings}, {bootmgr}, …)
# equal to the same object in a store exported by 'bcdedit /export' before setup. Used as the undo of changes
# whose old values include a secret (the previous KDNET key): the old values never leave the target.
# No bcdedit text is read (its words are localized and its language cannot be chosen): both stores are read and
# the live one written through the BCD WMI provider, root\wmi, by element type id with typed values:
#   BcdStore.OpenStore (File '' = the system store), BcdStore.OpenObject (by GUID), BcdObject.EnumerateElements,
#   BcdObject.Set{String,Boolean,Integer,Object,ObjectList,IntegerList}Element and DeleteElement.
#   https://learn.microsoft.com/previous-versions/windows/desktop/bcd/bcdstore
#   https://learn.microsoft.com/previous-versions/windows/desktop/bcd/openstore-bcdstore
#   https://learn.microsoft.com/previous-versions/windows/desktop/bcd/enumerateelements-bcdobject
#   https://learn.microsoft.com/previous-versions/windows/desktop/bcd/setintegerelement-bcdobject
# The element's format is bits 24-27 of its type (BcdElementType: 1 device, 2 string, 3 object, 4 object list,
# 5 integer, 6 boolean, 7 integer list): https://learn.microsoft.com/previous-versions/windows/desktop/bcd/bcdelementtype
# Device elements are compared but never rewritten (their setters take a device description netdbg never changes).
param([string]$ExportPath, [string]$Id)
$ErrorActionPreference = 'Stop'
# well-known BCD identifiers as GUIDs (bcdedit /? ID; learn.microsoft.com "BCD identifiers")
$known = @{
  '{bootmgr}' = '{9dea862c-5cdd-4e70-acc1-f32b344d4795}'; '{fwbootmgr}' = '{a5a30fa2-3d06-4e9f-b5f4-a01df9d1fcba}'
  '{dbgsettings}' = '{4636856e-540f-4170-a130-a84776f4c654}'; '{globalsettings}' = '{7ea2e1ac-2e61-4728-aaa3-896d9d0a9f0e}'
  '{memdiag}' = '{b2721d73-1db4-4c62-bf78-c548a880142d}'; '{hypervisorsettings}' = '{7ff607e0-4395-11db-b0de-0800200c9a66}'
  '{bootloadersettings}' = '{6efb52bf-1766-41db-a6b3-0ee5eff72bd7}'
}
$guid = if ($known.ContainsKey($Id.ToLowerInvariant())) { $known[$Id.ToLowerInvariant()] } else { $Id }
$setters = @{ 2 = 'SetStringElement', 'String'; 3 = 'SetObjectElement', 'Id'; 4 = 'SetObjectListElement', 'Ids'
  5 = 'SetIntegerElement', 'Integer'; 6 = 'SetBooleanElement', 'Boolean'; 7 = 'SetIntegerListElement', 'Integers' }
function Invoke-Bcd($Target, [string]$Method, [hashtable]$Arguments = @{}) {
  $r = Invoke-CimMethod -InputObject $Target -MethodName $Method -Arguments $Arguments
  if (-not $r.ReturnValue) { throw "BCD WMI $Method returned false" }
  return $r
}
function Format-Of([uint32]$Type) { return [int](($Type -shr 24) -band 0xF) }
# a typed value as invariant text, only to compare two elements of the same type
function Get-Value($Element) {
  switch (Format-Of $Element.Type) {
    1 { return ($Element.Device | ConvertTo-Json -Compress -Depth 4) }
    2 { return [string]$Element.String }
    3 { return [string]$Element.Id }
    4 { return (@($Element.Ids) -join ',') }
    5 { return ([uint64]$Element.Integer).ToString([Globalization.CultureInfo]::InvariantCulture) }
    6 { return [string][bool]$Element.Boolean }
    7 { return (@($Element.Integers | ForEach-Object { [uint64]$_ }) -join ',') }
  }
  return $null
}
function Read-Object([string]$File) {
  $open = Invoke-CimMethod -Namespace 'root\wmi' -ClassName BcdStore -MethodName OpenStore -Arguments @{ File = $File }
  if (-not $open.ReturnValue) { throw "BCD WMI OpenStore '$File' returned false" }
  $object = (Invoke-Bcd $open.Store 'OpenObject' @{ Id = $guid }).Object
  $elements = [ordered]@{}
  foreach ($e in @((Invoke-Bcd $object 'EnumerateElements').Elements)) { if ($null -ne $e) { $elements[[uint32]$e.Type] = $e } }
  return @{ Object = $object; Elements = $elements }
}
$out = ''; $code = 0
try {
  $saved = Read-Object $ExportPath
  $live = Read-Object ''
  foreach ($type in @($live.Elements.Keys)) {
    if (-not $saved.Elements.Contains($type)) {
      $null = Invoke-Bcd $live.Object 'DeleteElement' @{ Type = [uint32]$type }
      $out += ('deleted 0x{0:x8}' -f $type) + "`r`n"
    }
  }
  foreach ($type in @($saved.Elements.Keys)) {
    $e = $saved.Elements[$type]
    if ($live.Elements.Contains($type) -and (Get-Value $live.Elements[$type]) -eq (Get-Value $e)) { continue }
    $format = Format-Of $type
    if (-not $setters.ContainsKey($format)) { throw ('element 0x{0:x8} is a device element: netdbg does not rewrite devices (bcdedit /import restores the whole store)' -f $type) }
    $name = $setters[$format][1]
    $value = switch ($format) {
      4 { , [string[]]@($e.Ids) }  # the comma keeps a one-element list a list
      5 { [uint64]$e.Integer }
      6 { [bool]$e.Boolean }
      7 { , [uint64[]]@($e.Integers | ForEach-Object { [uint64]$_ }) }
      default { [string]$e.$name }
    }
    $null = Invoke-Bcd $live.Object $setters[$format][0] @{ Type = [uint32]$type; $name = $value }
    $out += ('set 0x{0:x8}' -f $type) + "`r`n"
  }
} catch {
  $code = 1
  $out += "BCD WMI: $($_.Exception.Message)"
}
[pscustomobject]@{ exitCode = $code; output = $out } | ConvertTo-Json -Compress -Depth 4
