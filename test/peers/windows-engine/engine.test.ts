/**
 * The real PowerShell engine behind the Windows target model: powershell.exe's two command forms, exit codes,
 * stderr, the OEM code page of redirected output, stubs that exist only where the profile has the module, and
 * no way out to the Linux machine.
 */
import { describe, expect, it } from "vitest";
import { psEncodedCommand } from "../../../src/core/quote.js";
import { PwshEngine } from "../../../src/peers/windows-target/engine.js";
import { defaultState, WindowsTargetModel, type WindowsTargetState } from "../../../src/peers/windows-target/model.js";
import { runInEngine, stubFaults } from "../../../src/peers/windows-target/stubs.js";
import { noPwsh, PWSH, useEngine } from "../../helpers/pwsh.js";

const engine = useEngine();

/** Run any script as powershell.exe -EncodedCommand would (the model's template check is bypassed on purpose). */
async function ps(script: string, over: Partial<WindowsTargetState> = {}, model = new WindowsTargetModel(defaultState(over))) {
  const r = await runInEngine(model, engine(), { name: "test", params: {}, script, inj: undefined, commandLine: "test" });
  return { ...r, model, out: Buffer.from(r.raw!.stdout).toString("utf8"), err: Buffer.from(r.raw!.stderr).toString("utf8") };
}

