/**
 * A real PowerShell engine for the Windows target model: netdbg's scripts run in PowerShell 7 (`pwsh`), not in
 * a table. A small pool of long-lived `pwsh` processes (engine-host.ts) runs each script in a fresh runspace,
 * so a script costs milliseconds instead of pwsh's ~1 s start.
 *
 * What a script meets in the runspace is set up per run by stubs.ts from the model (the Windows cmdlets the
 * model's profile has, a `C:` drive mirroring the model's files, bcdedit.exe / shutdown.exe / kdnet.exe as
 * executables). The stubs reach the model through this module's stub server: a Unix socket in the engine's
 * private directory, one JSON line per call, with the run's token naming the model. The native stubs are tiny
 * Node scripts (`#!<node>`) that forward their argv over that socket and print the model's answer.
 *
 * PowerShell 7 is not Windows PowerShell 5.1: the templates are kept in the 5.1 language and checked for it
 * (test/peers/windows-engine/language.test.ts). The engine never runs anything but pwsh and the stubs: the
 * pwsh processes get a PATH holding only the stub directory, so no Linux tool (shutdown, reboot, …) can be
 * reached by a script.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { homedir, tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { HOST_CSHARP, HOST_PS1 } from "./engine-host.js";
import { drivePrelude, STATIC_PRELUDE } from "./stubs.js";

/** What one run returns: the bytes the target's SSH channel would carry, and powershell.exe's exit code. */
export interface EngineResult {
  stdout: Buffer;
  stderr: Buffer;
  exitCode: number;
}

/** A call from a stub (cmdlet function or native executable) to the model. */
export interface StubCall {
  kind: "cmdlet" | "native";
  name: string;
  /** cmdlet: the bound parameters; native: the argument vector. */
  args: unknown;
}

export interface StubAnswer {
  /** cmdlet: the objects to return (JSON); native: ignored. */
  value?: unknown;
  /** cmdlet: an error (terminating = statement-terminating, as a compiled cmdlet's ThrowTerminatingError). */
  error?: { message: string; type?: string; terminating?: boolean; category?: string; id?: string };
  /** native: the output text (CRLF line ends), stderr text and exit code. */
  stdout?: string;
  stderr?: string;
  exitCode?: number;
}

export type StubHandler = (call: StubCall) => StubAnswer | Promise<StubAnswer>;

export interface EngineRequest {
  /** encoded: `-EncodedCommand` (one unit, CLIXML errors); stdin: `-Command -` (line by line). */
  mode: "encoded" | "stdin";
  script?: string;
  lines?: string[];
  /** PowerShell run in the fresh runspace before the script (after the engine's static stub definitions). */
  prelude: string;
  /** Environment of the run (process-wide in the pwsh host; one run at a time per process). */
  env: Record<string, string>;
  /** The OEM code page the script's redirected output is encoded in (437 en-US, 850 western Europe, 936 zh-CN). */
  codePage: number;
  /** Answers the stubs' calls during this run. */
  handler: StubHandler;
}

function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const d of (env.PATH ?? "").split(delimiter)) {
    if (d && existsSync(join(d, name))) return join(d, name);
  }
  return undefined;
}

/** Where pwsh is: $NETDBG_PWSH, else PATH, else the .NET global tools folder (`dotnet tool install --global`). */
export function locatePwsh(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.NETDBG_PWSH) return existsSync(env.NETDBG_PWSH) ? env.NETDBG_PWSH : undefined;
  const dirs = [...(env.PATH ?? "").split(delimiter), join(homedir(), ".dotnet", "tools")];
  for (const d of dirs) {
    if (!d) continue;
    for (const n of process.platform === "win32" ? ["pwsh.exe"] : ["pwsh"]) {
      const p = join(d, n);
      if (existsSync(p)) return p;
    }
  }
  return undefined;
}

/**
 * Kill a worker and everything it started: its process group (it leads one, see start). Started through a .NET
 * global tool's shim, PowerShell is the shim's child, which a kill of the shim alone leaves running.
 */
