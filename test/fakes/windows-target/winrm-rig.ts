/**
 * `--via winrm` against the real PowerShell engine: netdbg's node-powershell adapter starts a REAL local pwsh
 * (through a small bash wrapper, the executable NodePowerShellRunner is given), in which Invoke-Command is a
 * function that runs the wrapper's script block here, as WinRM would run it on the target, with $env:SystemRoot
 * pointing at a folder whose WindowsPowerShell\v1.0\powershell.exe stands for the target's powershell.exe: it
 * hands its exact arguments and stdin to this rig, which runs them through the model and the engine
 * (model.accept + the engine, as the SSH peers do) and answers with the bytes, stderr and exit code.
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { PwshEngine } from "../../../src/peers/windows-target/engine.js";
import { channelBytes, type WindowsTargetModel } from "../../../src/peers/windows-target/model.js";
import { execWith } from "../../../src/peers/windows-target/stubs.js";
import { serveJsonLines } from "./json-line-server.js";

/** The account CRED-HOST accepts (and nothing else logs on there). */
export const CRED_USER = "WIN11\\netdbg";
export const CRED_PASSWORD = "pw-5f1c9e2a77";

export interface WinrmRig {
  /** The executable to give NodePowerShellRunner (a bash wrapper around the real pwsh). */
  executable: string;
  close(): Promise<void>;
}

export async function startWinrmRig(dir: string, pwsh: string, model: WindowsTargetModel, engine: PwshEngine): Promise<WinrmRig> {
  const sock = join(dir, "winrm.sock");
  const srv = await serveJsonLines(sock, async (call: { args: string[]; input: string }) => {
    const r = await execWith(model, engine, `powershell.exe ${call.args.join(" ")}`, call.input === "" ? undefined : call.input);
    const { stdout, stderr } = channelBytes(r);
    return {
      stdout: Buffer.from(stdout).toString("base64"),
      stderr: Buffer.from(stderr).toString("base64"),
      exitCode: r.dropped ? 255 : r.exitCode,
    };
  });

  // the target's powershell.exe: argv and stdin to the rig, its answer out
  const root = join(dir, "Windows");
  const exeDir = join(root, "System32", "WindowsPowerShell", "v1.0");
  mkdirSync(exeDir, { recursive: true });
  const exe = join(exeDir, "powershell.exe");
  writeFileSync(
    exe,
    `#!${process.execPath}
const net = require("node:net");
const chunks = [];
// like powershell.exe, read stdin only for '-Command -' (otherwise it is the calling shell's, never closed)
const args = process.argv.slice(2);
const readsStdin = args.at(-1) === "-" && args.at(-2) === "-Command";
const go = () => {
  const s = net.connect(${JSON.stringify(sock)});
  let buf = "";
  s.setEncoding("utf8");
  s.on("data", (d) => { buf += d; });
  s.on("end", () => {
    const a = JSON.parse(buf);
    process.stdout.write(Buffer.from(a.stdout, "base64"));
    process.stderr.write(Buffer.from(a.stderr, "base64"));
    process.exitCode = a.exitCode;
  });
  s.write(JSON.stringify({ args, input: Buffer.concat(chunks).toString("utf8") }) + "\\n");
};
if (readsStdin) { process.stdin.on("data", (c) => chunks.push(c)); process.stdin.on("end", go); } else go();
`,
  );
  chmodSync(exe, 0o755);

  // Invoke-Command as WinRM's stand-in: the script block runs with the target's SystemRoot (one line: the
  // adapter's shell reads its stdin line by line)
  // Two computer names fail as WinRM does, with the real FullyQualifiedErrorIds (PowerShell/PowerShell#3874, …):
  // UNTRUSTED-HOST (not in TrustedHosts, no Kerberos) and DENIED-HOST (a filtered or non-admin token); CRED-HOST
  // refuses every logon but its own account (CRED_USER, CRED_PASSWORD), as a machine outside the domain does.
  const stub =
    `function Invoke-Command { param([string]$ComputerName, [scriptblock]$ScriptBlock, [object[]]$ArgumentList, [pscredential]$Credential) ` +
    // CRED-HOST stands for a machine outside this host's domain: only its own account logs on (WIN11\netdbg)
    `if ($ComputerName -eq 'CRED-HOST' -and -not ($Credential -and $Credential.UserName -eq '${CRED_USER}' -and $Credential.GetNetworkCredential().Password -eq '${CRED_PASSWORD}')) { Write-Error -ErrorId 'AccessDenied,PSSessionStateBroken' -Category OpenError -Message ('Connecting to remote server ' + $ComputerName + ' failed with the following error message : Access is denied.'); return } ` +
    `if ($ComputerName -eq 'UNTRUSTED-HOST') { Write-Error -ErrorId 'ServerNotTrusted,PSSessionStateBroken' -Category OpenError -Message ('Connecting to remote server ' + $ComputerName + ' failed with the following error message : The WinRM client cannot process the request. If the authentication scheme is different from Kerberos, or if the client computer is not joined to a domain, then HTTPS transport must be used or the destination machine must be added to the TrustedHosts configuration setting.'); return } ` +
    `if ($ComputerName -eq 'DENIED-HOST') { Write-Error -ErrorId 'AccessDenied,PSSessionStateBroken' -Category OpenError -Message ('Connecting to remote server ' + $ComputerName + ' failed with the following error message : Access is denied.'); return } ` +
    `$env:SystemRoot = '${root.replace(/'/g, "''")}'; & $ScriptBlock @ArgumentList }`;
  const wrapper = join(dir, "pwsh-winrm");
  writeFileSync(
    wrapper,
    // TERM=dumb: pwsh on Linux otherwise writes cursor-key escapes (ESC[?1h) around each command
    `#!/bin/bash\nTERM=dumb exec ${JSON.stringify(pwsh)} "$@" < <(printf '%s\\n' ${shellQuote(stub)}; exec cat)\n`,
  );
  chmodSync(wrapper, 0o755);
  return {
    executable: wrapper,
    close: () => new Promise<void>((r) => srv.close(() => r())),
  };
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
