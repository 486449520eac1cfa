/**
 * `--via winrm`: the same template scripts reach the Windows model through the WinRM wrapper
 * (templates/windows/winrm/invoke.ps1) run by a PowerShellRunner. The injected runner renders the exact line the
 * io adapter sends (src/io/powershell.ts renderInvocation), decodes it as PowerShell would, checks the script is
 * the shipped wrapper, and does what Invoke-Command does: starts on "the target" (the model) the powershell.exe
 * command from the wrapper's parameters. The real node-powershell adapter carries the wrapper to the stand-in
 * pwsh (test/fakes/fake-pwsh.mjs) with its parameters intact. The wrapper parses with tree-sitter-powershell.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";
import { setupFromFlags as windowsSetup, teardownFromFlags as windowsTeardown } from "../../helpers/setup-flags.js";
import { isNetdbgError } from "../../../src/core/error.js";
import type { Target } from "../../../src/core/inventory.js";
import type { CommandResult, PowerShellRunner } from "../../../src/core/interfaces.js";
import { NodePowerShellRunner, renderInvocation } from "../../../src/io/powershell.js";
import { parseDbgSettings, winrmParams, winrmWrapperText } from "../../../src/targets/windows/index.js";
import { renderScript, wireCommand } from "../../../src/targets/windows/ps.js";
import { psSyntax } from "../../fakes/ps-syntax.js";
import { defaultState, WindowsTargetModel } from "../../../src/peers/windows-target/model.js";
import { windowsCliRigs } from "../../helpers/windows-cli.js";
import { KEY } from "../../helpers/windows-config.js";

const FAKE = fileURLToPath(new URL("../../fakes/fake-pwsh.mjs", import.meta.url));
const PS_EXE = "powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass";
const dirs: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function decode(line: string): { params: Record<string, string>; script: string } {
  const parts = [...line.matchAll(/FromBase64String\('([A-Za-z0-9+/=]*)'\)/g)].map((m) =>
    Buffer.from(m[1]!, "base64").toString("utf8"),
  );
  expect(parts).toHaveLength(2);
  return { params: JSON.parse(parts[0]!), script: parts[1]! };
}

/** Local PowerShell + WinRM + the target, as far as netdbg can tell: Invoke-Command hands the command to the model. */
class ModelWinrm implements PowerShellRunner {
  readonly calls: Record<string, string>[] = [];
  disposed = 0;
  constructor(
    private readonly model: WindowsTargetModel,
    private readonly computer: string,
  ) {}
  async invoke(
    script: string,
    params: Record<string, string | number | boolean | readonly string[]> = {},
  ): Promise<CommandResult> {
    const call = decode(renderInvocation(script, params, "marker"));
    expect(call.script).toBe(winrmWrapperText());
    this.calls.push(call.params);
    const p = call.params;
    if (p.ComputerName !== this.computer) {
      return {
        stdout: "",
        stderr: `[${p.ComputerName}] Connecting to remote server ${p.ComputerName} failed: WinRM cannot complete the operation.`,
        exitCode: 1,
      };
    }
    const r = p.StdinLine
      ? this.model.exec(`${PS_EXE} -Command -`, `${p.StdinLine}\r\n`)
      : this.model.exec(`${PS_EXE} -EncodedCommand ${p.Encoded}`);
    return {
      stdout: `${JSON.stringify({ exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr })}\r\n`,
      stderr: "",
      exitCode: 0,
    };
  }
  async dispose(): Promise<void> {
    this.disposed++;
  }
}

const target: Target = {
  name: "win",
  os: "windows",
  address: "win11-lab.example.test",
  port: 50005,
  transport: { hostIp: "192.0.2.10" },
};

const cli = windowsCliRigs();

async function rig() {
  const { ctx, model, out, deps: base } = await cli({ prefix: "nd-windows-winrm-", json: true });
  const ps = new ModelWinrm(model, target.address);
  const deps = {
    ...base,
    openSession: async () => {
      throw new Error("--via winrm must not open SSH");
    },
    powershell: async () => ps,
  };
  return { ctx, model, ps, out, deps };
}

