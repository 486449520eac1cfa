/**
 * The probe in a real PowerShell on every profile. The bug this guards: ps.ts wrapped each template in
 * `try { & { … } } catch { exit 1 }`, and inside a `try` a statement-terminating error — a cmdlet that does not
 * exist, like Get-VMSwitch without Hyper-V or Get-BitLockerVolume on Server without the BitLocker feature —
 * goes to the catch whatever $ErrorActionPreference says, so the probe failed with NETDBG-E212 on Home, most
 * Pro machines and Server.
 */
import { describe, expect, it } from "vitest";
import { PROFILE_NAMES, PROFILES } from "../../../src/peers/windows-target/profiles.js";
import { WindowsTargetModel } from "../../../src/peers/windows-target/model.js";
import { ModelSession } from "../../../src/peers/windows-target/session.js";
import { probeWindows } from "../../../src/targets/windows/probe.js";
import { sessionRunner } from "../../../src/targets/windows/ps.js";
import { noPwsh, useEngine } from "../../helpers/pwsh.js";

const engine = useEngine();

describe.skipIf(noPwsh())("probe in a real PowerShell, every profile", () => {
  for (const name of PROFILE_NAMES) {
    it(`${name}: ${PROFILES[name].describe}`, async () => {
      const model = new WindowsTargetModel(PROFILES[name].state());
      const run = sessionRunner(new ModelSession(model, engine()), "win");
      const facts = await probeWindows(run, { exportDir: "C:\\ProgramData\\netdbg" });
      const mods = new Set(model.state.modules);
      // a missing module gives no answer from it, never an error; without the BitLocker module, Home's device
      // encryption still answers through the WMI provider (Win32_EncryptableVolume)
      const readable = mods.has("BitLocker") || model.state.deviceEncryption === true;
      expect(facts.bitlocker.length).toBe(readable ? model.state.bitlocker.length : 0);
      expect(facts.bitlockerSource).toBe(
        mods.has("BitLocker")
          ? "Get-BitLockerVolume"
          : readable
            ? "Win32_EncryptableVolume"
            : "no BitLocker feature (Windows Server)",
      );
      expect(facts.nics.find((n) => n.name === "Ethernet")?.busparams).toBe("0.3.0");
      expect(facts.os.caption).toBe(model.state.os.caption);
      if (name === "hyperv-host") {
        expect(facts.nics.find((n) => n.name === "Ethernet 2")?.vswitch).toBe("External");
      }
    });
  }
});

describe.skipIf(noPwsh())("a template's terminating error in a real PowerShell", () => {
  it("is NETDBG-E212 with the error text, in the -EncodedCommand form", async () => {
    const model = new WindowsTargetModel(PROFILES.pro.state());
    const run = sessionRunner(new ModelSession(model, engine()), "win");
    const e = await run.run("bitlocker", { MountPoint: "Q:", Operation: "suspend", RebootCount: 2 }).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: "NETDBG-E212" });
    expect(String((e as Error).message)).toContain("BitLocker volume Q: was not found");
    expect(run.sent.at(-1)!.input).toBeUndefined();
  });

  it("is NETDBG-E212 in the stdin form too (a long script: the line after it must not exit 0)", async () => {
    const model = new WindowsTargetModel(PROFILES.pro.state());
    const run = sessionRunner(new ModelSession(model, engine()), "win");
    const mount = `Q:${"x".repeat(9000)}`;
    const e = await run.run("bitlocker", { MountPoint: mount, Operation: "suspend", RebootCount: 2 }).catch((x: unknown) => x);
    expect(run.sent.at(-1)!.input).toBeDefined();
    expect(e).toMatchObject({ code: "NETDBG-E212" });
    expect(model.state.bitlocker[0]!.protectionStatus).toBe("On");
  });
});
