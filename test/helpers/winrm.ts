/**
 * One `--via winrm` rig for a test: a temporary folder, a Windows model (Windows 11 Home unless given), the rig
 * (test/fakes/windows-target/winrm-rig.ts) over the shared PowerShell engine, and netdbg's node-powershell runner
 * on the rig's executable. Everything is closed and removed when the body ends, passed or failed.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NodePowerShellRunner } from "../../src/io/powershell.js";
import type { PwshEngine } from "../../src/peers/windows-target/engine.js";
import { WindowsTargetModel } from "../../src/peers/windows-target/model.js";
import { PROFILES } from "../../src/peers/windows-target/profiles.js";
import { startWinrmRig, type WinrmRig } from "../fakes/windows-target/winrm-rig.js";
import { PWSH } from "./pwsh.js";

export interface WinrmContext {
  dir: string;
  model: WindowsTargetModel;
  rig: WinrmRig;
  ps: NodePowerShellRunner;
}

export async function withWinrmRig<T>(
  engine: PwshEngine,
  body: (c: WinrmContext) => Promise<T>,
  model: WindowsTargetModel = new WindowsTargetModel(PROFILES.home.state()),
): Promise<T> {
  if (!PWSH) throw new Error("withWinrmRig needs pwsh (guard the test with noPwsh())");
  const dir = mkdtempSync(join(tmpdir(), "nd-winrm-pwsh-"));
  try {
    const rig = await startWinrmRig(dir, PWSH, model, engine);
    const ps = new NodePowerShellRunner({ executable: rig.executable });
    try {
      return await body({ dir, model, rig, ps });
    } finally {
      await ps.dispose();
      await rig.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