describe("--via winrm", () => {
  it("setup and teardown run the same scripts through Invoke-Command; the store ends byte for byte as it began", async () => {
    const { ctx, model, ps, out, deps } = await rig();
    const original = model.storeBytes();
    await windowsSetup(ctx, target, { via: "winrm", hostFirewall: false }, deps);
    const obj = JSON.parse(out.join(""));
    expect(obj).toMatchObject({ target: "win", changed: true, nic: { name: "Ethernet", busparams: "0.3.0" } });
    expect(parseDbgSettings(model.bcd(["/dbgsettings"]).output)).toMatchObject({ hostip: "192.0.2.10", key: KEY });
    // every call went through the wrapper, naming the computer and carrying the script as the SSH transport would
    expect(ps.calls.length).toBeGreaterThan(5);
    expect(ps.calls.length).toBe(model.received.length);
    expect(ps.calls.every((c) => c.ComputerName === target.address)).toBe(true);
    expect(model.received.map((r) => r.script)).toContain("bcd-export");
    expect(ps.disposed).toBe(1);
    out.length = 0;
    await windowsTeardown(ctx, target, { via: "winrm" }, deps);
    expect(model.storeBytes()).toBe(original);
    expect(ps.disposed).toBe(2);
  });

  it("a failing Invoke-Command is NETDBG-E222 with the WinRM fix; a failing script is E212 as over SSH", async () => {
    const { ctx, model, deps } = await rig();
    const wrong = new ModelWinrm(model, "another-host");
    const e = await windowsSetup(
      ctx,
      target,
      { via: "winrm", hostFirewall: false },
      { ...deps, powershell: async () => wrong },
    ).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(isNetdbgError(e) && e.code).toBe("NETDBG-E222");
    expect((e as Error & { fix: string }).fix).toContain("Enable-PSRemoting");
    model.state.elevated = false;
    const e2 = await windowsTeardown(ctx, target, { via: "winrm", restoreExport: "C:\\x.bak" }, deps).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(isNetdbgError(e2) && e2.code).toBe("NETDBG-E200");
  });

  it("without PowerShell on this (non-Windows) host it is NETDBG-E223 naming the missing executable", async () => {
    const { ctx, deps } = await rig();
    vi.stubEnv("NODE_POWERSHELL", "/nonexistent/nd-windows/pwsh");
    const { powershell: _, ...noPs } = deps;
    const e = await windowsSetup(ctx, target, { via: "winrm", hostFirewall: false }, noPs).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(isNetdbgError(e) && e.code).toBe("NETDBG-E223");
    expect((e as Error).message).toContain("'/nonexistent/nd-windows/pwsh'");
    expect((e as Error).message).toContain(process.platform);
    const e2 = await windowsSetup(ctx, target, { via: "telnet", hostFirewall: false }, noPs).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(isNetdbgError(e2) && e2.code).toBe("NETDBG-E224");
  });

  it("the wrapper and its rendered invocation parse as PowerShell (tree-sitter-powershell)", async () => {
    const wrapper = winrmWrapperText();
    for (const src of [
      wrapper,
      renderInvocation(wrapper, winrmParams("host'; rm -r C:\\ #", wireCommand(renderScript("whoami"))), "marker"),
    ]) {
      const syn = await psSyntax(src);
      expect(syn, syn.firstError).toMatchObject({ errors: 0, missing: 0, hasError: false });
    }
    expect(wrapper).toContain("$ic = @{ ComputerName = $ComputerName }");
    expect(wrapper).toContain("Invoke-Command @ic -ScriptBlock");
    expect(wrapper).toContain("-ArgumentList $Encoded, $StdinLine");
  });

  it("a long script travels as the stdin line, and the model runs it the same", async () => {
    const model = new WindowsTargetModel(defaultState());
    const long = wireCommand(renderScript("bcdedit", { BcdArgs: ["/enum", "{current}", "/v", "x".repeat(9000)] }));
    expect(long.input).toBeDefined();
    const p = winrmParams("h", long);
    expect(p.Encoded).toBe("");
    const r = await new ModelWinrm(model, "h").invoke(winrmWrapperText(), p);
    expect(JSON.parse(r.stdout).exitCode).toBe(0);
    expect(model.received.at(-1)?.script).toBe("bcdedit");
  });

  it("the real node-powershell adapter hands the wrapper and its parameters to PowerShell intact (stand-in pwsh)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nd-windows-winrm-pwsh-"));
    dirs.push(dir);
    const log = join(dir, "log");
    const ps = new NodePowerShellRunner({ executable: FAKE, env: { ...process.env, FAKE_PWSH_LOG: log } });
    const params = winrmParams("win11-lab", wireCommand(renderScript("whoami")));
    try {
      vi.stubEnv("FAKE_PWSH_LOG", log);
      const r = await ps.invoke(winrmWrapperText(), params);
      expect(r.exitCode).toBe(0);
      expect(JSON.parse(r.stdout.trim())).toEqual({ echo: params });
    } finally {
      await ps.dispose();
    }
    const logged = readFileSync(log, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(logged).toEqual([{ params, script: winrmWrapperText() }]);
  });
});
