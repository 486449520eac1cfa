/**
 * Where the probe finds kdnet.exe when no path is given (templates/windows/probe.ps1): the Windows Kits debuggers
 * for the machine's architecture, then C:\KDNET (Microsoft's KDNET setup page copies it there). In the real
 * PowerShell engine (the model's C: drive holds the stub executable) and in the model's table, which must agree.
 */
import { describe, expect, it } from "vitest";
import { defaultState, WindowsTargetModel, type WindowsTargetState } from "../../../src/peers/windows-target/model.js";
import { ModelSession } from "../../../src/peers/windows-target/session.js";
import { probeWindows, sessionRunner } from "../../../src/targets/windows/index.js";
import { noPwsh, useEngine } from "../../helpers/pwsh.js";

const engine = useEngine(1);
const X64 = "C:\\Program Files (x86)\\Windows Kits\\10\\Debuggers\\x64\\kdnet.exe";

for (const where of ["engine", "table"] as const) {
  describe.skipIf(where === "engine" && noPwsh())(`kdnet.exe on the target (${where})`, () => {
    const path = async (over: Partial<WindowsTargetState>, kdnetPath?: string) => {
      const m = new WindowsTargetModel(defaultState(over));
      const run = sessionRunner(new ModelSession(m, where === "engine" ? engine() : undefined), "win");
      return (await probeWindows(run, { exportDir: "C:\\ProgramData\\netdbg", ...(kdnetPath ? { kdnetPath } : {}) })).kdnet?.path;
    };
    it("is found in the usual places for the machine's architecture, and where it was told to look", async () => {
      expect(await path({ kdnetPath: X64 })).toBe(X64);
      expect(await path({ kdnetPath: "C:\\KDNET\\kdnet.exe" })).toBe("C:\\KDNET\\kdnet.exe");
      const arm = { os: { ...defaultState().os, arch: "ARM64" } };
      expect(await path({ ...arm, kdnetPath: X64 })).toBeUndefined();
      const armExe = X64.replace("\\x64\\", "\\arm64\\");
      expect(await path({ ...arm, kdnetPath: armExe })).toBe(armExe);
      expect(await path({ kdnetPath: "C:\\tools\\kdnet.exe" })).toBeUndefined();
      expect(await path({ kdnetPath: "C:\\tools\\kdnet.exe" }, "C:\\tools\\kdnet.exe")).toBe("C:\\tools\\kdnet.exe");
      expect(await path({})).toBeUndefined();
    }, 60_000);
  });
}
