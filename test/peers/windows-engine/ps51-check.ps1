# The Windows PowerShell 5.1 language check for netdbg's templates (test/peers/windows-engine/language.test.ts).
# Parses each file with PowerShell's own parser and lists parse errors and constructs Windows PowerShell 5.1
# does not have (about_Operators, about_Pipeline_Chain_Operators, about_Foreach-Object -Parallel,
# "What's New in PowerShell 7.x" on learn.microsoft.com). Prints one JSON object: { "<file>": { errors, found } }.
$Paths = $args
$sevenOnlyCommands = @('Get-Error', 'Join-String', 'Test-Json', 'ConvertFrom-Markdown', 'Show-Markdown', 'Get-Uptime', 'Set-MarkdownOption', 'Get-MarkdownOption', 'Remove-Alias', 'Remove-Service', 'Get-PSSubsystem', 'Disable-ExperimentalFeature', 'Enable-ExperimentalFeature', 'Get-ExperimentalFeature')
$sevenOnlyParameters = @{
  'ForEach-Object' = @('Parallel', 'ThrottleLimit', 'TimeoutSeconds', 'AsJob', 'UseNewRunspace')
  'ConvertFrom-Json' = @('AsHashtable', 'Depth', 'NoEnumerate', 'DateKind')
  'ConvertTo-Json' = @('AsArray', 'EnumsAsStrings', 'EscapeHandling')
  'Get-Content' = @('AsByteStream')
  'Set-Content' = @('AsByteStream')
  'Add-Content' = @('AsByteStream')
  'Split-Path' = @('Extension', 'LeafBase')
  'Select-Object' = @('SkipIndex')
  'Invoke-WebRequest' = @('SkipCertificateCheck', 'SkipHeaderValidation', 'Authentication', 'Token', 'SslProtocol', 'Resume')
  'Invoke-RestMethod' = @('SkipCertificateCheck', 'SkipHeaderValidation', 'Authentication', 'Token', 'SslProtocol', 'StatusCodeVariable')
  'Test-Connection' = @('TargetName', 'TcpPort', 'Traceroute', 'MtuSize')
  'Start-Process' = @('Environment')
}
$aliases = @{ '%' = 'ForEach-Object'; 'foreach' = 'ForEach-Object'; 'select' = 'Select-Object' }
$result = [ordered]@{}
foreach ($path in $Paths) {
  $tokens = $null; $errors = $null
  $ast = [System.Management.Automation.Language.Parser]::ParseFile($path, [ref]$tokens, [ref]$errors)
  $found = [System.Collections.Generic.List[string]]::new()
  $at = { param($a) "line $($a.Extent.StartLineNumber)" }
  foreach ($a in $ast.FindAll({ $true }, $true)) {
    switch ($a.GetType().Name) {
      'TernaryExpressionAst' { $found.Add("ternary operator ?: ($(& $at $a))") }
      'PipelineChainAst' { $found.Add("pipeline chain && / || ($(& $at $a))") }
      'BinaryExpressionAst' { if ($a.Operator -eq 'QuestionQuestion') { $found.Add("null-coalescing ?? ($(& $at $a))") } }
      'AssignmentStatementAst' { if ($a.Operator -eq 'QuestionQuestionEquals') { $found.Add("null-coalescing assignment ??= ($(& $at $a))") } }
      'MemberExpressionAst' { if ($a.NullConditional) { $found.Add("null-conditional ?. ($(& $at $a))") } }
      'InvokeMemberExpressionAst' { if ($a.NullConditional) { $found.Add("null-conditional ?. ($(& $at $a))") } }
      'IndexExpressionAst' { if ($a.NullConditional) { $found.Add("null-conditional ?[] ($(& $at $a))") } }
      'PipelineAst' { if ($a.Background) { $found.Add("background operator & ($(& $at $a))") } }
      'NamedBlockAst' { if ([string]$a.BlockKind -eq 'Clean') { $found.Add("clean block ($(& $at $a))") } }
      'VariableExpressionAst' {
        if (@('PSStyle', 'IsWindows', 'IsLinux', 'IsMacOS', 'IsCoreCLR') -contains $a.VariablePath.UserPath) { $found.Add("`$$($a.VariablePath.UserPath) ($(& $at $a))") }
      }
      'CommandAst' {
        $name = $a.GetCommandName()
        if ($name) {
          if ($aliases.ContainsKey($name)) { $name = $aliases[$name] }
          if ($sevenOnlyCommands -contains $name) { $found.Add("$name ($(& $at $a))") }
          foreach ($p in $a.CommandElements) {
            if ($p -is [System.Management.Automation.Language.CommandParameterAst]) {
              $list = $sevenOnlyParameters[$name]
              if ($list) { foreach ($q in $list) { if ($q -like "$($p.ParameterName)*" -and $p.ParameterName.Length -ge 2) { $found.Add("$name -$q ($(& $at $a))") } } }
              if ($p.ParameterName -eq 'Encoding') {
                $i = [array]::IndexOf($a.CommandElements, $p)
                $v = if ($p.Argument) { $p.Argument } elseif ($i + 1 -lt $a.CommandElements.Count) { $a.CommandElements[$i + 1] }
                if ($v -and "$v" -match '^["'']?(utf8NoBOM|utf8BOM)["'']?$') { $found.Add("-Encoding $v ($(& $at $a))") }
              }
            }
          }
        }
      }
    }
  }
  foreach ($t in $tokens) {
    if ($t.Kind -eq 'StringExpandable' -and $t.Text -match '`u\{') { $found.Add("unicode escape ``u{} (line $($t.Extent.StartLineNumber))") }
  }
  $result[$path] = [ordered]@{ errors = @($errors | ForEach-Object { "$($_.Extent.StartLineNumber): $($_.Message)" }); found = @($found) }
}
$result | ConvertTo-Json -Depth 4 -Compress
