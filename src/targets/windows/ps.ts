/**
 * Running netdbg's PowerShell templates on a Windows target over a RemoteSession.
 *
 * Transport (Microsoft's 'OpenSSH Server configuration for Windows' (DefaultShell)): every script runs as
 *   powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand <base64 of UTF-16LE>
 * The base64 alphabet survives both cmd.exe and PowerShell as the OpenSSH DefaultShell. When the command line
 * would pass cmd.exe's 8191-character limit, the same encoded script goes on stdin to `-Command -` as ONE line
 * (stdin mode reads line by line, so a multi-line script would be cut at its first incomplete statement).
 *
 * Values enter only as parameters: the template (templates/windows/<name>.ps1, with a param() block) is
 * wrapped in a script block and invoked with a splatted hashtable whose values are PowerShell literals built
 * by core's psQuote. The template text itself is never edited. The wrapper also sets
 * $ProgressPreference='SilentlyContinue' (else progress records arrive on stderr as CLIXML). The first line
 * `# netdbg:script=<name>` names the script, which is what the test model of a Windows target keys on.
 *
 * Errors: the template runs under $ErrorActionPreference='Stop' (a template may lower it for itself) and the
 * wrapper has NO try/catch or trap around it. Inside a `try` (or under a trap) PowerShell sends a
 * statement-terminating error — a cmdlet that does not exist, such as Get-VMSwitch without the Hyper-V module —
 * to the handler whatever the template's $ErrorActionPreference or -ErrorAction says, which made the probe
 * fail on machines without Hyper-V or BitLocker (test/peers/windows-engine/probe.test.ts). An error that does
 * escape the template ends the script: powershell.exe then exits 1 with the error on stderr (about_PowerShell_exe:
 * -Command / -EncodedCommand exit 1 on a terminating error). A script that finishes says `exit 0`.
 * In the stdin form (`-Command -`) PowerShell runs each line on its own and an error ends only its line, so the
 * line after the script is `exit 1`: it runs only when the script did not reach its own `exit`.
 */
import { readFileSync } from "node:fs";
import { netdbgError } from "../../core/error.js";
import type { CommandResult, RemoteSession } from "../../core/interfaces.js";
import { psArray, psEncodedCommand, psQuote } from "../../core/quote.js";

export type TemplateName =
  | "whoami"
  | "probe"
  | "bcdedit"
  | "bcd-export"
  | "bcd-delete-entry"
  | "bcd-restore-object"
  | "bcd-booleans"
  | "bitlocker"
  | "reboot";

export type PsValue = string | number | boolean | readonly string[];
export type PsParams = Readonly<Record<string, PsValue>>;

const cache = new Map<string, string>();

/** The template text. Templates ship in the package (package.json "files": templates), next to dist/. */
export function templateText(name: TemplateName): string {
  let t = cache.get(name);
  if (t === undefined) {
    // src/targets/windows/ps.ts and dist/targets/windows/ps.js are both three levels below the package root
    t = readFileSync(new URL(`../../../templates/windows/${name}.ps1`, import.meta.url), "utf8");
    cache.set(name, t);
  }
  return t;
}

/** A PowerShell literal for one parameter value (strings through psQuote; never spliced raw). */
export function psLiteral(v: PsValue): string {
  if (typeof v === "string") return psQuote(v);
  if (typeof v === "boolean") return v ? "$true" : "$false";
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v)) throw new TypeError(`parameter value ${v} is not an integer`);
    return String(v);
  }
  return psArray(v);
}

const PARAM_NAME = /^[A-Za-z][A-Za-z0-9]*$/;

/**
 * The full script for one template call: marker, preferences, the parameter splat, the template as a block.
 * Its output is made ASCII-only: every character above U+007F becomes `\uXXXX`. The templates print JSON, where
 * non-ASCII occurs only inside strings, so this is the same JSON; and it survives Windows PowerShell 5.1, which
 * writes redirected output in the OEM code page (a NIC name, a boot entry description or bcdedit's localized
 * message would otherwise arrive garbled, or as '?' where the code page lacks the character).
 */