function stop(proc: ChildProcess): void {
  try {
    if (proc.pid !== undefined && process.platform !== "win32") process.kill(-proc.pid, "SIGKILL");
    else proc.kill("SIGKILL");
  } catch {
    proc.kill("SIGKILL"); // the group is gone already
  }
}

/**
 * The stubs' framing on one connection: the first line in goes to `answer`, whose value goes back as one JSON line,
 * then the connection ends.
 */
export function answerLine(s: Socket, answer: (line: string) => Promise<unknown>): void {
  let buf = "";
  s.setEncoding("utf8");
  s.on("error", () => undefined);
  s.on("data", (d: string) => {
    buf += d;
    const nl = buf.indexOf("\n");
    if (nl < 0) return;
    const line = buf.slice(0, nl);
    buf = "";
    void answer(line).then((r) => s.end(`${JSON.stringify(r)}\n`));
  });
}

/** The DLL a .NET global tool's apphost is bound to, as the SDK writes it: relative to the apphost, under `.store/`. */
const TOOL_SHIM = /\.store[\\/][\x20-\x7e]{1,900}?[\\/]Microsoft\.PowerShell\.GlobalTool\.Shim\.dll/;

/**
 * How to start `pwsh`: the program and the arguments in front of pwsh's own. PowerShell installed as a .NET global
 * tool (`dotnet tool install --global PowerShell`, what .ci/run does) is an apphost bound to PowerShell's
 * GlobalTool.Shim.dll, a .NET program whose only work is to start `dotnet <its folder>/unix/pwsh.dll` with the same
 * arguments and wait for it (github.com/PowerShell/PowerShell, src/Microsoft.PowerShell.GlobalTool.Shim). That is a
 * second .NET start for every pwsh (0.1-0.2 s of wall time on a 2-core machine, `pwsh -c exit` against
 * `dotnet pwsh.dll -c exit`), and a process between netdbg and PowerShell (a kill of the one netdbg started leaves
 * PowerShell running, hence stop's group kill). So the DLL the shim would start is run by the muxer directly when
 * both are there; anything else is started as it is.
 */
export function pwshLaunch(pwsh: string, env: NodeJS.ProcessEnv = process.env): { file: string; args: string[] } {
  const asIs = { file: pwsh, args: [] };
  if (process.platform === "win32") return asIs;
  try {
    if (statSync(pwsh).size > 4 << 20) return asIs; // an apphost is some 80 KB; pwsh itself is no shim
    const bound = TOOL_SHIM.exec(readFileSync(pwsh).toString("latin1"))?.[0];
    if (!bound) return asIs;
    const dll = join(dirname(realpathSync(pwsh)), dirname(bound), "unix", "pwsh.dll");
    const dotnet = dotnetMuxer(env);
    return existsSync(dll) && dotnet ? { file: dotnet, args: [dll] } : asIs;
  } catch {
    return asIs;
  }
}

/** The `dotnet` muxer: on PATH, else under $DOTNET_ROOT, else the installer's recorded or default location. */
function dotnetMuxer(env: NodeJS.ProcessEnv): string | undefined {
  const onPath = findOnPath("dotnet", env);
  if (onPath) return realpathSync(onPath);
  const roots = [env.DOTNET_ROOT, readInstallLocation(), "/usr/share/dotnet", "/usr/lib/dotnet", "/usr/local/share/dotnet"];
  for (const r of roots) if (r && existsSync(join(r, "dotnet"))) return join(r, "dotnet");
  return undefined;
}

