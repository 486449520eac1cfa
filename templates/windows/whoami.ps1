# netdbg template: whoami — who runs this session and whether its token is elevated (read-only).
param()
$id = [Security.Principal.WindowsIdentity]::GetCurrent()
$elevated = ([Security.Principal.WindowsPrincipal]$id).IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)
[pscustomobject]@{ user = $id.Name; elevated = [bool]$elevated } | ConvertTo-Json -Compress -Depth 4