export function renderScript(name: TemplateName, params: PsParams = {}, body = templateText(name)): string {
  const entries = Object.entries(params).map(([k, v]) => {
    if (!PARAM_NAME.test(k)) throw new TypeError(`bad PowerShell parameter name '${k}'`);
    return `${k} = ${psLiteral(v)}`;
  });
  return [
    `# netdbg:script=${name}`,
    "$ProgressPreference = 'SilentlyContinue'",
    "$ErrorActionPreference = 'Stop'",
    `$netdbgParams = @{ ${entries.join("; ")} }`,
    "& {",
    body.replace(/\r\n/g, "\n").trimEnd(),
    "} @netdbgParams | ForEach-Object { if ($_ -is [string]) { [regex]::Replace($_, '[^\\x00-\\x7F]', { param($m) '\\u{0:x4}' -f [int][char]$m.Value }) } else { $_ } }",
    "exit 0",
    "",
  ].join("\n");
}

/** cmd.exe refuses command lines over 8191 characters; keep a margin. */
export const MAX_COMMAND_LINE = 8000;
const PS_EXE = "powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass";

export interface WireCommand {
  /** The exact command line sent to the SSH server. */
  commandLine: string;
  /** Text written to stdin (long scripts only). */
  input?: string;
}

/** How one script travels: -EncodedCommand when it fits, else one line on stdin to `-Command -`. */
export function wireCommand(script: string): WireCommand {
  const b64 = psEncodedCommand(script);
  const commandLine = `${PS_EXE} -EncodedCommand ${b64}`;
  if (commandLine.length <= MAX_COMMAND_LINE) return { commandLine };
  return {
    commandLine: `${PS_EXE} -Command -`,
    input: `$s = [Text.Encoding]::Unicode.GetString([Convert]::FromBase64String('${b64}')); & ([scriptblock]::Create($s))\r\nexit 1\r\n`,
  };
}

/** The readable text of PowerShell's stderr: CLIXML error records are unwrapped, progress records dropped. */
export function psStderrText(stderr: string): string {
  if (!stderr.includes("#< CLIXML")) return stderr.trim();
  const parts = [...stderr.matchAll(/<S S="Error">([\s\S]*?)<\/S>/g)].map((m) =>
    m[1]!
      .replace(/_x000D_/g, "")
      .replace(/_x000A_/g, "\n")
      .replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">")
      .replace(/&quot;/g, '"')
      .replace(/&apos;/g, "'")
      .replace(/&amp;/g, "&"),
  );
  return parts.join("").trim();
}

/** The JSON object a template printed: the last line of stdout that parses (a BOM, banners or blank lines around it are ignored). */
export function parsePsJson<T>(script: string, stdout: string): T {
  const ls = stdout
    .replace(/^\uFEFF/, "")
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "");
  for (let i = ls.length - 1; i >= 0; i--) {
    const l = ls[i]!;
    if (!l.startsWith("{") && !l.startsWith("[")) continue;
    try {
      return JSON.parse(l) as T;
    } catch {
      // keep looking
    }
  }
  throw netdbgError("E213", { script, head: JSON.stringify(stdout.slice(0, 200)) });
}

/** PowerShell's ConvertTo-Json turns a one-element array into the element and an empty one into null. */
export function asArray<T>(v: T | T[] | null | undefined): T[] {
  if (v === null || v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

export interface ScriptRunner {
  /** Run a template with parameters; resolve with its JSON answer. */
  run<T>(name: TemplateName, params?: PsParams): Promise<T>;
  /** Every wire command sent so far (for --verbose and tests). */
  readonly sent: WireCommand[];
}

/** A ScriptRunner over a RemoteSession. `target` names the target in error messages. */
export function sessionRunner(session: RemoteSession, target: string, timeoutMs = 120_000): ScriptRunner {
  const sent: WireCommand[] = [];
  return {
    sent,
    async run<T>(name: TemplateName, params: PsParams = {}): Promise<T> {
      const wire = wireCommand(renderScript(name, params));
      sent.push(wire);
      const r: CommandResult = await session.exec(wire.commandLine, {
        timeoutMs,
        ...(wire.input !== undefined ? { input: wire.input } : {}),
      });
      if (r.exitCode !== 0) {
        throw netdbgError("E212", { script: name, target, exitCode: r.exitCode, detail: psStderrText(r.stderr).slice(-400) });
      }
      return parsePsJson<T>(name, r.stdout);
    },
  };
}
