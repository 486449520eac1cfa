# netdbg wrapper: run one netdbg template script on a Windows target through WinRM (netdbg itself on Windows, --via winrm).
# The remote side starts exactly what the SSH transport sends: powershell.exe with the script's -EncodedCommand
# (or, for a long script, the same one line on stdin to -Command -), and hands back its exit code, stdout and
# stderr as one JSON object. Every value arrives as a parameter (-ArgumentList); nothing is spliced in. When
# Invoke-Command itself fails, the answer is {invokeError: {id, message}}: the error's FullyQualifiedErrorId
# (ServerNotTrusted..., AccessDenied...: the same in every display language) and its text.
# A credential (outside a domain Invoke-Command has none of its own): -CredentialFile names a PSCredential saved
# with 'Get-Credential | Export-Clixml' (on Windows the password is DPAPI-protected for that user on that machine;
# learn.microsoft.com Export-Clixml), or -CredentialUser/-CredentialPassword carry one asked on the terminal.
param([string]$ComputerName, [string]$Encoded = '', [string]$StdinLine = '', [string]$CredentialFile = '',
  [string]$CredentialUser = '', [string]$CredentialPassword = '')
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
try {
$ic = @{ ComputerName = $ComputerName }
if ($CredentialFile) {
  $cred = Import-Clixml -LiteralPath $CredentialFile
  if ($cred -isnot [System.Management.Automation.PSCredential]) {
    [pscustomobject]@{ invokeError = [pscustomobject]@{ id = 'NetdbgNotACredential'; message = "$CredentialFile does not hold a PSCredential (make it with: Get-Credential | Export-Clixml -Path $CredentialFile)" } } | ConvertTo-Json -Compress -Depth 4
    return
  }
  $ic.Credential = $cred
} elseif ($CredentialUser) {
  $ic.Credential = [System.Management.Automation.PSCredential]::new($CredentialUser, (ConvertTo-SecureString -String $CredentialPassword -AsPlainText -Force))
}
$r = Invoke-Command @ic -ScriptBlock {
  param([string]$Encoded, [string]$StdinLine)
  $ErrorActionPreference = 'Continue'  # native stderr under 2>&1 must not become a terminating error (PS 5.1)
  $ProgressPreference = 'SilentlyContinue'
  $exe = "$env:SystemRoot\System32\WindowsPowerShell\v1.0\powershell.exe"
  if ($StdinLine) {
    # '-' quoted: the same argument for PowerShell, and tree-sitter-powershell (the syntax check) parses it
    $o = $StdinLine | & $exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -Command '-' 2>&1
  } else {
    $o = & $exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand $Encoded 2>&1
  }
  $code = $LASTEXITCODE
  $out = @($o | Where-Object { $_ -isnot [System.Management.Automation.ErrorRecord] } | ForEach-Object { "$_" }) -join "`r`n"
  $err = @($o | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] } | ForEach-Object { "$_" }) -join "`r`n"
  [pscustomobject]@{ exitCode = $code; stdout = $out; stderr = $err }
} -ArgumentList $Encoded, $StdinLine
} catch {
  [pscustomobject]@{ invokeError = [pscustomobject]@{ id = [string]$_.FullyQualifiedErrorId; message = [string]$_.Exception.Message } } | ConvertTo-Json -Compress -Depth 4
  return
}
[pscustomobject]@{ exitCode = $r.exitCode; stdout = $r.stdout; stderr = $r.stderr } | ConvertTo-Json -Compress -Depth 4