function readInstallLocation(): string | undefined {
  try {
    return readFileSync("/etc/dotnet/install_location", "utf8").split("\n")[0]!.trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The native stub as a bash script (bash starts in milliseconds, Node in ~100 ms on a busy machine, and setup
 * calls bcdedit.exe some twenty times): argv NUL-separated to the engine's loopback TCP port, then the answer —
 * the exit code on the first line, the output after it — printed as it came.
 */
const BASH_CLIENT = [
  "#!/bin/bash",
  'exec 3<>"/dev/tcp/127.0.0.1/$NETDBG_STUB_PORT" || exit 255',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell's parameter expansion, expanded by the remote bash
  'printf \'%s\\0\' "$NETDBG_STUB_TOKEN" "${0##*/}" "$#" "$@" >&3',
  "IFS= read -r code <&3 || exit 255",
  "line=''",
  "while IFS= read -r line <&3; do printf '%s\\n' \"$line\"; line=''; done",
  '[ -n "$line" ] && printf \'%s\' "$line"',
  'exit "$code"',
  "",
].join("\n");

/** The Node script behind every native stub when there is no /bin/bash: forwards argv over the stub socket, prints the answer, exits. */
const NATIVE_CLIENT = `"use strict";
const net = require("node:net");
const path = require("node:path");
const name = path.basename(process.argv[1]).toLowerCase();
const s = net.connect(process.env.NETDBG_STUB_SOCKET);
let buf = "";
s.setEncoding("utf8");
s.on("data", (d) => { buf += d; });
s.on("end", () => {
  const a = JSON.parse(buf);
  if (a.stdout) process.stdout.write(a.stdout);
  if (a.stderr) process.stderr.write(a.stderr);
  process.exitCode = a.exitCode ?? 0;
});
s.on("error", (e) => { process.stderr.write("stub " + name + ": " + e.message + "\\n"); process.exitCode = 255; });
s.write(JSON.stringify({ token: process.env.NETDBG_STUB_TOKEN, kind: "native", name, args: process.argv.slice(2) }) + "\\n");
`;

/**
 * What the warm-up runs: the kinds of statements netdbg's templates are made of (not the templates themselves),
 * against the warm-up's own drive and stub answers.
 */
const WARM_UP_SCRIPT = String.raw`
$ErrorActionPreference = 'SilentlyContinue'
$id = [Security.Principal.WindowsIdentity]::GetCurrent()
$null = ([Security.Principal.WindowsPrincipal]$id).IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)
$dir = Join-Path 'C:\ProgramData' 'warm'
New-Item -ItemType Directory -Force -Path $dir | Out-Null
$null = Split-Path -Parent "$dir\x.bak"; $null = Test-Path -LiteralPath $dir
$os = Get-CimInstance Win32_OperatingSystem
try { $null = [bool](Confirm-SecureBootUEFI -ErrorAction Stop) } catch { $null = $_.Exception -is [System.PlatformNotSupportedException] }
$null = Get-ItemProperty 'HKLM:\SOFTWARE\Warm' -Name Warm -ErrorAction SilentlyContinue
$null = Get-Command Get-BitLockerVolume -ErrorAction SilentlyContinue
$v = @(Get-NetAdapter | Where-Object { $_.Name } | ForEach-Object { [pscustomobject]@{ name = $_.Name; n = [int]1 } })
$s = (Invoke-CimMethod -Namespace 'root\wmi' -ClassName BcdStore -MethodName OpenStore -Arguments @{ File = '' } -ErrorAction Stop).Store
$null = Invoke-CimMethod -InputObject $s -MethodName EnumerateObjects -Arguments @{ Type = [uint32]0x10200003 }
$null = @('a', 'b', 'a') | Select-Object -Unique | Sort-Object
$null = @(Get-ChildItem -LiteralPath $dir -Filter 'bcd-*.bak' | Sort-Object Name | ForEach-Object { $_.FullName })
$null = Get-Command warm-none.exe -CommandType Application -ErrorAction SilentlyContinue
$o = & $env:NETDBG_WARM_NATIVE /enum '{current}' 2>&1 | Out-String
& $env:NETDBG_WARM_NATIVE /r
$conn = @("$env:SSH_CONNECTION" -split ' ')
$null = "x: 1" -match '^(\w+):\s*(.*)$'
$j = [pscustomobject]@{ exitCode = $LASTEXITCODE; output = $o; os = $os; v = $v; conn = $conn; id = $id.Name } | ConvertTo-Json -Compress -Depth 6
$null = $j | ConvertFrom-Json
$ErrorActionPreference = 'Continue'
Write-Error 'warm'
`;

/** An idle engine must not keep Node alive (a test file or the demo ends while pwsh waits for work). */
function refWorker(w: Worker, on: boolean): void {
  const handles = [w.proc, w.proc.stdin, w.proc.stdout, w.proc.stderr] as unknown as ({ ref?(): void; unref?(): void } | null)[];
  for (const h of handles) {
    if (on) h?.ref?.();
    else h?.unref?.();
  }
}

interface Worker {
  proc: ChildProcess;
  busy: boolean;
  pending?: { resolve: (r: EngineResult) => void; reject: (e: Error) => void; token: string; timer: NodeJS.Timeout } | undefined;
  dead?: Error;
}

/**
 * The netdbg templates a script carries (its `# netdbg:script=<name>` marker, also inside the base64 of a
 * `-Command -` line), appended to $NETDBG_PWSH_TEMPLATE_LOG when set: the suite's "pwsh executed N of N
 * templates" line (test/summary-reporter.ts) is counted from it.
 */
function templatesIn(script: string | undefined, lines: string[] | undefined): Set<string> {
  const texts = [script ?? "", ...(lines ?? [])];
  const names = new Set<string>();
  for (const t of texts) {
    for (const m of t.matchAll(/^# netdbg:script=([a-z0-9-]+)$/gm)) names.add(m[1]!);
    // -Command - carries the script base64-encoded inside the line
    for (const b of t.matchAll(/FromBase64String\('([A-Za-z0-9+/=]+)'\)/g)) {
      const inner = Buffer.from(b[1]!, "base64").toString("utf16le");
      const n = /^# netdbg:script=([a-z0-9-]+)$/m.exec(inner)?.[1];
      if (n) names.add(n);
    }
  }
  const file = process.env.NETDBG_PWSH_TEMPLATE_LOG;
  if (file && names.size) writeFileSync(file, [...names].map((n) => `${n}\n`).join(""), { flag: "a" });
  return names;
}

export class PwshEngine {
  /** The PowerShell version that runs the scripts, e.g. "7.6.10". */
  version = "";
  /** The netdbg templates this engine has run (by their marker). */
  readonly executed = new Set<string>();
  readonly dir: string;
  readonly binDir: string;
  private readonly socketPath: string;
  private server: Server | undefined;
  private tcp: Server | undefined;
  private tcpPort = 0;
  private workers: Worker[] = [];
  private queue: { req: EngineRequest; resolve: (r: EngineResult) => void; reject: (e: Error) => void }[] = [];
  private handlers = new Map<string, StubHandler>();
  private starting: Promise<void> | undefined;
  private closed = false;
  private readonly stubs = new Set<string>();

  /** A native stub this engine wrote (kept out of the model's files). */
  isNativeStub(path: string): boolean {
    return this.stubs.has(path);
  }

  /** How pwsh is started (see pwshLaunch). */
  private readonly launch: { file: string; args: string[] };

  constructor(
    readonly pwsh: string,
    readonly size = 2,
    /** A run that takes longer ends its pwsh process (the run fails; the pool starts another). */
    readonly runTimeoutMs = 120_000,
  ) {
    this.launch = pwshLaunch(pwsh);
    this.dir = mkdtempSync(join(tmpdir(), "netdbg-pwsh-"));
    this.binDir = join(this.dir, "bin");
    mkdirSync(this.binDir);
    this.socketPath = join(this.dir, "stub.sock");
    writeFileSync(join(this.dir, "native-stub.cjs"), NATIVE_CLIENT);
    // A pwsh installed as a .NET global tool is a shim that starts `dotnet` from PATH: the only other program
    // on the engine's PATH.
    const dotnet = findOnPath("dotnet");
    if (dotnet) symlinkSync(realpathSync(dotnet), join(this.binDir, "dotnet"));
  }

  /** An executable at `path` that runs the native stub client under this Node (named by its basename). */
  writeNativeStub(path: string): void {
    this.stubs.add(path);
    if (existsSync("/bin/bash")) writeFileSync(path, BASH_CLIENT);
    else writeFileSync(path, `#!${process.execPath}\nrequire(${JSON.stringify(join(this.dir, "native-stub.cjs"))});\n`);
    chmodSync(path, 0o755);
  }

  /** Start the stub server and the first pwsh process; resolves when it answered "ready". */
  start(): Promise<void> {
    this.starting ??= (async () => {
      this.server = createServer((s) => this.serveStub(s));
      await new Promise<void>((resolve, reject) => {
        this.server!.once("error", reject);
        this.server!.listen(this.socketPath, () => resolve());
      });
      this.server.unref();
      this.tcp = createServer((sock) => this.serveNative(sock));
      await new Promise<void>((resolve, reject) => {
        this.tcp!.once("error", reject);
        this.tcp!.listen(0, "127.0.0.1", () => resolve());
      });
      this.tcp.unref();
      this.tcpPort = (this.tcp.address() as { port: number }).port;
      await this.spawnWorker();
    })();
    return this.starting;
  }

  private async spawnWorker(): Promise<Worker> {
    // The compiled host types are cached by content hash, so only the first start on a machine pays Add-Type.
    const hash = createHash("sha256").update(HOST_CSHARP).update(this.pwsh).digest("hex").slice(0, 16);
    const cache = join(tmpdir(), `netdbg-pwsh-cache-${process.getuid?.() ?? "u"}`);
    mkdirSync(cache, { recursive: true });
    const asm = join(cache, `netdbg-engine-${hash}.dll`);
    const src = join(this.dir, "host.cs");
    const script = join(this.dir, "host.ps1");
    const setup = join(this.dir, "setup.ps1");
    writeFileSync(src, HOST_CSHARP);
    writeFileSync(script, HOST_PS1);
    writeFileSync(setup, STATIC_PRELUDE);
    const proc = spawn(
      this.launch.file,
      [...this.launch.args, "-NoProfile", "-NonInteractive", "-NoLogo", "-File", script, asm, src, setup],
      {
        stdio: ["pipe", "pipe", "pipe"],
        // a process group of its own: a kill reaches every process of it (see stop), the shim's child too
        detached: process.platform !== "win32",
        env: {
          PATH: this.binDir,
          HOME: process.env.HOME ?? this.dir,
          TMPDIR: this.dir,
          TERM: "dumb",
          NO_COLOR: "1",
          POWERSHELL_TELEMETRY_OPTOUT: "1",
          POWERSHELL_UPDATECHECK: "Off",
          DOTNET_CLI_TELEMETRY_OPTOUT: "1",
          DOTNET_NOLOGO: "1",
          // no tier-0 instrumentation for dynamic PGO: pwsh starts in some 0.7 s instead of 1.1 s on a busy
          // 2-core machine (medians of five alternating starts); what the scripts do is not affected
          DOTNET_TieredPGO: "0",
          // tier-1 recompilation waits for 10 s without new tier-0 code instead of 100 ms: otherwise the runtime
          // recompiles in the background for some 2 s of CPU right after the first requests, which on a busy
          // 2-core machine is taken from netdbg itself (the scripts run the same, from tier-0 and ReadyToRun code)
          DOTNET_TC_CallCountingDelayMs: "10000",
          NETDBG_STUB_SOCKET: this.socketPath,
          ...(process.env.DOTNET_ROOT ? { DOTNET_ROOT: process.env.DOTNET_ROOT } : {}),
        },
      },
    );
    const w: Worker = { proc, busy: true };
    refWorker(w, true);
    this.workers.push(w);
    let stderr = "";
    proc.stderr!.setEncoding("utf8");
    proc.stderr!.on("data", (d: string) => {
      stderr = (stderr + d).slice(-4000);
    });
    const rl = createInterface({ input: proc.stdout! });
    let ready: ((v: undefined) => void) | undefined;
    const readyP = new Promise<undefined>((resolve) => (ready = resolve));
    rl.on("line", (line) => {
      let m: {
        ready?: boolean;
        version?: string;
        id?: string;
        exitCode?: number;
        stdout?: string;
        stderr?: string;
        fatal?: string;
      };
      try {
        m = JSON.parse(line);
      } catch {
        return; // not protocol (pwsh never writes anything else to the protocol stream)
      }
      if (m.ready) {
        this.version = m.version ?? "";
        ready?.(undefined);
        return;
      }
      const p = w.pending;
      if (!p) return;
      w.pending = undefined;
      clearTimeout(p.timer);
      this.handlers.delete(p.token);
      if (m.fatal) p.reject(new Error(`PowerShell engine: ${m.fatal}`));
      else
        p.resolve({
          stdout: Buffer.from(m.stdout ?? "", "base64"),
          stderr: Buffer.from(m.stderr ?? "", "base64"),
          exitCode: m.exitCode ?? 70,
        });
      w.busy = false;
      refWorker(w, false);
      this.pump();
    });
    proc.on("exit", (code) => {
      const e = new Error(`pwsh (${this.pwsh}) exited with ${code}: ${stderr.trim().slice(-800)}`);
      w.dead = e;
      this.workers = this.workers.filter((x) => x !== w);
      if (w.pending) clearTimeout(w.pending.timer);
      w.pending?.reject(e);
      w.pending = undefined;
      ready?.(undefined);
      if (!this.closed && this.queue.length) this.pump();
    });
    proc.on("error", (e) => {
      w.dead = e;
    });
    await readyP;
    if (w.dead) throw w.dead;
    w.busy = false;
    refWorker(w, false);
    return w;
  }

  /**
   * Run a throwaway script once, so the first real ones do not pay .NET's first-use costs: a runspace, the
   * drive, the stub cmdlets' calls over the socket and their errors, a native stub (under 2>&1 and not
   * redirected), the provider cmdlets and pipelines the templates use, JSON both ways, an error on stderr (some
   * 20-200 ms each on a busy machine). It runs in its own fresh runspace against a drive of its own, like any
   * request, so it leaves nothing for the next one but compiled code. The demo does this while its Linux half
   * runs.
   */
  async warmUp(): Promise<void> {
    const root = join(this.dir, "warm", "C");
    const sys = join(root, "Windows", "System32");
    mkdirSync(sys, { recursive: true });
    const native = join(sys, "warm.exe");
    if (!this.stubs.has(native)) this.writeNativeStub(native);
    await this.run({
      mode: "encoded",
      script: WARM_UP_SCRIPT,
      prelude: drivePrelude(root, "C:\\Windows").join("\n"),
      env: { NETDBG_WARM_NATIVE: native, SSH_CONNECTION: "192.0.2.10 50022 127.0.0.1 22" },
      codePage: 437,
      handler: (call) => {
        if (call.kind === "native") return { stdout: "warm\r\n", exitCode: 0 };
        if (call.name === "Confirm-SecureBootUEFI")
          return { error: { message: "warm", type: "System.PlatformNotSupportedException", terminating: true } };
        if (call.name === "Get-ItemProperty")
          return {
            error: {
              message: "warm",
              type: "System.Management.Automation.ItemNotFoundException",
              category: "ObjectNotFound",
              terminating: false,
            },
          };
        return { value: [{ Name: "warm", Caption: "warm", ReturnValue: 0, Store: { FilePath: "" } }] };
      },
    });
  }

  /** Run one script (or the lines of a `-Command -` stdin) in a fresh runspace. */
  run(req: EngineRequest): Promise<EngineResult> {
    if (this.closed) return Promise.reject(new Error("the PowerShell engine is closed"));
    for (const n of templatesIn(req.script, req.lines)) this.executed.add(n);
    return new Promise((resolve, reject) => {
      this.queue.push({ req, resolve, reject });
      this.start().then(
        () => this.pump(),
        (e: Error) => reject(e),
      );
    });
  }

  private pump(): void {
    while (this.queue.length) {
      const free = this.workers.find((w) => !w.busy && !w.dead);
      if (!free) {
        if (this.workers.length < this.size && !this.closed) {
          // grow the pool; the new worker takes the next item once ready
          const growing = this.spawnWorker();
          growing.then(
            () => this.pump(),
            (e: Error) => {
              const q = this.queue.shift();
              q?.reject(e);
            },
          );
        }
        return;
      }
      const item = this.queue.shift()!;
      const token = randomBytes(12).toString("hex");
      this.handlers.set(token, item.req.handler);
      free.busy = true;
      refWorker(free, true);
      const timer = setTimeout(() => {
        const p = free.pending;
        if (!p) return;
        free.pending = undefined;
        p.reject(new Error(`PowerShell engine: the script ran longer than ${this.runTimeoutMs} ms; its pwsh was stopped`));
        stop(free.proc);
      }, this.runTimeoutMs);
      timer.unref();
      free.pending = { resolve: item.resolve, reject: item.reject, token, timer };
      const msg = {
        id: token,
        mode: item.req.mode,
        script: item.req.script ?? "",
        lines: item.req.lines ?? [],
        prelude: item.req.prelude,
        env: {
          ...item.req.env,
          NETDBG_STUB_TOKEN: token,
          NETDBG_STUB_SOCKET: this.socketPath,
          NETDBG_STUB_PORT: String(this.tcpPort),
        },
        codePage: item.req.codePage,
      };
      free.proc.stdin!.write(`${JSON.stringify(msg)}\n`);
    }
  }

  private serveStub(s: Socket): void {
    answerLine(s, async (line): Promise<StubAnswer> => {
      try {
        const req = JSON.parse(line) as StubCall & { token: string };
        const h = this.handlers.get(req.token);
        if (!h) throw new Error("no run with this token");
        return await h({ kind: req.kind, name: req.name, args: req.args });
      } catch (e) {
        return { error: { message: `engine stub: ${(e as Error).message}`, terminating: true }, exitCode: 255 };
      }
    });
  }

  /** The bash stub's framing: token, name, argc, args (NUL-terminated); answer "<exit>\n" + output. */
  private serveNative(s: Socket): void {
    let buf = Buffer.alloc(0);
    let done = false;
    s.on("error", () => undefined);
    s.on("data", (d: Buffer) => {
      if (done) return;
      buf = Buffer.concat([buf, d]);
      const fields: string[] = [];
      let at = 0;
      for (;;) {
        const nul = buf.indexOf(0, at);
        if (nul < 0) break;
        fields.push(buf.subarray(at, nul).toString("utf8"));
        at = nul + 1;
      }
      if (fields.length < 3 || fields.length < 3 + Number(fields[2])) return;
      done = true;
      const [token, name, , ...args] = fields;
      void (async () => {
        let a: StubAnswer;
        try {
          const h = this.handlers.get(token!);
          if (!h) throw new Error("no run with this token");
          a = await h({ kind: "native", name: name!.toLowerCase(), args });
        } catch (e) {
          a = { stderr: `engine stub: ${(e as Error).message}\r\n`, exitCode: 255 };
        }
        s.end(`${a.exitCode ?? 0}\n${a.stdout ?? ""}${a.stderr ?? ""}`);
      })();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const q of this.queue.splice(0)) q.reject(new Error("the PowerShell engine is closed"));
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.dead) return resolve();
            w.proc.once("exit", () => resolve());
            w.proc.ref(); // an idle worker is unreferenced (see refWorker): its exit must still be waited for
            w.proc.stdin!.end();
            // Nothing of an idle worker needs an orderly end (its files are in this.dir, removed below): a kill ends
            // it at once, where its exit on end of input took 0.13 s of the demo's end
            stop(w.proc);
          }),
      ),
    );
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => (this.tcp ? this.tcp.close(() => resolve()) : resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
