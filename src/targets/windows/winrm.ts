/**
 * `--via winrm`: when netdbg itself runs on Windows, the same template scripts run on the target through
 * WinRM (`Invoke-Command -ComputerName`) in a local PowerShell (core's PowerShellRunner port; the io adapter is
 * node-powershell). The wrapper templates/windows/winrm/invoke.ps1 takes the computer name and the script's
 * encoded form as declared parameters (the runner passes them as data, never through node-powershell's `$` tag)
 * and starts on the target exactly the powershell.exe command the SSH transport sends (ps.ts wireCommand), so the
 * target sees the same script either way. The wrapper answers {exitCode, stdout, stderr} as JSON.
 */
import { readFileSync } from "node:fs";
import { netdbgError } from "../../core/error.js";
import type { PowerShellRunner } from "../../core/interfaces.js";
import {
  type PsParams,
  parsePsJson,
  psStderrText,
  renderScript,
  type ScriptRunner,
  type TemplateName,
  type WireCommand,
  wireCommand,
} from "./ps.js";

let wrapper: string | undefined;

/** The wrapper script (templates/windows/winrm/invoke.ps1, shipped next to dist/ like the other templates). */
export function winrmWrapperText(): string {
  wrapper ??= readFileSync(new URL("../../../templates/windows/winrm/invoke.ps1", import.meta.url), "utf8");
  return wrapper;
}

/**
 * The account Invoke-Command logs on with. Without one it uses this host's own logon, which works only between
 * machines of one domain: a PSCredential file (`Get-Credential | Export-Clixml <file>`), or a user and password
 * asked on the terminal (kept in memory, passed to the wrapper as data, never logged).
 */
export type WinrmCredential = { file: string } | { user: string; password: string };

/** The wrapper's parameters for one wire command: the encoded script, or (long scripts) the one stdin line. */
export function winrmParams(
  computer: string,
  wire: WireCommand,
  credential?: WinrmCredential,
): {
  ComputerName: string;
  Encoded: string;
  StdinLine: string;
  CredentialFile: string;
  CredentialUser: string;
  CredentialPassword: string;
} {
  const cred = {
    CredentialFile: credential && "file" in credential ? credential.file : "",
    CredentialUser: credential && "user" in credential ? credential.user : "",
    CredentialPassword: credential && "user" in credential ? credential.password : "",
  };
  if (wire.input !== undefined) return { ComputerName: computer, Encoded: "", StdinLine: wire.input.split("\r\n")[0]!, ...cred };
  const encoded = wire.commandLine.slice(wire.commandLine.lastIndexOf(" ") + 1);
  return { ComputerName: computer, Encoded: encoded, StdinLine: "", ...cred };
}

interface WrapperAnswer {
  exitCode: number | null;
  stdout: string | null;
  stderr: string | null;
  /** Invoke-Command itself failed: its FullyQualifiedErrorId and message. */
  invokeError?: { id: string; message: string };
}

/**
 * The fix for an Invoke-Command failure, by its FullyQualifiedErrorId (stable in every display language):
 * ServerNotTrusted (not a domain member, no HTTPS: the TrustedHosts list), AccessDenied (not an administrator
 * there, or a local administrator whose network logon gets a filtered token unless LocalAccountTokenFilterPolicy
 * is 1 on the target). Undefined: E222's general fix.
 */
export function winrmFix(id: string, computer: string): string | undefined {
  if (/^ServerNotTrusted\b/.test(id))
    return `This host cannot verify '${computer}' (no Kerberos: not in a common domain, and no HTTPS listener). On this host, as administrator: Set-Item WSMan:\\localhost\\Client\\TrustedHosts -Value '${computer}' -Concatenate (that only stops the check; NTLM cannot prove who answers), or set up WinRM over HTTPS, or use SSH (drop --via winrm).`;
  if (/^NetdbgNotACredential\b/.test(id))
    return "Save the credential with 'Get-Credential | Export-Clixml -Path <file>' as the user who runs netdbg, on this host (on Windows only that user can read the password back), and pass --winrm-credential <file>.";
  if (/^AccessDenied\b/.test(id))
    return `The account was refused by '${computer}'. Outside a domain, give Invoke-Command an account of the target: --winrm-credential <file> (Get-Credential | Export-Clixml <file>) or --winrm-user <user> (the password is asked on the terminal). It must be an administrator there; a local account other than the built-in Administrator gets a filtered token over WinRM unless the target has LocalAccountTokenFilterPolicy=1 (as administrator on the target: New-ItemProperty HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System -Name LocalAccountTokenFilterPolicy -Value 1 -PropertyType DWord -Force). Or use a domain administrator, or SSH (drop --via winrm).`;
  return undefined;
}

/** A ScriptRunner that runs each template on `computer` through WinRM. `target` names the target in errors. */
export function winrmRunner(ps: PowerShellRunner, computer: string, target: string, credential?: WinrmCredential): ScriptRunner {
  const sent: WireCommand[] = [];
  return {
    sent,
    async run<T>(name: TemplateName, params: PsParams = {}): Promise<T> {
      const wire = wireCommand(renderScript(name, params));
      sent.push(wire);
      const r = await ps.invoke(winrmWrapperText(), winrmParams(computer, wire, credential));
      if (r.exitCode !== 0) {
        // Invoke-Command itself failed (WinRM not enabled, access denied, name not resolved …); the password never
        // reaches the text (it is a parameter, and PowerShell does not echo parameters), but scrub it all the same
        throw netdbgError("E222", {
          target,
          computer,
          detail: scrub(psStderrText(r.stderr).slice(-400), credential) || `exit ${r.exitCode}`,
        });
      }
      const a = parsePsJson<WrapperAnswer>("winrm", r.stdout);
      if (a.invokeError) {
        const fix = winrmFix(a.invokeError.id, computer);
        throw netdbgError("E222", {
          target,
          computer,
          detail: `${scrub(a.invokeError.message.trim().slice(-400), credential)} (${a.invokeError.id})`,
          ...(fix ? { fix } : {}),
        });
      }
      const code = a.exitCode ?? 0;
      if (code !== 0) {
        throw netdbgError("E212", { script: name, target, exitCode: code, detail: psStderrText(a.stderr ?? "").slice(-400) });
      }
      return parsePsJson<T>(name, a.stdout ?? "");
    },
  };
}

function scrub(text: string, credential: WinrmCredential | undefined): string {
  return credential && "password" in credential && credential.password ? text.split(credential.password).join("***") : text;
}