describe.skipIf(noPwsh())("PowerShell engine", () => {
  it("runs in PowerShell 7 and reports its version", async () => {
    const r = await ps("$PSVersionTable.PSVersion.Major; $PSVersionTable.PSEdition");
    expect(r.out.split(/\r?\n/).slice(0, 2)).toEqual(["7", "Core"]);
    expect(engine().version).toMatch(/^7\.\d+\.\d+/);
  });

  it("gives exit N for 'exit N', 1 for an uncaught terminating error (CLIXML on stderr), 0 otherwise", async () => {
    expect((await ps("'a'; exit 7")).exitCode).toBe(7);
    const t = await ps("$ErrorActionPreference = 'Stop'; 'before'; Get-Item -LiteralPath 'C:\\nope'; 'after'");
    expect(t.exitCode).toBe(1);
    expect(t.out).toBe("before\r\n");
    expect(t.err.startsWith("#< CLIXML")).toBe(true);
    expect(t.err).toContain("nope");
    expect((await ps("'fine'")).exitCode).toBe(0);
  });

  it("runs `-Command -` stdin line by line: an error ends its line only, exit ends the process", async () => {
    const model = new WindowsTargetModel(defaultState());
    const b64 = psEncodedCommand("throw 'inner'");
    const stdin = `& ([scriptblock]::Create([Text.Encoding]::Unicode.GetString([Convert]::FromBase64String('${b64}'))))\r\n'next line ran'\r\nexit 3\r\n'never'\r\n`;
    const r = await runInEngine(model, engine(), { name: "t", params: {}, script: "", inj: undefined, commandLine: "t", stdin });
    expect(r.exitCode).toBe(3);
    expect(Buffer.from(r.raw!.stdout).toString()).toBe("next line ran\r\n");
    expect(Buffer.from(r.raw!.stderr).toString()).toContain("inner");
  });

  it("a cmdlet of a module the profile lacks does not exist (CommandNotFoundException)", async () => {
    const script = "try { Get-VMSwitch } catch { $_.Exception.GetType().FullName }";
    expect((await ps(script, { modules: ["NetAdapter"] })).out.trim()).toBe(
      "System.Management.Automation.CommandNotFoundException",
    );
    expect((await ps("@(Get-VMSwitch).Count")).out.trim()).toBe("0");
  });

  it("bcdedit.exe is an executable: $LASTEXITCODE and the model's store", async () => {
    const r = await ps(
      "$o = & \"$env:SystemRoot\\System32\\bcdedit.exe\" /enum '{bootmgr}' 2>&1 | Out-String; $LASTEXITCODE; $o",
    );
    expect(r.out.split("\r\n")[0]).toBe("0");
    expect(r.out).toContain("Windows Boot Manager");
    const denied = await ps('& "$env:SystemRoot\\System32\\bcdedit.exe" /enum 2>&1 | Out-Null; $LASTEXITCODE', {
      elevated: false,
    });
    expect(denied.out.trim()).toBe("1");
  });

  it("a stub fault: bcdedit exits non-zero, a cmdlet throws a statement-terminating error", async () => {
    const model = new WindowsTargetModel(defaultState());
    stubFaults(model).push({ name: "bcdedit.exe", arg: "/set", exitCode: 5 }, { name: "Suspend-BitLocker" });
    const r = await ps(
      "& \"$env:SystemRoot\\System32\\bcdedit.exe\" /set '{current}' debug on | Out-Null; $LASTEXITCODE; try { Suspend-BitLocker -MountPoint C: -ErrorAction SilentlyContinue; 'no' } catch { 'caught' }",
      {},
      model,
    );
    expect(r.out.split("\r\n").slice(0, 2)).toEqual(["5", "caught"]);
    expect(model.state.bitlocker[0]!.protectionStatus).toBe("On");
  });

  it("writes redirected output in the OEM code page (CP850: ü is 0x81; CP936: 是 is 0xCA 0xC7)", async () => {
    const de = await ps("[string][char]0xFC", { oemCodePage: 850 });
    expect([...de.raw!.stdout]).toEqual([0x81, 0x0d, 0x0a]);
    const zh = await ps("[string][char]0x662F", { oemCodePage: 936 });
    expect([...zh.raw!.stdout]).toEqual([0xca, 0xc7, 0x0d, 0x0a]);
  });

  it("cannot reach the Linux machine: no Linux tool on PATH, Restart-Computer is the model's", async () => {
    const r = await ps("try { & sh -c 'echo escaped' } catch { 'no sh' }; Restart-Computer -Force; 'restarted'");
    expect(r.out).toBe("no sh\r\nrestarted\r\n");
    expect(r.model.state.boots).toBe(1);
  });

  it("Windows identity and environment come from the model", async () => {
    const r = await ps(
      "([Security.Principal.WindowsIdentity]::GetCurrent()).Name; ([Security.Principal.WindowsPrincipal][Security.Principal.WindowsIdentity]::GetCurrent()).IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator); $env:SystemDrive",
      { user: "SRV\\ops", elevated: false },
    );
    expect(r.out).toBe("SRV\\ops\r\nFalse\r\nC:\r\n");
  });

  it("every request starts clean: nothing one script leaves behind reaches the next, on the same target or another", async () => {
    // one pwsh process, so every request lands in it; the same target again and again, so the engine's prepared
    // runspaces (the target's drive set up ahead of the request) are the ones used
    const e = new PwshEngine(PWSH!, 1);
    try {
      const model = new WindowsTargetModel(defaultState({ user: "WIN11\\alice" }));
      const run = (script: string, m = model) =>
        runInEngine(m, e, { name: "t", params: {}, script, inj: undefined, commandLine: "t" }).then((r) =>
          Buffer.from(r.raw!.stdout).toString(),
        );
      const leave = [
        "$global:leak = 'x'; $script:leak2 = 'x'; function global:Leak-Me { 'leaked' }",
        "Set-Alias -Name leakalias -Value Get-Date -Scope Global; $env:NETDBG_LEAK = 'x'; $env:SystemDrive = 'D:'",
        "Set-Location -LiteralPath 'C:\\Windows'; Remove-Item -LiteralPath 'function:\\Get-VMSwitch'",
        "$global:ErrorActionPreference = 'Stop'; $global:PSDefaultParameterValues['Out-String:Width'] = 10",
        "$null = New-PSDrive -Name Q -PSProvider FileSystem -Root '/' -Scope Global; 'left'",
      ].join("; ");
      const check = [
        "[bool](Get-Variable -Name leak, leak2 -ErrorAction SilentlyContinue)",
        "[bool](Get-Command -Name Leak-Me, leakalias -ErrorAction SilentlyContinue)",
        '"env=$env:NETDBG_LEAK drive=$env:SystemDrive"',
        "(Get-Location).Path -replace '/', '\\'",
        "[bool](Get-Command -Name Get-VMSwitch -ErrorAction SilentlyContinue)",
        "$ErrorActionPreference; $PSDefaultParameterValues.Count",
        "[bool](Get-PSDrive -Name Q -ErrorAction SilentlyContinue)",
      ].join("; ");
      const clean = (user: string) =>
        `False\r\nFalse\r\nenv= drive=C:\r\nC:\\Users\\${user}\r\nTrue\r\nContinue\r\n0\r\nFalse\r\n`;
      expect(await run(leave)).toBe("left\r\n");
      expect(await run(leave)).toBe("left\r\n");
      expect(await run(check)).toBe(clean("alice"));
      expect(await run(leave)).toBe("left\r\n");
      const other = new WindowsTargetModel(defaultState({ user: "SRV\\bob" }));
      expect(await run(check, other)).toBe(clean("bob"));
    } finally {
      await e.close();
    }
  }, 60_000);

  it("a script that runs too long fails and its pwsh is replaced", async () => {
    const e = new PwshEngine(PWSH!, 1, 3000);
    try {
      const model = new WindowsTargetModel(defaultState());
      const run = (script: string) => runInEngine(model, e, { name: "t", params: {}, script, inj: undefined, commandLine: "t" });
      await expect(run("Start-Sleep -Seconds 60")).rejects.toThrow(/ran longer than 3000 ms/);
      const r = await run("'again'");
      expect(Buffer.from(r.raw!.stdout).toString()).toBe("again\r\n");
    } finally {
      await e.close();
    }
  }, 60_000);
});
