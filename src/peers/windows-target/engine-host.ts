/**
 * The PowerShell side of the engine (engine.ts): a script that one long-lived `pwsh` process runs. It reads one
 * JSON request per line on stdin and runs each request's script in a FRESH runspace (as each
 * `powershell.exe` process on a target starts fresh), under a small PSHost whose SetShouldExit receives the
 * script's `exit N` — the same call powershell.exe's console host gets. It answers one JSON line per request on
 * the process's original stdout: the bytes the script's stdout and stderr would carry, in the request's OEM code
 * page, and the exit code.
 *
 * How the two command forms netdbg sends are run (about_PowerShell_exe / about_Pwsh, learn.microsoft.com):
 * - `-EncodedCommand <b64>`: the whole script is one unit. An uncaught terminating error ends it with exit 1
 *   and the error on stderr as CLIXML (`#< CLIXML` then `<S S="Error">` lines — pwsh writes exactly that for an
 *   encoded command whose stderr is redirected); a script that ends without `exit` exits 0 when its last
 *   statement succeeded ($?), else 1.
 * - `-Command -`: stdin is read line by line and each line is run as its own unit in the same runspace; an
 *   error ends only that line (the next line runs), `exit N` ends the process. Errors are plain text.
 *
 * Windows-only types the templates call that .NET has no Linux implementation for
 * ([Security.Principal.WindowsIdentity] / [WindowsPrincipal]) are replaced for the runspaces by type
 * accelerators to small classes answering from environment variables the engine sets per run (the model's
 * user and elevation). Compiled once per process (Add-Type), cached on disk by the engine.
 */

export const HOST_CSHARP = `
using System;
using System.Globalization;
using System.Management.Automation.Host;
using System.Security.Principal;
namespace NetdbgEngine {
  public class Host : PSHost {
    public int? ExitCode;
    private readonly Guid id = Guid.NewGuid();
    public override string Name { get { return "ConsoleHost"; } }
    public override Version Version { get { return new Version(5, 1, 0, 0); } }
    public override Guid InstanceId { get { return id; } }
    public override PSHostUserInterface UI { get { return null; } }
    public override CultureInfo CurrentCulture { get { return CultureInfo.CurrentCulture; } }
    public override CultureInfo CurrentUICulture { get { return CultureInfo.CurrentUICulture; } }
    public override void SetShouldExit(int exitCode) { if (!ExitCode.HasValue) ExitCode = exitCode; }
    public override void EnterNestedPrompt() { throw new NotSupportedException("no nested prompt in -NonInteractive"); }
    public override void ExitNestedPrompt() { throw new NotSupportedException("no nested prompt in -NonInteractive"); }
    public override void NotifyBeginApplication() { }
    public override void NotifyEndApplication() { }
  }
  public class WindowsIdentity {
    public string Name { get; set; }
    public static WindowsIdentity GetCurrent() {
      return new WindowsIdentity { Name = Environment.GetEnvironmentVariable("NETDBG_WIN_USER") };
    }
  }
  public class WindowsPrincipal {
    private readonly WindowsIdentity identity;
    public WindowsPrincipal(WindowsIdentity i) { identity = i; }
    public WindowsIdentity Identity { get { return identity; } }
    public bool IsInRole(WindowsBuiltInRole role) {
      return role == WindowsBuiltInRole.Administrator && Environment.GetEnvironmentVariable("NETDBG_WIN_ELEVATED") == "1";
    }
  }
}
`;

