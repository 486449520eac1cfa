import { access, constants } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { PowerShell } from "node-powershell";
import { isNetdbgError, netdbgError } from "../core/error.js";
import type { CommandResult, CommandRunner, PowerShellRunner } from "../core/interfaces.js";
import { psEncodedCommand, psQuote } from "../core/quote.js";

/**
 * PowerShell adapters behind core's PowerShellRunner port. Scripts declare `param()`; values travel as a
 * base64 JSON object that the one-line invocation decodes and splats. Neither the values nor the script
 * text are ever spliced into PowerShell syntax (base64's alphabet cannot break out of a '…' literal).
 *
 * Hazards handled (research toolchain.md §3): node-powershell spawns at construction and leaves a rejected
 * promise when the binary is missing, so the binary is looked up first, the shell is always disposed, and
 * ENOENT becomes NETDBG-E110.
 */

export type PsParams = Record<string, string | number | boolean | readonly string[]>;

/** Marker line the long-lived-shell invocation prints last, carrying the script's exit code. */
export const EXIT_MARKER = "##netdbg-exit=";

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

/**
 * One line of PowerShell that runs `script` with `params` splatted. `ending` decides how the exit code leaves:
 * `exit` (a process per call: -EncodedCommand) or `marker` (a long-lived shell: node-powershell).
 */
export function renderInvocation(script: string, params: PsParams = {}, ending: "exit" | "marker" = "exit"): string {
  for (const k of Object.keys(params)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new TypeError(`not a PowerShell parameter name: ${k}`);
  }
  const decode = (data: string) => `[Text.Encoding]::UTF8.GetString([Convert]::FromBase64String(${psQuote(data)}))`;
  const finish = ending === "exit" ? "exit $netdbgCode" : `[Console]::Out.WriteLine(${psQuote(EXIT_MARKER)} + $netdbgCode)`;
  return [
    "$ProgressPreference = 'SilentlyContinue'",
    "$netdbgArgs = @{}",
    `(ConvertFrom-Json (${decode(b64(JSON.stringify(params)))})).PSObject.Properties | ForEach-Object { $netdbgArgs[$_.Name] = $_.Value }`,
    `$netdbgScript = [ScriptBlock]::Create(${decode(b64(script))})`,
    "$netdbgCode = 0",
    "try { & $netdbgScript @netdbgArgs } catch { [Console]::Error.WriteLine($_.ToString()); $netdbgCode = 1 }",
    "if ($netdbgCode -eq 0 -and $global:LASTEXITCODE) { $netdbgCode = $global:LASTEXITCODE }",
    finish,
  ].join("; ");
}

/** Find an executable the way a spawn would (PATH, PATHEXT on Windows); undefined when absent. */
export async function findExecutable(name: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const isWin = process.platform === "win32";
  const exts = isWin ? ["", ...(env.PATHEXT ?? ".EXE;.CMD;.BAT").split(";")] : [""];
  const candidates = /[\\/]/.test(name)
    ? exts.map((e) => name + e)
    : (env.PATH ?? "")
        .split(delimiter)
        .filter(Boolean)
        .flatMap((dir) => exts.map((e) => join(dir, name + e)));
  for (const c of candidates) {
    try {
      await access(c, isWin ? constants.F_OK : constants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  return undefined;
}

/** The executable node-powershell would spawn: NODE_POWERSHELL wins, else the option, else the OS default. */
export function powershellExecutable(option?: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.NODE_POWERSHELL || option || (process.platform === "win32" ? "powershell" : "pwsh");
}

/** Long-lived shell through node-powershell. One process for all invocations; `dispose()` ends it. */
export class NodePowerShellRunner implements PowerShellRunner {
  private shell: PowerShell | undefined;
  private readonly executable: string;

  constructor(private readonly options: { executable?: string; invocationTimeoutMs?: number; env?: NodeJS.ProcessEnv } = {}) {
    this.executable = powershellExecutable(options.executable, options.env ?? process.env);
  }

  private async start(): Promise<PowerShell> {
    if (this.shell) return this.shell;
    if (!(await findExecutable(this.executable, this.options.env ?? process.env))) {
      throw netdbgError("E110", { executable: this.executable });
    }
    const shell = new PowerShell({
      executable: this.executable,
      executableOptions: { "-NoProfile": true, "-NonInteractive": true },
      throwOnInvocationError: false,
      // TERM=dumb: pwsh outside Windows otherwise writes cursor-key escapes (ESC[?1h ESC[?1l) around each command's output
      spawnOptions: { env: { ...process.env, TERM: "dumb" } },
      ...(this.options.invocationTimeoutMs ? { invocationTimeout: this.options.invocationTimeoutMs } : {}),
    });
    // child-shell keeps a promise that rejects when the process dies; never let it go unhandled
    (shell as unknown as { exitPromise?: Promise<unknown> }).exitPromise?.catch(() => {});
    this.shell = shell;
    return shell;
  }

  async invoke(script: string, params: PsParams = {}): Promise<CommandResult> {
    const shell = await this.start();
    try {
      const res = await shell.invoke(renderInvocation(script, params, "marker"));
      const stdout = res.stdout?.toString("utf8") ?? "";
      const stderr = res.stderr?.toString("utf8") ?? "";
      const lines = stdout.split(/\r?\n/);
      const idx = lines.findLastIndex((l) => l.startsWith(EXIT_MARKER));
      // The marker is the script's exit code, as a process's is for EncodedPowerShellRunner: node-powershell's
      // hadErrors only means "stderr was not empty", which a script that succeeded can cause too (a progress
      // record PowerShell serialised to stderr on a loaded machine failed CI this way). Without the marker the
      // invocation did not finish, and that is a failure whatever stderr held.
      let exitCode = 1;
      if (idx >= 0) {
        const marked = Number(lines[idx]!.slice(EXIT_MARKER.length).trim());
        exitCode = Number.isInteger(marked) ? marked : 1;
        lines.splice(idx, 1);
      }
      return { stdout: lines.join("\n"), stderr, exitCode };
    } catch (e) {
      const orig = (e as { originalError?: { code?: string } }).originalError;
      if (orig?.code === "ENOENT") throw netdbgError("E110", { executable: this.executable }, { cause: e });
      throw netdbgError("E111", { what: "running a script", detail: (e as Error).message.split("\n").join(" ") }, { cause: e });
    }
  }

  async dispose(): Promise<void> {
    const shell = this.shell;
    this.shell = undefined;
    if (!shell) return;
    try {
      await shell.dispose();
    } catch {
      // the process already died; its error was reported by invoke
    }
  }
}

/** One process per call: `powershell.exe -NoProfile -NonInteractive -EncodedCommand <base64 UTF-16LE>`. */
export class EncodedPowerShellRunner implements PowerShellRunner {
  constructor(
    private readonly runner: CommandRunner,
    private readonly executable = "powershell.exe",
  ) {}

  /** The exact argv a call runs (for --check and tests). */
  argv(script: string, params: PsParams = {}): string[] {
    return [
      this.executable,
      "-NoProfile",
      "-NonInteractive",
      "-EncodedCommand",
      psEncodedCommand(renderInvocation(script, params, "exit")),
    ];
  }

  async invoke(script: string, params: PsParams = {}): Promise<CommandResult> {
    const [file, ...args] = this.argv(script, params);
    try {
      return await this.runner.run(file!, args);
    } catch (e) {
      if (isNetdbgError(e) && e.code === "NETDBG-E018") throw netdbgError("E110", { executable: this.executable }, { cause: e });
      throw e;
    }
  }

  async dispose(): Promise<void> {}
}
