/**
 * How the engine starts pwsh. PowerShell installed as a .NET global tool is an apphost bound to a shim that starts
 * `dotnet <tool>/unix/pwsh.dll`: the engine runs that DLL itself (one .NET start, not two), and a closed engine
 * leaves no PowerShell behind, although it ends its worker with a kill.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { PwshEngine, pwshLaunch } from "../../../src/peers/windows-target/engine.js";
import { defaultState, WindowsTargetModel } from "../../../src/peers/windows-target/model.js";
import { runInEngine } from "../../../src/peers/windows-target/stubs.js";
import { noPwsh, PWSH } from "../../helpers/pwsh.js";

const BOUND = ".store/powershell/7.6.10/powershell/7.6.10/tools/net10.0/any/Microsoft.PowerShell.GlobalTool.Shim.dll";
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A tools folder as `dotnet tool install --global PowerShell` leaves it, and a `dotnet` on a PATH of its own. */
function toolLayout(opts: { dll?: boolean; bound?: string } = {}) {
  const d = mkdtempSync(join(tmpdir(), "netdbg-launch-"));
  dirs.push(d);
  const tools = join(d, "tools");
  const any = join(tools, ".store/powershell/7.6.10/powershell/7.6.10/tools/net10.0/any");
  mkdirSync(join(any, "unix"), { recursive: true });
  if (opts.dll !== false) writeFileSync(join(any, "unix", "pwsh.dll"), "");
  // the apphost: native code with the bound DLL's relative path in a NUL-padded slot
  const apphost = Buffer.concat([
    Buffer.from("\x7fELF\x02\x01\x01"),
    Buffer.alloc(300),
    Buffer.from(opts.bound ?? BOUND),
    Buffer.alloc(700),
  ]);
  writeFileSync(join(tools, "pwsh"), apphost);
  chmodSync(join(tools, "pwsh"), 0o755);
  const bin = join(d, "bin");
  mkdirSync(bin);
  writeFileSync(join(bin, "dotnet"), "#!/bin/sh\n");
  chmodSync(join(bin, "dotnet"), 0o755);
  return { pwsh: join(tools, "pwsh"), dll: join(any, "unix", "pwsh.dll"), dotnet: join(bin, "dotnet"), env: { PATH: bin } };
}

describe.skipIf(process.platform === "win32")("pwshLaunch", () => {
  it("runs a global tool's pwsh.dll with the dotnet muxer, skipping the shim", () => {
    const t = toolLayout();
    expect(pwshLaunch(t.pwsh, t.env)).toEqual({ file: t.dotnet, args: [t.dll] });
  });

  it("starts anything else as it is: no bound shim, no pwsh.dll beside it, no such file", () => {
    const plain = toolLayout({ bound: "pwsh.dll" });
    expect(pwshLaunch(plain.pwsh, plain.env)).toEqual({ file: plain.pwsh, args: [] });
    const noDll = toolLayout({ dll: false });
    expect(pwshLaunch(noDll.pwsh, noDll.env)).toEqual({ file: noDll.pwsh, args: [] });
    const gone = join(dirs[0]!, "missing");
    expect(pwshLaunch(gone, plain.env)).toEqual({ file: gone, args: [] });
  });
});

/** The command lines of the processes that mention `dir`. */
function running(dir: string): string[] {
  return execFileSync("ps", ["-eo", "pid=,args="], { encoding: "utf8" })
    .split("\n")
    .filter((l) => l.includes(dir));
}

describe.skipIf(noPwsh())("the engine's pwsh", () => {
  it("runs from a folder with a space in its name, and nothing of it runs after close", async () => {
    const spaced = mkdtempSync(join(tmpdir(), "netdbg launch "));
    dirs.push(spaced);
    const before = process.env.TMPDIR;
    process.env.TMPDIR = spaced; // the engine's scripts (host.ps1, …) are written below it
    let engine: PwshEngine;
    try {
      engine = new PwshEngine(PWSH!, 1);
    } finally {
      if (before === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = before;
    }
    try {
      await engine.start();
      const model = new WindowsTargetModel(defaultState());
      const r = await runInEngine(model, engine, { name: "t", params: {}, script: "'hello'", inj: undefined, commandLine: "t" });
      expect(Buffer.from(r.raw!.stdout).toString()).toBe("hello\r\n");
    } finally {
      await engine.close();
    }
    expect(running(spaced)).toEqual([]);
    expect(readdirSync(spaced).filter((f) => f.startsWith("netdbg-pwsh-") && !f.startsWith("netdbg-pwsh-cache"))).toEqual([]);
  }, 60_000);

  it.each([
    ["run directly", false],
    ["started through the global tool's shim", true],
  ])(
    "a script that runs past its time is stopped: no PowerShell keeps running it (%s)",
    async (_how, shim) => {
      const engine = new PwshEngine(PWSH!, 1, 1500);
      const dir = (engine as unknown as { dir: string }).dir;
      // as where pwsh.dll or dotnet cannot be found: the shim starts PowerShell as its child
      if (shim) (engine as unknown as { launch: ReturnType<typeof pwshLaunch> }).launch = { file: PWSH!, args: [] };
      try {
        await engine.start();
        const model = new WindowsTargetModel(defaultState());
        const script = "while ($true) { $null = 1 }";
        await expect(
          runInEngine(model, engine, { name: "t", params: {}, script, inj: undefined, commandLine: "t" }),
        ).rejects.toThrow(/ran longer than 1500 ms/);
        // the kill reaches the process running the script, so within a moment none runs from the engine's folder
        let left: string[] = [];
        for (let i = 0; i < 40; i++) {
          left = running(dir);
          if (left.length <= 1) break; // the pool's next worker may be starting
          await new Promise((r) => setTimeout(r, 50));
        }
        expect(left.length).toBeLessThanOrEqual(1);
      } finally {
        await engine.close();
      }
      expect(running(dir)).toEqual([]);
    },
    60_000,
  );
});