/** The host loop. argv: the compiled assembly's path (built by the engine from HOST_CSHARP when absent). */
export const HOST_PS1 = String.raw`
param([string]$Assembly, [string]$Source, [string]$Setup)
$ErrorActionPreference = 'Stop'
if (-not (Test-Path -LiteralPath $Assembly)) {
  $tmp = "$Assembly.$PID.tmp"
  Add-Type -TypeDefinition ([IO.File]::ReadAllText($Source)) -OutputAssembly $tmp -OutputType Library
  try { Move-Item -LiteralPath $tmp -Destination $Assembly -Force } catch { }
  if (Test-Path -LiteralPath $tmp) { Remove-Item -LiteralPath $tmp -Force }
}
Add-Type -Path $Assembly
$acc = [psobject].Assembly.GetType('System.Management.Automation.TypeAccelerators')
foreach ($n in @('Security.Principal.WindowsIdentity', 'System.Security.Principal.WindowsIdentity')) { $null = $acc::Remove($n); $acc::Add($n, [NetdbgEngine.WindowsIdentity]) }
foreach ($n in @('Security.Principal.WindowsPrincipal', 'System.Security.Principal.WindowsPrincipal')) { $null = $acc::Remove($n); $acc::Add($n, [NetdbgEngine.WindowsPrincipal]) }
# CreateDefault, not CreateDefault2: the built-in cmdlets (Management, Utility) come with the runspace when it is
# opened ahead of the request, instead of being imported as modules on their first use inside every request's
# fresh runspace (tens of milliseconds each, in the request's time).
$iss = [System.Management.Automation.Runspaces.InitialSessionState]::CreateDefault()
$CRLF = [string][char]13 + [char]10
$setupText = if ($Setup) { [IO.File]::ReadAllText($Setup) } else { '' }
# A runspace is opened and given the static stub definitions while the engine waits for the next request, so a
# request pays only for its own script. The previous request's prelude (its target's C: drive and profile) is
# applied to it too, ahead of time: the next request is almost always for the same target. A request whose
# prelude differs gets a runspace that never saw another prelude. Nothing in a prepared runspace has run a
# request's script: every request still starts in a runspace of its own.
# Run one script in a runspace: '' or the text of its first error (a terminating one throws)
function Invoke-In($Runspace, [string]$Text) {
  $p = [powershell]::Create(); $p.Runspace = $Runspace
  try {
    $null = $p.AddScript($Text).Invoke()
    if ($p.Streams.Error.Count) { return "$($p.Streams.Error[0])" }
    return ''
  } finally { $p.Dispose() }
}
function New-Prepared([string]$Prelude) {
  $ph = [NetdbgEngine.Host]::new()
  $prs = [runspacefactory]::CreateRunspace($ph, $iss)
  $prs.Open()
  $o = [Console]::Out; $e = [Console]::Error
  # whatever the definitions might write to the console goes nowhere (not into the protocol or a request's output)
  [Console]::SetOut([IO.TextWriter]::Null); [Console]::SetError([IO.TextWriter]::Null)
  try {
    foreach ($text in @($setupText, $Prelude)) {
      if (-not $text) { continue }
      $failed = Invoke-In $prs $text
      if ($failed -and $text -ceq $Prelude) { $prs.Dispose(); return (New-Prepared '') }
      if ($failed) { throw "engine setup failed: $failed" }
    }
  } finally { [Console]::SetOut($o); [Console]::SetError($e) }
  return @{ h = $ph; rs = $prs; prelude = $Prelude }
}
$baseEnv = [Environment]::GetEnvironmentVariables()
$proto = [Console]::Out
$protoErr = [Console]::Error
$stdin = [Console]::In
$next = New-Prepared ''
$lastPrelude = $null
$proto.WriteLine('{"ready":true,"version":"' + $PSVersionTable.PSVersion.ToString() + '"}')
$proto.Flush()

function Format-Records($rs, $records) {
  if (-not $records) { return '' }
  $f = [powershell]::Create(); $f.Runspace = $rs
  $null = $f.AddScript('param($r) $ErrorView = ''NormalView''; $r | Out-String -Width 120').AddArgument(@($records))
  try { return (($f.Invoke() | Out-String) -replace '\r?\n', $CRLF) } catch { return (@($records | ForEach-Object { "$_" }) -join $CRLF) } finally { $f.Dispose() }
}
function ConvertTo-Clixml([string]$text) {
  $sb = [Text.StringBuilder]::new('#< CLIXML' + $CRLF + '<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">')
  foreach ($l in ($text.TrimEnd() -split '\r?\n')) {
    $e = [Security.SecurityElement]::Escape($l)
    $null = $sb.Append('<S S="Error">').Append($e).Append('_x000D__x000A_</S>')
  }
  $null = $sb.Append('</Objs>')
  return $sb.ToString()
}

while ($true) {
  $line = $stdin.ReadLine()
  if ($null -eq $line) { break }
  if ($line -eq '') { continue }
  $req = ConvertFrom-Json -AsHashtable -InputObject $line
  # the environment is the process's: back to what pwsh started with (a script's $env: changes end with it, as
  # its powershell.exe would), then the request's
  $now = [Environment]::GetEnvironmentVariables()
  foreach ($k in @($now.Keys)) { if (-not $baseEnv.Contains($k)) { [Environment]::SetEnvironmentVariable($k, $null) } }
  foreach ($k in $baseEnv.Keys) { if ($now[$k] -cne $baseEnv[$k]) { [Environment]::SetEnvironmentVariable($k, $baseEnv[$k]) } }
  foreach ($k in $req.env.Keys) { [Environment]::SetEnvironmentVariable($k, [string]$req.env[$k]) }
  $enc = [Text.Encoding]::GetEncoding([int]$req.codePage)
  $outW = [IO.StringWriter]::new(); $errW = [IO.StringWriter]::new()
  $rs = $null
  $exit = 0; $fatal = ''
  $out = [Text.StringBuilder]::new()
  $err = [Text.StringBuilder]::new()
  try {
    $cur = $next
    $next = $null
    if ($cur -and $cur.prelude -and $cur.prelude -cne [string]$req.prelude) { $cur.rs.Dispose(); $cur = $null }
    if (-not $cur) { $cur = New-Prepared '' }
    $h = $cur.h; $rs = $cur.rs
    [Console]::SetOut($outW); [Console]::SetError($errW)
    if (-not $cur.prelude) {
      $preludeError = Invoke-In $rs ([string]$req.prelude)
      if ($preludeError) { throw "engine prelude failed: $preludeError" }
    }
    $units = if ($req.mode -eq 'stdin') { @($req.lines) } else { @([string]$req.script) }
    $last = 0
    foreach ($u in $units) {
      $ps = [powershell]::Create(); $ps.Runspace = $rs
      $null = $ps.AddScript($u).AddCommand('Out-String').AddParameter('Stream').AddParameter('Width', 120)
      $col = [System.Management.Automation.PSDataCollection[psobject]]::new()
      $terminating = $null
      try { $null = $ps.Invoke($null, $col) } catch { $terminating = $_.Exception }
      foreach ($o in $col) { $null = $out.Append([string]$o).Append($CRLF) }
      $records = @($ps.Streams.Error)
      if ($terminating) {
        $er = if ($terminating.InnerException -and $terminating.InnerException.ErrorRecord) { $terminating.InnerException.ErrorRecord } elseif ($terminating.ErrorRecord) { $terminating.ErrorRecord } else { $null }
        if ($er) { $records += $er } else { $null = $err.Append($terminating.Message).Append($CRLF) }
      }
      $null = $err.Append((Format-Records $rs $records))
      $failed = [bool]$terminating -or $ps.HadErrors
      $ps.Dispose()
      if ($null -ne $h.ExitCode) { $last = $h.ExitCode; break }
      $last = if ($failed) { 1 } else { 0 }
    }
    $exit = $last
  } catch {
    $fatal = "$_"
    $exit = 70
  } finally {
    [Console]::SetOut($proto); [Console]::SetError($protoErr)
    if ($rs) { $rs.Dispose() }
  }
  $stdoutText = $outW.ToString() + $out.ToString()
  $stderrText = $errW.ToString() + $err.ToString()
  if ($stderrText -ne '' -and $req.mode -ne 'stdin') { $stderrText = ConvertTo-Clixml $stderrText }
  $ans = [ordered]@{ id = $req.id; exitCode = $exit; stdout = [Convert]::ToBase64String($enc.GetBytes($stdoutText)); stderr = [Convert]::ToBase64String($enc.GetBytes($stderrText)); fatal = $fatal }
  $proto.WriteLine(($ans | ConvertTo-Json -Compress))
  $proto.Flush()
  # speculate only when the target did not change since the request before (a mismatch costs a fresh runspace)
  $spec = if ([string]$req.prelude -ceq $lastPrelude) { [string]$req.prelude } else { '' }
  $lastPrelude = [string]$req.prelude
  try { $next = New-Prepared $spec } catch { $next = $null }
}
`;
